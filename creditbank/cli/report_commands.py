"""``creditbank report conversions|roster|certificates``: a report file from the HTTP API.

The server builds the file (``GET /v1/reports/...``, see ``api/routes/reports.py``); this writes
it to ``--output`` (default: a name from the report, in the current directory), mode 0600.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from creditbank.cli.common import new_app
from creditbank.client import CreditbankClient

__all__ = ["ReportClient", "app"]

Url = Annotated[str, typer.Option("--url", envvar="CREDITBANK_URL")]
Token = Annotated[str, typer.Option("--token", envvar="CREDITBANK_TOKEN")]
Lang = Annotated[str, typer.Option("--lang", help="Headers: zh (default) or en.")]
Format = Annotated[str, typer.Option("--format", help="csv (default) or xlsx.")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Where to write the file.")]
Start = Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (local time zone).")]
End = Annotated[str, typer.Option("--to", help="Last day, inclusive.")]
TimeZone = Annotated[str, typer.Option("--time-zone", envvar="CREDITBANK_TIME_ZONE")]


class ReportClient(CreditbankClient):
    def report(self, path: str, params: dict[str, str]) -> tuple[str, bytes]:
        answer = self._send("GET", path, params=params)
        disposition = answer.headers.get("content-disposition", "")
        name = disposition.split('filename="')[-1].rstrip('"') if "filename=" in disposition else ""
        return name or "report", answer.content


def _save(url: str, token: str, path: str, params: dict[str, str], output: Path | None) -> None:
    with ReportClient(url, token=token) as client:
        name, body = client.report(path, params)
    target = output or Path(name)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(body)
    typer.echo(f"wrote {target} ({len(body)} bytes)")


def _day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise typer.BadParameter(f"a date is YYYY-MM-DD, got {text!r}") from None


#: ``creditbank report ...``: added to the top-level app under the name ``report``.
app = new_app(name="report", help="报表 / Reports as CSV or XLSX (zh or en headers).")


@app.command("conversions")
def conversions(
    programme: Annotated[str, typer.Argument(help="Programme code, e.g. SOU-CNC.")],
    start: Start, end: End, url: Url, token: Token, lang: Lang = "zh", kind: Format = "csv",
    time_zone: TimeZone = "Asia/Shanghai", output: Output = None,
) -> None:  # fmt: skip
    """A programme's conversions posted in a date range (registrar)."""
    params = {"from": _day(start), "to": _day(end), "lang": lang, "format": kind,
              "tz": time_zone}  # fmt: skip
    _save(url, token, f"/v1/reports/programmes/{programme}/conversions", params, output)


@app.command("roster")
def roster(
    programme: Annotated[str, typer.Argument(help="Programme code, e.g. SOU-CNC.")],
    url: Url, token: Token, lang: Lang = "zh", kind: Format = "csv", output: Output = None,
) -> None:  # fmt: skip
    """A programme's learners, their recognised credits and progress (registrar)."""
    params = {"lang": lang, "format": kind}
    _save(url, token, f"/v1/reports/programmes/{programme}/roster", params, output)


@app.command("certificates")
def certificates(
    start: Start, end: End, url: Url, token: Token, lang: Lang = "zh", kind: Format = "csv",
    time_zone: TimeZone = "Asia/Shanghai", output: Output = None,
) -> None:  # fmt: skip
    """My issued and revoked certificates in a date range (provider)."""
    params = {"from": _day(start), "to": _day(end), "lang": lang, "format": kind,
              "tz": time_zone}  # fmt: skip
    _save(url, token, "/v1/reports/certificates", params, output)
