"""Alembic environment: runs on the connection the connector hands over (connector/migrate.py)."""

from alembic import context

from connector import models  # noqa: F401  (registers the tables on Base.metadata)
from connector.db import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
