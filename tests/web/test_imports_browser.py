"""Bulk imports in Chromium: a file's problems first, then its rows signed in the browser and posted.

Checked outside the browser: the entries carry the signer's key and verify, a learner's nonce is
the one ``creditbank import learners`` derives from the same key (so the page and the CLI resume
each other's imports), the identities match their commitments, and a second import of the same
file appends nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from sqlmodel import Session, select

from creditbank.accounts.cohort_files import read_cohort_file
from creditbank.accounts.cohorts import learner_secret, row_nonce
from creditbank.accounts.identity import commitment_of
from creditbank.accounts.identity_vault import open_identity
from creditbank.accounts.tables import CertificateRow
from creditbank.ledger.entry import public_key_to_b64
from creditbank.ledger.keys import load_private_key
from tests.web.conftest import ARTIFACTS, LiveDemo, sign_in

_SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_number(body: str) -> str:
    """A resident ID number with its right check digit (``body`` is 17 digits)."""
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def _check(page: Any, audience: str, kind: str, path: Path) -> None:
    page.goto(f"/{audience}/imports")
    page.select_option("#imp-kind", kind)
    page.set_input_files("#imp-file", str(path))
    page.click("#upload-h ~ form button[type=submit]")
    page.wait_for_load_state()


def _sign(page: Any, key_file: Path) -> Any:
    page.set_input_files("#sign-import input[type=file]", str(key_file))
    page.click("#sign-import button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('#sign-import [role=status]').className !== ''",
        timeout=60_000,
    )
    return page.locator("#sign-import [role=status]")


def test_a_registrar_imports_learners_and_credits_signed_in_the_browser(
    browser: Any, live: LiveDemo, tmp_path: Path
) -> None:
    registrar = live.setup.registrars[0]
    people = [
        ("网页导入甲", _id_number("31010119900101123")),
        ("网页导入乙", _id_number("31010119910202234")),
    ]
    bad = _id_number("31010119920303345")[:-1] + (
        "0" if _id_number("31010119920303345")[-1] != "0" else "1"
    )
    ctx = browser.new_context(base_url=live.url, viewport={"width": 375, "height": 800})
    try:
        page = ctx.new_page()
        sign_in(page, registrar.token)
        size = live.bank.log.size()
        with_bad = tmp_path / "people-draft.csv"
        with_bad.write_text(
            "姓名,身份证号\n" + "".join(f"{n},{i}\n" for n, i in [*people, ("丙", bad)]),
            encoding="utf-8",
        )
        _check(page, "registrar", "learners", with_bad)
        cells = page.locator("#problems tbody tr").first.locator("td").all_inner_texts()
        assert cells[:3] == ["people-draft.csv", "4", "id_number"], cells
        assert "校验位" in cells[3] and "check digit" in cells[3]
        assert page.locator("#sign-import").count() == 0 and live.bank.log.size() == size
        assert page.evaluate(_SIDEWAYS) <= 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "registrar-imports-problems-375.png"), full_page=True)

        people_csv = tmp_path / "people.csv"
        people_csv.write_text(
            "name,id_number\n" + "".join(f"{n},{i}\n" for n, i in people), encoding="utf-8"
        )
        _check(page, "registrar", "learners", people_csv)
        assert page.locator("#rows tbody tr").count() == 2
        assert people[0][1] not in page.locator("#rows").inner_text()  # ID numbers shown masked
        status = _sign(page, registrar.private_key_path)
        assert status.get_attribute("class") == "ok", status.inner_text()
        assert status.get_attribute("data-appended") == "2"
        assert page.evaluate(_SIDEWAYS) <= 0
        page.screenshot(path=str(ARTIFACTS / "registrar-imports-signed-375.png"), full_page=True)
        new_ids = page.locator("#new-learners tbody tr td:nth-child(2)").all_inner_texts()
        assert len(new_ids) == 2

        key = load_private_key(registrar.private_key_path, passphrase=None)
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        cohort = read_cohort_file("learners", people_csv, today=live.bank.clock().date())
        nonces = {row_nonce("learners", row, learner_secret(raw)) for row in cohort.rows}
        leaves = [live.bank.log.leaf(i).signed for i in range(size, live.bank.log.size())]
        registered = [s for s in leaves if s.entry.type == "learner.registered"]
        assert {s.entry.nonce for s in registered} == nonces  # the CLI's nonces, made in the page
        with Session(live.bank.engine) as session:
            for signed in registered:
                signed.verify()
                assert signed.public_key == public_key_to_b64(key.public_key())
                identity = open_identity(session, signed.entry.body["learner_id"])
                assert commitment_of(identity) == signed.entry.body["commitment"]
                assert (identity.name, identity.id_number) in people
        assert sorted(s.entry.body["learner_id"] for s in registered) == sorted(new_ids)

        _check(page, "registrar", "learners", people_csv)  # the same file again: nothing twice
        status = _sign(page, registrar.private_key_path)
        assert status.get_attribute("class") == "ok", status.inner_text()
        assert (status.get_attribute("data-appended"), status.get_attribute("data-already")) == (
            "0",
            "2",
        )

        credits_csv = tmp_path / "credits.csv"
        credits_csv.write_text(
            "credit_id,learner_id,institution,course_code,credits,grade,earned_on\n"
            f"WEB-IMP-CR-1,{new_ids[0]},SOU,CNC204,2.5,88,2026-03-02\n",
            encoding="utf-8",
        )
        _check(page, "registrar", "credits", credits_csv)
        status = _sign(page, registrar.private_key_path)
        assert status.get_attribute("class") == "ok", status.inner_text()
        credit = live.bank.log.leaf(int(status.get_attribute("data-index") or "-1")).signed
        credit.verify()
        assert credit.entry.type == "credit.earned" and credit.entry.body["credits"] == "2.5"
    finally:
        ctx.close()


def test_a_provider_issues_and_revokes_certificates_by_file(
    context: Any, live: LiveDemo, tmp_path: Path
) -> None:
    provider = live.setup.providers[0]
    learner = live.setup.learners[0].learner_id
    page = context.new_page()
    sign_in(page, provider.token)
    issued = tmp_path / "certs.csv"
    issued.write_text(
        "证书编号,学员编号,职业代码,等级,发证日期\n"
        f"WEB-IMP-C1,{learner},6-18-01-01,4,2026-02-01\n"
        f"WEB-IMP-C2,{learner},6-18-01-01,3,2026-02-01\n",
        encoding="utf-8",
    )
    _check(page, "provider", "certificates", issued)
    status = _sign(page, provider.private_key_path)
    assert status.get_attribute("class") == "ok", status.inner_text()

    revoke = tmp_path / "revoke.csv"
    revoke.write_text(
        "certificate_id,reason\nWEB-IMP-C1,录入错误\nNO-SUCH-CERT,fraud\n", encoding="utf-8"
    )
    size = live.bank.log.size()
    _check(page, "provider", "revocations", revoke)
    status = _sign(page, provider.private_key_path)  # the bank refuses row 3: the batch is whole
    assert status.get_attribute("class") == "error"
    assert status.get_attribute("data-row") == "3" and "NO-SUCH-CERT" in status.inner_text()
    assert live.bank.log.size() == size

    revoke.write_text("certificate_id,reason\nWEB-IMP-C1,录入错误\n", encoding="utf-8")
    _check(page, "provider", "revocations", revoke)
    status = _sign(page, provider.private_key_path)
    assert status.get_attribute("class") == "ok", status.inner_text()
    with Session(live.bank.engine) as session:
        rows = {
            row.certificate_id: row
            for row in session.exec(
                select(CertificateRow).where(CertificateRow.learner_id == learner)
            )
        }
    assert rows["WEB-IMP-C1"].revoked_index is not None
    assert rows["WEB-IMP-C1"].revoke_reason == "entered-in-error"
    assert (
        rows["WEB-IMP-C2"].revoked_index is None
        and rows["WEB-IMP-C2"].provider == provider.actor_id
    )
