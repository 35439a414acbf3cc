"""A closed-loop HTTP/1.1 load generator for loopback benchmarks (stdlib only, one process).

``bench/bench_http.py`` runs it as a separate process so that its CPU time can be measured (and
pinned) apart from the server's::

    python bench/http_loadgen.py --port 8123 --requests reqs.bin --connections 64 \
        --duration 10 --max-requests 30000 [--warmup 2] [--cycle] [--cpu 1]

``reqs.bin`` holds complete, pre-built HTTP requests (headers and body, already signed), each
prefixed by its length as 4 big-endian bytes. Each of ``--connections`` keep-alive connections
takes the next request, sends it, reads the whole response and records the latency, until the
duration or the request count runs out; with ``--cycle`` the requests are reused round-robin
(reads), without it each is sent once (appends: a nonce is used once). Only 127.0.0.1 is ever
addressed. The report is one JSON object on stdout: counts per status, latency percentiles of the
timed window (the warm-up is not counted), and the generator's own CPU time.

``--self-test`` starts a trivial HTTP server in a child process and loads it, which measures the
generator's own ceiling (requests per second it can drive at all).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"


def write_requests(path: Path, requests: Sequence[bytes]) -> None:
    """Store pre-built requests for :func:`read_requests` (length-prefixed)."""
    with path.open("wb") as out:
        for request in requests:
            out.write(struct.pack(">I", len(request)))
            out.write(request)


def read_requests(path: Path) -> list[bytes]:
    data = path.read_bytes()
    out: list[bytes] = []
    position = 0
    while position < len(data):
        (size,) = struct.unpack_from(">I", data, position)
        position += 4
        out.append(data[position : position + size])
        position += size
    return out


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence (0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    transport_errors: int = 0
    samples: list[str] = field(default_factory=list)  # a few non-2xx answers, for the report


class Source:
    """Hands out requests in order; ``cycle`` reuses them, otherwise each is sent once."""

    def __init__(self, requests: Sequence[bytes], *, cycle: bool, limit: int) -> None:
        self.requests = requests
        self.cycle = cycle
        self.limit = limit if cycle else min(limit, len(requests))
        self.taken = 0

    def next(self) -> bytes | None:
        if self.taken >= self.limit:
            return None
        request = self.requests[self.taken % len(self.requests)]
        self.taken += 1
        return request


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    close = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
    body = await reader.readexactly(length) if length else b""
    return status, body, close


async def _client(
    source: Source, port: int, deadline: float, record_from: float, tally: Tally
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while time.perf_counter() < deadline:
            request = source.next()
            if request is None:
                return
            started = time.perf_counter()
            try:
                writer.write(request)
                status, body, close = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError) as exc:
                tally.transport_errors += 1
                if len(tally.samples) < 5:
                    tally.samples.append(f"transport: {exc!r}")
                writer.close()
                reader, writer = await asyncio.open_connection(HOST, port)
                continue
            finished = time.perf_counter()
            if started >= record_from:
                tally.latencies_ms.append((finished - started) * 1000)
                tally.statuses[status] = tally.statuses.get(status, 0) + 1
                if status >= 300 and len(tally.samples) < 5:
                    tally.samples.append(f"{status}: {body[:300].decode('utf-8', 'replace')}")
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection(HOST, port)
    finally:
        writer.close()


async def run_load(
    requests: Sequence[bytes],
    *,
    port: int,
    connections: int,
    duration: float,
    warmup: float,
    max_requests: int,
    cycle: bool,
) -> dict[str, Any]:
    source = Source(requests, cycle=cycle, limit=max_requests)
    tally = Tally()
    start = time.perf_counter()
    record_from = start + warmup
    deadline = record_from + duration
    cpu_mark: list[os.times_result] = []

    async def mark_cpu() -> None:
        await asyncio.sleep(warmup)
        cpu_mark.append(os.times())

    marker = asyncio.create_task(mark_cpu())
    await asyncio.gather(
        *(_client(source, port, deadline, record_from, tally) for _ in range(connections))
    )
    ended = time.perf_counter()
    marker.cancel()
    cpu_end = os.times()
    cpu_start = cpu_mark[0] if cpu_mark else cpu_end
    window = max(1e-9, min(ended, deadline) - record_from)
    cpu = (cpu_end.user - cpu_start.user) + (cpu_end.system - cpu_start.system)
    ordered = sorted(tally.latencies_ms)
    return {
        "requests": len(ordered),
        "window_s": window,
        "rate": len(ordered) / window,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "transport_errors": tally.transport_errors,
        "samples": tally.samples,
        "p50_ms": percentile(ordered, 50),
        "p95_ms": percentile(ordered, 95),
        "p99_ms": percentile(ordered, 99),
        "max_ms": ordered[-1] if ordered else 0.0,
        "client_cpu_s": cpu,
        "client_cores": cpu / window,
        "exhausted": source.taken >= source.limit,
    }


# --- self-test: the generator's own ceiling ------------------------------------------------------

_CANNED = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n"
    + b'{"x": "'
    + b"y" * 391
    + b'"}'
)


def _serve_canned(port: int, ready: Any) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                writer.write(_CANNED)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, HOST, port)
        ready.set()
        async with server:
            await asyncio.sleep(30)  # bounded: the test is a few seconds

    asyncio.run(main())


def self_test(connections: int, duration: float, cpu: int | None) -> dict[str, Any]:
    import multiprocessing
    import socket

    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    server = context.Process(target=_serve_canned, args=(port, ready), daemon=True)
    server.start()
    try:
        ready.wait(10)
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
        request = (
            f"GET /v1/learners/L-0000000000000000/balance HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            "Authorization: Bearer cbt_" + "x" * 43 + "\r\n\r\n"
        ).encode()
        return asyncio.run(
            run_load(
                [request],
                port=port,
                connections=connections,
                duration=duration,
                warmup=0.5,
                max_requests=10**9,
                cycle=True,
            )
        )
    finally:
        server.terminate()
        server.join(5)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int)
    parser.add_argument("--requests", type=Path, help="file of length-prefixed raw requests")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=10.0, help="timed seconds")
    parser.add_argument("--warmup", type=float, default=0.0, help="untimed seconds first")
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--cycle", action="store_true", help="reuse requests round-robin")
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU")
    parser.add_argument("--self-test", action="store_true", help="measure the generator alone")
    args = parser.parse_args(argv)
    if args.self_test:
        print(json.dumps(self_test(args.connections, args.duration, args.cpu)))
        return
    if args.port is None or args.requests is None:
        parser.error("--port and --requests are required")
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    report = asyncio.run(
        run_load(
            read_requests(args.requests),
            port=args.port,
            connections=args.connections,
            duration=args.duration,
            warmup=args.warmup,
            max_requests=args.max_requests,
            cycle=args.cycle,
        )
    )
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
