"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from connector.db import Base, make_engine


def test_models_and_migrations_agree(migrated_template):
    engine = make_engine(f"sqlite:///{migrated_template}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == [], "models changed: write a migration with flask --app wsgi db revision -m MESSAGE"
