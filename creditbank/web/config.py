"""The web app's own knobs, read once at the edge (:meth:`WebConfig.from_env`) and passed in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["LANGUAGES", "WebConfig"]

#: The languages the pages speak, the default first (Simplified Chinese).
LANGUAGES = ("zh_CN", "en")


@dataclass(frozen=True)
class WebConfig:
    #: Day boundaries and every time shown on a page (``CREDITBANK_TIME_ZONE``).
    time_zone: str = "Asia/Shanghai"
    #: How long a signed-in session lasts without signing in again.
    session_lifetime: timedelta = timedelta(hours=8)
    #: How long a one-time sign-in link works.
    link_lifetime: timedelta = timedelta(minutes=15)
    default_language: str = "zh_CN"

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.time_zone!r}") from exc
        if self.default_language not in LANGUAGES:
            raise ValueError(f"default_language must be one of {', '.join(LANGUAGES)}")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebConfig:
        env = os.environ if env is None else env
        return cls(time_zone=env.get("CREDITBANK_TIME_ZONE") or "Asia/Shanghai")
