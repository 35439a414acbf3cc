"""py-spy under load, summarised: where the CPU of the server's GIL-holding threads goes.

``bench_http.py --profile`` samples the server and its workers with ``py-spy record --gil``
(raw collapsed stacks, kept under ``bench/results/``) during a second, unmeasured pass of the
same load, and prints the share of named stages (inclusive), of packages and of the top
functions (own time). py-spy comes with the ``bench`` extra: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from http_server import Server
from report import say

__all__ = ["profile_server", "py_spy", "summarise_profile"]


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
    ("auth: get_principal (the token lookup)", ("get_principal",)),
    ("writes: idempotency lookup (earlier_receipt)", ("earlier_receipt",)),
    ("writes: the group committer thread, all of it", ("GroupCommitter._commit",)),
    ("domain: learner_balance (one query)", ("learner_balance",)),
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
    functions: Counter[str] = Counter()
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
        functions[_short(leaf)] += count
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
    lines.append("top functions, own time:")
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in functions.most_common(12)]
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
