"""The log's learner heads, so a process loads O(learners) rows instead of replaying every leaf

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

from creditbank.ledger.chain import derive_heads
from creditbank.ledger.store import LeafRow

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_PAGE = 5000


def _leaves(conn: sa.Connection) -> Iterator[LeafRow]:
    """Every stored leaf in index order, a page at a time (a log may hold millions)."""
    position = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT idx, leaf, actor, nonce, entry_type FROM log_entries "
                "WHERE idx >= :start AND idx < :end ORDER BY idx"
            ),
            {"start": position, "end": position + _PAGE},
        ).all()
        if not rows:
            return
        for idx, leaf, actor, nonce, entry_type in rows:
            yield LeafRow(int(idx), bytes(leaf), actor, nonce, entry_type)
        position += _PAGE


def upgrade() -> None:
    op.create_table(
        "log_learner_heads",
        sa.Column("learner", sa.String(length=128), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("head_idx", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("learner"),
    )
    op.create_index("ix_log_learner_heads_head_idx", "log_learner_heads", ["head_idx"])
    # Fill it from the log as it is: the heads the log's own replay (every link checked) derives.
    conn = op.get_bind()
    heads = derive_heads(_leaves(conn))
    rows = [
        {
            "learner": learner,
            "count": value.count,
            "head_idx": value.head_index,
            "head_hash": value.head_leaf_hash,
        }
        for learner, value in heads.items()
    ]
    if rows:
        table = sa.table(
            "log_learner_heads",
            sa.column("learner"),
            sa.column("count"),
            sa.column("head_idx"),
            sa.column("head_hash", sa.LargeBinary()),
        )
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_index("ix_log_learner_heads_head_idx", table_name="log_learner_heads")
    op.drop_table("log_learner_heads")
