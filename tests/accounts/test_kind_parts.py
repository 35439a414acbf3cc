"""Every entry kind a person posts has its client method and its CLI command (issue 10).

Checked against the registry (``creditbank.accounts.kinds.KINDS``): a postable kind missing from
the client's :data:`~creditbank.client.writes.WRITE_METHODS` or the CLI's
:data:`~creditbank.cli.WRITE_COMMANDS` fails here, and so does a named method or command that
does not exist, or a command that does not make the client call it is listed with.
"""

from __future__ import annotations

import inspect
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
import uvicorn
from sqlmodel import Session, select
from typer.testing import CliRunner

from creditbank.accounts.kinds import KINDS
from creditbank.accounts.tables import MappingRow
from creditbank.api.app import create_app
from creditbank.cli import WRITE_COMMANDS, app
from creditbank.client import CreditbankClient, mapping_import
from creditbank.client.writes import WRITE_METHODS
from creditbank.ledger.keys import save_private_key
from tests.accounts.conftest import WELD_MAPPING, World

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


def test_mapping_retire_through_the_cli_over_http(
    sqlite_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command the table names for ``mapping.retired`` really retires the mapping, signed with
    the provider's key file and posted with its token; a second run is refused (exit 6)."""
    world = sqlite_world
    world.register_mapping(WELD_MAPPING)
    # The CLI signs with the real time; bring the world's hand-moved clock up to it.
    world.clock.advance(seconds=(datetime.now(UTC) - world.clock()).total_seconds())
    key_file = tmp_path / "provider.key"
    save_private_key(world.provider.key, key_file, passphrase=b"passphrase-1")
    monkeypatch.setenv("CREDITBANK_KEY_PASSPHRASE", "passphrase-1")
    token = world.bank.issue_token(actor_id=world.provider.actor_id)
    with _serving(world) as url:
        words = ["mapping", "retire", WELD_MAPPING.mapping_id, "--reason", "entered-in-error"]
        options = ["--url", url, "--token", token, "--key", str(key_file), "--json"]
        first = CliRunner().invoke(app, [*words, *options])
        assert first.exit_code == 0, first.output
        assert json.loads(first.output)["entry_type"] == "mapping.retired"
        with Session(world.bank.engine) as session:
            rows = session.exec(
                select(MappingRow).where(MappingRow.mapping_id == WELD_MAPPING.mapping_id)
            ).all()
        assert rows and all(row.retired_at is not None for row in rows)
        again = CliRunner().invoke(app, [*words, *options])
        assert again.exit_code != 0 and "already retired" in str(again.exception or again.output)


@contextmanager
def _serving(world: World) -> Iterator[str]:
    """The world's bank behind the real app, served by uvicorn in a thread on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(world.bank), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
