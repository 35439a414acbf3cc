"""A long random history: after every step, replaying the log reproduces the live read models.

Hypothesis drives deposits, conversions (always exactly what the planner proposes: the planner and
the validator must never disagree), reversals, revocations with their cascades, refused entries and
the passage of time. Invariants after each step: ``rebuild`` of the log into a fresh database equals
the live read models, and a refused entry changed nothing. At the end the ledger audit and the
authority audit pass. Runs on SQLite, and a shorter run on PostgreSQL.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from creditbank.accounts.authority import audit_authority
from creditbank.accounts.replay import replay, scratch_read_models, snapshot
from creditbank.accounts.tables import ConversionRow
from creditbank.errors import RuleViolation
from creditbank.ledger.audit import audit_log
from creditbank.ledger.database import make_engine

from ..conftest import postgres_url
from .conftest import (
    ARTICULATION_MAPPING,
    CNC,
    CNC_MAPPING,
    CREDIT_MAPPING,
    ORIGIN,
    WELD_MAPPING,
    WELDER,
    World,
    make_world,
)

ISSUE_DATES = [f"{year}-{month:02d}-15" for year in range(2018, 2026) for month in (1, 6, 11)]


class History(RuleBasedStateMachine):
    engine_factory: Any = None

    def __init__(self) -> None:
        super().__init__()
        self.engine, self.cleanup = type(self).engine_factory()
        self.worlds: Iterator[World] = make_world(self.engine)
        self.world = next(self.worlds)
        for m in (WELD_MAPPING, CNC_MAPPING, CREDIT_MAPPING, ARTICULATION_MAPPING):
            self.world.register_mapping(m)
        self.learners: list[str] = []
        self.certificates: list[str] = []
        self.counter = 0

    def teardown(self) -> None:
        try:
            audit_log(self.world.bank.log.store, origin=ORIGIN)
            audit_authority(self.world.bank.log.store)
        finally:
            self.worlds.close()
            self.cleanup()

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def live(self) -> dict[str, Any]:
        with Session(self.engine) as session:
            return snapshot(session)

    @initialize()
    def first_learner(self) -> None:
        self.learners.append(self.next_id("L"))
        self.world.register_learner(self.learners[-1])

    @rule()
    def register_learner(self) -> None:
        self.learners.append(self.next_id("L"))
        self.world.register_learner(self.learners[-1])

    @rule(
        data=st.data(),
        code=st.sampled_from([WELDER, CNC]),
        level=st.integers(1, 5),
        issued=st.sampled_from(ISSUE_DATES),
    )
    def issue_certificate(self, data: st.DataObject, code: str, level: int, issued: str) -> None:
        learner = data.draw(st.sampled_from(self.learners))
        cert = self.next_id("C")
        self.world.issue(cert, learner, code=code, level=level, issued_on=issued)
        self.certificates.append(cert)

    @rule(data=st.data(), grade=st.integers(40, 100))
    def earn_credit(self, data: st.DataObject, grade: int) -> None:
        learner = data.draw(st.sampled_from(self.learners))
        self.world.credit(self.next_id("CR"), learner, "SSPU", "MA101", "4", grade)

    @rule(data=st.data(), programme=st.sampled_from(["AD-MFG", "BD-ENG"]))
    def convert_what_the_planner_proposes(self, data: st.DataObject, programme: str) -> None:
        learner = data.draw(st.sampled_from(self.learners))
        if self.world.bank.plan_for(learner, programme).recognitions:
            self.world.convert(self.next_id("X"), learner, programme)

    @rule(data=st.data())
    def reverse_a_conversion(self, data: st.DataObject) -> None:
        with Session(self.engine) as session:
            stmt = select(ConversionRow.conversion_id).where(
                col(ConversionRow.reversed_at).is_(None)
            )
            active = sorted(session.exec(stmt))
        if active:
            target = data.draw(st.sampled_from(active))
            self.world.post(
                self.world.registrar,
                "conversion.reversed",
                {"conversion_id": target, "reason": "entered-in-error"},
            )

    @precondition(lambda self: bool(self.certificates))
    @rule(data=st.data())
    def revoke_a_certificate(self, data: st.DataObject) -> None:
        cert = data.draw(st.sampled_from(self.certificates))
        self.certificates.remove(cert)
        self.world.post(
            self.world.provider,
            "certificate.revoked",
            {"certificate_id": cert, "reason": "entered-in-error"},
        )

    @rule(data=st.data())
    def a_refused_conversion_changes_nothing(self, data: st.DataObject) -> None:
        learner = data.draw(st.sampled_from(self.learners))
        before = self.live(), self.world.bank.log.size()
        with pytest.raises(RuleViolation):
            self.world.post(
                self.world.registrar,
                "conversion.posted",
                {
                    "conversion_id": self.next_id("BAD"),
                    "learner_id": learner,
                    "programme_code": "AD-MFG",
                    "as_of": self.world.clock().date().isoformat(),
                    "recognitions": [
                        {
                            "course_code": "ENG100",
                            "credits": "4",
                            "mapping_id": "M-WELD",
                            "sources": ["C-none"],
                        }
                    ],
                },
            )
        assert (self.live(), self.world.bank.log.size()) == before

    @rule(days=st.integers(1, 400))
    def time_passes(self, days: int) -> None:
        self.world.clock.advance(days=days)

    @invariant()
    def rebuild_equals_live(self) -> None:
        # Fresh read models as the read-model audit makes them (the projection tables only, no
        # migration history: this runs after every step, and migrating a new database each
        # time was most of this test's time).
        with scratch_read_models() as session:
            replay(self.world.bank.log.store, session)
            assert snapshot(session) == self.live()


def _sqlite() -> tuple[Engine, Any]:
    engine = make_engine("sqlite://")
    return engine, engine.dispose


def _postgres() -> tuple[Engine, Any]:
    url = postgres_url()
    assert url is not None
    schema = "h_" + secrets.token_hex(6)
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, schema=schema)

    def cleanup() -> None:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return engine, cleanup


class SqliteHistory(History):
    engine_factory = staticmethod(_sqlite)


class PostgresHistory(History):
    engine_factory = staticmethod(_postgres)


_SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "derandomize": True}


def test_random_history_sqlite() -> None:
    SqliteHistory.TestCase.settings = settings(max_examples=12, stateful_step_count=35, **_SETTINGS)  # type: ignore[arg-type]
    SqliteHistory.TestCase().runTest()


def test_random_history_postgres() -> None:
    if postgres_url() is None:
        pytest.skip("PostgreSQL tests need CREDITBANK_TEST_DATABASE_URL")
    PostgresHistory.TestCase.settings = settings(
        max_examples=3, stateful_step_count=25, **_SETTINGS
    )  # type: ignore[arg-type]
    PostgresHistory.TestCase().runTest()
