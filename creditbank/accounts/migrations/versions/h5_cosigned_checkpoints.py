"""Cosigned checkpoints: the log's checkpoints with the witnesses' cosignature lines added

Revision ID: h5_cosigned_checkpoints
Revises: 0001
Create Date: 2026-12-01 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h5_cosigned_checkpoints"
down_revision = "h2_identity_vault"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_cosigned_checkpoints",
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("witnesses", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size"),
    )


def downgrade() -> None:
    op.drop_table("log_cosigned_checkpoints")
