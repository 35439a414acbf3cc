"""The ``creditbank`` command line.

One Typer app; each area registers its commands from its own module. Domain errors are mapped to
readable messages and exit codes here, in one place (see :data:`EXIT_CODES`).
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from creditbank import errors

__all__ = ["EXIT_CODES", "app", "main"]

app = typer.Typer(
    name="creditbank",
    help="A verifiable ledger of vocational certificates and course credits.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
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


def _register_commands() -> None:
    """Each area's module adds its commands to ``app`` (one line per module)."""
    from creditbank.cli import account_commands, ledger_commands

    ledger_commands.register(app)
    account_commands.register(app)
    from creditbank.cli import map_commands

    map_commands.register(app)
    from creditbank.cli import api_commands

    api_commands.register(app)
    from creditbank.cli import credential_commands

    credential_commands.register(app)


_register_commands()


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
