"""Sessions and sign-in codes on SQLite and PostgreSQL: hashed, expiring, one-time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from creditbank.accounts.migrate import upgrade
from creditbank.accounts.tokens import Principal
from creditbank.accounts.web_tables import SIGNIN_CODES, WEB_SESSIONS
from creditbank.web.sessions import SessionStore, SignInCodes, digest


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_sessions_expire_and_end_everywhere(engine: Engine) -> None:
    upgrade(engine)
    clock = Clock()
    store = SessionStore(engine, clock, timedelta(hours=8))
    learner = Principal("learner", learner_id="L-0011223344556677")
    first, second = store.open(learner, "token:a"), store.open(learner, "token:a")
    other = store.open(Principal("registrar", actor_id="reg-1"), "token:b")
    with engine.connect() as conn:
        stored = set(conn.execute(select(WEB_SESSIONS.c.session_hash)).scalars())
    assert stored == {digest(first), digest(second), digest(other)}
    found = store.find(first)
    assert found is not None and found.principal == learner
    assert store.close_everywhere(learner) == 2
    assert store.find(first) is None and store.find(second) is None
    assert store.find(other) is not None
    clock.now += timedelta(hours=8, seconds=1)
    assert store.find(other) is None  # expired


def test_a_code_works_once_and_not_after_its_lifetime(engine: Engine) -> None:
    upgrade(engine)
    clock = Clock()
    codes = SignInCodes(engine, clock, timedelta(minutes=15))
    code = codes.issue("f" * 64)
    with engine.connect() as conn:
        assert conn.execute(select(SIGNIN_CODES.c.code_hash)).scalar_one() == digest(code)
    assert codes.redeem(code) == "f" * 64
    assert codes.redeem(code) is None
    late = codes.issue("e" * 64)
    clock.now += timedelta(minutes=15)
    assert codes.redeem(late) is None
    assert codes.redeem("not-a-code") is None
