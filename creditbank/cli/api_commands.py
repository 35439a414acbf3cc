"""Commands around the HTTP API: ``serve``, ``demo``, ``verify-transcript``, and the client commands
registrars, training providers, workers and admins use against a running server.

Client commands read the server URL, the bearer token, the actor's key file and actor id from
options or from ``CREDITBANK_URL``, ``CREDITBANK_TOKEN``, ``CREDITBANK_KEY_FILE`` and
``CREDITBANK_ACTOR`` (the key's passphrase from ``CREDITBANK_KEY_PASSPHRASE``). Entries are built and
signed here, with the actor's own key, and posted with :class:`creditbank.client.CreditbankClient`.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from creditbank.accounts.transcript import ProvenCredits, verify_transcript
from creditbank.client import CreditbankClient, EntrySigner, Receipt
from creditbank.config import Settings
from creditbank.errors import InputError, KeyFormatError
from creditbank.ledger.checkpoint import NoteVerifier
from creditbank.ledger.keys import load_private_key

__all__ = ["register"]

DEFAULT_URL = "http://127.0.0.1:8000"

UrlOption = Annotated[
    str, typer.Option("--url", envvar="CREDITBANK_URL", help="Server URL (CREDITBANK_URL).")
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="CREDITBANK_TOKEN", help="Bearer token (CREDITBANK_TOKEN)."),
]
KeyOption = Annotated[
    Path | None,
    typer.Option(
        "--key", envvar="CREDITBANK_KEY_FILE", help="The actor's private key (CREDITBANK_KEY_FILE)."
    ),
]
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        envvar="CREDITBANK_ACTOR",
        help="The actor id (CREDITBANK_ACTOR); default: the token's actor.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the server's JSON answer.")]
DateOption = Annotated[
    str | None, typer.Option("--as-of", help="A date, YYYY-MM-DD (default: today).")
]


def _date(text: str | None, what: str = "--as-of") -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"{what} must be a date like 2026-03-01, got {text!r}") from exc


def _client(
    url: str, token: str | None, key: Path | None = None, actor: str | None = None
) -> CreditbankClient:
    if not token:
        raise InputError("give a bearer token with --token or CREDITBANK_TOKEN")
    signer = None
    if key is not None:
        passphrase = Settings().key_passphrase
        private = load_private_key(
            key, passphrase=passphrase.get_secret_value().encode() if passphrase else None
        )
        if actor is None:
            with CreditbankClient(url, token=token) as probe:
                actor = probe.whoami().get("actor_id")
            if not actor:
                raise KeyFormatError("this token is not bound to an actor; pass --actor")
        signer = EntrySigner(actor, private)
    return CreditbankClient(url, token=token, signer=signer)


def _writer(url: str, token: str | None, key: Path | None, actor: str | None) -> CreditbankClient:
    if key is None:
        raise InputError(
            "writes are signed: give the actor's key with --key or CREDITBANK_KEY_FILE"
        )
    return _client(url, token, key, actor)


def _print_receipt(receipt: Receipt, as_json: bool) -> None:
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "index": receipt.index,
                    "entry_type": receipt.entry_type,
                    "tree_size": receipt.tree_size,
                    "consequences": list(receipt.consequences),
                    "replayed": receipt.replayed,
                }
            )
        )
        return
    again = " (already in the log: this is the original receipt)" if receipt.replayed else ""
    typer.echo(
        f"{receipt.entry_type} appended at index {receipt.index}, tree size {receipt.tree_size}"
        + again
    )
    for index in receipt.consequences:
        typer.echo(f"  consequence: conversion reversed at index {index}")


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _balance_tables(balance: dict[str, Any]) -> list[Table]:
    certificates = Table(title="Certificates", title_justify="left")
    for column in (
        "certificate",
        "qualification",
        "level",
        "issued",
        "provider",
        "index",
        "revoked",
    ):
        certificates.add_column(column)
    for c in balance["certificates"]:
        certificates.add_row(
            c["certificate_id"],
            c["qualification_code"],
            str(c["level"]),
            c["issued_on"],
            c["provider"],
            str(c["index"]),
            "yes" if c["revoked"] else "",
        )
    credits = Table(title=f"Banked credits: {balance['banked_credits']}", title_justify="left")
    for column in ("credit", "course", "credits", "grade", "earned", "index"):
        credits.add_column(column)
    for c in balance["credits_earned"]:
        credits.add_row(
            c["credit_id"],
            f"{c['institution']}:{c['course_code']}",
            c["credits"],
            str(c["grade"]),
            c["earned_on"],
            str(c["index"]),
        )
    recognised = Table(
        title=f"Recognised credits: {balance['total_recognised']}", title_justify="left"
    )
    for column in ("programme", "course", "credits", "mode", "mapping", "conversion", "index"):
        recognised.add_column(column)
    for programme in balance["programmes"]:
        for item in programme["items"]:
            recognised.add_row(
                programme["programme_code"],
                item["course_code"],
                item["credits"],
                item["mode"],
                item["mapping_id"],
                item["conversion_id"],
                str(item["index"]),
            )
    return [certificates, credits, recognised]


def _proven_tables(proven: ProvenCredits) -> list[Table]:
    certificates = Table(title="Certificates proven", title_justify="left")
    for column in ("certificate", "qualification", "level", "issued", "index", "revoked"):
        certificates.add_column(column)
    for c in proven.certificates:
        certificates.add_row(
            str(c["certificate_id"]),
            str(c["qualification_code"]),
            str(c["level"]),
            str(c["issued_on"]),
            str(c["index"]),
            "yes" if c["revoked"] else "",
        )
    credits = Table(title="Credits earned proven", title_justify="left")
    for column in ("credit", "course", "credits", "grade", "index"):
        credits.add_column(column)
    for c in proven.credits_earned:
        credits.add_row(
            str(c["credit_id"]),
            f"{c['institution']}:{c['course_code']}",
            str(c["credits"]),
            str(c["grade"]),
            str(c["index"]),
        )
    recognised = Table(
        title=f"Recognised credits proven: {proven.total_recognised}", title_justify="left"
    )
    recognised.add_column("programme")
    recognised.add_column("credits")
    for programme, total in sorted(proven.recognised.items()):
        recognised.add_row(programme, str(total))
    return [certificates, credits, recognised]


def _read_vkey(value: str) -> NoteVerifier:
    path = Path(value)
    if "+" not in value and path.exists():
        value = path.read_text("utf-8").strip()
    return NoteVerifier.from_vkey(value)


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``demo``, ``verify-transcript`` and the client commands to ``app``."""
    certificate_app = typer.Typer(
        help="Provider: issue and revoke certificates.", no_args_is_help=True
    )
    credit_app = typer.Typer(help="Registrar: record earned credits.", no_args_is_help=True)
    convert_app = typer.Typer(
        help="Registrar: plan, post and reverse conversions.", no_args_is_help=True
    )
    token_app = typer.Typer(help="Admin: issue and revoke bearer tokens.", no_args_is_help=True)
    actor_app = typer.Typer(help="Admin: register actors and rotate keys.", no_args_is_help=True)
    app.add_typer(certificate_app, name="certificate")
    app.add_typer(credit_app, name="credit")
    app.add_typer(convert_app, name="convert")
    app.add_typer(token_app, name="token")
    app.add_typer(actor_app, name="actor")

    # --- server -------------------------------------------------------------------------------

    @app.command("serve")
    def serve_command(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
        db: Annotated[
            str | None, typer.Option("--db", help="Database URL (CREDITBANK_DATABASE_URL).")
        ] = None,
    ) -> None:
        """Serve the HTTP API over the configured ledger (see `creditbank init`)."""
        import uvicorn

        from creditbank.api.app import create_app_from_settings

        settings = Settings(database_url=db) if db else Settings()
        uvicorn.run(create_app_from_settings(settings), host=host, port=port)

    @app.command("demo")
    def demo_command(
        data_dir: Annotated[
            Path | None,
            typer.Option("--data-dir", help="Where to create the demo (default: a temporary one)."),
        ] = None,
        port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1.")] = 8000,
    ) -> None:
        """Create a demo ledger (providers, a registrar, learners, conversions) and serve it."""
        import uvicorn

        from creditbank.api.app import create_app
        from creditbank.demo import next_steps, open_demo, sign_in_links

        console = Console()
        with tempfile.TemporaryDirectory(prefix="creditbank-demo-") as scratch:
            folder = data_dir or Path(scratch)
            base_url = f"http://127.0.0.1:{port}"
            with open_demo(folder, base_url=base_url) as (bank, setup):
                for line in [*next_steps(setup), *sign_in_links(bank, setup)]:
                    console.print(line, highlight=False, markup=False, soft_wrap=True)
                uvicorn.run(create_app(bank), host="127.0.0.1", port=port, log_level="info")

    @app.command("verify-transcript")
    def verify_transcript_command(
        file: Annotated[Path, typer.Argument(help="A transcript JSON bundle.")],
        log_key: Annotated[
            str,
            typer.Option(
                "--log-key", help="The log's verifier key (name+hex8+base64), or a file with it."
            ),
        ],
    ) -> None:
        """Check a transcript offline and print the credits it proves.

        Checks every signature, that each signing key belonged to its actor, every inclusion
        proof and the checkpoint's signature; exits non-zero if anything does not check out.
        """
        try:
            bundle = json.loads(file.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read {file} as JSON: {exc}") from exc
        proven = verify_transcript(bundle, [_read_vkey(log_key)])
        console = Console()
        console.print(
            f"transcript of {proven.learner_id}: {proven.entries} entries verified against a "
            f"signed checkpoint of tree size {proven.tree_size}",
            highlight=False,
        )
        for table in _proven_tables(proven):
            console.print(table)
        if proven.reversed_conversions:
            console.print(
                "reversed conversions (not counted): " + ", ".join(proven.reversed_conversions),
                highlight=False,
            )

    # --- any role -----------------------------------------------------------------------------

    @app.command("balance")
    def balance_command(
        learner: Annotated[str, typer.Argument(help="Learner id.")],
        as_of: DateOption = None,
        url: UrlOption = DEFAULT_URL,
        token: TokenOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """A learner's certificates, banked credits and recognised credits (learner or registrar)."""
        with _client(url, token) as api:
            balance = api.balance(learner, as_of=_date(as_of))
        if as_json:
            _print_json(balance)
            return
        console = Console()
        for table in _balance_tables(balance):
            console.print(table)

    @app.command("transcript")
    def transcript_command(
        learner: Annotated[str, typer.Argument(help="Learner id.")],
        output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the bundle.")],
        url: UrlOption = DEFAULT_URL,
        token: TokenOption = None,
    ) -> None:
        """Download a learner's verifiable transcript (check it with `verify-transcript`)."""
        with _client(url, token) as api:
            bundle = api.transcript(learner)
        output.write_text(json.dumps(bundle, ensure_ascii=False, indent=2) + "\n", "utf-8")
        typer.echo(f"wrote {len(bundle['entries'])} proven entries to {output}")

    # --- provider -----------------------------------------------------------------------------

    @certificate_app.command("issue")
    def certificate_issue(
        learner: Annotated[str, typer.Option("--learner", help="Learner id.")],
        qualification: Annotated[
            str, typer.Option("--qualification", help="Occupation code, e.g. 6-18-02-04.")
        ],
        level: Annotated[int, typer.Option("--level", min=1, max=5, help="1 (highest) to 5.")],
        issued_on: Annotated[str, typer.Option("--issued-on", help="YYYY-MM-DD.")],
        certificate_id: Annotated[
            str | None, typer.Option("--id", help="Certificate id (default: a random one).")
        ] = None,
        url: UrlOption = DEFAULT_URL,
        token: TokenOption = None,
        key: KeyOption = None,
        actor: ActorOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Issue a vocational certificate to a learner (a signed certificate.issued entry)."""
        issued = _date(issued_on, "--issued-on")
        assert issued is not None
        with _writer(url, token, key, actor) as api:
            receipt = api.issue_certificate(
                learner_id=learner,
                qualification_code=qualification,
                level=level,
                issued_on=issued,
                certificate_id=certificate_id,
            )
        _print_receipt(receipt, as_json)

    @certificate_app.command("revoke")
    def certificate_revoke(
        certificate_id: Annotated[str, typer.Argument(help="Certificate id.")],
        reason: Annotated[str, typer.Option("--reason", help="Why, for the record.")],
        url: UrlOption = DEFAULT_URL,
        token: TokenOption = None,
        key: KeyOption = None,
        actor: ActorOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Revoke a certificate you issued; conversions that used it are reversed with it."""
        with _writer(url, token, key, actor) as api:
            receipt = api.revoke_certificate(certificate_id, reason)
        _print_receipt(receipt, as_json)

    # --- registrar ----------------------------------------------------------------------------

    @app.command("register-learner")
    def register_learner_command(
        name: Annotated[str, typer.Option("--name", help="The learner's name (kept off the log).")],
        id_number: Annotated[
            str, typer.Option("--id-number", help="ID number (kept off the log).")
        ],
        url: UrlOption = DEFAULT_URL,
        token: TokenOption = None,
        key: KeyOption = None,
        actor: ActorOption = None,
    ) -> None:
        """Register a learner: a random id and a salted commitment go on the log."""
        with _writer(url, token, key, actor) as api:
            learner_id, receipt = api.register_learner(name=name, id_number=id_number)
        typer.echo(f"learner_id: {learner_id}")
        _print_receipt(receipt, False)

    @credit_app.command("record")
    def credit_record(
        learner: Annotated[str, typer.Option("--learner", help="Learner id.")],
        course: Annotated[
            str, typer.Option("--course", help="INSTITUTION:COURSE_CODE, e.g. SSPU:ME1021.")
        ],
        credits: Annotated[str, typer.Option("--credits", help="Decimal, e.g. 4 or 2.5.")],
        grade: Annotated[int, typer.Option("--grade", min=0, max=100, help="Percentage grade.")],
        earned_on: Annotated[str, typer.Option("--earned-on", help="YYYY-MM-DD.")],
        credit_id: Annotated[str | None, typer.Option("--id", help="Credit id.")] = None,
        url: UrlOption = DEFAULT_URL,
        token: TokenOption = None,
        key: KeyOption = None,
        actor: ActorOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Record course credits a learner earned (a signed credit.earned entry)."""
        institution, _, course_code = course.partition(":")
        earned = _date(earned_on, "--earned-on")
        if not course_code or earned is None:
            raise InputError("--course must look like INSTITUTION:COURSE_CODE")
        with _writer(url, token, key, actor) as api:
            receipt = api.record_credit(
                learner_id=learner,
                institution=institution,
                course_code=course_code,
                credits=Decimal(credits),
                grade=grade,
                earned_on=earned,
                credit_id=credit_id,
            )
        _print_receipt(receipt, as_json)

    @convert_app.command("plan")
    def convert_plan(
        learner: Annotated[str, typer.Option("--learner", help="Learner id.")],
        programme: Annotated[str, typer.Option("--programme", help="Programme code.")],
        as_of: DateOption = None,
        url: UrlOption = DEFAULT_URL,
        token: TokenOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """What the planner would recognise now (nothing is posted)."""
        with _client(url, token) as api:
            proposed = api.plan(learner, programme, as_of=_date(as_of))
        if as_json:
            _print_json(proposed)
            return
        _print_plan(proposed)

    @convert_app.command("post")
    def convert_post(
        learner: Annotated[str, typer.Option("--learner", help="Learner id.")],
        programme: Annotated[str, typer.Option("--programme", help="Programme code.")],
        as_of: DateOption = None,
        conversion_id: Annotated[str | None, typer.Option("--id", help="Conversion id.")] = None,
        url: UrlOption = DEFAULT_URL,
        token: TokenOption = None,
        key: KeyOption = None,
        actor: ActorOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Ask the planner and post exactly what it proposes (a signed conversion.posted)."""
        with _writer(url, token, key, actor) as api:
            proposed, receipt = api.convert(
                learner, programme, as_of=_date(as_of), conversion_id=conversion_id
            )
        if receipt is None:
            typer.echo("the planner proposes nothing to recognise; nothing was posted")
            return
        if not as_json:
            _print_plan(proposed)
        _print_receipt(receipt, as_json)

    @convert_app.command("reverse")
    def convert_reverse(
        conversion_id: Annotated[str, typer.Argument(help="Conversion id.")],
        reason: Annotated[str, typer.Option("--reason", help="Why, for the record.")],
        url: UrlOption = DEFAULT_URL,
        token: TokenOption = None,
        key: KeyOption = None,
        actor: ActorOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Reverse a conversion (and every conversion built on what it recognised)."""
        with _writer(url, token, key, actor) as api:
            receipt = api.reverse_conversion(conversion_id, reason)
        _print_receipt(receipt, as_json)

    # --- admin --------------------------------------------------------------------------------

    @actor_app.command("register")
    def actor_register(
        actor_id: Annotated[str, typer.Argument(help="The new actor's id.")],
        role: Annotated[str, typer.Option("--role", help="admin, provider or registrar.")],
        name: Annotated[str, typer.Option("--name", help="Display name.")],
        public_key: Annotated[
            str, typer.Option("--public-key", help="base64 Ed25519 key (`creditbank keys new`).")
        ],
        url: UrlOption = DEFAULT_URL,
        token: TokenOption = None,
        key: KeyOption = None,
        actor: ActorOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Register an actor with its public key (a signed actor.registered, by an admin)."""
        with _writer(url, token, key, actor) as api:
            receipt = api.register_actor(actor_id, role, name, public_key)
        _print_receipt(receipt, as_json)

    @actor_app.command("rotate-key")
    def actor_rotate_key(
        actor_id: Annotated[str, typer.Argument(help="Whose key.")],
        new_public_key: Annotated[str, typer.Option("--new-public-key", help="base64 Ed25519.")],
        old_key_id: Annotated[str, typer.Option("--old-key-id", help="Key id to revoke.")],
        url: UrlOption = DEFAULT_URL,
        token: TokenOption = None,
        key: KeyOption = None,
        actor: ActorOption = None,
    ) -> None:
        """Add the new key, then revoke the old one (two signed entries, by an admin)."""
        with _writer(url, token, key, actor) as api:
            _print_receipt(api.add_key(actor_id, new_public_key), False)
            _print_receipt(api.revoke_key(actor_id, old_key_id), False)

    @token_app.command("issue")
    def token_issue(
        actor_id: Annotated[str | None, typer.Option("--actor-id", help="For an actor.")] = None,
        learner_id: Annotated[
            str | None, typer.Option("--learner-id", help="For a learner.")
        ] = None,
        label: Annotated[str, typer.Option("--label", help="A note for the record.")] = "",
        url: UrlOption = DEFAULT_URL,
        token: TokenOption = None,
    ) -> None:
        """Issue a bearer token (printed once; only its hash is stored)."""
        with _client(url, token) as api:
            issued = api.issue_token(actor_id=actor_id, learner_id=learner_id, label=label)
        typer.echo(f"token: {issued['token']}")
        typer.echo(f"token_id: {issued['token_id']}")

    @token_app.command("revoke")
    def token_revoke(
        token_id: Annotated[str, typer.Argument(help="The token's id (its SHA-256, hex).")],
        url: UrlOption = DEFAULT_URL,
        token: TokenOption = None,
    ) -> None:
        """Revoke a bearer token."""
        with _client(url, token) as api:
            api.revoke_token(token_id)
        typer.echo(f"revoked {token_id}")


def _print_plan(proposed: dict[str, Any]) -> None:
    console = Console()
    table = Table(
        title=(
            f"{proposed['programme_code']} on {proposed['as_of']}: {proposed['new_credits']} new "
            f"credits ({proposed['total_recognised']} of {proposed['programme_credits']} recognised)"
        ),
        title_justify="left",
    )
    for column in ("course", "credits", "mode", "mapping", "sources"):
        table.add_column(column)
    for r in proposed["recognitions"]:
        table.add_row(
            r["course_code"],
            r["credits"],
            r["mode"],
            r["mapping_id"],
            " ".join(r["source_holding_ids"]),
        )
    console.print(table)
    for unused in proposed["unused"]:
        console.print(f"unused {unused['holding_id']}: {unused['message']}", highlight=False)
