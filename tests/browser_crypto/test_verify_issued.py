"""The /verify page on credentials the bank itself issues (the credentials package), end to end.

A learner's credential from ``GET /v1/learners/{id}/credential`` opened as a QR code would open it
(``/verify?credential=<share URL>``): valid; then the provider revokes the certificate under it,
the bank sets the credential's status bit, and the same link shows it revoked. Skips on a branch
without the credentials package.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from creditbank.api.app import create_app
from creditbank.ledger.database import make_engine
from creditbank.ledger.keys import generate_key
from tests.api.world import World, open_world
from tests.browser_crypto.conftest import LiveServer, guard

credential_issuer = pytest.importorskip(
    "creditbank.credentials.issuer", reason="the credentials package is not on this branch"
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bank_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str]]:
    tmp: Path = tmp_path_factory.mktemp("issued")
    engine = make_engine(f"sqlite:///{tmp / 'creditbank.db'}")
    world = open_world(engine, tmp)
    port = LiveServer(FastAPI()).port
    base = f"http://127.0.0.1:{port}"
    issuer = credential_issuer.CredentialIssuer(generate_key(), base)
    server = LiveServer(create_app(world.bank, credential_issuer=issuer), port=port).start()
    try:
        yield world, base
    finally:
        server.stop()
        engine.dispose()


def _open(browser: Any, url: str) -> tuple[str, dict[str, str], str, list[str]]:
    context = browser.new_context()
    page = context.new_page()
    escaped = guard(page)
    page.goto(url)
    page.wait_for_selector("#verification-result[data-result]", timeout=30000)
    result = str(page.get_attribute("#verification-result", "data-result"))
    rows = page.query_selector_all("#checks li[data-check]")
    reasons = {
        str(r.get_attribute("data-check")): str(r.get_attribute("data-reason")) for r in rows
    }
    heading = page.inner_text("#result-heading")
    context.close()
    return result, reasons, heading, escaped


def test_an_issued_credential_verifies_then_shows_revoked(
    browser: Any, bank_world: tuple[World, str]
) -> None:
    world, base = bank_world
    learner = world.convertible_learner()
    body = world.certificate_body(learner.learner_id)
    world.bank.submit(world.provider.sign("certificate.issued", body))
    response = httpx.get(
        f"{base}/v1/learners/{learner.learner_id}/credential", headers=world.bearer(learner.token)
    )
    response.raise_for_status()
    share = response.headers["link"].split(">")[0].lstrip("<")
    page_url = f"{base}/verify?credential={share}"

    result, reasons, heading, escaped = _open(browser, page_url)
    assert result == "valid", reasons
    assert reasons == {
        "format": "format_ok",
        "signature": "sig_ok",
        "issuer": "issuer_listed",
        "validity": "validity_ok",
        "status": "status_ok",
        "achievements": "ach_ok",
        "evidence": "evidence_ok",
        "complete": "complete_ok",
        "log": "log_consistent",
    }
    assert heading == "凭证有效"
    assert escaped == []

    world.bank.submit(
        world.provider.sign(
            "certificate.revoked",
            {"certificate_id": body["certificate_id"], "reason": "withdrawn-by-issuer"},
        )
    )
    result, reasons, heading, escaped = _open(browser, page_url)
    assert result == "invalid"
    assert reasons["status"] == "status_revoked"
    assert reasons["signature"] == "sig_ok"
    assert reasons["log"] == "log_consistent"
    assert heading == "凭证已被撤销"
    assert escaped == []
