"""The public log, checked the way an outside verifier would, with nothing but HTTP and standards.

Every leaf hash is recomputed from the ``leaf`` object with an independent RFC 8785 implementation
(the ``rfc8785`` package, not creditbank's encoder); every inclusion proof and a consistency proof
are verified against the signed checkpoint with the pure RFC 9162 functions; the checkpoint is
opened with the verifier key the log publishes.
"""

from __future__ import annotations

import base64
import hashlib

import rfc8785
from fastapi.testclient import TestClient

from creditbank.ledger.checkpoint import Checkpoint, NoteVerifier
from creditbank.ledger.merkle_verify import verify_consistency, verify_inclusion
from tests.api.world import World


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def test_every_entry_hash_and_inclusion_proof_checks_against_the_signed_checkpoint(
    world: World, http: TestClient
) -> None:
    key = http.get("/v1/log/key")
    assert key.status_code == 200 and key.headers["content-type"].startswith("text/plain")
    verifier = NoteVerifier.from_vkey(key.text)
    note = http.get("/v1/log/checkpoint")
    assert note.headers["content-type"].startswith("text/plain")
    checkpoint = Checkpoint.open(note.text, [verifier], origin=world.bank.log.origin)
    assert checkpoint.size >= 80

    seen: list[int] = []
    start: int | None = 0
    while start is not None:
        page = http.get("/v1/log/entries", params={"start": start, "limit": 25}).json()
        for item in page["entries"]:
            if item["index"] >= checkpoint.size:
                continue
            data = rfc8785.dumps(item["leaf"])
            hashed = hashlib.sha256(b"\x00" + data).digest()
            assert _b64(item["leaf_hash"]) == hashed, item["index"]
            single = http.get(f"/v1/log/entries/{item['index']}").json()
            assert single == item
            proof = http.get(
                "/v1/log/proof/inclusion",
                params={"index": item["index"], "tree_size": checkpoint.size},
            ).json()
            assert proof["index"] == item["index"] and proof["tree_size"] == checkpoint.size
            verify_inclusion(
                hashed,
                item["index"],
                checkpoint.size,
                [_b64(h) for h in proof["hashes"]],
                checkpoint.root_hash,
            )
            seen.append(item["index"])
        start = page["next"]
    assert seen == list(range(checkpoint.size))


def test_consistency_between_an_earlier_signed_checkpoint_and_the_latest(
    world: World, http: TestClient
) -> None:
    verifier = NoteVerifier.from_vkey(http.get("/v1/log/key").text)
    latest = Checkpoint.open(http.get("/v1/log/checkpoint").text, [verifier])
    first = 10
    earlier_note = http.get(f"/v1/log/checkpoints/{first}")
    if earlier_note.status_code == 404:  # no batch ended exactly there: take any signed size
        sizes = sorted({c.tree_size for c in world.bank.log.store.checkpoints()})
        first = next(s for s in sizes if 0 < s < latest.size)
        earlier_note = http.get(f"/v1/log/checkpoints/{first}")
    earlier = Checkpoint.open(earlier_note.text, [verifier])
    assert earlier.size == first
    proof = http.get("/v1/log/proof/consistency", params={"first": first}).json()
    assert proof["first"] == first and proof["second"] == latest.size
    verify_consistency(
        first, latest.size, earlier.root_hash, latest.root_hash, [_b64(h) for h in proof["hashes"]]
    )


def test_a_proof_for_the_wrong_root_is_rejected(http: TestClient) -> None:
    """The proofs are real: the same path does not lead to a different leaf's hash."""
    import pytest

    from creditbank.errors import ProofError

    verifier = NoteVerifier.from_vkey(http.get("/v1/log/key").text)
    checkpoint = Checkpoint.open(http.get("/v1/log/checkpoint").text, [verifier])
    other = _b64(http.get("/v1/log/entries/4").json()["leaf_hash"])
    proof = http.get("/v1/log/proof/inclusion", params={"index": 3}).json()
    with pytest.raises(ProofError):
        verify_inclusion(
            other, 3, checkpoint.size, [_b64(h) for h in proof["hashes"]], checkpoint.root_hash
        )


def test_public_routes_need_no_token_and_ignore_a_bad_one(http: TestClient) -> None:
    for path in ("/v1/log/checkpoint", "/v1/log/key", "/v1/log/entries/0", "/healthz", "/readyz"):
        assert http.get(path).status_code == 200, path
        assert http.get(path, headers={"Authorization": "Bearer nope"}).status_code == 200, path


def test_range_reads_are_bounded_by_the_page_limit(http: TestClient) -> None:
    page = http.get("/v1/log/entries", params={"start": 0, "limit": 100_000}).json()
    assert len(page["entries"]) == min(1000, page["tree_size"])
    past = http.get("/v1/log/entries", params={"start": page["tree_size"] + 5}).json()
    assert past["entries"] == [] and past["next"] is None


def test_unknown_indices_and_sizes_answer_404_problems(http: TestClient) -> None:
    size = int(http.get("/v1/log/checkpoint").text.split("\n")[1])
    for path, params in (
        (f"/v1/log/entries/{size + 10}", {}),
        ("/v1/log/proof/inclusion", {"index": size}),
        ("/v1/log/proof/inclusion", {"index": 0, "tree_size": size + 1}),
        ("/v1/log/proof/consistency", {"first": size + 1}),
        (f"/v1/log/checkpoints/{size + 100}", {}),
    ):
        answer = http.get(path, params=params)
        assert answer.status_code == 404, (path, params)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"] == "https://creditbank.example/problems/not-found"


def test_negative_or_non_numeric_parameters_answer_422(http: TestClient) -> None:
    for path, params in (
        ("/v1/log/entries", {"start": -1}),
        ("/v1/log/proof/inclusion", {"index": "x"}),
        ("/v1/log/proof/consistency", {"first": -3}),
        ("/v1/log/entries/abc", {}),
    ):
        answer = http.get(path, params=params)
        assert answer.status_code == 422, (path, params)
        assert answer.json()["type"] == "https://creditbank.example/problems/validation"
