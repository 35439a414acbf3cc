"""The name index cache loads once for a burst of callers, and again only after it expires."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from creditbank.accounts.names import NameCache, NameIndex


def test_a_burst_of_callers_on_a_cold_cache_loads_once() -> None:
    """Sixteen threads asking at once get one load between them (a fresh server's first burst
    of reads used to load the index once per request, queueing every thread on the pool)."""
    loads: list[int] = []
    start = threading.Barrier(16)

    def load() -> NameIndex:
        loads.append(1)
        time.sleep(0.05)  # long enough that every caller arrives while it runs
        return NameIndex(programmes={"SOU-CNC": "数控技术（专科）"})

    cache = NameCache(load, ttl=60.0)

    def ask(_: int) -> NameIndex:
        start.wait()
        return cache.get()

    with ThreadPoolExecutor(16) as pool:
        found = list(pool.map(ask, range(16)))
    assert len(loads) == 1
    assert all(index is found[0] for index in found)
    assert cache.current() is found[0]


def test_an_expired_index_is_loaded_again() -> None:
    loads: list[int] = []

    def load() -> NameIndex:
        loads.append(1)
        return NameIndex()

    cache = NameCache(load, ttl=0.0)
    cache.get()
    time.sleep(0.01)
    assert cache.current() is None
    cache.get()
    assert len(loads) == 2
