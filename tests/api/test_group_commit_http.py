"""Group commit behind the API: concurrent requests share commits and keep their own answers.

Fifty-odd requests are in flight at once in one process (one event loop, as under uvicorn): fresh
certificates, certificates for an unknown learner, five different entries claiming one certificate
id, and one signed entry sent three times at once (a client retrying). The app's group committer
appends them in a few transactions; each request still gets its own receipt or its own problem,
the retries are answered with the original receipt, and nothing is appended twice.

And the edges: a write while no committer runs answers 503; a write whose group cannot commit in
``write_timeout`` (the writers' lock held elsewhere) answers 503, commits once the lock is free,
and its retry is answered with the original receipt.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from creditbank.api.app import create_app
from creditbank.api.config import ApiConfig
from creditbank.ledger.database import WRITE_OPTIONS
from creditbank.ledger.merkle import leaf_hash
from creditbank.ledger.merkle_verify import verify_inclusion
from tests.api.world import World, unique

Answer = tuple[str, int, dict[str, Any]]


async def _post_all(
    world: World, jobs: list[tuple[str, dict[str, Any]]]
) -> tuple[list[Answer], list[int]]:
    """Send every job at once through the app (its lifespan running); answers and group sizes."""
    app = create_app(world.bank)
    headers = world.bearer(world.provider.token)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            answers = await asyncio.gather(
                *(http.post("/v1/certificates", json=body, headers=headers) for _, body in jobs)
            )
        sizes = list(app.state.committer.group_sizes)
    results = [
        (kind, answer.status_code, answer.json())
        for (kind, _), answer in zip(jobs, answers, strict=True)
    ]
    return results, sizes


def test_concurrent_requests_share_commits_and_keep_their_own_answers(world: World) -> None:
    learner = world.new_learner()
    provider = world.provider
    start = world.bank.log.size()
    retried = provider.post_json("certificate.issued", world.certificate_body(learner.learner_id))
    taken = unique("CERT")
    jobs: list[tuple[str, dict[str, Any]]] = []
    for i in range(50):
        body = world.certificate_body(learner.learner_id)
        if i % 10 == 3:
            body["learner_id"] = "L-" + "0" * 16  # nobody
            jobs.append(("unknown-learner", provider.post_json("certificate.issued", body)))
        elif i % 10 == 7:
            body["certificate_id"] = taken
            jobs.append(("same-id", provider.post_json("certificate.issued", body)))
        else:
            jobs.append(("fresh", provider.post_json("certificate.issued", body)))
        if i % 17 == 0:
            jobs.append(("retried", retried))

    results, group_sizes = asyncio.run(_post_all(world, jobs))

    by_kind: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for kind, status, answer in results:
        by_kind.setdefault(kind, []).append((status, answer))
    assert {status for status, _ in by_kind["fresh"]} == {201}
    assert {(s, a["type"].rsplit("/", 1)[-1]) for s, a in by_kind["unknown-learner"]} == {
        (404, "not-found")
    }
    same_id = sorted(status for status, _ in by_kind["same-id"])
    assert same_id == [201] + [409] * (len(same_id) - 1)  # one wins, each other gets its 409
    retries = by_kind["retried"]
    assert sorted(status for status, _ in retries) == [200] * (len(retries) - 1) + [201]
    assert len({answer["index"] for _, answer in retries}) == 1  # one entry, one index
    assert all(a["replayed"] == (s == 200) for s, a in retries)

    receipts = [a for _, s, a in results if s == 201]
    indices = sorted(a["index"] for a in receipts)
    # Contiguous and nothing twice, but for the learner index entry each group commits (h5).
    index_entries = [
        i
        for i, leaf in world.bank.log.leaves(start, world.bank.log.size())
        if leaf.entry.type == "ledger.learner_index"
    ]
    assert sorted(indices + index_entries) == list(range(start, world.bank.log.size()))
    assert max(group_sizes) > 1  # requests really shared transactions ...
    assert len({a["tree_size"] for a in receipts}) < len(receipts)  # ... and checkpoints
    for receipt in receipts:  # each receipt's own checkpoint covers its entry
        size = receipt["tree_size"]
        stored = world.bank.log.store.checkpoint_at(size)
        assert stored is not None and stored.note == receipt["checkpoint"]
        proof = world.bank.log.inclusion_proof(receipt["index"], size)
        leaf = world.bank.log.leaf(receipt["index"])
        verify_inclusion(leaf_hash(leaf.data), receipt["index"], size, proof, stored.root_hash)


async def _post_once(app: Any, world: World, body: dict[str, Any]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return await http.post(
            "/v1/certificates", json=body, headers=world.bearer(world.provider.token)
        )


def test_a_write_without_the_running_writer_is_refused_as_unavailable(
    sqlite_world: World,
) -> None:
    """Before the lifespan starts (or after it stopped) there is no committer: 503, not a crash."""
    world = sqlite_world
    body = world.provider.post_json(
        "certificate.issued", world.certificate_body(world.learner.learner_id)
    )
    answer = asyncio.run(_post_once(create_app(world.bank), world, body))
    assert answer.status_code == 503
    assert answer.json()["type"].endswith("/storage-unavailable")


def test_a_write_that_waits_too_long_answers_503_and_its_retry_gets_the_receipt(
    sqlite_world: World,
) -> None:
    """The writers' lock is held elsewhere: the request gives up after write_timeout (503); its
    group commits once the lock is free, and the client's retry is answered with that receipt."""
    world = sqlite_world
    body = world.provider.post_json(
        "certificate.issued", world.certificate_body(world.learner.learner_id)
    )
    app = create_app(world.bank, config=ApiConfig(write_timeout=0.5))

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        async with app.router.lifespan_context(app):
            blocker = world.bank.engine.connect().execution_options(**WRITE_OPTIONS)
            blocker.begin()  # BEGIN IMMEDIATE: the writers' lock, held by "another writer"
            try:
                first = await _post_once(app, world, body)
            finally:
                blocker.rollback()
                blocker.close()
            for _ in range(100):  # the committer now gets the lock and commits
                retry = await _post_once(app, world, body)
                if retry.status_code != 503:
                    return first, retry
                await asyncio.sleep(0.1)
            return first, retry

    first, retry = asyncio.run(scenario())
    assert first.status_code == 503, first.text
    assert first.json()["type"].endswith("/storage-unavailable")
    assert retry.status_code == 200, retry.text
    assert retry.json()["replayed"] is True
    leaf = world.bank.log.leaf(retry.json()["index"])
    assert leaf.entry.nonce == body["entry"]["nonce"]
