"""Balance reads as a newcomer sees them (issue 9 items 7 and 18), over real HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from .world import World


def test_issue9_item18_balance_shows_names_and_splits_available_from_used(
    sqlite_world: World, sqlite_http: TestClient
) -> None:
    learner = sqlite_world.learner
    answer = sqlite_http.get(
        f"/v1/learners/{learner.learner_id}/balance", headers=sqlite_world.bearer(learner.token)
    )
    assert answer.status_code == 200, answer.text
    balance = answer.json()
    names = {q.code: q.name for q in sqlite_world.catalog.qualifications}
    assert balance["certificates"]
    for certificate in balance["certificates"]:
        assert certificate["qualification_name"] == names[certificate["qualification_code"]]
    items = [item for p in balance["programmes"] for item in p["items"]]
    assert items and all(item["course_title"] for item in items)
    assert all(p["title"] for p in balance["programmes"])
    used_sources = {source for item in items for source in item["sources"]}
    for certificate in balance["certificates"]:
        assert certificate["used"] == (certificate["certificate_id"] in used_sources)
    assert any(c["used"] for c in balance["certificates"])
    banked = Decimal(balance["banked_credits"])
    available = Decimal(balance["available_credits"])
    used = Decimal(balance["used_credits"])
    assert available + used == banked
    assert used == sum(
        (Decimal(c["credits"]) for c in balance["credits_earned"] if c["used"]), Decimal(0)
    )


def test_issue9_item7_a_future_as_of_is_refused(
    sqlite_world: World, sqlite_http: TestClient
) -> None:
    learner = sqlite_world.learner
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    url = f"/v1/learners/{learner.learner_id}/balance"
    headers = sqlite_world.bearer(learner.token)
    future = sqlite_http.get(url, params={"as_of": str(today + timedelta(days=1))}, headers=headers)
    assert future.status_code == 422, future.text
    assert "future" in future.json()["detail"] and "Asia/Shanghai" in future.json()["detail"]
    assert sqlite_http.get(url, params={"as_of": str(today)}, headers=headers).status_code == 200
    plan = sqlite_http.get(
        f"/v1/learners/{learner.learner_id}/plan",
        params={"programme_code": "X", "as_of": str(today + timedelta(days=2))},
        headers=headers,
    )
    assert plan.status_code == 422
