"""The state admission rules read: a :class:`~creditbank.accounts.kinds.base.Snapshot` over the
append transaction's session.

Rows come from the session's identity map when an earlier entry of the same transaction already
loaded them (actors and their keys are read once per group), and reflect entries staged earlier in
the same group, so a batch may register a learner and then credit them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, select

from creditbank.accounts.learner_holdings import learner_holdings, recognised_in
from creditbank.mapping import Catalog, Holdings, PostedRecognition, Programme

__all__ = ["SessionSnapshot"]

_Row = TypeVar("_Row", bound=SQLModel)


class SessionSnapshot:
    """Current state as seen inside the append transaction (read-only use)."""

    def __init__(
        self,
        session: Session,
        catalog: Callable[[Session], Catalog],
        programmes: dict[str, Programme],
    ) -> None:
        self._session = session
        self._catalog = catalog
        self._programmes = programmes

    @property
    def catalog(self) -> Catalog:
        return self._catalog(self._session)

    def get(self, table: type[_Row], key: Any) -> _Row | None:
        return self._session.get(table, key)

    def where(self, table: type[_Row], **equals: Any) -> Sequence[_Row]:
        return list(self._session.exec(select(table).filter_by(**equals)))

    def holdings(self, learner_id: str, *, exclude_programme: str | None = None) -> Holdings:
        return learner_holdings(
            self._session, learner_id, self._programmes, exclude_programme=exclude_programme
        )

    def recognised_in(self, learner_id: str, programme_code: str) -> list[PostedRecognition]:
        return recognised_in(self._session, learner_id, programme_code)
