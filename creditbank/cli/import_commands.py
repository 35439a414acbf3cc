"""``creditbank import learners|certificates|revocations|credits FILE``: a cohort through the HTTP API.

The file (CSV, UTF-8 or GBK, or XLSX) is checked whole first; with any bad row nothing is posted
unless ``--partial``, which posts the good rows and writes the bad ones, with the reason, to a
rejects file. Rows go in all-or-nothing batches of ``--batch-rows`` through ``POST /v1/batch``;
re-running the same command appends nothing twice and resumes an interrupted import.
"""

from __future__ import annotations

import csv
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from cryptography.hazmat.primitives import serialization
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from creditbank.accounts.cohort_files import read_cohort_file
from creditbank.accounts.cohorts import BATCH_ROWS, Importer, ImportResult, learner_secret
from creditbank.cli.common import new_app
from creditbank.client import CreditbankClient, EntrySigner
from creditbank.config import Settings
from creditbank.errors import CohortFileError, InputError, KeyFormatError
from creditbank.ledger.entry import SignedEntry
from creditbank.ledger.keys import load_private_key

__all__ = ["ImportClient", "app", "run_import"]


class ImportClient(CreditbankClient):
    """The API client plus the one read an import needs: which row nonces are already used."""

    def known_nonces(self, nonces: list[str]) -> set[str]:
        answer = self._send("POST", "/v1/imports/known-nonces", json={"nonces": nonces})
        return set(answer.json()["known"])


def run_import(
    client: ImportClient,
    signer: EntrySigner,
    kind: str,
    path: Path,
    *,
    partial: bool = False,
    batch_rows: int = BATCH_ROWS,
    time_zone: str = "Asia/Shanghai",
    console: Console | None = None,
) -> ImportResult:
    """Check ``path`` and post it; write rejects and learner ids beside it. The CLI's work."""
    today = datetime.now(ZoneInfo(time_zone)).date()
    cohort = read_cohort_file(kind, path, today=today)
    console = console or Console(stderr=True)
    if cohort.encoding == "gbk":
        console.print(f"{path.name}: 按 GBK 编码读取 / read as GBK (not UTF-8)")
    if cohort.problems and not partial:
        raise CohortFileError(cohort.problems)
    raw = signer.private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )

    def sign(entry_type: str, body: dict[str, Any], nonce: str) -> SignedEntry:
        return signer.sign(entry_type, body, nonce=nonce)

    with Progress(
        TextColumn(f"[bold]{kind}[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("import", total=len(cohort.rows))
        importer = Importer(
            sign=sign,
            post_batch=client.submit_batch,
            known=client.known_nonces,
            secret=learner_secret(raw),
            partial=partial,
            batch_rows=batch_rows,
            progress=lambda done: bar.advance(task, done),
        )
        result = importer.run(cohort)
    if result.rejected:
        _write_rejects(path, cohort.header, cohort.raw, result)
    if result.learner_ids:
        _write_learner_ids(path, result)
    return result


def rejects_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejects.csv")


def learner_ids_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.learner-ids.csv")


def _write_rejects(
    path: Path, header: list[str], raw: dict[int, list[str]], result: ImportResult
) -> None:
    with _private(rejects_path(path)) as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", *header, "错误 / error"])
        for problem in sorted(result.rejected, key=lambda p: p.row):
            cells = raw.get(problem.row, [])
            column = f"[{problem.column}] " if problem.column else ""
            writer.writerow([problem.row, *cells, f"{column}{problem.zh} / {problem.en}"])


def _write_learner_ids(path: Path, result: ImportResult) -> None:
    with _private(learner_ids_path(path)) as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "learner_id"])
        writer.writerows(result.learner_ids)


def _private(path: Path) -> Any:
    """A new UTF-8 (with BOM, for Excel) file only its owner can read: rows name people."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8-sig", newline="")


def _signer(client_url: str, token: str, key: Path, actor: str | None) -> EntrySigner:
    passphrase = Settings().key_passphrase
    private = load_private_key(
        key, passphrase=passphrase.get_secret_value().encode() if passphrase else None
    )
    if actor is None:
        with CreditbankClient(client_url, token=token) as probe:
            actor = probe.whoami().get("actor_id")
        if not actor:
            raise KeyFormatError("this token is not bound to an actor; pass --actor")
    return EntrySigner(actor, private)


def _command(kind: str) -> Any:
    def command(
        file: Annotated[Path, typer.Argument(help="The CSV (UTF-8 or GBK) or XLSX file.")],
        url: Annotated[str, typer.Option("--url", envvar="CREDITBANK_URL")],
        token: Annotated[str, typer.Option("--token", envvar="CREDITBANK_TOKEN")],
        key: Annotated[Path, typer.Option("--key", envvar="CREDITBANK_KEY_FILE")],
        actor: Annotated[str | None, typer.Option("--actor", envvar="CREDITBANK_ACTOR")] = None,
        partial: Annotated[
            bool, typer.Option("--partial", help="Post the good rows; write the bad to a file.")
        ] = False,
        batch_rows: Annotated[int, typer.Option("--batch-rows", min=1, max=1000)] = BATCH_ROWS,
        time_zone: Annotated[
            str, typer.Option("--time-zone", envvar="CREDITBANK_TIME_ZONE")
        ] = "Asia/Shanghai",
    ) -> None:
        console = Console(stderr=True)
        if not file.is_file():
            raise InputError(f"no such file: {file}")
        signer = _signer(url, token, key, actor)
        try:
            with ImportClient(url, token=token, signer=signer) as client:
                result = run_import(
                    client, signer, kind, file, partial=partial, batch_rows=batch_rows,
                    time_zone=time_zone, console=console,
                )  # fmt: skip
        except CohortFileError as exc:
            for problem in exc.problems:
                console.print(f"[red]error[/red] {problem}", highlight=False)
            if exc.appended:
                console.print(
                    f"{len(exc.problems)} 个问题；此前批次的 {exc.appended} 行已导入，修正后重新运行"
                    f"即可继续 / problem(s); {exc.appended} rows of earlier batches were appended, "
                    "fix the row and re-run to resume."
                )
            else:
                console.print(
                    f"{len(exc.problems)} 个问题，未导入任何行 / problem(s); nothing appended."
                )
            raise typer.Exit(4) from None
        typer.echo(
            f"appended {result.appended}, already in the log {result.already}, "
            f"rejected {len(result.rejected)}, batches {result.batches}"
        )
        if result.rejected:
            typer.echo(f"rejects: {rejects_path(file)}")
        if result.learner_ids:
            typer.echo(f"learner ids: {learner_ids_path(file)}")

    return command


#: ``creditbank import ...``: added to the top-level app under the name ``import``. One command
#: per cohort file kind, all with the same options (built by :func:`_command`).
app = new_app(name="import", help="导入名单 / Import a cohort file (CSV or XLSX) through the API.")
for _kind, _who in (
    ("learners", "registrar: name, id_number"),
    ("certificates", "provider: certificate_id, learner_id, qualification_code, level, "
                     "issued_on"),
    ("revocations", "provider: certificate_id, reason (a reason code or its label)"),
    ("credits", "registrar: credit_id, learner_id, institution, course_code, credits, grade, "
                "earned_on"),
):  # fmt: skip
    app.command(_kind, help=f"Import {_kind} ({_who}).")(_command(_kind))
