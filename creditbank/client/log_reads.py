"""Reads of the public log and the catalogue, and the client-side check of an entry.

:meth:`PublicReads.verify_entry` checks an entry the way any outside verifier would: recompute
the leaf hash from the leaf object (RFC 8785), fetch the inclusion proof and the signed
checkpoint, and verify both against a log key the caller trusts. No token is needed for these.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from creditbank.client.base import ClientBase
from creditbank.errors import EntryFormatError
from creditbank.ledger.canonical import canonical_bytes
from creditbank.ledger.checkpoint import Checkpoint, NoteVerifier
from creditbank.ledger.entry import Leaf
from creditbank.ledger.merkle import leaf_hash
from creditbank.ledger.merkle_verify import verify_inclusion

__all__ = ["PublicReads"]


class PublicReads(ClientBase):
    """The public log (checkpoints, entries, proofs) and the catalogue."""

    # --- the public log -----------------------------------------------------------------------

    def checkpoint(self) -> str:
        return self._get_text("/v1/log/checkpoint")

    def checkpoint_at(self, tree_size: int) -> str:
        return self._get_text(f"/v1/log/checkpoints/{tree_size}")

    def log_key(self) -> str:
        return self._get_text("/v1/log/key").strip()

    def entry(self, index: int) -> dict[str, Any]:
        result: dict[str, Any] = self._get_json(f"/v1/log/entries/{index}")
        return result

    def entries(self, start: int = 0, limit: int | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._get_json("/v1/log/entries", start=start, limit=limit)
        return result

    def iter_entries(self, start: int = 0) -> Iterator[dict[str, Any]]:
        """Every entry from ``start`` to the latest checkpoint, page by page."""
        position: int | None = start
        while position is not None:
            page = self.entries(position)
            yield from page["entries"]
            position = page["next"]

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> list[bytes]:
        proof = self._get_json("/v1/log/proof/inclusion", index=index, tree_size=tree_size)
        return [base64.b64decode(h) for h in proof["hashes"]]

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        proof = self._get_json("/v1/log/proof/consistency", first=first, second=second)
        return [base64.b64decode(h) for h in proof["hashes"]]

    def verify_entry(self, index: int, trusted: NoteVerifier) -> Leaf:
        """Check entry ``index`` as an outside verifier would; return its leaf or raise."""
        checkpoint = Checkpoint.open(self.checkpoint(), [trusted])
        item = self.entry(index)
        leaf = Leaf.from_bytes(canonical_bytes(item["leaf"]))
        hashed = leaf_hash(leaf.data)
        if base64.b64decode(item["leaf_hash"]) != hashed:
            raise EntryFormatError(f"entry {index}: the server's leaf_hash is not the leaf's hash")
        proof = self.inclusion_proof(index, checkpoint.size)
        verify_inclusion(hashed, index, checkpoint.size, proof, checkpoint.root_hash)
        leaf.signed.verify()
        return leaf

    # --- the catalogue ------------------------------------------------------------------------

    def catalogue(self, kind: str, **filters: Any) -> dict[str, Any]:
        """A page of ``qualifications``, ``programmes``, ``courses``, ``mappings`` or
        ``proposed-mappings``."""
        result: dict[str, Any] = self._get_json(f"/v1/catalogue/{kind}", **filters)
        return result
