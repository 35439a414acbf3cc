"""``creditbank verify-credential FILE [--online URL]``: check a credential and say what passed.

Offline it checks the eddsa-jcs-2022 proofs (the credential and each achievement), ``validFrom``,
and the evidence: the embedded transcript's inclusion proofs against its checkpoint and the log
key, and that every achievement is a log entry of that transcript. ``--online URL`` also fetches
the status list (revoked?), the bank's did:web document (is the signing key the bank's?), the log
key and the latest checkpoint (has the log only grown since?).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from creditbank.credentials.online import Fetch, fetch_online
from creditbank.credentials.verification import verify_credential
from creditbank.errors import CredentialFormatError, InputError, StorageError
from creditbank.ledger.checkpoint import NoteVerifier

__all__ = ["register", "verify_credential_file"]


def _read(path: Path) -> Any:
    """A credential file: its JSON, or the JSON attached to a credential PDF."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    if data.startswith(b"%PDF-"):
        from creditbank.credentials.pdf import read_attached_credential  # fpdf2 loads slowly

        return read_attached_credential(data)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CredentialFormatError(f"{path} is not a JSON credential: {exc}") from exc


def _http_fetch(client: httpx.Client) -> Fetch:
    def fetch(url: str) -> bytes:
        try:
            response = client.get(url)
        except httpx.HTTPError as exc:
            raise StorageError(f"cannot fetch {url}: {exc}") from exc
        if response.status_code != 200:
            raise StorageError(f"{url} answered {response.status_code}")
        return response.content

    return fetch


def verify_credential_file(
    path: Path,
    *,
    online: str | None,
    log_key: str | None,
    console: Console,
    fetch: Fetch | None = None,
) -> None:
    """Verify the credential in ``path``, printing each check that passed; raise on the first
    that fails. ``fetch`` (``url -> bytes``) replaces HTTP in tests."""
    document = _read(path)
    trusted = NoteVerifier.from_vkey(log_key) if log_key else None

    def passed(message: str) -> None:
        console.print(f"[green]✓[/green] {message}", markup=True, highlight=False, emoji=False)

    status_list = methods = None
    key_source = "given"
    if online is not None:
        with httpx.Client(timeout=20.0, follow_redirects=False) as client:
            evidence = fetch_online(document, online, fetch or _http_fetch(client), log_key=trusted)
        source = "the server's" if evidence.log_key_from_server else "given"
        key_source = source
        passed(
            f"latest checkpoint (tree size {evidence.latest.size}) verified with the log key "
            f"({source}); the log grew consistently from the credential's checkpoint"
        )
        status_list, methods, trusted = (
            evidence.status_list,
            evidence.issuer_methods,
            evidence.log_key,
        )
    verified = verify_credential(
        document,
        now=datetime.now(UTC),
        log_keys=[trusted] if trusted else None,
        status_list=status_list,
        issuer_methods=methods,
        on_pass=passed,
        log_key_source=key_source,
    )
    console.print(
        f"[bold green]valid[/bold green]: credential {verified.credential_id} of learner "
        f"{verified.learner_id}, {verified.achievements} achievements",
        markup=True,
        highlight=False,
        emoji=False,
    )
    if online is None:
        console.print(
            "not checked offline: revocation status, whether the signing key is the bank's "
            "(did.json), whether the log has grown consistently since; use --online URL",
            highlight=False,
        )
    if verified.log_key_from_credential:
        console.print(
            "note: the log key was taken from the credential itself; give --log-key or "
            "--online to check it against one you trust",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add ``verify-credential`` to ``app``."""

    @app.command("verify-credential")
    def verify_credential_command(
        file: Annotated[
            Path, typer.Argument(help="The credential to check: its JSON, or its PDF.")
        ],
        online: Annotated[
            str | None,
            typer.Option(
                "--online",
                help="The bank's base URL: also fetch the status list, did.json and the latest "
                "checkpoint.",
            ),
        ] = None,
        log_key: Annotated[
            str | None,
            typer.Option("--log-key", help="The log's verifier key you trust (name+hex8+base64)."),
        ] = None,
    ) -> None:
        """Verify a W3C VC 2.0 credential of creditbank and say what passed."""
        verify_credential_file(file, online=online, log_key=log_key, console=Console())
