"""Find learners by name or ID number in the sealed identity store, for registrars, audited.

Identities are sealed per learner (:mod:`creditbank.accounts.identity_vault`), so there is no
index to query: a search opens every sealed identity in the server and compares. That is linear in
the number of learners (a few thousand decryptions of a hundred bytes each take milliseconds) and
keeps erasure simple: a shredded learner has no key, so they can no longer be found. A bank with
millions of learners would want a keyed blind index (HMAC of the normalised ID number under a
server secret) instead.

Every search adds one row to the admin audit table in the same transaction: who, when, and *how*
they searched ("name" or "ID number") with how many were found and which learner ids were shown,
but never the searched text itself. Not even a hash of it: an ID number has so little entropy
(region, birth date, a sequence number and a check digit) that its plain hash is reversed by
enumeration.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from creditbank.accounts.admin_audit import record_action
from creditbank.accounts.identity_vault import SealedIdentityRow, open_identity
from creditbank.errors import InputError, NotFoundError

__all__ = ["MAX_RESULTS", "IdentityMatch", "SearchBy", "mask_id_number", "search_identities"]

SearchBy = Literal["name", "id_number"]

#: More matches than this are cut (the registrar narrows the search instead).
MAX_RESULTS = 50


@dataclass(frozen=True)
class IdentityMatch:
    learner_id: str
    name: str
    id_number_masked: str


def _normal(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII), no spaces, case-folded."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def mask_id_number(id_number: str) -> str:
    """Only the last four characters are shown: enough to tell two namesakes apart."""
    return "*" * max(0, len(id_number) - 4) + id_number[-4:]


def _matches(by: SearchBy, wanted: str, name: str, id_number: str) -> bool:
    if by == "id_number":
        return _normal(id_number) == wanted
    return wanted in _normal(name)


def search_identities(
    engine: Engine, query: str, by: SearchBy, *, now: datetime, searcher: str, role: str
) -> tuple[list[IdentityMatch], bool]:
    """Matches (at most :data:`MAX_RESULTS`, and whether more were cut); the search is audited.

    The caller has checked that the searcher is a registrar. The audit row commits with the
    search, whatever it found: a search that answers always left its row.
    """
    wanted = _normal(query)
    if not wanted or len(wanted) > 64:
        raise InputError("give a name or an ID number to search for (at most 64 characters)")
    found: list[IdentityMatch] = []
    more = False
    with Session(engine) as session:
        ids = session.exec(
            select(SealedIdentityRow.learner_id).order_by(col(SealedIdentityRow.learner_id))
        ).all()
        for learner_id in ids:
            try:
                identity = open_identity(session, learner_id)
            except NotFoundError:  # erased between the listing and now
                continue
            if _matches(by, wanted, identity.name, identity.id_number):
                if len(found) == MAX_RESULTS:
                    more = True
                    break
                found.append(
                    IdentityMatch(learner_id, identity.name, mask_id_number(identity.id_number))
                )
        shown = ",".join(match.learner_id for match in found)
        detail = f"by {by.replace('_', ' ')}; {len(found)}{'+' if more else ''} found: {shown}"
        record_action(
            session,
            now=now,
            by=searcher,
            role=role,
            action="learner.searched",
            subject=f"search by {by.replace('_', ' ')}",
            detail=detail[:300],
        )
        session.commit()
    return found, more
