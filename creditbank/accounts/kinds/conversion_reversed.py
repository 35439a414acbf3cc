"""``conversion.reversed``: a registrar (or the log itself, in a cascade) reverses a conversion.

Reversing a conversion withdraws the courses it recognised, so every conversion built on them is
reversed too (the cascade). The reason is a code of
:data:`~creditbank.accounts.kinds.fields.REASON_CODES`, never free text.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlmodel import Session, select

from creditbank.accounts.kinds.base import Admission, Kind, RowKey, Snapshot
from creditbank.accounts.kinds.fields import Body, Identifier, check_reason
from creditbank.accounts.kinds.institutions import programme_institution, require_own_institution
from creditbank.accounts.learner_holdings import recognised_holding_id
from creditbank.accounts.tables import ConversionRow, RecognitionRow
from creditbank.errors import ConflictError, NotFoundError
from creditbank.ledger.entry import Leaf

__all__ = ["KIND", "ConversionReversed"]


class ConversionReversed(Body):
    conversion_id: Identifier
    #: A reason code (entries appended before codes existed may hold older text).
    reason: Annotated[str, Field(min_length=1, max_length=500)]


def admit(snapshot: Snapshot, body: ConversionReversed, admission: Admission) -> None:
    conversion = snapshot.get(ConversionRow, body.conversion_id)
    if conversion is None:
        raise NotFoundError(f"conversion {body.conversion_id!r} does not exist")
    require_own_institution(
        admission,
        programme_institution(snapshot, conversion.programme_code),
        f"reversals of conversions into {conversion.programme_code}",
    )
    if conversion.reversed_at is not None:
        raise ConflictError(f"conversion {body.conversion_id} is already reversed")
    check_reason(body.reason)


def project(session: Session, index: int, leaf: Leaf, body: ConversionReversed) -> None:
    row = session.get(ConversionRow, body.conversion_id)
    if row is None:
        return
    row.reversed_index, row.reversed_at, row.reverse_reason = index, leaf.integrated_at, body.reason
    session.add(row)
    for rec in session.exec(
        select(RecognitionRow).where(RecognitionRow.conversion_id == body.conversion_id)
    ):
        rec.reversed_index, rec.reversed_at = index, leaf.integrated_at
        session.add(rec)


def learner_of(snapshot: Snapshot, body: ConversionReversed) -> str | None:
    conversion = snapshot.get(ConversionRow, body.conversion_id)
    return None if conversion is None else conversion.learner_id


def cascade(snapshot: Snapshot, body: ConversionReversed) -> set[str]:
    """The courses it recognised, as holding ids other conversions may have used."""
    rows = snapshot.where(RecognitionRow, conversion_id=body.conversion_id)
    return {recognised_holding_id(body.conversion_id, row.course_code) for row in rows}


def rows(body: ConversionReversed) -> list[RowKey]:
    return [(ConversionRow, body.conversion_id)]


KIND = Kind(
    entry_type="conversion.reversed",
    body=ConversionReversed,
    signers=("registrar", "system"),
    poster="registrar",
    route="/v1/conversions/{conversion_id}/reverse",
    admit=admit,
    project=project,
    rows=rows,
    learner_of=learner_of,
    cascade=cascade,
)
