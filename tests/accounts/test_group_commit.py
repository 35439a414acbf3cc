"""Group commit: concurrent submissions share commits, and each keeps its own outcome."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlmodel import Session

from creditbank.accounts.authority import audit_authority
from creditbank.accounts.bank import Receipt, Submission
from creditbank.accounts.group_commit import GroupCommitter
from creditbank.accounts.identity import Identity, commitment_of, new_salt
from creditbank.accounts.replay import rebuild, snapshot
from creditbank.errors import ConflictError, CreditbankError, NotFoundError
from creditbank.ledger.audit import audit_log

from .conftest import ORIGIN, World


def certificate(world: World, cert_id: str, learner_id: str) -> Submission:
    body = {
        "certificate_id": cert_id,
        "learner_id": learner_id,
        "qualification_code": "6-18-02-04",
        "level": 4,
        "issued_on": "2024-06-01",
    }
    return Submission(world.sign(world.provider, "certificate.issued", body))


def test_concurrent_submissions_commit_in_groups_with_isolated_failures(world: World) -> None:
    world.register_learner("L-1")
    start = world.bank.log.size()
    committer = GroupCommitter(world.bank, max_batch=64)
    jobs: list[tuple[str, Submission]] = []
    for i in range(120):
        if i % 10 == 3:
            jobs.append(("missing", certificate(world, f"C-{i}", "L-404")))  # unknown learner
        elif i % 10 == 7:
            jobs.append(("duplicate", certificate(world, "C-0", "L-1")))  # id taken by job 0
        else:
            jobs.append(("ok", certificate(world, f"C-{i}", "L-1")))

    def run(job: tuple[str, Submission]) -> tuple[str, Any]:
        try:
            return job[0], committer.submit(job[1])
        except CreditbankError as exc:
            return job[0], exc

    # Job 0 first, so the duplicates that name its id are refused whatever the order after it.
    first = run(jobs[0])
    with ThreadPoolExecutor(16) as pool:
        results = [first, *pool.map(run, jobs[1:])]
    committer.close()

    for kind, outcome in results:
        if kind == "ok":
            assert isinstance(outcome, Receipt), outcome
        elif kind == "missing":
            assert isinstance(outcome, NotFoundError)
        else:
            assert isinstance(outcome, ConflictError)
    receipts = [o for _, o in results if isinstance(o, Receipt)]
    indices = sorted(r.index for r in receipts)
    # Contiguous (no gaps, no forks) but for the learner index entry each group commits (h5).
    index_entries = [
        i
        for i, leaf in world.bank.log.leaves(start, world.bank.log.size())
        if leaf.entry.type == "ledger.learner_index"
    ]
    assert sorted(indices + index_entries) == list(range(start, world.bank.log.size()))
    assert max(committer.group_sizes) > 1  # requests really were grouped
    assert len(committer.group_sizes) < len(jobs)
    balance = world.bank.balance("L-1")
    assert len(balance.certificates) == len(receipts)

    audit_log(world.bank.log.store, origin=ORIGIN)
    audit_authority(world.bank.log.store)
    with Session(world.bank.engine) as session:
        live = snapshot(session)
    rebuild(world.bank.log.store)  # type: ignore[arg-type]
    with Session(world.bank.engine) as session:
        assert snapshot(session) == live


def test_closed_committer_refuses_work(world: World) -> None:
    committer = GroupCommitter(world.bank)
    committer.close()
    with pytest.raises(CreditbankError):
        committer.submit(certificate(world, "C-1", "L-1"))


def test_a_group_sees_its_own_staged_rows_and_fails_a_refusal_alone(world: World) -> None:
    """Rows staged earlier in a group (not yet written: nothing is flushed per entry) decide the
    checks of later ones, and a refusal mid-group leaves the others and the read models exact."""
    world.register_learner("L-1")
    identity = Identity(name="李娜", id_number="310101199202021234", salt=new_salt())
    register = world.sign(
        world.registrar,
        "learner.registered",
        {"learner_id": "L-NEW", "commitment": commitment_of(identity)},
    )
    items = [
        certificate(world, "C-SAME", "L-1"),
        certificate(world, "C-SAME", "L-1"),  # the id the entry before it just took
        certificate(world, "C-EARLY", "L-NEW"),  # the learner is registered only after it
        Submission(register, identity),
        certificate(world, "C-NEW", "L-NEW"),  # ... and exists for this one
        certificate(world, "C-NEW", "L-1"),  # again an id taken earlier in the group
    ]
    outcomes = world.bank.submit_group(items)
    kinds = [type(o).__name__ for o in outcomes]
    assert kinds == [
        "Receipt",
        "ConflictError",
        "NotFoundError",
        "Receipt",
        "Receipt",
        "ConflictError",
    ]
    assert {c.certificate_id for c in world.bank.balance("L-NEW").certificates} == {"C-NEW"}
    assert {c.certificate_id for c in world.bank.balance("L-1").certificates} == {"C-SAME"}
    audit_log(world.bank.log.store, origin=ORIGIN)
    with Session(world.bank.engine) as session:
        live = snapshot(session)
    rebuild(world.bank.log.store)  # type: ignore[arg-type]
    with Session(world.bank.engine) as session:
        assert snapshot(session) == live
