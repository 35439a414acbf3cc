"""What every benchmark prints: the machine, its load, and a table of figures beside targets.

Shared by ``bench_ledger.py`` and ``bench_http.py`` so both report in one format; a row with a
target says OK or MISS, and a miss is never tuned away.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CORES", "Row", "load", "machine", "print_table", "say"]

CORES = os.cpu_count() or 1


@dataclass(frozen=True)
class Row:
    name: str
    figure: str
    target: str
    ok: bool | None  # None: information, no target
    value: float = 0.0  # the raw figure, for rows that later rows build on

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("OK" if self.ok else "MISS")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def machine() -> str:
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in subprocess.run(
                ["lscpu"], capture_output=True, text=True
            ).stdout.splitlines()
            if line.startswith("Model name")
        )
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    return f"{CORES} cores ({model}), Python {platform.python_version()}, {platform.system()}"


def print_table(rows: Sequence[Row], *, first: str = "metric") -> None:
    """Columns: ``first`` (the row's name), figure, target, result."""
    widths = [max(len(getattr(r, f)) for r in rows) for f in ("name", "figure", "target")]
    header = (first, "figure", "target")
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + "  result"
    print(line)
    print("-" * len(line))
    for r in rows:
        cells = (r.name.ljust(widths[0]), r.figure.ljust(widths[1]), r.target.ljust(widths[2]))
        print("  ".join(cells) + "  " + r.verdict)


def warm_page_cache(path: Path) -> None:
    """Read the database file once, so reads are timed as a running server sees them: from the
    OS page cache, not from a disk that other processes have just been using."""
    with path.open("rb") as handle:
        while handle.read(8 << 20):
            pass
