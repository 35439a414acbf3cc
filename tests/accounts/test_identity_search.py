"""Finding learners in the sealed identity store: matches, erasure, and the audit row (SQLite, PG)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from creditbank.accounts.admin_audit import audit_events
from creditbank.accounts.identity_search import search_identities
from creditbank.accounts.identity_vault import shred_identity
from creditbank.errors import InputError
from tests.accounts.conftest import World, make_world

ID_NUMBER = "310101199001011234"  # what World.register_learner seals for every learner


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    yield from make_world(engine)


def _search(world: World, query: str, by: str) -> list[str]:
    found, more = search_identities(
        world.bank.engine,
        query,
        by,
        now=world.clock(),
        searcher="reg-1",
        role="registrar",  # type: ignore[arg-type]
    )
    assert not more
    return [match.learner_id for match in found]


def test_search_by_name_or_id_number_and_every_search_is_audited_without_its_text(
    world: World,
) -> None:
    world.register_learner("L-a", name="张伟")
    world.register_learner("L-b", name="李娜")
    assert _search(world, "张伟", "name") == ["L-a"]
    assert _search(world, " 李 ", "name") == ["L-b"]  # part of a name, spaces ignored
    assert _search(world, "王芳", "name") == []
    # Full-width digits are the same ID number; the name field is not searched by ID.
    assert _search(world, "３１０１０１１９９００１０１１２３４", "id_number") == ["L-a", "L-b"]
    assert _search(world, ID_NUMBER[:-1], "id_number") == []
    found, _ = search_identities(
        world.bank.engine, "张伟", "name", now=world.clock(), searcher="reg-1", role="registrar"
    )
    assert found[0].id_number_masked == "*" * 14 + "1234"

    with Session(world.bank.engine) as session:
        rows = [e for e in audit_events(session) if e.action == "learner.searched"]
    assert len(rows) == 6
    assert {row.subject for row in rows} == {"search by name", "search by id number"}
    assert all(row.by == "reg-1" and row.role == "registrar" for row in rows)
    assert "L-a" in rows[0].detail and "1 found" in rows[0].detail
    for row in rows:
        text = f"{row.subject} {row.detail}"
        assert "张伟" not in text and "李" not in text and "王芳" not in text
        assert "1990010112" not in text


def test_an_erased_learner_cannot_be_found(world: World) -> None:
    world.register_learner("L-gone", name="赵六")
    assert _search(world, "赵六", "name") == ["L-gone"]
    shred_identity(world.bank.engine, "L-gone")
    assert _search(world, "赵六", "name") == []


def test_an_empty_or_overlong_search_is_refused_and_not_audited(world: World) -> None:
    for query in ("   ", "x" * 65):
        with pytest.raises(InputError):
            _search(world, query, "name")
    with Session(world.bank.engine) as session:
        assert not [e for e in audit_events(session) if e.action == "learner.searched"]
