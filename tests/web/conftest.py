"""A live demo ledger served by uvicorn on 127.0.0.1, and one Chromium for the whole session.

Browser tests need Debian's Chromium: they read its path from ``CREDITBANK_TEST_CHROMIUM``
(``.ci/run`` sets it to ``/usr/bin/chromium`` after installing it) and skip, saying why, when it
is not set. Playwright's own browser download is never used.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from creditbank.accounts.bank import CreditBank
from creditbank.api.app import create_app
from creditbank.credentials.issuer import demo_issuer
from creditbank.demo import DemoSetup, open_demo

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


@dataclass(frozen=True)
class LiveDemo:
    url: str
    bank: CreditBank
    setup: DemoSetup


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDemo]:
    """The demo ledger behind the real app, served by uvicorn in a thread of this process."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    folder = tmp_path_factory.mktemp("web-demo")
    with open_demo(folder, base_url=url) as (bank, setup):
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(
                    bank, credential_issuer=demo_issuer(folder / "keys" / "credential.key", url)
                ),
                host="127.0.0.1",
                port=port,
                log_level="warning",
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        try:
            yield LiveDemo(url, bank, setup)
        finally:
            server.should_exit = True
            thread.join(timeout=30)


@pytest.fixture
def context(browser: Any, live: LiveDemo) -> Iterator[Any]:
    """A fresh browser profile (no cookies) that records every request it makes."""
    ctx = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 900})
    requested: list[str] = []
    ctx.on("request", lambda request: requested.append(request.url))
    ctx.requested = requested
    yield ctx
    ctx.close()


def sign_in(page: Any, token: str) -> None:
    page.goto("/sign-in")
    page.fill("#token", token)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def api(live: LiveDemo, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=live.url, headers=headers, timeout=30)


@contextmanager
def signed_in_http(live: LiveDemo, token: str) -> Iterator[tuple[httpx.Client, str]]:
    """A plain HTTP client signed in with ``token``, and its CSRF token (for the forms)."""
    with httpx.Client(base_url=live.url, timeout=30) as client:
        page = client.get("/sign-in")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found is not None
        csrf = found.group(1)
        answer = client.post("/sign-in", data={"token": token, "csrf_token": csrf})
        assert answer.status_code == 303, answer.text
        yield client, csrf
