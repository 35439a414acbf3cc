"""Entry kinds: one module per entry type, listed in :mod:`~creditbank.accounts.kinds.registry`.

Each module declares its body schema, the roles that may sign it, the token role and path of its
write route, its admission rules (a pure function of a :class:`Snapshot` and the body), its
projection into the read models, its cascade, and which learner it is about.
"""

from creditbank.accounts.kinds.base import Admission, Kind, Snapshot
from creditbank.accounts.kinds.fields import KEY_RECOVERY_REASONS, REASON_CODES, Body
from creditbank.accounts.kinds.registry import KINDS, kind_of, parse_body

__all__ = [
    "KEY_RECOVERY_REASONS",
    "KINDS",
    "REASON_CODES",
    "Admission",
    "Body",
    "Kind",
    "Snapshot",
    "kind_of",
    "parse_body",
]
