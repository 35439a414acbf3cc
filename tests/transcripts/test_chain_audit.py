"""The audit rebuilds every learner chain and the index; it names the first break or bad root."""

from __future__ import annotations

import hashlib

import pytest

from creditbank.errors import TamperError
from creditbank.ledger.chain import ChainAudit
from creditbank.ledger.learner_index import LearnerIndex


def _h(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def test_a_sound_history_passes_and_a_wrong_root_is_named() -> None:
    index = LearnerIndex()
    index.record("L-1", 3, _h("a"))
    good = index.root()
    audit = ChainAudit()
    audit.apply([(3, "L-1", 1, None, _h("a")), (4, None, 4, good, b"")])
    assert audit.index_entries == 1
    audit.apply([(5, "L-1", 2, _h("a"), _h("b"))])
    with pytest.raises(TamperError, match="index entry 6: its root is not the learner index"):
        audit.apply([(6, None, 6, good, b"")])  # stale root: entry 5 is not in it


def test_a_broken_chain_is_named() -> None:
    audit = ChainAudit()
    audit.apply([(1, "L-1", 1, None, _h("a"))])
    with pytest.raises(TamperError, match="entry 2: learner L-1's chain breaks"):
        audit.apply([(2, "L-1", 2, _h("not a"), _h("b"))])
    with pytest.raises(TamperError, match="entry 3: learner L-1's chain breaks"):
        audit.apply([(3, "L-1", 3, _h("a"), _h("c"))])  # a skipped seq
    with pytest.raises(TamperError, match="claims to cover 2 entries; it covers 9"):
        audit.apply([(9, None, 2, bytes(32), b"")])
