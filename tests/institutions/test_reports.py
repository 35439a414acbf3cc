"""Issue 12 item 7: reports as CSV and XLSX, zh or en headers, exact numbers, local dates."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from starlette.testclient import TestClient

from creditbank.accounts.reports import _window
from tests.api.world import World


def rows_of(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def span(world: World) -> dict[str, str]:
    return {
        "from": (world.today - timedelta(days=2)).isoformat(),
        "to": (world.today + timedelta(days=2)).isoformat(),
    }


def test_conversions_report_csv_zh_and_xlsx_en(world: World, http: TestClient) -> None:
    conversion_id, learner_id = world.new_conversion()
    programme = world.recognition.programme_code
    headers = world.bearer(world.registrar.token)
    url = f"/v1/reports/programmes/{programme}/conversions"
    answer = http.get(url, params=span(world), headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    table = rows_of(answer.content)
    assert table[0][:4] == ["转换编号", "学员编号", "认定日期", "认定学分"]
    row = next(r for r in table if r[0] == conversion_id)
    assert row[1] == learner_id and row[6] == "有效"
    posted = world.bank.log.leaf(int(row[5])).integrated_at
    assert row[4].startswith(
        date.fromisoformat(posted[:10]).isoformat()
        if int(posted[11:13]) < 16
        else (date.fromisoformat(posted[:10]) + timedelta(days=1)).isoformat()
    )
    xlsx = http.get(url, params={**span(world), "lang": "en", "format": "xlsx"}, headers=headers)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][:4] == ["conversion id", "learner id", "as of", "credits"]
    mine = next(r for r in values if r[0] == conversion_id)
    assert Decimal(str(mine[3])) == Decimal(row[3])


def test_roster_shows_recognised_credits_and_progress(world: World, http: TestClient) -> None:
    _, learner_id = world.new_conversion()
    programme = world.catalog.programme(world.recognition.programme_code)
    answer = http.get(
        f"/v1/reports/programmes/{programme.code}/roster",
        params={"lang": "en"},
        headers=world.bearer(world.registrar.token),
    )
    assert answer.status_code == 200
    table = rows_of(answer.content)
    assert table[0] == ["learner id", "courses recognised", "credits recognised",
                        "total credits", "credits still needed", "progress (%)"]  # fmt: skip
    row = next(r for r in table if r[0] == learner_id)
    recognised = Decimal(row[2])
    assert recognised > 0 and Decimal(row[3]) == programme.total_credits
    assert Decimal(row[4]) == programme.total_credits - recognised
    assert Decimal(row[5]) == (recognised * 100 / programme.total_credits).quantize(Decimal("0.1"))


def test_provider_certificates_issued_and_revoked(world: World, http: TestClient) -> None:
    learner = world.new_learner()
    kept = world.new_certificate(learner.learner_id)
    revoked = world.new_certificate(learner.learner_id)
    world.bank.submit(
        world.provider.sign(
            "certificate.revoked", {"certificate_id": revoked, "reason": "entered-in-error"}
        )
    )
    answer = http.get(
        "/v1/reports/certificates",
        params={**span(world), "lang": "en"},
        headers=world.bearer(world.provider.token),
    )
    assert answer.status_code == 200, answer.text
    status = {r[0]: r[6] for r in rows_of(answer.content)[1:]}
    assert status[kept] == "issued" and status[revoked] == "revoked"
    other = http.get(
        "/v1/reports/certificates",
        params=span(world),
        headers=world.bearer(world.other_provider.token),
    )
    assert kept not in {r[0] for r in rows_of(other.content)[1:]}


def test_report_authorization_matrix(world: World, http: TestClient) -> None:
    programme = world.recognition.programme_code
    conversions = f"/v1/reports/programmes/{programme}/conversions"
    roster = f"/v1/reports/programmes/{programme}/roster"
    cases = [
        (conversions, world.learner.token, 403),
        (conversions, world.provider.token, 403),
        (roster, world.provider.token, 403),
        ("/v1/reports/certificates", world.registrar.token, 403),
        ("/v1/reports/certificates", world.learner.token, 403),
        (conversions, None, 401),
        ("/v1/reports/programmes/NOPE/roster", world.registrar.token, 404),
    ]
    for url, token, status in cases:
        headers = world.bearer(token) if token else {}
        answer = http.get(url, params=span(world), headers=headers)
        assert answer.status_code == status, (url, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    bad = http.get(
        conversions,
        params={"from": "2026-02-01", "to": "2026-01-01"},
        headers=world.bearer(world.registrar.token),
    )
    assert bad.status_code == 422


def test_day_boundaries_are_shanghai_days() -> None:
    low, high = _window(date(2026, 12, 2), date(2026, 12, 2), ZoneInfo("Asia/Shanghai"))
    assert (low, high) == ("2026-12-01T16:00:00.000000Z", "2026-12-02T16:00:00.000000Z")
