"""``creditbank demo`` as a user runs it: a real process, a real uvicorn, real TCP on 127.0.0.1.

The demo starts, writes its credentials, serves; its ledger verifies with ``creditbank verify``;
the typed client (httpx) checks every entry as an outside verifier would, and its retry of a write
whose answer was lost is answered with the original receipt; the CLI's client commands work
against it with the URL and token from the environment; Ctrl-C stops it cleanly.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from creditbank.client import CreditbankClient, EntrySigner
from creditbank.ledger.checkpoint import NoteVerifier
from creditbank.ledger.keys import load_private_key

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent / "creditbank"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Demo:
    process: subprocess.Popen[str]
    data_dir: Path
    url: str
    credentials: dict[str, Any]

    def output(self) -> str:
        self.process.send_signal(signal.SIGINT)
        out, _ = self.process.communicate(timeout=20)
        return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data_dir = tmp_path_factory.mktemp("demo") / "new-dir"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(BIN), "demo", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    started = time.monotonic()
    try:
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() - started < 30, "the demo did not start within 30 s"
            time.sleep(0.1)
        credentials = json.loads((data_dir / "demo-credentials.json").read_text("utf-8"))
        yield Demo(process, data_dir, url, credentials)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def test_the_demo_writes_its_credentials_and_keys(demo: Demo) -> None:
    creds = demo.credentials
    assert creds["base_url"] == demo.url
    assert creds["admin"]["token"]
    assert len(creds["providers"]) >= 1 and len(creds["registrars"]) >= 1
    for actor in creds["providers"] + creds["registrars"]:
        assert actor["actor_id"] and actor["token"]
        key = Path(actor["private_key_path"])
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        load_private_key(key, passphrase=None)
    assert len(creds["learners"]) >= 3
    assert all(learner["learner_id"] and learner["token"] for learner in creds["learners"])
    assert (demo.data_dir / "creditbank.db").exists()


def test_the_demo_ledger_verifies(demo: Demo) -> None:
    vkey = demo.credentials["log"]["verifier_key"]
    result = _cli(
        "verify",
        "--db",
        f"sqlite:///{demo.data_dir / 'creditbank.db'}",
        "--origin",
        "demo.creditbank.example/log",
        "--log-key",
        vkey,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK:" in result.stdout


def test_every_entry_checks_out_through_the_client(demo: Demo) -> None:
    with CreditbankClient(demo.url) as api:
        vkey = api.log_key()
        assert vkey == demo.credentials["log"]["verifier_key"]
        trusted = NoteVerifier.from_vkey(vkey)
        types: list[str] = []
        for item in api.iter_entries():
            leaf = api.verify_entry(item["index"], trusted)
            types.append(leaf.entry.type)
        modes = {
            r["mode"]
            for learner in demo.credentials["learners"]
            for r in _recognitions(demo, learner)
        }
    assert {"through_train", "certificate_recognition"} <= modes
    assert types.count("conversion.reversed") >= 1
    assert types.count("mapping.registered") >= 10


def _recognitions(demo: Demo, learner: dict[str, Any]) -> list[dict[str, Any]]:
    with CreditbankClient(demo.url, token=learner["token"]) as api:
        posted = [
            item
            for entry in api.iter_entries()
            if entry["leaf"]["entry"]["type"] == "conversion.posted"
            and entry["leaf"]["entry"]["body"]["learner_id"] == learner["learner_id"]
            for item in entry["leaf"]["entry"]["body"]["recognitions"]
        ]
        balance = api.balance(learner["learner_id"])
    modes = {i["course_code"]: i["mode"] for p in balance["programmes"] for i in p["items"]}
    return [{"mode": modes.get(item["course_code"], "reversed")} for item in posted]


class _LoseFirstAnswer(httpx.BaseTransport):
    """Deliver the request, then lose the server's answer once (a timeout after the write)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and self.lost == 0:
            response.read()
            response.close()
            self.lost += 1
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def test_a_retried_write_whose_answer_was_lost_appends_once(demo: Demo) -> None:
    provider = demo.credentials["providers"][0]
    learner = demo.credentials["learners"][0]
    signer = EntrySigner(
        provider["actor_id"], load_private_key(Path(provider["private_key_path"]), passphrase=None)
    )
    transport = _LoseFirstAnswer()
    with CreditbankClient(demo.url) as public:
        before = int(public.checkpoint().split("\n")[1])
    with CreditbankClient(
        demo.url, token=provider["token"], signer=signer, transport=transport
    ) as api:
        receipt = api.issue_certificate(
            learner_id=learner["learner_id"],
            qualification_code="6-18-02-04",
            level=4,
            issued_on=(datetime.now(UTC) - timedelta(days=3)).date(),
        )
    assert transport.lost == 1
    assert receipt.replayed is True
    # + 1: the learner index entry the log appends after it (h5)
    assert receipt.index == before and receipt.tree_size == before + 2
    with CreditbankClient(demo.url) as public:
        assert int(public.checkpoint().split("\n")[1]) == before + 2  # with the index entry


def test_the_cli_client_commands_work_against_the_demo(demo: Demo, tmp_path: Path) -> None:
    creds = demo.credentials
    registrar = creds["registrars"][0]
    learner = creds["learners"][1]
    env = {"CREDITBANK_URL": demo.url, "CREDITBANK_TOKEN": learner["token"]}

    balance = _cli("balance", learner["learner_id"], "--json", env=env)
    assert balance.returncode == 0, balance.stderr
    assert json.loads(balance.stdout)["learner_id"] == learner["learner_id"]
    table = _cli("balance", learner["learner_id"], env=env)
    assert "Recognised credits" in table.stdout

    other = _cli("balance", creds["learners"][0]["learner_id"], env=env)
    assert other.returncode == 5, other.stdout + other.stderr  # NotFoundError, not 403

    transcript = tmp_path / "t.json"
    saved = _cli("transcript", learner["learner_id"], "-o", str(transcript), env=env)
    assert saved.returncode == 0, saved.stderr
    vkey = creds["log"]["verifier_key"]
    checked = _cli("verify-transcript", str(transcript), "--log-key", vkey)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "entries verified" in checked.stdout
    bundle = json.loads(transcript.read_text("utf-8"))
    posted = next(e for e in bundle["entries"] if e["leaf"]["entry"]["type"] == "conversion.posted")
    posted["leaf"]["entry"]["body"]["recognitions"][0]["credits"] = "60"
    transcript.write_text(json.dumps(bundle, ensure_ascii=False), "utf-8")
    tampered = _cli("verify-transcript", str(transcript), "--log-key", vkey)
    assert tampered.returncode == 3, tampered.stdout + tampered.stderr

    provider = creds["providers"][0]
    issued = _cli(
        "certificate",
        "issue",
        "--learner",
        learner["learner_id"],
        "--qualification",
        "4-12-01-01",
        "--level",
        "4",
        "--issued-on",
        (datetime.now(UTC) - timedelta(days=10)).date().isoformat(),
        env={
            "CREDITBANK_URL": demo.url,
            "CREDITBANK_TOKEN": provider["token"],
            "CREDITBANK_KEY_FILE": provider["private_key_path"],
        },
    )
    assert issued.returncode == 0, issued.stdout + issued.stderr
    assert "certificate.issued appended at index" in issued.stdout
    # The id the command chose is printed, so the provider can revoke what it issued.
    (made,) = re.findall(r"^certificate_id: (C-\w+)$", issued.stdout, re.MULTILINE)
    provider_env = {
        "CREDITBANK_URL": demo.url,
        "CREDITBANK_TOKEN": provider["token"],
        "CREDITBANK_KEY_FILE": provider["private_key_path"],
    }
    revoked = _cli("certificate", "revoke", made, "--reason", "entered-in-error", env=provider_env)
    assert revoked.returncode == 0, revoked.stdout + revoked.stderr
    assert "certificate.revoked appended at index" in revoked.stdout

    programme = creds["programmes"][learner["learner_id"]]
    planned = _cli(
        "convert",
        "plan",
        "--learner",
        learner["learner_id"],
        "--programme",
        programme,
        "--json",
        env={"CREDITBANK_URL": demo.url, "CREDITBANK_TOKEN": registrar["token"]},
    )
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["programme_code"] == programme


def test_the_settings_factory_serves_the_same_ledger(demo: Demo) -> None:
    """What `creditbank serve` runs: the bank opened from settings, closed with the app."""
    from fastapi.testclient import TestClient

    from creditbank.api.app import create_app_from_settings
    from creditbank.config import Settings

    settings = Settings(
        database_url=f"sqlite:///{demo.data_dir / 'creditbank.db'}",
        log_key_file=demo.data_dir / "keys" / "log.key",
        origin="demo.creditbank.example/log",
    )
    with TestClient(create_app_from_settings(settings)) as http:
        assert http.get("/readyz").json()["status"] == "ready"
        assert http.get("/v1/log/key").text.strip() == demo.credentials["log"]["verifier_key"]
        assert (
            http.get("/v1/log/checkpoint").text == httpx.get(f"{demo.url}/v1/log/checkpoint").text
        )


def test_ctrl_c_stops_the_demo_and_it_printed_what_to_try(demo: Demo) -> None:
    output = demo.output()
    assert demo.process.returncode == 0, output
    assert f"curl {demo.url}/v1/log/checkpoint" in output
    assert f"{demo.url}/docs" in output
    assert "demo-credentials.json" in output
