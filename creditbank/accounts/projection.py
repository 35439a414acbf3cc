"""Apply one log entry to the read models, through its kind's projection.

Projections are the *only* writers of the projection tables, and they read nothing but the entry
itself and rows earlier entries wrote, so replaying the log from index 0 (``rebuild``) reproduces
the live read models exactly. Validation is not here: it happens before an entry is appended (each
kind's ``admit``); by the time an entry is in the log it is a fact.
"""

from __future__ import annotations

from sqlmodel import Session

from creditbank.accounts.kinds import Body, kind_of
from creditbank.accounts.staged_rows import staged_rows
from creditbank.accounts.tables import ProjectionStateRow
from creditbank.errors import StorageError
from creditbank.ledger.entry import Leaf

__all__ = ["apply_entry"]


def apply_entry(session: Session, index: int, leaf: Leaf, body: Body) -> None:
    """Project the entry at ``index`` into the read models (inside the caller's transaction)."""
    kind_of(leaf.entry.type).project(session, index, leaf, body)
    stage = staged_rows(session)
    if stage is not None:  # an append transaction counts in memory, written once per group
        stage.advance(index)
        return
    state = session.get(ProjectionStateRow, 1)
    if state is None:
        state = ProjectionStateRow(id=1, applied_size=0)
    if state.applied_size != index:
        raise StorageError(
            f"read models have applied {state.applied_size} entries but entry {index} arrived; "
            "run `creditbank rebuild`"
        )
    state.applied_size = index + 1
    session.add(state)
