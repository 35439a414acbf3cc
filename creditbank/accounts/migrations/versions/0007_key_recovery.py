"""Key recovery: which entry recovered a key, and the log time from which it may sign

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("actor_keys") as batch:
        batch.add_column(sa.Column("recovered_index", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("usable_from", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("actor_keys") as batch:
        batch.drop_column("usable_from")
        batch.drop_column("recovered_index")
