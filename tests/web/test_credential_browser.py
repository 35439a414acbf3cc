"""The worker's credential on the page, in real Chromium: downloads, the share link and its QR code."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import segno

from tests.web.conftest import LiveDemo, sign_in


def test_a_learner_downloads_the_credential_and_shares_a_link_that_verifies(
    context: Any, live: LiveDemo, tmp_path: Path
) -> None:
    learner = live.setup.learners[0]
    page = context.new_page()
    sign_in(page, learner.token)
    assert page.url.endswith(f"/learners/{learner.learner_id}")

    with page.expect_download() as info:
        page.click("#credential-json")
    saved = tmp_path / "credential.json"
    info.value.save_as(saved)
    document = json.loads(saved.read_text("utf-8"))
    assert "VerifiableCredential" in document["type"]
    assert document["credentialSubject"]["id"].endswith(learner.learner_id)

    with page.expect_download() as info:
        page.click("#credential-pdf")
    pdf = tmp_path / "credential.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")

    page.click("#make-share-link")
    page.wait_for_selector("#share-link")
    link = str(page.get_attribute("#share-link", "href"))
    shared = parse_qs(urlsplit(link).query)["credential"][0]
    assert shared.startswith(f"{live.url}/v1/credentials/")
    assert httpx.get(shared).json() == document  # the same credential, nothing new issued
    # The QR code is the server's inline SVG of exactly this link.
    expected = segno.make(link, error="m").svg_inline(scale=4, border=2, lineclass=None)
    match = re.search(r' d="([^"]+)"', expected)
    assert match is not None
    assert page.get_attribute(".qr-code svg path", "d") == match.group(1)

    page.click("#share-link")
    page.wait_for_selector("#verification-result[data-result]", timeout=30000)
    assert page.get_attribute("#verification-result", "data-result") == "valid"


def test_no_one_else_can_make_or_download_a_learners_credential(
    context: Any, live: LiveDemo
) -> None:
    mine, theirs = live.setup.learners[0], live.setup.learners[1]
    page = context.new_page()
    sign_in(page, mine.token)
    for path in ("credential.json", "credential.pdf"):
        answer = page.request.get(f"/learners/{theirs.learner_id}/{path}")
        assert answer.status == 404
    page.goto(f"/learners/{mine.learner_id}")
    csrf = str(page.locator("input[name=csrf_token]").first.get_attribute("value"))
    answer = page.request.post(
        f"/learners/{theirs.learner_id}/credential/share", form={"csrf_token": csrf}
    )
    assert answer.status == 404
    assert "/v1/credentials/" not in answer.text()
    answer = page.request.post(
        f"/learners/{mine.learner_id}/credential/share", form={"csrf_token": "forged"}
    )
    assert answer.status == 403


def test_a_registrar_may_download_a_learners_credential(context: Any, live: LiveDemo) -> None:
    learner = live.setup.learners[1]
    page = context.new_page()
    sign_in(page, live.setup.registrars[0].token)
    answer = page.request.get(f"/learners/{learner.learner_id}/credential.json")
    assert answer.status == 200
    assert answer.json()["credentialSubject"]["id"].endswith(learner.learner_id)
    assert "identifier" not in answer.json()["credentialSubject"]  # never the name
    pdf = page.request.get(f"/learners/{learner.learner_id}/credential.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF-")
