"""What every area of the command line shares: options, settings helpers, the typer factory.

Help is plain click help (``rich_markup_mode=None``): typer's rich help prints a ``<bool>`` or
``<str>`` tag beside every option, and its usage line shows required arguments as ``{file}``. Our
commands use :class:`PlainCommand`, whose arguments print as click always did (``FILE``,
``[FILE]``), and options carry metavars (``--db URL``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import SecretStr
from sqlalchemy import Engine
from typer import _click
from typer.core import TyperArgument, TyperCommand, TyperOption

from creditbank.accounts.wiring import BankConfig, shipped_data_dir
from creditbank.config import Settings
from creditbank.ledger.database import make_engine

__all__ = [
    "CliApp",
    "PlainCommand",
    "DbOption",
    "InsecureOption",
    "KeyFileOption",
    "OriginOption",
    "bank_config",
    "engine_for",
    "new_app",
    "now",
    "secret",
]


class PlainArgument(TyperArgument):
    """An argument shown as ``NAME`` (required) or ``[NAME]``, with no ``<type>`` tag."""

    def display_type_rich(self, ctx: _click.Context) -> str | None:  # noqa: ARG002
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw.upper()
        return name if self.required else f"[{name}]"

    def _rich_display_name(self) -> str:
        return self.display_name_raw.upper()


class PlainOption(TyperOption):
    """An option shown as ``--name VALUE`` (its metavar, else click's upper-case type name)."""

    def display_type_rich(self, ctx: _click.Context) -> str | None:
        if self.is_flag:
            return None
        if self.metavar is not None:
            return self.metavar
        return self.display_type(ctx).strip("<>").upper()


class PlainCommand(TyperCommand):
    """A command whose arguments are :class:`PlainArgument` (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument:
                param.__class__ = PlainArgument
            elif type(param) is TyperOption:
                param.__class__ = PlainOption


_F = TypeVar("_F", bound=Callable[..., Any])


class CliApp(typer.Typer):
    """A typer app whose commands are :class:`PlainCommand` unless told otherwise."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[_F], _F]:
        kwargs.setdefault("cls", PlainCommand)
        return super().command(*args, **kwargs)


def new_app(**kwargs: Any) -> typer.Typer:
    """A typer app with this CLI's conventions (plain help, no completion install)."""
    kwargs.setdefault("no_args_is_help", True)
    return CliApp(rich_markup_mode=None, add_completion=False, **kwargs)


DbOption = Annotated[
    str | None,
    typer.Option("--db", metavar="URL", help="Database URL (default: CREDITBANK_DATABASE_URL)."),
]
OriginOption = Annotated[
    str | None,
    typer.Option("--origin", metavar="ORIGIN", help="Log origin and key name (CREDITBANK_ORIGIN)."),
]
KeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--log-key-file",
        metavar="PATH",
        help="The log's private key (CREDITBANK_LOG_KEY_FILE).",
    ),
]
InsecureOption = Annotated[
    bool,
    typer.Option(
        "--insecure-dev-key", help="Allow an UNENCRYPTED log key (local development only)."
    ),
]


@contextmanager
def engine_for(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def now() -> datetime:
    return datetime.now(UTC)


def secret(value: SecretStr | None) -> bytes | None:
    return value.get_secret_value().encode() if value is not None else None


def bank_config(settings: Settings, db: str | None) -> BankConfig:
    """The bank named by the settings (``--db`` overrides the database URL)."""
    return BankConfig(
        database_url=db or settings.database_url,
        log_key_file=settings.log_key_file,
        log_key_passphrase=secret(settings.log_key_passphrase),
        origin=settings.origin,
        data_dir=settings.data_dir or shipped_data_dir(),
        timezone=settings.timezone,
    )
