"""Programmes and their versions as signed entries: the ``programme_versions`` read model

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "programme_versions",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("institution", sa.String(length=16), nullable=False),
        sa.Column("effective_from", sa.String(length=10), nullable=False),
        sa.Column("programme_json", sa.Text(), nullable=False),
        sa.Column("registered_index", sa.BigInteger(), nullable=False),
        sa.Column("registered_at", sa.String(length=32), nullable=False),
        sa.Column("registered_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("code", "version"),
    )
    op.create_index(
        "ix_programme_versions_institution", "programme_versions", ["institution"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_programme_versions_institution", table_name="programme_versions")
    op.drop_table("programme_versions")
