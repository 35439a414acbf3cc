"""Web sessions and one-time sign-in codes (hashed secrets only)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=128), nullable=True),
        sa.Column("learner_id", sa.String(length=128), nullable=True),
        sa.Column("credential", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("session_hash"),
    )
    op.create_index("ix_web_sessions_actor_id", "web_sessions", ["actor_id"])
    op.create_index("ix_web_sessions_learner_id", "web_sessions", ["learner_id"])
    op.create_table(
        "web_signin_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.String(length=32), nullable=False),
        sa.Column("used_at", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("code_hash"),
    )


def downgrade() -> None:
    op.drop_table("web_signin_codes")
    op.drop_index("ix_web_sessions_learner_id", table_name="web_sessions")
    op.drop_index("ix_web_sessions_actor_id", table_name="web_sessions")
    op.drop_table("web_sessions")
