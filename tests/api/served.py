"""Real servers for the process-level API tests: a prepared ledger, uvicorn processes, HTTP clients.

:func:`prepare_ledger` migrates a database (Alembic), writes an encrypted log key, signs the genesis
and registers a provider, a registrar and a learner through :class:`CreditBank`; the server
processes open that ledger the way production does, from ``CREDITBANK_*`` variables, with
``uvicorn --factory creditbank.api.app:create_app_from_settings``. :class:`Server` starts one on a
free port of 127.0.0.1 and stops or SIGKILLs it (only the processes it started).
:func:`post_certificates` is one client thread: it posts signed ``certificate.issued`` entries until
its count or its deadline runs out, recording for each whether a receipt came back.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from creditbank.accounts.authority import audit_authority
from creditbank.accounts.bank import CreditBank
from creditbank.accounts.identity import Identity, commitment_of, new_learner_id, new_salt
from creditbank.accounts.replay import rebuild, snapshot
from creditbank.accounts.seeding import programme_body
from creditbank.accounts.tables import CertificateRow
from creditbank.accounts.wiring import create_schema, load_programmes, shipped_data_dir
from creditbank.client.signer import EntrySigner
from creditbank.ledger.audit import audit_log
from creditbank.ledger.checkpoint import NoteSigner, NoteVerifier
from creditbank.ledger.entry import SignedEntry, public_key_to_b64
from creditbank.ledger.keys import save_private_key
from creditbank.ledger.log import Log
from creditbank.ledger.merkle import leaf_hash
from creditbank.ledger.merkle_verify import verify_consistency
from creditbank.ledger.sql import LogEntryRow, SqlLogStore

__all__ = [
    "ORIGIN",
    "Posted",
    "Server",
    "ServedLedger",
    "check_checkpoints_consistent",
    "check_projections_follow_the_log",
    "check_receipts",
    "check_whole_ledger",
    "logged_index",
    "post_certificates",
    "prepare_ledger",
    "resend",
    "settle",
]

ORIGIN = "creditbank.test/served"
PASSPHRASE = "served-test-passphrase"
PROVIDER = "prov-load"
REGISTRAR = "reg-load"
FACTORY = "creditbank.api.app:create_app_from_settings"

#: One client for the polls and retries: ``httpx.get`` builds a client, and with it a TLS context
#: that loads the CA bundle (about 30 ms), on every call; the crash tests made hundreds.
_HTTP = httpx.Client()


@dataclass(frozen=True)
class ServedLedger:
    """A ledger on disk or in PostgreSQL that server processes open from the environment."""

    engine: Engine
    env: dict[str, str]
    provider: EntrySigner
    provider_token: str
    learner_id: str
    log_key: Ed25519PrivateKey

    @property
    def store(self) -> SqlLogStore:
        return SqlLogStore(self.engine)

    @property
    def verifier(self) -> NoteVerifier:
        return NoteSigner(ORIGIN, self.log_key).verifier

    def certificate(self, tag: str) -> SignedEntry:
        """A fresh signed ``certificate.issued`` for the learner (unique id and nonce)."""
        suffix = f"{tag}-{secrets.token_hex(6)}"
        return self.provider.sign(
            "certificate.issued",
            {
                "v": 1,
                "certificate_id": f"C-{suffix}",
                "learner_id": self.learner_id,
                "qualification_code": "6-18-02-04",
                "level": 4,
                "issued_on": "2024-06-01",
            },
            nonce=f"n-{suffix}",
        )


def prepare_ledger(engine: Engine, folder: Path, *, pg_schema: str | None) -> ServedLedger:
    """Schema, log key, genesis, a provider (with a token), a registrar and one learner."""
    create_schema(engine)
    log_key, admin_key, provider_key, registrar_key = (
        Ed25519PrivateKey.generate() for _ in range(4)
    )
    key_file = folder / "log.key"
    save_private_key(log_key, key_file, passphrase=PASSPHRASE.encode())
    now = datetime.now(UTC)
    admin = EntrySigner("admin", admin_key)
    registrar = EntrySigner(REGISTRAR, registrar_key)
    provider = EntrySigner(PROVIDER, provider_key)
    identity = Identity(name="负载测试学员", id_number="310101199001011234", salt=new_salt())
    learner_id = new_learner_id()
    with Log.open(SqlLogStore(engine), origin=ORIGIN, signer=NoteSigner(ORIGIN, log_key)) as log:
        log.register_key(now=now)
        bank = CreditBank(engine, log)
        bank.bootstrap(admin_id="admin", admin_name="Admin", admin_public_key=admin.public_key)
        institution = EntrySigner("SOU", Ed25519PrivateKey.generate())
        bank.submit_many(
            [
                admin.sign(
                    "actor.registered",
                    {
                        "v": 1,
                        "actor_id": actor.actor_id,
                        "role": role,
                        "name": f"{role} under load",
                        "public_key": public_key_to_b64(actor.private_key.public_key()),
                        **({"institution": "SOU"} if role == "registrar" else {}),
                    },
                )
                for actor, role in (
                    (provider, "provider"),
                    (institution, "institution"),
                    (registrar, "registrar"),
                )
            ]
        )
        bank.submit_many(
            [
                registrar.sign("programme.registered", programme_body(p))
                for p in load_programmes(shipped_data_dir())
            ]
        )
        bank.submit(
            registrar.sign(
                "learner.registered",
                {"v": 1, "learner_id": learner_id, "commitment": commitment_of(identity)},
            ),
            identity=identity,
        )
        token = bank.issue_token(actor_id=PROVIDER, label="load test")
    env = {
        **os.environ,
        "CREDITBANK_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "CREDITBANK_LOG_KEY_FILE": str(key_file),
        "CREDITBANK_LOG_KEY_PASSPHRASE": PASSPHRASE,
        "CREDITBANK_ORIGIN": ORIGIN,
    }
    env.pop("CREDITBANK_DATA_DIR", None)
    if pg_schema is not None:
        env["PGOPTIONS"] = f"-csearch_path={pg_schema}"
    return ServedLedger(engine, env, provider, token, learner_id, log_key)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """``uvicorn --factory ...`` as a child process on 127.0.0.1, in a process group of its own.

    With ``--workers N`` uvicorn is a supervisor with N worker processes; the group lets
    :meth:`kill` reach every one of them (and nothing this test did not start).
    """

    def __init__(self, ledger: ServedLedger, log_file: Path, *, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_file = log_file
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            FACTORY,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        if workers > 1:
            command += ["--workers", str(workers)]
        with log_file.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                env=ledger.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 30.0) -> float:
        """Poll ``/readyz``; return how long the server took to answer it."""
        started = time.monotonic()
        while True:
            assert self.process.poll() is None, f"the server exited: {self.output()}"
            try:
                if _HTTP.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            assert time.monotonic() - started < timeout, f"not ready in {timeout} s"
            time.sleep(0.05)

    def output(self) -> str:
        return self.log_file.read_text("utf-8", errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL every process of the server's group (the supervisor and its workers)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> int:
        """Ask the server to shut down (SIGTERM) and wait; SIGKILL the group if it does not."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise
        return self.process.returncode

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class Posted:
    """One signed entry a client sent, and what came back (``status`` None: no answer)."""

    signed: SignedEntry
    status: int | None = None
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def acknowledged(self) -> bool:
        return self.status in (200, 201)


def post_certificates(
    ledger: ServedLedger,
    url: str,
    tag: str,
    *,
    count: int,
    deadline: float,
    out: list[Posted],
    stop: threading.Event | None = None,
) -> None:
    """Post up to ``count`` fresh certificates until ``deadline`` (monotonic) or ``stop``.

    A transport error (the server died) ends this client: the entry it was sending is recorded
    without an answer, so the caller can decide from the log whether it was committed.
    """
    headers = {"Authorization": f"Bearer {ledger.provider_token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        for number in range(count):
            if time.monotonic() > deadline or (stop is not None and stop.is_set()):
                return
            posted = Posted(ledger.certificate(f"{tag}-{number}"))
            out.append(posted)
            try:
                answer = client.post("/v1/certificates", json=posted.signed.to_json())
            except httpx.TransportError:
                return
            posted.status = answer.status_code
            posted.body = answer.json()


def resend(ledger: ServedLedger, url: str, posted: Posted) -> httpx.Response:
    """Send the very same signed entry again (what a client does after losing an answer)."""
    headers = {"Authorization": f"Bearer {ledger.provider_token}"}
    return _HTTP.post(
        f"{url}/v1/certificates", json=posted.signed.to_json(), headers=headers, timeout=30
    )


# --- what must hold of the log afterwards ---------------------------------------------------


def settle(ledger: ServedLedger) -> None:
    """Take the writers' lock once: a killed server's transaction has committed or rolled back.

    (PostgreSQL finishes a COMMIT it has already received even when the client is gone, and
    releases a dead client's row lock when it sees the connection close.)
    """
    with ledger.store.transaction():
        pass


def logged_index(engine: Engine, signed: SignedEntry) -> int | None:
    """Where the log holds this exact signed entry (by actor and nonce), if it does."""
    entries = LogEntryRow.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        row = conn.execute(
            select(entries.c.idx).where(
                entries.c.actor == signed.entry.actor, entries.c.nonce == signed.entry.nonce
            )
        ).first()
    return None if row is None else int(row[0])


def check_receipts(ledger: ServedLedger, acknowledged: list[Posted]) -> None:
    """Every receipt names the entry's index, its leaf hash and a stored, signed checkpoint."""
    store = ledger.store
    leaves = {row.index: row for row in store.leaves(0, store.size())}
    for posted in acknowledged:
        receipt = posted.body
        index = receipt["index"]
        row = leaves[index]  # KeyError: an acknowledged entry is missing
        assert (row.actor, row.nonce) == (posted.signed.entry.actor, posted.signed.entry.nonce)
        hashed = leaf_hash(row.data)
        assert receipt["leaf_hash"] == _b64(hashed)
        stored = store.checkpoint_at(receipt["tree_size"])
        assert stored is not None and stored.note == receipt["checkpoint"]
        assert index < receipt["tree_size"]
    nonces = [(row.actor, row.nonce) for row in leaves.values()]
    assert len(nonces) == len(set(nonces))


def check_checkpoints_consistent(ledger: ServedLedger) -> int:
    """Each stored checkpoint is consistent with the next and with the latest (RFC 9162 proofs).

    Consistency composes (if A is a prefix of B and B of C, A is a prefix of C), so this shows
    every checkpoint is consistent with every later one. Returns how many there are.
    """
    store = ledger.store
    log = Log(store, origin=ORIGIN)
    checkpoints = list(store.checkpoints())
    latest = checkpoints[-1]
    assert latest.tree_size == store.size()  # nothing committed without its checkpoint
    for older, newer in [*pairwise(checkpoints), *((c, latest) for c in checkpoints)]:
        assert older.tree_size <= newer.tree_size
        proof = log.consistency_proof(older.tree_size, newer.tree_size)
        verify_consistency(
            older.tree_size, newer.tree_size, older.root_hash, newer.root_hash, proof
        )
    return len(checkpoints)


def check_projections_follow_the_log(ledger: ServedLedger) -> None:
    """Cheap check after each crash: one certificate row per certificate.issued entry."""
    entries = LogEntryRow.__table__  # type: ignore[attr-defined]
    with Session(ledger.engine) as session:
        issued = session.execute(
            select(func.count()).where(entries.c.entry_type == "certificate.issued")
        ).scalar_one()
        rows = session.execute(select(func.count()).select_from(CertificateRow)).scalar_one()
    assert rows == issued, f"{rows} certificate rows for {issued} certificate.issued entries"


def check_whole_ledger(ledger: ServedLedger) -> None:
    """audit_log, audit_authority, and read models equal to a rebuild from the log."""
    store = ledger.store
    audit_log(store, origin=ORIGIN, trusted=[ledger.verifier])
    audit_authority(store)
    with Session(ledger.engine) as session:
        live = snapshot(session)
    rebuild(store)
    with Session(ledger.engine) as session:
        assert snapshot(session) == live


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
