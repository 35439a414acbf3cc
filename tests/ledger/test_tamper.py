"""Edit the database behind the code's back; the audit (and ``creditbank verify``) must notice.

Each case builds a 50-entry log (five batches of ten, so checkpoints at 0, 10, ..., 50) on SQLite
and on PostgreSQL, drops the append-only triggers as an attacker with database access would, makes
one edit, and expects :func:`audit_log` to raise :class:`TamperError` naming the first bad index,
and ``creditbank verify`` to exit with the verification exit code and the same message.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, text

from creditbank.cli import EXIT_CODES, main
from creditbank.errors import TamperError, VerificationError
from creditbank.ledger.audit import audit_log
from creditbank.ledger.checkpoint import NoteSigner
from creditbank.ledger.database import is_sqlite
from creditbank.ledger.entry import Entry, Leaf, sign_entry
from creditbank.ledger.log import Log
from creditbank.ledger.merkle import NodeId, leaf_hash, node_hash
from creditbank.ledger.sql import APPEND_ONLY_TABLES, SqlLogStore, create_log_schema

from .conftest import ORIGIN, MakeEntries

SIZE = 50
VERIFY_EXIT = dict(EXIT_CODES)[VerificationError]


@pytest.fixture
def db_url(engine: Engine, request: pytest.FixtureRequest) -> str:
    """A URL for ``engine`` that a separate process (the CLI) can open."""
    if is_sqlite(engine):
        return engine.url.render_as_string(hide_password=False)
    url, schema = request.getfixturevalue("pg_schema")
    return f"{url}?options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def built(
    engine: Engine, log_signer: NoteSigner, make_entries: MakeEntries, now: datetime
) -> Engine:
    create_log_schema(engine)
    with Log.open(SqlLogStore(engine), origin=ORIGIN, signer=log_signer) as log:
        log.register_key(now=now)
        for batch in range(5):
            log.append(make_entries(10), now=now + timedelta(minutes=batch))
    audit_log(SqlLogStore(engine), origin=ORIGIN)  # intact before the attack
    drop_triggers(engine)
    return engine


def drop_triggers(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in APPEND_ONLY_TABLES:
            if is_sqlite(engine):
                conn.execute(text(f"DROP TRIGGER {table}_no_update"))
                conn.execute(text(f"DROP TRIGGER {table}_no_delete"))
            else:
                conn.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))
                conn.execute(text(f"DROP TRIGGER {table}_no_truncate ON {table}"))


def leaf_bytes(conn: Connection, index: int) -> bytes:
    return bytes(conn.execute(text(f"SELECT leaf FROM log_entries WHERE idx = {index}")).one()[0])


def set_leaf(conn: Connection, index: int, data: bytes) -> None:
    conn.execute(text("UPDATE log_entries SET leaf = :d WHERE idx = :i"), {"d": data, "i": index})


def set_node(conn: Connection, node: NodeId, value: bytes) -> None:
    conn.execute(
        text("UPDATE log_nodes SET hash = :h WHERE level = :l AND idx = :i"),
        {"h": value, "l": node.level, "i": node.index},
    )


def get_node(conn: Connection, node: NodeId) -> bytes:
    row = conn.execute(
        text("SELECT hash FROM log_nodes WHERE level = :l AND idx = :i"),
        {"l": node.level, "i": node.index},
    ).one()
    return bytes(row[0])


# --- the attacks -------------------------------------------------------------------------------


def flip_a_body_byte(conn: Connection) -> None:
    data = leaf_bytes(conn, 17)
    assert data.count(b'"credits":"3.0"') == 1
    set_leaf(conn, 17, data.replace(b'"credits":"3.0"', b'"credits":"4.0"'))


def break_the_json(conn: Connection) -> None:
    data = bytearray(leaf_bytes(conn, 17))
    data[0] ^= 0xFF
    set_leaf(conn, 17, bytes(data))


def delete_a_middle_row(conn: Connection) -> None:
    conn.execute(text("DELETE FROM log_entries WHERE idx = 23"))


def delete_the_last_rows(conn: Connection) -> None:
    conn.execute(text("DELETE FROM log_entries WHERE idx >= 45"))
    conn.execute(text("DELETE FROM log_nodes WHERE level = 0 AND idx >= 45"))
    conn.execute(text("UPDATE log_head SET size = 45"))


def swap_two_leaves(conn: Connection) -> None:
    a, b = leaf_bytes(conn, 12), leaf_bytes(conn, 30)
    set_leaf(conn, 12, b)
    set_leaf(conn, 30, a)


def change_a_leaf_node(conn: Connection) -> None:
    set_node(conn, NodeId(0, 33), bytes(32))


def change_an_inner_node(conn: Connection) -> None:
    set_node(conn, NodeId(3, 2), node_hash(bytes(32), bytes(32)))


def delete_a_node(conn: Connection) -> None:
    conn.execute(text("DELETE FROM log_nodes WHERE level = 2 AND idx = 5"))


def change_a_checkpoint_note(conn: Connection) -> None:
    note = conn.execute(text("SELECT note FROM log_checkpoints WHERE tree_size = 30")).scalar_one()
    lines = note.split("\n")
    lines[1] = "31"  # the signed text now claims another size
    conn.execute(
        text("UPDATE log_checkpoints SET note = :n WHERE tree_size = 30"), {"n": "\n".join(lines)}
    )


def change_a_checkpoint_root(conn: Connection) -> None:
    conn.execute(
        text("UPDATE log_checkpoints SET root_hash = :r WHERE tree_size = 20"), {"r": bytes(32)}
    )


def change_an_index_column(conn: Connection) -> None:
    conn.execute(text("UPDATE log_entries SET nonce = 'nonce-forged' WHERE idx = 41"))


def resign_an_entry_and_fix_every_node(conn: Connection) -> None:
    """The strongest attack short of the log key: a validly signed replacement entry and a tree
    recomputed around it. Only the signed checkpoints can tell."""
    old = Leaf.from_bytes(leaf_bytes(conn, 7))
    body = {**old.entry.body, "credits": "30.0"}
    forged_entry = Entry.from_json({**old.entry.to_json(), "body": body})
    forged = Leaf.wrap_at(sign_entry(forged_entry, Ed25519PrivateKey.generate()), old.integrated_at)
    set_leaf(conn, 7, forged.data)
    current = leaf_hash(forged.data)
    node = NodeId(0, 7)
    set_node(conn, node, current)
    while node.level < 5:  # 7 -> (1,3) -> (2,1) -> (3,0) -> (4,0) -> (5,0)
        sibling = NodeId(node.level, node.index ^ 1)
        other = get_node(conn, sibling)
        current = node_hash(other, current) if node.index & 1 else node_hash(current, other)
        node = NodeId(node.level + 1, node.index >> 1)
        set_node(conn, node, current)


@dataclass(frozen=True)
class Attack:
    edit: Callable[[Connection], None]
    index: int | None
    message: str


ATTACKS = {
    "flipped body byte": Attack(flip_a_body_byte, 17, "entry 17: signature"),
    "broken json": Attack(break_the_json, 17, "entry 17: not valid UTF-8 JSON"),
    "deleted middle row": Attack(delete_a_middle_row, 23, "entry 23 is missing"),
    "deleted last rows": Attack(delete_the_last_rows, 45, "entries 45..49 are missing"),
    "swapped leaves": Attack(swap_two_leaves, 12, "entry 12: stored actor/nonce/type columns"),
    "changed leaf node": Attack(
        change_a_leaf_node, 33, "tree node level 0 index 33 (entry 33) does not match"
    ),
    "changed inner node": Attack(
        change_an_inner_node, 16, "tree node level 3 index 2 (entries 16..23) does not match"
    ),
    "deleted node": Attack(
        delete_a_node, 20, "tree node level 2 index 5 (entries 20..23) is missing"
    ),
    "changed checkpoint note": Attack(change_a_checkpoint_note, None, "checkpoint at tree size 30"),
    "changed checkpoint root": Attack(change_a_checkpoint_root, None, "checkpoint at tree size 20"),
    "changed index column": Attack(change_an_index_column, 41, "entry 41: stored actor/nonce/type"),
    "re-signed entry, nodes fixed": Attack(
        resign_an_entry_and_fix_every_node, 9, "signed root of checkpoint 10"
    ),
}


@pytest.mark.parametrize("name", ATTACKS)
def test_audit_names_the_first_bad_index(built: Engine, name: str) -> None:
    attack = ATTACKS[name]
    with built.begin() as conn:
        attack.edit(conn)
    with pytest.raises(TamperError) as caught:
        audit_log(SqlLogStore(built), origin=ORIGIN)
    assert caught.value.index == attack.index
    assert attack.message in str(caught.value)


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "argv", ["creditbank", *args])
    monkeypatch.setenv("COLUMNS", "400")  # keep rich from wrapping the message
    with pytest.raises(SystemExit) as exited:
        main()
    code = exited.value.code
    return code if isinstance(code, int) else 1


@pytest.mark.parametrize("name", ATTACKS)
def test_verify_command_fails_with_the_message(
    built: Engine,
    db_url: str,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    attack = ATTACKS[name]
    with built.begin() as conn:
        attack.edit(conn)
    code = run_cli(["verify", "--db", db_url, "--origin", ORIGIN, "--workers", "1"], monkeypatch)
    err = capsys.readouterr().err
    assert code == VERIFY_EXIT
    assert "TamperError" in err
    assert attack.message in err


def test_verify_command_passes_an_untouched_log(
    built: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["verify", "--db", db_url, "--origin", ORIGIN], monkeypatch) == 0
    out = capsys.readouterr().out
    assert f"OK: {SIZE} entries" in out
    assert "6 checkpoints" in out


def test_a_trusted_key_from_outside_is_required_when_given(
    built: Engine,
    db_url: str,
    log_signer: NoteSigner,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An attacker who re-signs every checkpoint with a key of their own and records that key
    fools a check against the database's key records, not one against the operator's key."""
    attacker = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    with built.begin() as conn:
        rows = conn.execute(text("SELECT id, note FROM log_checkpoints")).all()
        for row_id, note in rows:
            body = note[: note.index("\n\n") + 1]
            forged = body + "\n" + attacker.signature_line(body)
            conn.execute(
                text("UPDATE log_checkpoints SET note = :n WHERE id = :i"),
                {"n": forged, "i": row_id},
            )
        conn.execute(text("DELETE FROM log_keys"))
        conn.execute(
            text("INSERT INTO log_keys (vkey, created_at) VALUES (:v, :t)"),
            {"v": attacker.verifier.vkey, "t": datetime(2026, 1, 1)},
        )
    audit_log(SqlLogStore(built), origin=ORIGIN)  # self-consistent ...
    with pytest.raises(TamperError, match="checkpoint at tree size 0"):
        audit_log(SqlLogStore(built), origin=ORIGIN, trusted=[log_signer.verifier])
    vkey = log_signer.verifier.vkey
    args = ["verify", "--db", db_url, "--origin", ORIGIN, "--log-key", vkey]
    assert run_cli(args, monkeypatch) == VERIFY_EXIT
    assert "no signature from a trusted key" in capsys.readouterr().err
