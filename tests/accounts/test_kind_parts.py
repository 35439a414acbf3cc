"""Every entry kind a person posts has its client method and its CLI command (issue 10).

Checked against the registry (``creditbank.accounts.kinds.KINDS``): a postable kind missing from
the client's :data:`~creditbank.client.writes.WRITE_METHODS` or the CLI's
:data:`~creditbank.cli.WRITE_COMMANDS` fails here, and so does a named method or command that
does not exist, or a command that does not make the client call it is listed with.
"""

from __future__ import annotations

import inspect
from typing import Any

import typer

from creditbank.accounts.kinds import KINDS
from creditbank.cli import WRITE_COMMANDS, app
from creditbank.client import CreditbankClient, mapping_import
from creditbank.client.writes import WRITE_METHODS

POSTABLE = {entry_type for entry_type, kind in KINDS.items() if kind.poster is not None}


def _command(words: tuple[str, ...]) -> Any:
    """The command ``creditbank <words>`` resolves to, or a failure naming the missing word.

    (typer carries its own copy of click, so the groups are told apart by what they can do.)
    """
    root = typer.main.get_command(app)
    command: Any = root
    with root.context_class(root) as context:
        for word in words:
            assert hasattr(command, "get_command"), f"{' '.join(words)}: {word!r} under a command"
            found = command.get_command(context, word)
            assert found is not None, f"no command `creditbank {' '.join(words)}`"
            command = found
    return command


def test_every_postable_kind_has_a_client_method_that_posts_it() -> None:
    assert POSTABLE, "the registry has no kinds a person posts"
    assert set(WRITE_METHODS) == POSTABLE
    for entry_type, name in WRITE_METHODS.items():
        method = getattr(CreditbankClient, name, None)
        assert callable(method), f"{entry_type}: the client has no method {name}"
        assert f'"{entry_type}"' in inspect.getsource(method), f"{name} does not post {entry_type}"


def _client_call(name: str) -> Any:
    """A client method, or a function of the client package (the map import)."""
    return getattr(CreditbankClient, name, None) or getattr(mapping_import, name)


def test_every_postable_kind_has_a_cli_command_that_makes_the_call() -> None:
    assert set(WRITE_COMMANDS) == POSTABLE
    for entry_type, (words, call) in WRITE_COMMANDS.items():
        command = _command(words)
        assert command.callback is not None, words
        source = inspect.getsource(command.callback)
        assert f"{call}(" in source, f"`creditbank {' '.join(words)}` never calls {call}"
        # the call posts the kind: it is the kind's client method, or it calls it, or names it
        called = inspect.getsource(_client_call(call))
        assert (
            call == WRITE_METHODS[entry_type]
            or f"{WRITE_METHODS[entry_type]}(" in called
            or f'"{entry_type}"' in called
        ), f"{call} does not post {entry_type}"
