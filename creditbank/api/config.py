"""The API's own knobs, as a frozen dataclass passed to :func:`creditbank.api.app.create_app`.

``creditbank.config.Settings`` (environment) is read once, at the edge, by
:func:`creditbank.api.app.create_app_from_settings`; the app itself only ever sees this value.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["ApiConfig"]


@dataclass(frozen=True)
class ApiConfig:
    #: Largest request body accepted, in bytes (a 200-course conversion is about 40 KiB).
    max_body_bytes: int = 256 * 1024
    #: Largest body of ``POST /v1/batch`` (1000 items of a few hundred bytes to a few KiB each).
    max_batch_body_bytes: int = 8 * 1024 * 1024
    #: Origins allowed by CORS. Tokens travel in a header, never in cookies, so ``*`` is safe:
    #: a browser page on another origin can read public data and call with its own token only.
    cors_origins: tuple[str, ...] = ("*",)
    #: Default and largest page of a paged read.
    page_size: int = 100
    max_page_size: int = 1000
    #: Most submissions one group commit appends in one transaction (and one checkpoint).
    max_group: int = 256
    #: Seconds a write waits for its group to commit before answering 503 (retrying the same
    #: signed entry is safe: it is answered with the original receipt if it did commit).
    write_timeout: float = 60.0
    #: IANA zone whose days ``as_of``, expiry and validity count in (CREDITBANK_TIMEZONE).
    timezone: str = "Asia/Shanghai"
    #: Seconds the names shown beside codes (occupations, courses) are kept before a refresh.
    names_ttl: float = 60.0
    #: Witnesses to submit each new checkpoint to, ``URL=VKEY`` each (CREDITBANK_WITNESSES).
    witnesses: tuple[str, ...] = ()
    #: Seconds between the background submitter's looks for a new checkpoint.
    witness_poll_seconds: float = 1.0
    #: First retry delay after a witness failed; doubles per failure up to five minutes.
    witness_retry_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1024:
            raise ValueError("max_body_bytes must be at least 1024")
        if not 1 <= self.page_size <= self.max_page_size:
            raise ValueError("page_size must be between 1 and max_page_size")
        if self.max_group < 1:
            raise ValueError("max_group must be at least 1")
        if self.witness_poll_seconds <= 0 or self.witness_retry_seconds <= 0:
            raise ValueError("witness_poll_seconds and witness_retry_seconds must be positive")
        if self.write_timeout <= 0:
            raise ValueError("write_timeout must be positive")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
