"""Institutions: a registrar's institution, and approvals of mapping versions

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("actors", sa.Column("institution", sa.String(length=16), nullable=True))
    op.add_column("mappings", sa.Column("approved_index", sa.BigInteger(), nullable=True))
    op.add_column("mappings", sa.Column("approved_at", sa.String(length=32), nullable=True))
    op.add_column("mappings", sa.Column("approved_by", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mappings") as batch:
        batch.drop_column("approved_by")
        batch.drop_column("approved_at")
        batch.drop_column("approved_index")
    with op.batch_alter_table("actors") as batch:
        batch.drop_column("institution")
