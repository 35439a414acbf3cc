"""HTTP load benchmark of issue 6: appends and balance reads against uvicorn on loopback.

Run from the repository root::

    .venv/bin/python bench/bench_http.py                  # 1M-entry ledger for reads, SQLite
    .venv/bin/python bench/bench_http.py --quick          # 100k-entry ledger, shorter runs
    .venv/bin/python bench/bench_http.py --db postgres    # PostgreSQL at 127.0.0.1:5432/test
    .venv/bin/python bench/bench_http.py --profile        # then py-spy the server under load

It starts ``uvicorn --factory creditbank.api.app:create_app_from_settings`` itself (127.0.0.1, a
free port, ``--workers`` processes), prepares the ledgers (``bench/http_ledger.py``: the read
ledger is built once, audited, and cached under ``bench/results/``), signs every append before the
timed window, and loads the server from a separate generator process (``bench/http_loadgen.py``,
closed loop, keep-alive, bounded by count and by time, loopback only) whose own CPU time is
reported. Every figure is printed beside its target with OK or MISS; the targets are the issue's
and are never adjusted here. Everything it started is stopped by process id when it ends.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_ledger import Manifest, Signer, prepare_ledger  # noqa: E402
from http_loadgen import write_requests  # noqa: E402
from report import CORES, Row, load, machine, print_table, say  # noqa: E402

from creditbank.ledger.canonical import canonical_bytes  # noqa: E402
from creditbank.ledger.database import make_engine  # noqa: E402
from creditbank.ledger.keys import load_private_key  # noqa: E402
from creditbank.ledger.maintenance import verify_ledger  # noqa: E402
from creditbank.ledger.sql import SqlLogStore  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
HOST = "127.0.0.1"

APPEND_RATE, APPEND_P99 = 1_500, 50.0
READ_RATE, READ_P99 = 3_000, 20.0
MEMORY_MB = 300


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


# --- requests, signed before the timed window ---------------------------------------------------


def _request(
    method: str, path: str, port: int, token: str, body: bytes = b"", extra: str = ""
) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Bearer {token}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + extra + "\r\n").encode() + body


def append_requests(manifest: Manifest, count: int, port: int) -> list[bytes]:
    """``count`` distinct ``certificate.issued`` entries by the ledger's providers, signed now."""
    now = datetime.now(UTC)
    run = os.urandom(4).hex()
    signers = [
        (
            Signer(p.actor_id, load_private_key(Path(p.key_path), passphrase=None), f"h-{run}-{i}"),
            p.token,
        )
        for i, p in enumerate(manifest.providers)
    ]
    rng = random.Random(count)
    learners = manifest.learner_ids
    codes = manifest.qualification_codes
    out = []
    for i in range(count):
        signer, token = signers[i % len(signers)]
        code, level = codes[i % len(codes)]
        signed = signer.sign(
            "certificate.issued",
            {
                "certificate_id": f"HC-{run}-{i:08d}",
                "learner_id": learners[rng.randrange(len(learners))],
                "qualification_code": code,
                "level": level,
                "issued_on": (now.date() - timedelta(days=1 + i % 300)).isoformat(),
            },
            now,
        )
        body = canonical_bytes(signed.to_json())
        out.append(
            _request(
                "POST",
                "/v1/certificates",
                port,
                token,
                body,
                f"Idempotency-Key: {signed.entry.nonce}\r\n",
            )
        )
    return out


def read_requests(manifest: Manifest, port: int) -> list[bytes]:
    """A balance read per learner that has a token, each with that learner's own token."""
    pairs = list(manifest.learner_tokens)
    random.Random(7).shuffle(pairs)
    return [_request("GET", f"/v1/learners/{lid}/balance", port, token) for lid, token in pairs]


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


# --- profiling ---------------------------------------------------------------------------------


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return found if Path(found).exists() else None


def profile_server(server: Server, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    """Start ``py-spy record`` (raw collapsed stacks) on the server and its workers."""
    tool = py_spy()
    if tool is None:
        say("profile: py-spy is not installed (.venv/bin/pip install py-spy); skipping")
        return None
    command = [
        tool,
        "record",
        "--pid",
        str(server.process.pid),
        "--subprocesses",
        "--format",
        "raw",
        "--rate",
        "200",
        "--duration",
        str(int(seconds)),
        "--nonblocking",
        "--gil",  # only the thread holding the GIL: where the CPU of each process goes
        "--output",
        str(out),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


#: Stages of a request worth naming, matched on a frame's function name (inclusive share).
_STAGES = (
    (
        "uvicorn + h11: parse the request, write the response",
        ("H11Protocol.", "RequestResponseCycle.send"),
    ),
    ("FastAPI: solve_dependencies (incl. their hand-offs)", ("solve_dependencies",)),
    ("anyio: hand a sync function to a worker thread", ("run_sync_in_worker_thread",)),
    ("FastAPI: validate + serialise the response", ("serialize_response",)),
    ("auth: get_principal (1 ORM query)", ("get_principal",)),
    ("writes: idempotency lookup (earlier_receipt)", ("earlier_receipt",)),
    ("writes: the group committer thread, all of it", ("GroupCommitter._commit",)),
    ("domain: learner_balance (4 ORM queries)", ("learner_balance",)),
    ("domain: CreditBank._stage (rules + append, per entry)", ("CreditBank._stage",)),
    ("  of it: Batch.add (signature, nonce query)", ("Batch.add_many",)),
    ("  of it: apply_entry (read models)", ("apply_entry",)),
    ("log: write leaves, nodes, checkpoint", ("Batch._finish",)),
    ("SQLAlchemy ORM: Session.get / Session.execute", ("Session.get", "Session.execute")),
    ("SQLAlchemy: savepoints, flush, commit", ("Session.flush", "Session.begin_nested", "commit")),
)
_PACKAGES = (
    "sqlalchemy",
    "fastapi",
    "starlette",
    "anyio",
    "asyncio",
    "uvicorn",
    "h11",
    "pydantic",
    "threading",
    "creditbank",
)


def summarise_profile(path: Path) -> list[str]:
    """Where the GIL-holding samples go: named stages (inclusive) and packages (own time)."""
    stages: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [f for f in stack.split(";") if " (" in f and not f.startswith("process ")]
        if not frames or _waiting(frames[-1]):
            continue
        count = int(count_text)
        total += count
        names = [f.partition(" (")[0] for f in frames]
        for stage, markers in _STAGES:
            if any(name.startswith(m) or f".{m}" in name for name in names for m in markers):
                stages[stage] += count
        leaf = frames[-1]
        if "do_execute" in leaf or "do_executemany" in leaf or "fetchall" in leaf:
            packages["sqlite3 / psycopg driver (C)"] += count
        else:
            packages[
                next(
                    (
                        p
                        for p in _PACKAGES
                        if f"/{p}/" in leaf or f"({p}/" in leaf or f"{p}.py" in leaf
                    ),
                    "other",
                )
            ] += count
    if not total:
        return ["(no samples)"]
    lines = [f"{total} samples of the thread holding the GIL; by stage, inclusive:"]
    lines += [f"  {100 * stages[s] / total:5.1f}%  {s}" for s, _ in _STAGES if stages[s]]
    lines.append("by package, own time:")
    lines += [f"  {100 * n / total:5.1f}%  {p}" for p, n in packages.most_common()]
    return lines


def _waiting(frame: str) -> bool:
    """A leaf frame that waits (a lock, a queue, a selector) rather than computes."""
    name, _, where = frame.partition(" (")
    module = where.split(":", 1)[0].rsplit("/", 1)[-1]
    return module in {"threading.py", "queue.py", "selectors.py"} and name.rsplit(".", 1)[-1] in {
        "wait",
        "get",
        "select",
        "acquire",
    }


#: The repository root as it appears in profiled file paths (trimmed from them).
ROOT_PREFIX = str(Path(__file__).resolve().parent.parent)


def _short(frame: str) -> str:
    """``name (path/to/module.py:line)`` -> ``name (package/module.py)``."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", f"{ROOT_PREFIX}/", "python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})"


def profiled_pass(
    server: Server,
    requests: Sequence[bytes],
    args: argparse.Namespace,
    scratch: Path,
    name: str,
    *,
    cycle: bool,
) -> str:
    """The same load again (not measured) with py-spy sampling the server; its top frames."""
    seconds = args.profile_seconds
    say(f"{name}: profiling the server under the same load for {seconds:.0f} s ...")
    out = scratch / f"{name}.pyspy.txt"
    spy = profile_server(server, seconds + 1, out)
    if spy is None:
        return f"{name} profile: py-spy is not installed"
    try:
        run_load(
            server,
            requests,
            connections=args.connections,
            duration=seconds,
            warmup=1,
            max_requests=len(requests) if not cycle else args.read_count,
            cycle=cycle,
            pin=args.pin,
            scratch=scratch,
        )
    finally:
        spy.wait(60)
    kept = RESULTS / f"http-{name}-{args.db}-w{len(server.worker_pids())}.pyspy.txt"
    shutil.copy(out, kept)
    summary = "\n".join(summarise_profile(out))
    return f"{name} profile (py-spy --subprocesses, raw stacks in {kept.relative_to(ROOT)}):\n{summary}"


def load_rows(
    label: str, result: LoadResult, *, rate_target: int, p99_target: float, workers: int
) -> list[Row]:
    """Throughput, latency, errors and CPU of one load run, each beside its target."""
    report = result.report
    rate, p99 = report["rate"], report["p99_ms"]
    errors = (
        sum(v for k, v in report["statuses"].items() if not k.startswith("2"))
        + report["transport_errors"]
    )
    cpu_ms = 1000 * result.server_cpu_cores / max(rate, 1e-9)
    usable = min(CORES, workers)  # one process runs Python on one core at a time (the GIL)
    return [
        Row(
            f"{label}: throughput", f"{rate:,.0f} /s", f">= {rate_target:,} /s", rate >= rate_target
        ),
        Row(
            "  latency p50 / p95", f"{report['p50_ms']:.1f} / {report['p95_ms']:.1f} ms", "-", None
        ),
        Row("  latency p99", f"{p99:.1f} ms", f"<= {p99_target:.0f} ms", p99 <= p99_target),
        Row(
            "  errors (non-2xx or transport)",
            f"{errors} of {report['requests'] + report['transport_errors']:,}",
            "0",
            errors == 0,
        ),
        Row(
            "  CPU: server / load generator",
            f"{result.server_cpu_cores:.2f} / {report['client_cores']:.2f} cores",
            f"of {CORES}",
            None,
        ),
        Row(
            f"  server CPU per request; ceiling with {usable} idle core(s) to itself",
            f"{cpu_ms:.2f} ms; {1000 * usable / cpu_ms:,.0f} /s",
            f">= {rate_target:,} /s",
            None,
        ),
    ]


# --- the benchmarks ----------------------------------------------------------------------------


def bench_appends(
    args: argparse.Namespace, scratch: Path, notes: list[str]
) -> tuple[list[Row], Manifest]:
    say(
        "appends: preparing a fresh ledger (genesis, the shipped map's providers, ~290 learners) ..."
    )
    manifest = prepare_ledger(
        f"appends-{args.db}",
        3_000,
        db=args.db,
        results=RESULTS,
        validated=10_000,  # all of it through CreditBank.submit_many
        learner_tokens=10,
        audit=False,
        reuse=False,
    )
    before = manifest.entries
    count = args.append_count
    say(f"appends: signing {count:,} certificate.issued entries before the timed window ...")
    workers = args.workers or (1 if args.db == "sqlite" else 2)
    with serving(
        manifest, workers=workers, http=args.http, log=scratch / "uvicorn-appends.log"
    ) as server:
        requests = append_requests(manifest, count, server.port)
        say(
            f"appends: {args.connections} clients, {args.duration:.0f} s "
            f"(+{args.warmup:.0f} s warm-up), at most {count:,} requests ..."
        )
        result = run_load(
            server,
            requests,
            connections=args.connections,
            duration=args.duration,
            warmup=args.warmup,
            max_requests=count,
            cycle=False,
            pin=args.pin,
            scratch=scratch,
        )
        if args.profile:
            more = append_requests(manifest, count, server.port)
            notes.append(profiled_pass(server, more, args, scratch, "appends", cycle=False))
    report = result.report
    if report["samples"]:
        notes.append("append errors, first answers: " + " | ".join(report["samples"]))
    if report["exhausted"]:
        notes.append(f"appends: all {count:,} pre-signed entries were used before the time ran out")
    # What the server appended must be a sound ledger: audit it as `creditbank verify` does.
    engine = make_engine(manifest.database_url)
    try:
        after = SqlLogStore(engine).size()
        audit = verify_ledger(
            engine, origin=manifest.origin, trusted=[manifest.verifier_key], workers=2
        )
    finally:
        engine.dispose()
    accepted = sum(v for k, v in report["statuses"].items() if k.startswith("2"))
    notes.append(
        f"appends: the ledger went from {before:,} to {after:,} entries "
        f"({accepted:,} accepted in the timed window, the rest in the warm-up or the profiled "
        f"pass); audit OK, {audit.checkpoints_checked:,} checkpoints"
    )
    label = f"appends, {args.connections} clients, {workers} worker(s), {args.db}"
    rows = load_rows(label, result, rate_target=APPEND_RATE, p99_target=APPEND_P99, workers=workers)
    return rows, manifest


def bench_reads(
    args: argparse.Namespace, scratch: Path, notes: list[str]
) -> tuple[list[Row], Manifest]:
    size = args.read_entries
    say(f"reads: preparing the {size:,}-entry ledger (built once, cached) ...")
    started = time.perf_counter()
    manifest = prepare_ledger(
        str(size) if args.db == "sqlite" else f"{size}-pg",
        size,
        db=args.db,
        results=RESULTS,
        learner_tokens=20_000,
    )
    notes.append(
        f"read ledger: {manifest.entries:,} entries, {manifest.learners:,} learners "
        f"({manifest.validated_entries:,} entries through CreditBank.submit_many, the rest through "
        f"Log.batch + apply_entry); built in {manifest.build_seconds:.0f} s; creditbank verify: "
        f"{manifest.audit}; {'reused from cache' if time.perf_counter() - started < 60 else 'built now'}"
    )
    workers = args.workers or 2
    with serving(
        manifest, workers=workers, http=args.http, log=scratch / "uvicorn-reads.log"
    ) as server:
        idle = rss_mb(server.pids())
        requests = read_requests(manifest, server.port)
        say(
            f"reads: {args.connections} clients, {args.duration:.0f} s (+{args.warmup:.0f} s warm-up), "
            f"{len(requests):,} learners round-robin ..."
        )
        result = run_load(
            server,
            requests,
            connections=args.connections,
            duration=args.duration,
            warmup=args.warmup,
            max_requests=args.read_count,
            cycle=True,
            pin=args.pin,
            scratch=scratch,
        )
        if args.profile:
            notes.append(profiled_pass(server, requests, args, scratch, "reads", cycle=True))
    report = result.report
    if report["samples"]:
        notes.append("read errors, first answers: " + " | ".join(report["samples"]))
    label = (
        f"balance reads, {manifest.entries:,} entries, {args.connections} clients, "
        f"{workers} worker(s), {args.db}"
    )
    rows = load_rows(label, result, rate_target=READ_RATE, p99_target=READ_P99, workers=workers)
    parts = " + ".join(f"{mb:.0f}" for mb in result.peak_breakdown)
    quick = size < 1_000_000
    rows.append(
        Row(
            f"server RSS under load, sum of {len(result.peak_breakdown)} process(es) "
            f"(idle: {idle:.0f} MB)",
            f"{result.peak_rss_mb:.0f} MB ({parts})",
            f"<= {MEMORY_MB} MB" + (" at 1M" if quick else ""),
            None if quick else result.peak_rss_mb <= MEMORY_MB,
        )
    )
    return rows, manifest


def bench_generator(args: argparse.Namespace) -> Row:
    """The generator alone against a canned-response server: its ceiling."""
    command = [
        sys.executable,
        str(BENCH / "http_loadgen.py"),
        "--self-test",
        "--connections",
        str(args.connections),
        "--duration",
        "3",
    ]
    if args.pin is not None:
        command += ["--cpu", str(args.pin)]
    report = json.loads(subprocess.run(command, capture_output=True, check=True, cwd=ROOT).stdout)
    per_request = 1e6 * report["client_cpu_s"] / max(1, report["requests"])
    return Row(
        "load generator alone vs a canned server (its ceiling)",
        f"{report['rate']:,.0f} /s, {per_request:.0f} us CPU/request",
        "-",
        None,
    )


def http_implementation(choice: str) -> str:
    """What uvicorn's ``--http auto`` would pick: httptools when installed, else h11."""
    if choice != "auto":
        return choice
    return "httptools" if importlib.util.find_spec("httptools") is not None else "h11"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k-entry read ledger, 5 s runs")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="uvicorn worker processes (default: 2 for reads; for appends 1 on SQLite, whose "
        "single writers' lock a second process only contends for, 2 on PostgreSQL)",
    )
    parser.add_argument("--connections", type=int, default=64, help="concurrent clients")
    parser.add_argument("--duration", type=float, default=None, help="timed seconds per test")
    parser.add_argument("--warmup", type=float, default=2.0, help="untimed seconds first")
    parser.add_argument("--pin", type=int, default=None, help="pin the load generator to this CPU")
    parser.add_argument("--http", choices=["auto", "h11", "httptools"], default="auto")
    parser.add_argument("--only", choices=["appends", "reads"], default=None)
    parser.add_argument("--profile", action="store_true", help="py-spy the server under read load")
    parser.add_argument("--profile-seconds", type=float, default=10.0)
    args = parser.parse_args()
    args.duration = args.duration or (5.0 if args.quick else 15.0)
    args.read_entries = 100_000 if args.quick else 1_000_000
    args.append_count = int(max(APPEND_RATE * 1.5, 500) * (args.duration + args.warmup))
    args.read_count = 2_000_000
    args.http = http_implementation(args.http)
    RESULTS.mkdir(parents=True, exist_ok=True)
    load_before = load()
    if os.getloadavg()[0] > 0.5:
        say(f"warning: the machine is busy (load {load_before}); figures will be low")
    rows: list[Row] = []
    notes: list[str] = []
    rows.append(bench_generator(args))
    with tempfile.TemporaryDirectory(prefix="bench-http-") as folder:
        scratch = Path(folder)
        if args.only in (None, "appends"):
            rows += bench_appends(args, scratch, notes)[0]
        if args.only in (None, "reads"):
            rows += bench_reads(args, scratch, notes)[0]
    print(f"\nmachine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"server: uvicorn --workers {args.workers or 'auto'} --http {args.http} --no-access-log, "
        f"{args.db}; generator: {args.connections} keep-alive connections, closed loop"
        + (f", pinned to CPU {args.pin}" if args.pin is not None else ", not pinned")
    )
    print(f"load average: before {load_before}; after {load()}\n")
    print_table(rows)
    if args.quick:
        print(
            f"\n--quick: the read ledger has {args.read_entries:,} entries, not 1M; runs are {args.duration:.0f} s"
        )
    for note in notes:
        print(f"\n{note}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"http-{stamp}.json"
    record = {
        "machine": machine(),
        "argv": sys.argv,
        "load_before": load_before,
        "load_after": load(),
    }
    out.write_text(
        json.dumps({**record, "rows": [asdict(r) for r in rows], "notes": notes}, indent=2)
    )
    say(f"\nwrote {out}")


if __name__ == "__main__":
    main()
