"""SuperSaaS inbound tokens: one secret inbound URL per account.

Revision ID: 0003_supersaas
Revises: 0002_reminders
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_supersaas"
down_revision = "0002_reminders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supersaas_inbound",
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id"),
        sa.UniqueConstraint("token_hash"),
    )


def downgrade() -> None:
    op.drop_table("supersaas_inbound")
