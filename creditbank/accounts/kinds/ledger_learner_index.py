"""``ledger.learner_index`` (issue 11): the log commits to the root of the learner index.

The log itself appends one, signed by the system actor, at the end of every batch that changed a
learner's history (see ``ledger/chain.py``). No one submits it: admission refuses every
submission, and it has no write route.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlmodel import Session

from creditbank.accounts.kinds.base import Admission, Kind, Snapshot
from creditbank.accounts.kinds.fields import Body
from creditbank.errors import PermissionDenied
from creditbank.ledger.chain import INDEX_ENTRY_TYPE
from creditbank.ledger.entry import Leaf

__all__ = ["KIND", "LearnerIndexRoot"]


class LearnerIndexRoot(Body):
    #: How many entries before this one the root covers (all of them: it is this entry's index).
    tree_size: Annotated[int, Field(ge=0)]
    #: base64 of the sparse Merkle tree root (``ledger/learner_index.py``).
    root: Annotated[str, Field(min_length=44, max_length=44)]
    learners: Annotated[int, Field(ge=0)]


def admit(_snapshot: Snapshot, _body: LearnerIndexRoot, _admission: Admission) -> None:
    raise PermissionDenied("only the log itself appends learner index entries")


def project(_session: Session, _index: int, _leaf: Leaf, _body: LearnerIndexRoot) -> None:
    """The index lives in the log (and in the log's memory), not in a read model."""


KIND = Kind(
    entry_type=INDEX_ENTRY_TYPE,
    body=LearnerIndexRoot,
    signers=("system",),
    poster=None,
    route=None,
    admit=admit,
    project=project,
)
