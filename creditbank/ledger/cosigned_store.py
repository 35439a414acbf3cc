"""Checkpoints with witnesses' cosignatures added (table ``log_cosigned_checkpoints``).

The log's own checkpoints are append-only and never change; a cosigned copy is a separate row per
tree size, replaced when more witnesses have cosigned it. Transcripts carry the latest one.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import SQLModel

__all__ = ["CosignedStore", "cosigned_table"]

#: On SQLModel's metadata, so the schema test compares it with its migration.
cosigned_table = sa.Table(
    "log_cosigned_checkpoints",
    SQLModel.metadata,
    sa.Column("tree_size", sa.BigInteger(), primary_key=True),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("witnesses", sa.Integer(), nullable=False),
)


class CosignedStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, size: int, note: str, witnesses: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(cosigned_table).where(cosigned_table.c.tree_size == size))
            conn.execute(
                sa.insert(cosigned_table).values(tree_size=size, note=note, witnesses=witnesses)
            )

    def latest(self) -> tuple[int, str] | None:
        """The cosigned checkpoint of the largest tree size, or None if nothing is cosigned yet."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(cosigned_table.c.tree_size, cosigned_table.c.note)
                .order_by(cosigned_table.c.tree_size.desc())
                .limit(1)
            ).first()
        return (int(row[0]), str(row[1])) if row is not None else None
