"""The body of a ``programme.registered`` entry for a programme read from ``programmes.csv``.

The shipped CSV is not read by the bank: the demo (and the tests and benchmarks that build a
ledger like it) sign these bodies as SOU's registrar and post them, so the catalogue comes from
the log like everything else.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from creditbank.mapping import Programme
from creditbank.mapping.programme_json import programme_to_json

__all__ = ["SHIPPED_EFFECTIVE_FROM", "programme_body"]

#: The day the shipped programmes' first versions take effect (a term before any demo date).
SHIPPED_EFFECTIVE_FROM = date(2020, 9, 1)


def programme_body(
    programme: Programme, version: int = 1, effective_from: date = SHIPPED_EFFECTIVE_FROM
) -> dict[str, Any]:
    """``{"v": 1, "programme": ..., "version": ..., "effective_from": ...}``."""
    return {
        "v": 1,
        "programme": programme_to_json(programme),
        "version": version,
        "effective_from": effective_from.isoformat(),
    }
