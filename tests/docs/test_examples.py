"""Every example of README.md and docs/ runs for real (issue 9 item 17).

The fenced ``python`` blocks are executed; every ``creditbank ...`` line of the
``sh``/``bash``/``console`` blocks runs through typer's runner (in-process, as the installed
script would) and every ``curl ...`` line through bash, each block in a fresh working directory
holding ``demo`` (one demo ledger served by uvicorn on 127.0.0.1 for the module) and
``log.vkey``. ``creditbank demo`` itself is started as a process, seen to answer, and stopped.
The placeholders a reader fills in by hand (``L-…``, ``--public-key …``, the log's verifier key,
port 8000) are filled from the demo and from what earlier lines of the block printed. A line that
says ``# ... exits N`` must exit N, every other line 0. Other shell lines (``pip``, ``pytest``,
benchmarks) are not run here. A block is skipped only when ``<!-- example: not run (why) -->``
stands right before it; ``EXPECTED_NOT_RUN`` pins that list, so adding one is a visible decision.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from creditbank.api.app import create_app
from creditbank.cli import app as cli_app
from creditbank.demo import open_demo

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent
RUN_LANGUAGES = {"python", "sh", "bash", "console"}
NOT_RUN = re.compile(r"<!--\s*example:\s*not run \((.+)\)\s*-->")
#: The blocks allowed to carry the "not run" marker, by document and first line.
EXPECTED_NOT_RUN = {
    (
        "README.md",
        "export CREDITBANK_DATABASE_URL=postgresql://creditbank@db.internal:5432/creditbank",
    ),
    ("transcripts.md", "creditbank verify-transcript t.json --log-key ... \\"),
}
#: Which demo account runs each command (the docs say it in a comment; the test must know).
ROLE = {
    "actor": "admin",
    "token": "admin",
    "certificate": "provider",
    "register-learner": "registrar",
    "credit": "registrar",
    "convert": "registrar",
    "balance": "registrar",
    "transcript": "registrar",
    "mapping": "registrar",
}


@dataclass(frozen=True)
class Block:
    document: str
    line: int
    language: str
    text: str
    not_run: str | None

    @property
    def name(self) -> str:
        return f"{self.document}:{self.line}"


def _blocks() -> list[Block]:
    found: list[Block] = []
    for document in DOCUMENTS:
        lines = document.read_text("utf-8").splitlines()
        i = 0
        while i < len(lines):
            if not lines[i].startswith("```"):
                i += 1
                continue
            language, start = lines[i][3:].strip(), i
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                i += 1
            before = next((x for x in reversed(lines[:start]) if x.strip()), "")
            marker = NOT_RUN.search(before)
            text = "\n".join(lines[start + 1 : i])
            if language in RUN_LANGUAGES:
                reason = marker.group(1) if marker else None
                found.append(Block(document.name, start + 1, language, text, reason))
            i += 1
    return found


BLOCKS = _blocks()


def _commands(text: str) -> list[str]:
    """The ``creditbank``/``curl`` command lines of a shell block (continuations joined)."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [
        line.strip() for line in joined.splitlines() if re.match(r"\s*(creditbank|curl)\s", line)
    ]


@dataclass
class Demo:
    url: str
    workdir: Path
    credentials: dict[str, object]

    def account(self, role: str) -> dict[str, str]:
        data = self.credentials
        picked = {
            "admin": data["admin"],
            "provider": data["providers"][0],  # type: ignore[index]
            "registrar": data["registrars"][0],  # type: ignore[index]
        }[role]
        return picked  # type: ignore[return-value]

    @property
    def learner_id(self) -> str:
        return str(self.credentials["learners"][0]["learner_id"])  # type: ignore[index]

    @property
    def verifier_key(self) -> str:
        return str(self.credentials["log"]["verifier_key"])  # type: ignore[index]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """One demo ledger in ``<module dir>/demo``, served in-process by uvicorn on 127.0.0.1."""
    workdir = tmp_path_factory.mktemp("doc-examples")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with open_demo(workdir / "demo", base_url=url) as (bank, _setup):
        server = uvicorn.Server(
            uvicorn.Config(create_app(bank), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        credentials = json.loads((workdir / "demo" / "demo-credentials.json").read_text("utf-8"))
        live = Demo(url, workdir, credentials)
        try:
            yield live
        finally:
            server.should_exit = True
            thread.join(timeout=30)


@pytest.fixture
def workdir(demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory per example, holding ``demo`` (the served demo) and ``log.vkey``."""
    (tmp_path / "demo").symlink_to(demo.workdir / "demo", target_is_directory=True)
    (tmp_path / "log.vkey").write_text(demo.verifier_key + "\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _fill(line: str, demo: Demo, captured: dict[str, str]) -> str:
    """Put the demo's values where the docs leave a placeholder for the reader."""
    vkey = shlex.quote(demo.verifier_key)
    host = demo.url.removeprefix("http://")
    line = line.replace("'demo.creditbank.example/log+…'", vkey)
    line = line.replace("--log-key ...", f"--log-key {vkey}")
    line = line.replace("https://creditbank.example", demo.url)
    line = line.replace("127.0.0.1:8000", host)
    line = line.replace("L-…", demo.learner_id)
    for placeholder, value in captured.items():
        line = line.replace(placeholder, value)
    return line


def _environment(words: list[str], demo: Demo) -> dict[str, str]:
    """What a reader has exported before running the line: the account its comment names."""
    env = {"URL": demo.url}
    role = ROLE.get(words[1]) if words[0] == "creditbank" else None
    if role:
        account = demo.account(role)
        env |= {
            "CREDITBANK_URL": demo.url,
            "CREDITBANK_TOKEN": account["token"],
            "CREDITBANK_KEY_FILE": account["private_key_path"],
        }
    if words[:2] == ["creditbank", "keys"]:
        env["CREDITBANK_KEY_PASSPHRASE"] = "a passphrase the reader chose"
    return env


def _run(line: str, demo: Demo, captured: dict[str, str]) -> tuple[int, str]:
    """Run one line: ``curl`` through bash, ``creditbank`` in-process through typer's runner.

    In-process saves a Python start-up per line (about 2 s of CPU each on the shared machine);
    ``$(cat FILE)`` is expanded from the working directory as bash would.
    """
    line = _fill(line, demo, captured)
    words = line.split()
    env = _environment(words, demo)
    if words[0] == "curl":
        line = line.replace("curl -s", "curl -sSf", 1)  # an HTTP error must fail the example
        result = subprocess.run(
            ["bash", "-c", line],
            cwd=Path.cwd(),
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result.returncode, result.stdout + result.stderr
    line = re.sub(
        r"\"?\$\(cat (\S+?)\)\"?",
        lambda m: shlex.quote((Path.cwd() / m.group(1)).read_text("utf-8").strip()),
        line,
    )
    env_off = {"CREDITBANK_DATABASE_URL": None, "CREDITBANK_KEY_PASSPHRASE": None}
    invoked = CliRunner().invoke(
        cli_app, shlex.split(line, comments=True)[1:], env={**env_off, **env}
    )
    detail = "".join(traceback.format_exception(invoked.exception)) if invoked.exception else ""
    return invoked.exit_code, invoked.output + detail


def _capture(line: str, output: str, captured: dict[str, str]) -> None:
    """Remember the public key ``keys new`` printed, for the ``actor register`` after it."""
    if line.startswith("creditbank keys new"):
        found = re.search(r"^public_key: ([A-Za-z0-9+/=]{44})$", output, re.MULTILINE)
        assert found, f"`{line}` printed no public key:\n{output!r}"
        captured["--public-key …"] = f"--public-key {found.group(1)}"


def _serve_cli_demo(line: str, demo: Demo) -> None:
    """``creditbank demo`` serves until interrupted: start it, see it answer, stop it."""
    port = _free_port()
    line = line.replace("--port 8000", f"--port {port}").replace("./demo", "./demo-cli")
    process = subprocess.Popen(
        [str(BIN / "creditbank"), *shlex.split(line, comments=True)[1:]],
        cwd=Path.cwd(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 40
        while True:
            assert process.poll() is None, f"{line!r} exited: {process.stdout.read()}"  # type: ignore[union-attr]
            assert time.monotonic() < deadline, f"{line!r} did not serve on port {port}"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/log/key", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        assert (Path.cwd() / "demo-cli" / "demo-credentials.json").is_file()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()  # type: ignore[union-attr]


SHELL = [b for b in BLOCKS if b.language != "python" and _commands(b.text)]
PYTHON = [b for b in BLOCKS if b.language == "python"]


@pytest.mark.parametrize("block", SHELL, ids=lambda b: b.name)
def test_issue9_item17_shell_examples_run(block: Block, demo: Demo, workdir: Path) -> None:
    if block.not_run:
        pytest.skip(f"marked not run: {block.not_run}")
    captured: dict[str, str] = {}
    for line in _commands(block.text):
        if line.startswith("creditbank demo"):
            _serve_cli_demo(line, demo)
            continue
        code, output = _run(line, demo, captured)
        said = re.search(r"#.*\bexits (\d+)", line)  # a line may say "# exits 10"
        expected = int(said.group(1)) if said else 0
        assert code == expected, f"{block.name}: {line!r} exited {code}, not {expected}\n{output}"
        _capture(line, output, captured)


@pytest.mark.parametrize("block", PYTHON, ids=lambda b: b.name)
def test_issue9_item17_python_examples_run(block: Block, demo: Demo, workdir: Path) -> None:
    if block.not_run:
        pytest.skip(f"marked not run: {block.not_run}")
    code = compile(_fill(block.text, demo, {}), block.name, "exec")
    exec(code, {"__name__": "__doc_example__"})  # noqa: S102 - running the docs is the point


def test_issue9_item17_blocks_not_run_are_few_and_listed() -> None:
    marked = {(b.document, b.text.splitlines()[0]) for b in BLOCKS if b.not_run}
    assert marked == EXPECTED_NOT_RUN
    assert all(len(b.not_run or "") > 20 for b in BLOCKS if b.not_run), "say why in the marker"


def test_issue9_item17_every_document_with_examples_is_covered() -> None:
    runnable = {b.document for b in SHELL + PYTHON}
    assert {"README.md", "api.md", "transcripts.md", "web.md"} <= runnable
