"""Issue 9 item 7: as_of counts whole days of the configured zone, not UTC days."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from creditbank.accounts.views import day_cutoff, learner_balance
from creditbank.errors import RuleViolation
from tests.accounts.conftest import World, make_world


@pytest.fixture
def world(sqlite_engine: Engine) -> Iterator[World]:
    yield from make_world(sqlite_engine)


def test_issue9_item7_as_of_day_boundaries_are_shanghai_days(world: World) -> None:
    """A certificate integrated at 17:30 UTC on 1 March is on the log on 2 March in Shanghai."""
    world.register_learner("L-days")
    world.clock.now = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # 01:30 on 2 March in Shanghai
    world.issue("CERT-LATE", "L-days", issued_on="2026-02-28")
    with Session(world.bank.engine) as session:
        first = learner_balance(session, "L-days", date(2026, 3, 1))
        second = learner_balance(session, "L-days", date(2026, 3, 2))
        in_utc = learner_balance(session, "L-days", date(2026, 3, 1), tz=UTC)
    assert [c.certificate_id for c in first.certificates] == []
    assert [c.certificate_id for c in second.certificates] == ["CERT-LATE"]
    assert [c.certificate_id for c in in_utc.certificates] == ["CERT-LATE"]  # the zone is a knob
    # Bank reads use the same default zone.
    assert world.bank.balance("L-days", date(2026, 3, 1)).certificates == ()


def test_day_cutoff_is_the_start_of_the_next_local_day() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    assert day_cutoff(date(2026, 3, 1), shanghai) == "2026-03-01T16:00:00.000000Z"
    assert day_cutoff(None, shanghai) is None
    assert day_cutoff(date(2026, 3, 1), UTC) == "2026-03-02T00:00:00.000000Z"
    assert timedelta(hours=8) == shanghai.utcoffset(datetime(2026, 3, 1))


def test_issue9_item7_admission_counts_days_in_the_configured_zone(world: World) -> None:
    """At 17:30 UTC on 1 March it is already 2 March in Shanghai: that date is not "future" there,
    and it is in a bank configured for UTC (writes and reads use the one configured zone)."""
    world.register_learner("L-zone")
    world.clock.now = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)
    world.issue("CERT-SH", "L-zone", issued_on="2026-03-02")  # Shanghai (the default): today
    world.bank.timezone = UTC
    with pytest.raises(RuleViolation, match="in the future"):
        world.issue("CERT-UTC", "L-zone", issued_on="2026-03-02")
    assert [c.certificate_id for c in world.bank.balance("L-zone").certificates] == ["CERT-SH"]
