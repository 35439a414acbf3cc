"""The registry: every entry kind the bank accepts, one line each.

Adding a kind is one module under :mod:`creditbank.accounts.kinds` and one line here (see
``docs/architecture.md``, "Adding an entry kind"); ``tests/accounts/test_kinds.py`` fails when a
kind lacks a part or a write route disagrees with it.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from creditbank.accounts.kinds import (
    actor_key_added,
    actor_key_recovered,
    actor_key_recovery_cancelled,
    actor_key_revoked,
    actor_registered,
    certificate_issued,
    certificate_revoked,
    conversion_posted,
    conversion_reversed,
    credential_key_registered,
    credential_status_changed,
    credit_earned,
    learner_registered,
    ledger_learner_index,
    mapping_approved,
    mapping_registered,
    mapping_retired,
    programme_registered,
)
from creditbank.accounts.kinds.base import Kind
from creditbank.accounts.kinds.fields import Body
from creditbank.errors import EntryFormatError

__all__ = ["KINDS", "kind_of", "parse_body"]

#: Entry type -> its kind, in the order the docs list them.
KINDS: dict[str, Kind] = {
    kind.entry_type: kind
    for kind in (
        actor_registered.KIND,
        actor_key_added.KIND,
        actor_key_revoked.KIND,
        actor_key_recovered.KIND,  # key recovery (issue 11)
        actor_key_recovery_cancelled.KIND,
        learner_registered.KIND,
        certificate_issued.KIND,
        certificate_revoked.KIND,
        credit_earned.KIND,
        programme_registered.KIND,  # issue 12, programmes on the log
        mapping_registered.KIND,
        mapping_retired.KIND,
        mapping_approved.KIND,  # issue 12, mapping approval
        conversion_posted.KIND,
        conversion_reversed.KIND,
        ledger_learner_index.KIND,
        credential_key_registered.KIND,
        credential_status_changed.KIND,
    )
}


def kind_of(entry_type: str) -> Kind:
    """The kind of ``entry_type``, or :class:`EntryFormatError` listing the known types."""
    kind = KINDS.get(entry_type)
    if kind is None:
        known = ", ".join(sorted(KINDS))
        raise EntryFormatError(f"unknown entry type {entry_type!r}; known types: {known}")
    return kind


def parse_body(entry_type: str, body: Any) -> Body:
    """The typed body of an entry, or :class:`EntryFormatError` naming each field that is wrong."""
    kind = kind_of(entry_type)
    try:
        return kind.body.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors()
        )
        raise EntryFormatError(f"{entry_type} body: {problems}") from None
