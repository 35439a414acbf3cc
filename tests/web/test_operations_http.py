"""The operations pages over real HTTP: reports, the audit table, the import check; who may use them.

The browser halves (signing the rows of a file) are in ``test_imports_browser.py``.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
from datetime import date, timedelta

import httpx
from openpyxl import Workbook, load_workbook
from sqlmodel import Session, select

from creditbank.accounts.admin_audit import audit_count, audit_events, record_action
from creditbank.accounts.tables import CertificateRow
from tests.web.conftest import LiveDemo, api, signed_in_http


def _rows(xlsx: bytes) -> list[tuple[object, ...]]:
    return list(
        load_workbook(io.BytesIO(xlsx), read_only=True).worksheets[0].iter_rows(values_only=True)
    )


def test_report_downloads_are_the_api_reports_for_the_same_caller(live: LiveDemo) -> None:
    registrar = live.setup.registrars[0]
    with Session(live.bank.engine) as session:
        issuers = {row.provider for row in session.exec(select(CertificateRow))}
    provider = next(p for p in live.setup.providers if p.actor_id in issuers)
    programme = next(iter(live.setup.programmes.values()))
    today = date.today()
    days = {
        "from": (today - timedelta(days=400)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(),
    }
    cases = [
        (registrar.token, f"/reports/conversions?programme={programme}",
         f"/v1/reports/programmes/{programme}/conversions?", days),
        (registrar.token, f"/reports/roster?programme={programme}",
         f"/v1/reports/programmes/{programme}/roster?", {}),
        (provider.token, "/reports/certificates?", "/v1/reports/certificates?", days),
    ]  # fmt: skip
    for token, page_path, api_path, extra in cases:
        with signed_in_http(live, token) as (client, _csrf), api(live, token) as direct:
            assert client.get("/reports").status_code == 200
            query = "&".join(f"{k}={v}" for k, v in extra.items())
            csv_page = client.get(f"{page_path}&{query}&lang=zh&format=csv")
            csv_api = direct.get(f"{api_path}{query}&lang=zh&format=csv")
            assert csv_page.status_code == csv_api.status_code == 200, csv_page.text
            assert csv_page.headers["content-disposition"].startswith("attachment;")
            assert csv_page.content == csv_api.content
            assert len(csv_page.content.decode("utf-8-sig").splitlines()) >= 2  # header and a row
            xlsx_page = client.get(f"{page_path}&{query}&lang=en&format=xlsx")
            xlsx_api = direct.get(f"{api_path}{query}&lang=en&format=xlsx")
            assert _rows(xlsx_page.content) == _rows(xlsx_api.content)
    with signed_in_http(live, registrar.token) as (client, _csrf):
        backwards = client.get(
            f"/reports/conversions?programme={programme}&from=2026-05-02&to=2026-05-01"
        )
        assert backwards.status_code == 422 and 'role="alert"' in backwards.text
        assert client.get("/reports/certificates?from=2026-01-01&to=2026-02-01").status_code == 404
    with signed_in_http(live, provider.token) as (client, _csrf):
        assert client.get(f"/reports/roster?programme={programme}").status_code == 404
    with signed_in_http(live, live.setup.learners[0].token) as (client, _csrf):
        assert client.get("/reports").status_code == 404
        assert client.get(f"/reports/roster?programme={programme}").status_code == 404
    assert httpx.get(f"{live.url}/reports/roster?programme={programme}").status_code == 404


def _seqs(text: str) -> list[int]:
    return [int(s.split('"')[0]) for s in text.split('data-seq="')[1:]]


def test_the_audit_table_page_is_paged_newest_first_and_admin_only(live: LiveDemo) -> None:
    admin = live.setup.admin
    with signed_in_http(live, admin.token) as (client, csrf):
        issued = client.post(
            "/admin/tokens",
            data={"kind": "learner", "subject": live.setup.learners[0].learner_id,
                  "label": "audit page", "csrf_token": csrf},
        )  # fmt: skip
        assert issued.status_code == 200
        with Session(live.bank.engine) as session:  # the token issued from the page is audited
            (last,) = audit_events(session, limit=1, newest_first=True)
            assert (last.by, last.action) == (admin.actor_id, "token.issued")
            for number in range(55):  # enough rows for a second page
                record_action(session, now=live.bank.clock(), by=admin.actor_id, role="admin",
                              action="learner.read", subject=f"L-audit-{number}")  # fmt: skip
            session.commit()
            total = audit_count(session)
            everything = [e.seq for e in audit_events(session, limit=10_000, newest_first=True)]
        first = client.get("/admin/audit")
        assert first.status_code == 200
        assert f'<strong id="audit-total">{total}</strong>' in first.text
        assert _seqs(first.text) == everything[:50]
        assert "L-audit-54" in first.text and 'href="/admin/audit?page=2"' in first.text
        second = client.get("/admin/audit?page=2")
        assert _seqs(second.text) == everything[50:100]
        assert 'href="/admin/audit?page=1"' in second.text
    for token in (
        live.setup.registrars[0].token,
        live.setup.providers[0].token,
        live.setup.learners[0].token,
    ):
        with signed_in_http(live, token) as (client, _csrf):
            assert client.get("/admin/audit").status_code == 404
    assert httpx.get(f"{live.url}/admin/audit").status_code == 404


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_import_check_lists_every_bad_row_and_refuses_others(live: LiveDemo) -> None:
    registrar, provider = live.setup.registrars[0], live.setup.providers[0]
    learner = live.setup.learners[0].learner_id
    header = [
        "credit_id",
        "learner_id",
        "institution",
        "course_code",
        "credits",
        "grade",
        "earned_on",
    ]
    book = _xlsx([
        header,
        ["WEB-CR-1", learner, "SSPU", "ME1021", 2.5, 90, date(2026, 3, 1)],
        ["WEB-CR-2", learner, "sspu", "ME1021", 2, 101, "2026-03-01"],
    ])  # fmt: skip
    size = live.bank.log.size()
    upload = {"file": ("credits.xlsx", book, "application/octet-stream")}
    with signed_in_http(live, registrar.token) as (client, csrf):
        assert client.get("/registrar/imports").status_code == 200
        checked = client.post(
            "/registrar/imports/preview", data={"kind": "credits", "csrf_token": csrf}, files=upload
        )
        assert checked.status_code == 422
        assert 'id="sign-import"' not in checked.text  # nothing to sign
        problems = checked.text.split('<table id="problems">')[1].split("</table>")[0]
        for column in ("institution", "grade"):
            assert (
                f'<td class="code">credits.xlsx</td><td>3</td><td class="code">{column}</td>'
                in problems
            )
        assert "须为 0 至 100 的整数" in problems and "must be a whole number 0..100" in problems
        forged = client.post("/registrar/imports/preview", data={"kind": "credits"}, files=upload)
        assert forged.status_code == 403
        assert (
            client.post(  # a registrar does not issue certificates by file
                "/registrar/imports/preview",
                data={"kind": "certificates", "csrf_token": csrf},
                files=upload,
            ).status_code
            == 404
        )
        good = _xlsx([header, ["WEB-CR-1", learner, "SSPU", "ME1021", 2.5, 90, date(2026, 3, 1)]])
        ready = client.post(
            "/registrar/imports/preview", data={"kind": "credits", "csrf_token": csrf},
            files={"file": ("credits.xlsx", good, "application/octet-stream")},
        )  # fmt: skip
        assert ready.status_code == 200 and 'id="sign-import"' in ready.text
        found = re.search(r'data-items="([^"]*)"', ready.text)
        assert found is not None
        (item,) = json.loads(html.unescape(found.group(1)))
        assert item["row"] == 2 and item["body"] == {  # the body and nonce the CLI would sign
            "v": 1, "credit_id": "WEB-CR-1", "learner_id": learner, "institution": "SSPU",
            "course_code": "ME1021", "credits": "2.5", "grade": 90, "earned_on": "2026-03-01",
        }  # fmt: skip
        assert item["nonce"] == "imp-cred-" + hashlib.sha256(b"WEB-CR-1").hexdigest()[:40]
        refused = client.post("/web/batch", json={"entries": []})  # no CSRF header
        assert refused.status_code == 403
    with signed_in_http(live, provider.token) as (client, csrf):
        assert client.get("/registrar/imports").status_code == 404
        assert (
            client.post(
                "/registrar/imports/preview",
                data={"kind": "credits", "csrf_token": csrf},
                files=upload,
            ).status_code
            == 404
        )
        assert client.get("/provider/imports").status_code == 200
    with signed_in_http(live, live.setup.learners[0].token) as (client, csrf):
        assert client.get("/provider/imports").status_code == 404
        answer = client.post(
            "/web/imports/known-nonces", json={"nonces": ["x"]}, headers={"X-CSRF-Token": csrf}
        )
        assert answer.status_code == 404
    assert live.bank.log.size() == size  # checking appends nothing
