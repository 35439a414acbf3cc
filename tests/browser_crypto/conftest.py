"""A real Chromium (Debian's, through Playwright) and a real local HTTP server for browser tests.

The browser's path comes from ``CREDITBANK_TEST_CHROMIUM`` (``.ci/run`` sets it to
``/usr/bin/chromium``); without it, or without the binary, these tests skip and say why. Playwright
never downloads a browser here. Pages are served by uvicorn on 127.0.0.1 (never ``file://``), and
every test page refuses, and records, any request that would leave 127.0.0.1.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from creditbank.web import verify

HARNESS = "/__crypto_harness"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """An app served by uvicorn in a thread: its base URL, stopped at the end of the scope."""

    app: Any
    port: int = field(default_factory=_free_port)

    def __post_init__(self) -> None:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def harness_app() -> FastAPI:
    """The crypto library's route and a blank page to import the modules from."""
    app = FastAPI()
    app.include_router(verify.router)

    @app.get(HARNESS)
    def blank() -> HTMLResponse:
        return HTMLResponse(
            "<!doctype html><html><head><title>harness</title></head><body></body></html>"
        )

    return app


@pytest.fixture(scope="session")
def harness_server() -> Iterator[LiveServer]:
    server = LiveServer(harness_app()).start()
    yield server
    server.stop()


@dataclass
class GuardedPage:
    """A page whose requests outside 127.0.0.1 are aborted and listed in ``escaped``."""

    page: Any
    escaped: list[str]


def guard(page: Any) -> list[str]:
    escaped: list[str] = []

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("http://127.0.0.1:", "data:", "blob:")):
            r.continue_()
        else:
            escaped.append(url)
            r.abort()

    page.route("**/*", route)
    return escaped


@pytest.fixture
def harness(browser: Any, harness_server: LiveServer) -> Iterator[Any]:
    """A fresh page on the harness, with every crypto module loaded as ``window.crypto_``."""
    context = browser.new_context()
    page = context.new_page()
    escaped = guard(page)
    page.goto(harness_server.url + HARNESS)
    yield page
    context.close()
    assert escaped == [], f"requests left 127.0.0.1: {escaped}"


def module_call(path: str, body: str) -> str:
    """A page function that imports the module at ``path`` as ``m`` and runs ``body`` on ``arg``."""
    return "async (arg) => { const m = await import('" + path + "');\n" + body + "\n}"
