"""The HTTP stack's own CPU per request, without sockets: the ASGI app called in process.

Run from the repository root::

    .venv/bin/python bench/bench_http_inprocess.py            # SQLite
    .venv/bin/python bench/bench_http_inprocess.py --db postgres

``bench_http.py`` measures the server under load from another process, which on a shared machine
mostly measures the queue for a CPU. This calls the app object directly (the demo world of the
API tests, a fresh database) and reports CPU time per request: of the whole process, and of the
event loop's thread alone (what the HTTP side costs; the rest of an append is the group
committer's thread). ``GET /healthz`` is the framework's floor. Appends are sent 64 at a time so
that they share groups as they do under load. Nothing here asserts a figure; run the old and the
new code alternately to compare them, and note the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from fastapi import FastAPI  # noqa: E402
from report import Row, load, machine, print_table  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402

from creditbank.api.app import create_app  # noqa: E402
from creditbank.ledger.database import make_engine  # noqa: E402
from tests.api.world import World, open_world  # noqa: E402

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
GROUP = 64


@contextmanager
def database(db: str, folder: Path) -> Iterator[Engine]:
    if db == "sqlite":
        engine = make_engine(f"sqlite:///{folder / 'creditbank.db'}")
        yield engine
        engine.dispose()
        return
    schema = "bench_inproc_" + secrets.token_hex(4)
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(POSTGRES_URL, schema=schema)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def caller(app: FastAPI) -> Callable[[str, str, dict[str, str], bytes], Awaitable[int]]:
    async def call(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> int:
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        pending = [{"type": "http.request", "body": body, "more_body": False}]
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            if pending:
                return pending.pop()
            await asyncio.Event().wait()  # the client never goes away
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(scope, receive, send)
        return status[0]

    return call


async def timed(label: str, count: int, run: Callable[[], Awaitable[None]]) -> Row:
    cpu, loop = time.process_time(), time.thread_time()
    await run()
    cpu_ms = 1e3 * (time.process_time() - cpu) / count
    loop_ms = 1e3 * (time.thread_time() - loop) / count
    return Row(label, f"{cpu_ms:.3f} ms CPU ({loop_ms:.3f} ms on the event loop)", "-", None)


async def measure(app: FastAPI, world: World, reads: int, appends: int) -> list[Row]:
    call = caller(app)
    provider, registrar = world.provider, world.registrar
    learner = world.new_learner()
    write = {"Authorization": f"Bearer {provider.token}", "Content-Type": "application/json"}
    read = {"Authorization": f"Bearer {registrar.token}"}
    balance = f"/v1/learners/{world.learner.learner_id}/balance"
    bodies = [
        json.dumps(
            provider.post_json("certificate.issued", world.certificate_body(learner.learner_id))
        ).encode()
        for _ in range(appends + GROUP)
    ]

    async def post(chunk: list[bytes]) -> None:
        answers = await asyncio.gather(*(call("POST", "/v1/certificates", write, b) for b in chunk))
        assert set(answers) == {201}, answers

    async def get(path: str, headers: dict[str, str], count: int) -> None:
        for _ in range(count):
            assert await call("GET", path, headers, b"") == 200

    async def appended() -> None:
        for start in range(GROUP, len(bodies), GROUP):
            await post(bodies[start : start + GROUP])

    async with app.router.lifespan_context(app):
        await post(bodies[:GROUP])  # warm-up: caches, statements, the committer
        await get(balance, read, 100)
        return [
            await timed("GET /healthz", reads, lambda: get("/healthz", {}, reads)),
            await timed("GET balance (registrar token)", reads, lambda: get(balance, read, reads)),
            await timed(f"POST /v1/certificates, {GROUP} at a time", appends, appended),
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--appends", type=int, default=1024)
    args = parser.parse_args()
    before = load()
    with tempfile.TemporaryDirectory(prefix="bench-inproc-") as folder:
        with database(args.db, Path(folder)) as engine:
            world = open_world(engine, Path(folder))
            rows = asyncio.run(measure(create_app(world.bank), world, args.reads, args.appends))
    print(f"\nmachine: {machine()}; {args.db}")
    print(f"load average: before {before}; after {load()}\n")
    print_table(rows)


if __name__ == "__main__":
    main()
