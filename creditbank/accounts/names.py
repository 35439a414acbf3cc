"""Names beside codes, and the time zone that days are counted in.

A balance lists occupation codes (``6-18-02-04``) and course codes (``ME1021``); people read names.
:class:`NameIndex` is built from the catalogue once and looked up per row, so showing names costs
no query on the read path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from time import monotonic
from zoneinfo import ZoneInfo

from creditbank.mapping import Catalog, Programme

__all__ = ["DEFAULT_TIMEZONE", "NameCache", "NameIndex"]

#: Learners and institutions live in China Standard Time (configurable: CREDITBANK_TIMEZONE).
DEFAULT_TIMEZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class NameIndex:
    qualifications: dict[str, str] = field(default_factory=dict)
    #: Course titles by code, and by ``INSTITUTION:CODE`` where the institution is known.
    courses: dict[str, str] = field(default_factory=dict)
    programmes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls, catalog: Catalog | None = None, programmes: tuple[Programme, ...] = ()
    ) -> NameIndex:
        courses: dict[str, str] = {}
        titles: dict[str, str] = {}
        for programme in (*programmes, *(catalog.programmes if catalog else ())):
            titles[programme.code] = programme.title
            for course in programme.courses:
                courses.setdefault(course.course_code, course.title)
                courses.setdefault(f"{programme.institution}:{course.course_code}", course.title)
        qualifications = {q.code: q.name for q in catalog.qualifications} if catalog else {}
        return cls(qualifications, courses, titles)

    def qualification(self, code: str) -> str | None:
        return self.qualifications.get(code)

    def course(self, code: str, institution: str | None = None) -> str | None:
        if institution is not None:
            return self.courses.get(f"{institution}:{code}")
        return self.courses.get(code)

    def programme(self, code: str) -> str | None:
        return self.programmes.get(code)


class NameCache:
    """A :class:`NameIndex` rebuilt at most every ``ttl`` seconds (names change rarely).

    One thread loads at a time; the others wait for its result. Without that, the first burst of
    requests on a fresh server (or the first after expiry) each loaded the whole index at once:
    64 concurrent balance reads on PostgreSQL queued every pool thread behind every pool
    connection, and no read finished for seconds (docs/benchmarks.md).
    """

    def __init__(self, load: Callable[[], NameIndex], ttl: float) -> None:
        self._load = load
        self._ttl = ttl
        self._value: NameIndex | None = None
        self._at = 0.0
        self._loading = threading.Lock()

    def current(self) -> NameIndex | None:
        """The index if it is still fresh, else None (without loading: the caller decides where
        the load runs, e.g. off the event loop)."""
        if self._value is None or monotonic() - self._at > self._ttl:
            return None
        return self._value

    def get(self) -> NameIndex:
        fresh = self.current()
        if fresh is not None:
            return fresh
        with self._loading:
            fresh = self.current()  # loaded by the thread this one waited for
            if fresh is None:
                fresh = self._load()
                self._value, self._at = fresh, monotonic()
            return fresh
