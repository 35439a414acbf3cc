"""The ``creditbank`` command line.

One Typer app made of one module-level app per area (``log``, ``transcript_commands``,
``server``, ``provider``, ``registrar``, ``admin``, ``learner``, ``map``, ``import_commands``,
``report_commands``). Domain errors are mapped to
readable messages and exit codes here, in one place (see :data:`EXIT_CODES`).
"""

from __future__ import annotations

import sys

from rich.console import Console

from creditbank import errors
from creditbank.cli import (
    admin,
    credential_commands,
    import_commands,
    learner,
    log,
    map,
    provider,
    registrar,
    report_commands,
    server,
    transcript_commands,
)
from creditbank.cli.common import new_app
from creditbank.cli.mapping_commands import mapping_app
from creditbank.cli.programme_commands import programme_app
from creditbank.cli.witness_commands import witness_app

__all__ = ["AREAS", "EXIT_CODES", "WRITE_COMMANDS", "app", "main"]

app = new_app(
    name="creditbank",
    help="A verifiable ledger of vocational certificates and course credits.",
    pretty_exceptions_enable=False,
)

#: Exit code for each branch of the error tree (most specific class first).
EXIT_CODES: list[tuple[type[errors.CreditbankError], int]] = [
    (errors.VerificationError, 3),
    (errors.InputError, 4),
    (errors.NotFoundError, 5),
    (errors.ConflictError, 6),
    (errors.AuthError, 7),
    (errors.StorageError, 8),
    (errors.CreditbankError, 1),
]


def exit_code_for(exc: errors.CreditbankError) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return 1


#: The areas of the command line, one module-level typer app each; their commands sit at the top
#: level (``creditbank init``, ``creditbank certificate issue`` ...).
AREAS = (
    log.app,
    transcript_commands.app,
    server.app,
    provider.app,
    registrar.app,
    admin.app,
    learner.app,
    map.app,
)
for _area in AREAS:
    app.add_typer(_area)
app.add_typer(witness_app, name="witness")
app.add_typer(mapping_app, name="mapping")
app.add_typer(programme_app, name="programme")
# Groups with a name of their own: ``creditbank import ...``, ``creditbank report ...``.
app.add_typer(import_commands.app, name="import")
app.add_typer(report_commands.app, name="report")
credential_commands.register(app)


#: Entry type -> the command that posts it (its words after ``creditbank``) and the client call
#: that command makes. Every kind a person posts has one; ``tests/accounts/test_kind_parts.py``
#: checks this against the registry and the commands themselves.
WRITE_COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "actor.registered": (("actor", "register"), "register_actor"),
    "actor.key_added": (("actor", "rotate-key"), "add_key"),
    "actor.key_revoked": (("actor", "rotate-key"), "revoke_key"),
    "actor.key_recovered": (("actor", "recover-key"), "recover_key"),
    "actor.key_recovery_cancelled": (("actor", "cancel-recovery"), "cancel_key_recovery"),
    "learner.registered": (("register-learner",), "register_learner"),
    "certificate.issued": (("certificate", "issue"), "issue_certificate"),
    "certificate.revoked": (("certificate", "revoke"), "revoke_certificate"),
    "credit.earned": (("credit", "record"), "record_credit"),
    # A map's rows go in one signed batch (all or nothing), through the client's import.
    "programme.registered": (("programme", "register"), "register_programme"),
    "mapping.registered": (("import-map",), "import_mappings"),
    "mapping.retired": (("mapping", "retire"), "retire_mapping"),
    "mapping.approved": (("mapping", "approve"), "approve_mapping"),
    "conversion.posted": (("convert", "post"), "convert"),
    "conversion.reversed": (("convert", "reverse"), "reverse_conversion"),
}


def main() -> None:
    """Console-script entry point: run the app, turning domain errors into exit codes."""
    try:
        app()
    except errors.MapLoadError as exc:
        err = Console(stderr=True)
        for problem in exc.problems:
            err.print(f"[red]error[/red] {problem}", markup=True, highlight=False)
        err.print(f"{len(exc.problems)} problem(s); nothing was loaded.")
        sys.exit(exit_code_for(exc))
    except errors.CreditbankError as exc:
        Console(stderr=True).print(
            f"[red]error[/red] ({type(exc).__name__}): {exc}", markup=True, highlight=False
        )
        sys.exit(exit_code_for(exc))
