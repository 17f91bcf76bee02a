"""Periodic jobs run once per tick across every process: when each last ran.

Revision ID: 0004_cluster_jobs
Revises: 0003_supersaas
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_cluster_jobs"
down_revision = "0003_supersaas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster_jobs",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("last_run_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("cluster_jobs")
