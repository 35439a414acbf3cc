"""Mapping versions that are proposed: registered by a provider, not yet approved by a registrar
of the target programme's institution, not retired. They count nowhere; this is the list a
registrar reviews (and a provider's re-import checks against, so it does not register twice)."""

from __future__ import annotations

import json

from sqlmodel import Session, col, select

from creditbank.accounts.tables import MappingRow
from creditbank.mapping import Mapping

__all__ = ["proposed_mappings"]


def proposed_mappings(session: Session) -> list[Mapping]:
    """Every proposed mapping version, oldest registration first."""
    rows = session.exec(
        select(MappingRow)
        .where(col(MappingRow.approved_index).is_(None))
        .where(col(MappingRow.retired_index).is_(None))
        .order_by(col(MappingRow.registered_index))
    )
    return [Mapping.from_json(json.loads(row.mapping_json)) for row in rows]
