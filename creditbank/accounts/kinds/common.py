"""Checks several kinds share, each over a :class:`~creditbank.accounts.kinds.base.Snapshot`."""

from __future__ import annotations

from datetime import date, datetime

from creditbank.accounts.kinds.base import Snapshot
from creditbank.accounts.tables import ActorKeyRow, CertificateRow, CreditRow, LearnerRow
from creditbank.errors import ConflictError, NotFoundError, RuleViolation

__all__ = ["key_in_use", "not_future", "require_learner", "require_unused_holding_id"]


def require_learner(snapshot: Snapshot, learner_id: str) -> LearnerRow:
    learner = snapshot.get(LearnerRow, learner_id)
    if learner is None:
        raise NotFoundError(f"learner {learner_id!r} is not registered")
    return learner


def require_unused_holding_id(snapshot: Snapshot, holding_id: str) -> None:
    if snapshot.get(CertificateRow, holding_id) or snapshot.get(CreditRow, holding_id):
        raise ConflictError(f"holding id {holding_id!r} is already used by a certificate or credit")


def not_future(day: date, now: datetime, what: str) -> None:
    if day > now.date():
        raise RuleViolation(f"{what} {day} is in the future", code="date-in-future")


def key_in_use(snapshot: Snapshot, public_key: str) -> bool:
    return bool(snapshot.where(ActorKeyRow, public_key=public_key))
