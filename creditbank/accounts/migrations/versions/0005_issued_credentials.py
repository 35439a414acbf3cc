"""Issued credentials (W3C VC 2.0), their status list bits, and credential-issuing keys

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issued_credentials",
        sa.Column("credential_id", sa.String(length=36), nullable=False),
        sa.Column("learner_id", sa.String(length=128), nullable=False),
        sa.Column("status_list", sa.Integer(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("issued_tree_size", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.String(length=32), nullable=False),
        sa.Column("with_name", sa.Boolean(), nullable=False),
        sa.Column("basis", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("revoked_at", sa.String(length=32), nullable=True),
        sa.Column("revoked_reason", sa.String(length=200), nullable=True),
        sa.Column("revoked_index", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("credential_id"),
        sa.UniqueConstraint("status_list", "status_index"),
    )
    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_issued_credentials_learner_id"), ["learner_id"], unique=False
        )
    op.create_table(
        "credential_keys",
        sa.Column("public_key", sa.String(length=44), nullable=False),
        sa.Column("registered_index", sa.BigInteger(), nullable=False),
        sa.Column("registered_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("public_key"),
    )


def downgrade() -> None:
    op.drop_table("credential_keys")
    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_credentials_learner_id"))
    op.drop_table("issued_credentials")
