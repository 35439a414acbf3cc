"""The server side of the HTTP benchmarks: uvicorn in its own process group, and the load run.

``Server`` starts ``uvicorn --factory creditbank.api.app:create_app_from_settings`` on 127.0.0.1
and a free port and stops it by its pid; ``run_load`` runs the generator process
(``http_loadgen.py``) against it while sampling the server's RSS and CPU time from ``/proc``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from http_ledger import Manifest
from http_loadgen import write_requests

__all__ = ["HOST", "LoadResult", "Server", "rss_mb", "run_load", "serving"]

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
HOST = "127.0.0.1"


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc/<pid>/task/*/children)."""
    found = [pid]
    position = 0
    while position < len(found):
        current = found[position]
        position += 1
        tasks = Path(f"/proc/{current}/task")
        try:
            for task in tasks.iterdir():
                children = (task / "children").read_text().split()
                found.extend(int(child) for child in children)
        except OSError:
            continue
    return found


def rss_mb(pids: Sequence[int]) -> float:
    """Sum of VmRSS over ``pids`` (processes that vanished count zero)."""
    total_kb = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
                    break
        except OSError:
            continue
    return total_kb / 1024


class Server:
    """``uvicorn`` over a prepared ledger, in its own process group; stopped by its pid."""

    def __init__(self, manifest: Manifest, *, workers: int, http: str, log: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        env = {
            **os.environ,
            "CREDITBANK_DATABASE_URL": manifest.database_url,
            "CREDITBANK_LOG_KEY_FILE": manifest.log_key_file,
            "CREDITBANK_ORIGIN": manifest.origin,
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("CREDITBANK_LOG_KEY_PASSPHRASE", None)
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "creditbank.api.app:create_app_from_settings",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--http",
            http,
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers = workers

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"uvicorn exited: see {self.log}\n{self.log.read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    if len(self.worker_pids()) >= self.workers:
                        return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"uvicorn did not become ready in {timeout:.0f} s (see {self.log})")

    def pids(self) -> list[int]:
        return _descendants(self.process.pid)

    def worker_pids(self) -> list[int]:
        """The processes serving requests: uvicorn's spawned workers, or uvicorn itself."""
        if self.workers == 1:
            return [self.process.pid]
        found = []
        for pid in self.pids()[1:]:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in command:  # not the resource tracker
                found.append(pid)
        return found

    def stop(self) -> None:
        """SIGTERM to the uvicorn process we started (it stops its workers), then SIGKILL."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                for pid in reversed(self.pids()):  # only our own process and its children
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                self.process.wait(5)
        self._log_file.close()


@contextmanager
def serving(manifest: Manifest, *, workers: int, http: str, log: Path) -> Iterator[Server]:
    server = Server(manifest, workers=workers, http=http, log=log)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


# --- the generator -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    report: dict[str, Any]
    server_cpu_cores: float
    peak_rss_mb: float
    #: RSS of each process at the peak (the supervisor first when there are workers).
    peak_breakdown: list[float]


def _cpu_seconds(pids: Sequence[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            continue
    return total / ticks


def run_load(
    server: Server,
    requests: Sequence[bytes],
    *,
    connections: int,
    duration: float,
    warmup: float,
    max_requests: int,
    cycle: bool,
    pin: int | None,
    scratch: Path,
) -> LoadResult:
    """Run the generator process against ``server``; sample the server's RSS meanwhile."""
    path = scratch / "requests.bin"
    write_requests(path, requests)
    command = [
        sys.executable,
        str(BENCH / "http_loadgen.py"),
        "--port",
        str(server.port),
        "--requests",
        str(path),
        "--connections",
        str(connections),
        "--duration",
        str(duration),
        "--warmup",
        str(warmup),
        "--max-requests",
        str(max_requests),
    ]
    if cycle:
        command.append("--cycle")
    if pin is not None:
        command += ["--cpu", str(pin)]
    peak = 0.0
    breakdown: list[float] = []
    stop = threading.Event()
    cpu_marks: list[tuple[float, float]] = []

    def sample() -> None:
        nonlocal peak, breakdown
        began = time.monotonic()
        while not stop.wait(0.2):
            each = [rss_mb([pid]) for pid in server.pids()]
            if sum(each) > peak:
                peak, breakdown = sum(each), each
            if not cpu_marks and time.monotonic() - began >= warmup:
                cpu_marks.append((time.monotonic(), _cpu_seconds(server.pids())))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    generator = subprocess.Popen(command, stdout=subprocess.PIPE, cwd=ROOT)
    try:
        out, _ = generator.communicate(timeout=warmup + duration + 120)
    finally:
        if generator.poll() is None:
            generator.kill()
            generator.wait()
    ended = (time.monotonic(), _cpu_seconds(server.pids()))
    stop.set()
    sampler.join()
    if generator.returncode != 0:
        raise RuntimeError(f"the load generator failed (exit {generator.returncode})")
    cores = 0.0
    if cpu_marks:
        (t0, c0), (t1, c1) = cpu_marks[0], ended
        cores = (c1 - c0) / max(1e-9, t1 - t0)
    return LoadResult(json.loads(out), cores, peak, breakdown)
