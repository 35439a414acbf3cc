"""Ledgers for the HTTP load benchmark: real, signed, verifiable, and cached.

:func:`prepare_ledger` builds a ledger the way ``creditbank demo`` does (schema by Alembic
``upgrade``, genesis by :meth:`CreditBank.bootstrap`, every provider of the shipped map and its
mappings, a registrar) and then fills it with learners, each registered with an identity and given
certificates (codes of the shipped map) and earned credits, until it holds ``entries`` log entries.

Two write paths, both the project's own:

* the first ``validated`` entries go through :meth:`CreditBank.submit_many`, so every kind of entry
  the ledger holds has passed the bank's rules (signer, role, learner exists, ids unused, dates);
* the rest, built by the same code, go through :meth:`Log.batch` (signatures verified on the pool,
  tree nodes and one checkpoint per batch) with the read models applied by
  :func:`creditbank.accounts.projection.apply_entry`, the function ``creditbank rebuild`` uses. The
  bank's rule checks cost about 2.5 ms an entry (profiled), which would make a million-entry
  ledger a 40-minute build; this path builds it at several thousand entries a second.

The built ledger is then audited with :func:`creditbank.ledger.maintenance.verify_ledger` (what
``creditbank verify`` runs) against its verifier key, and a manifest (tokens, key files, learner
ids, build time, audit result) is written beside it. Ledgers live in ``bench/results/`` (gitignored)
or in a PostgreSQL schema ``bench_http_<n>`` and are reused while the manifest matches.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text
from sqlmodel import Session

from creditbank.accounts.bank import CreditBank
from creditbank.accounts.identity import Identity, commitment_of
from creditbank.accounts.kinds import parse_body
from creditbank.accounts.migrate import upgrade
from creditbank.accounts.projection import apply_entry
from creditbank.accounts.seeding import programme_body
from creditbank.accounts.tables import LearnerIdentityRow
from creditbank.accounts.tokens import issue_token
from creditbank.accounts.wiring import shipped_data_dir
from creditbank.client import EntrySigner
from creditbank.ledger.checkpoint import NoteSigner
from creditbank.ledger.database import make_engine
from creditbank.ledger.entry import SignedEntry, public_key_to_b64
from creditbank.ledger.keys import load_private_key, save_private_key
from creditbank.ledger.log import Log
from creditbank.ledger.maintenance import verify_ledger
from creditbank.ledger.sql import SqlLogStore
from creditbank.mapping import load_catalog

__all__ = ["ORIGIN", "Credential", "Manifest", "Signer", "prepare_ledger", "postgres_url"]

ORIGIN = "bench.creditbank.example/log"
POSTGRES = "postgresql://127.0.0.1:5432/test"
CERTIFICATES_PER_LEARNER = 6
CREDITS_PER_LEARNER = 3
PER_LEARNER = 1 + CERTIFICATES_PER_LEARNER + CREDITS_PER_LEARNER
BATCH = 5000  # entries per transaction on the fast path
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class Credential:
    actor_id: str
    token: str
    key_path: str


@dataclass(frozen=True)
class Manifest:
    version: int
    database_url: str
    log_key_file: str
    origin: str
    verifier_key: str
    entries: int
    learners: int
    validated_entries: int
    providers: list[Credential]
    registrar: Credential
    #: ``[learner_id, token]`` for the learners given a token (a sample, for reads).
    learner_tokens: list[list[str]]
    #: Every learner id, in registration order (appends issue certificates to them).
    learner_ids: list[str]
    qualification_codes: list[list[Any]]
    build_seconds: float
    audit: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Manifest:
        obj = dict(obj)
        obj["providers"] = [Credential(**p) for p in obj["providers"]]
        obj["registrar"] = Credential(**obj["registrar"])
        return cls(**obj)


@dataclass
class Signer:
    """An actor's key and a nonce counter; entries are claimed at ``now``."""

    actor_id: str
    key: Ed25519PrivateKey
    prefix: str
    count: int = 0

    def sign(self, entry_type: str, body: dict[str, Any], now: datetime) -> SignedEntry:
        """Signed by the client's :class:`EntrySigner` (one signer for client, demo and bench)."""
        self.count += 1
        return EntrySigner(self.actor_id, self.key).sign(
            entry_type, {"v": 1, **body}, nonce=f"{self.prefix}-{self.count:09d}", claimed_at=now
        )


def postgres_url(schema: str) -> str:
    """The benchmark database with ``schema`` first on the search path."""
    return f"{POSTGRES}?options=-csearch_path%3D{schema}"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class _Learner:
    learner_id: str
    identity: Identity
    entries: list[SignedEntry]


def _learner_entries(
    number: int,
    registrar: Signer,
    credit_registrars: Mapping[str, Signer],
    providers: Sequence[Signer],
    codes: Sequence[tuple[str, int]],
    courses: Sequence[tuple[str, str]],
    now: datetime,
    rng: random.Random,
) -> _Learner:
    """One learner's registration, certificates and credits, signed (deterministic ids)."""
    learner_id = f"L-{number:016x}"
    identity = Identity(
        name=f"Learner {number}",
        id_number=f"{310101199000000000 + number}",
        salt=rng.randbytes(32).hex(),
    )
    today = now.date()
    out = [
        registrar.sign(
            "learner.registered",
            {"learner_id": learner_id, "commitment": commitment_of(identity)},
            now,
        )
    ]
    for c in range(CERTIFICATES_PER_LEARNER):
        code, level = codes[(number + c) % len(codes)]
        out.append(
            providers[(number + c) % len(providers)].sign(
                "certificate.issued",
                {
                    "certificate_id": f"CERT-{number:08d}-{c}",
                    "learner_id": learner_id,
                    "qualification_code": code,
                    "level": level,
                    "issued_on": (today - timedelta(days=30 + (number + c) % 900)).isoformat(),
                },
                now,
            )
        )
    for c in range(CREDITS_PER_LEARNER):
        institution, course = courses[(number + c) % len(courses)]
        out.append(
            credit_registrars[institution].sign(  # a registrar records its institution's credits
                "credit.earned",
                {
                    "credit_id": f"CR-{number:08d}-{c}",
                    "learner_id": learner_id,
                    "institution": institution,
                    "course_code": course,
                    "credits": rng.choice(["2", "3", "4", "2.5"]),
                    "grade": 60 + (number + c) % 40,
                    "earned_on": (today - timedelta(days=60 + (number + c) % 700)).isoformat(),
                },
                now,
            )
        )
    return _Learner(learner_id, identity, out)


def _reset_postgres(schema: str) -> None:
    engine = make_engine(POSTGRES)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()


def _reset_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def _opened(url: str, key_file: Path) -> Iterator[tuple[Engine, CreditBank]]:
    engine = make_engine(url)
    try:
        key = load_private_key(key_file, passphrase=None)
        store = SqlLogStore(engine)
        with Log.open(store, origin=ORIGIN, signer=NoteSigner(ORIGIN, key)) as log:
            yield engine, CreditBank(engine, log)
    finally:
        engine.dispose()


def _fast_append(bank: CreditBank, learners: Sequence[_Learner], now: datetime) -> None:
    """Append through the log (verified, one checkpoint) and project with ``apply_entry``."""
    with bank.log.batch(now=now) as batch:
        session = batch.tx.session  # type: ignore[attr-defined]
        signed = [entry for learner in learners for entry in learner.entries]
        appended = batch.add_many(signed)
        for item in appended:
            apply_entry(
                session,
                item.index,
                item.leaf,
                parse_body(item.leaf.entry.type, item.leaf.entry.body),
            )
        for learner in learners:
            session.add(
                LearnerIdentityRow(
                    learner_id=learner.learner_id,
                    name=learner.identity.name,
                    id_number=learner.identity.id_number,
                    salt=learner.identity.salt,
                )
            )


def build_ledger(
    url: str,
    folder: Path,
    entries: int,
    *,
    validated: int,
    learner_tokens: int,
    audit: bool,
    progress: Callable[[str], None] = _say,
) -> Manifest:
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    keys = folder / "keys"
    keys.mkdir(exist_ok=True)
    now = datetime.now(UTC)
    rng = random.Random(entries)
    run = secrets.token_hex(3)

    def new_key(name: str) -> tuple[Ed25519PrivateKey, Path]:
        key = Ed25519PrivateKey.generate()
        path = keys / f"{name}.key"
        path.unlink(missing_ok=True)
        save_private_key(key, path, passphrase=None, insecure=True)
        return key, path

    _, log_key_file = new_key("log")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    data = shipped_data_dir()
    catalog = load_catalog(data / "qualification_map.csv", data / "programmes.csv")
    codes = sorted(
        {(q.code, q.min_level) for m in catalog.mappings for q in m.qualification_requirements}
    )
    courses = sorted(
        {
            (m.source_course.institution, m.source_course.course_code)
            for m in catalog.mappings
            if m.source_course
        }
    )
    with _opened(url, log_key_file) as (engine, bank):
        bank.log.register_key(now=now)
        admin_key, _ = new_key("admin")
        bank.bootstrap(
            admin_id="admin",
            admin_name="bench administrator",
            admin_public_key=public_key_to_b64(admin_key.public_key()),
        )
        admin = Signer("admin", admin_key, f"adm-{run}")
        names = sorted({m.provider for m in catalog.mappings})
        providers: list[Signer] = []
        paths: dict[str, Path] = {}
        registrations = []
        for number, name in enumerate(names, start=1):
            actor_id = f"prov-{number:02d}"
            key, path = new_key(actor_id)
            providers.append(Signer(actor_id, key, f"{actor_id}-{run}"))
            paths[actor_id] = path
            registrations.append(
                admin.sign(
                    "actor.registered",
                    {
                        "actor_id": actor_id,
                        "role": "provider",
                        "name": name,
                        "public_key": public_key_to_b64(key.public_key()),
                    },
                    now,
                )
            )
        # Institutions (SOU, and each whose courses learners earned credits in), each with a
        # registrar: reg-bench is SOU's, the one the benchmarks sign in as.
        credit_registrars: dict[str, Signer] = {}
        for institution in sorted({"SOU", *(i for i, _ in courses)}):
            registrations.append(
                admin.sign(
                    "actor.registered",
                    {
                        "actor_id": institution,
                        "role": "institution",
                        "name": f"bench institution {institution}",
                        "public_key": public_key_to_b64(new_key(institution)[0].public_key()),
                    },
                    now,
                )
            )
            actor_id = "reg-bench" if institution == "SOU" else f"reg-bench-{institution.lower()}"
            registrar_key, paths[actor_id] = new_key(actor_id)
            credit_registrars[institution] = Signer(
                actor_id, registrar_key, f"reg-{institution.lower()}-{run}"
            )
            registrations.append(
                admin.sign(
                    "actor.registered",
                    {
                        "actor_id": actor_id,
                        "role": "registrar",
                        "name": f"bench registrar of {institution}",
                        "public_key": public_key_to_b64(registrar_key.public_key()),
                        "institution": institution,
                    },
                    now,
                )
            )
        registrar = credit_registrars["SOU"]
        bank.submit_many(registrations)
        # SOU's registrar registers the shipped programmes: the catalogue comes from the log.
        bank.submit_many(
            [
                registrar.sign("programme.registered", programme_body(p), now)
                for p in catalog.programmes
            ]
        )
        by_name = dict(zip(names, providers, strict=True))
        for name in names:
            mine = [m for m in catalog.mappings if m.provider == name]
            bank.submit_many(
                [
                    by_name[name].sign("mapping.registered", {"mapping": m.to_json()}, now)
                    for m in mine
                ]
            )
        # Proposed until SOU's registrar approves them (every shipped programme is SOU's).
        bank.submit_many(
            [
                registrar.sign(
                    "mapping.approved", {"mapping_id": m.mapping_id, "version": m.version}, now
                )
                for m in catalog.mappings
            ]
        )
        size = bank.log.size()
        learners = max(1, (entries - size) // PER_LEARNER)
        learner_ids: list[str] = []
        number = 0
        chunk = max(1, BATCH // PER_LEARNER)

        def make(lo: int, hi: int) -> list[_Learner]:
            local = random.Random(lo)
            return [
                _learner_entries(
                    n, registrar, credit_registrars, providers, codes, courses, now, local
                )
                for n in range(lo, hi)
            ]

        # Signing is mostly Python (canonical bytes); two threads overlap it with the writes.
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(make, 0, min(learners, chunk))
            while number < learners:
                batch_learners = pending.result()
                hi = min(learners, number + len(batch_learners))
                number = hi
                if number < learners:
                    pending = pool.submit(make, number, min(learners, number + chunk))
                if bank.log.size() < validated:
                    for lo in range(0, len(batch_learners), 100):
                        part = batch_learners[lo : lo + 100]
                        bank.submit_many(
                            [e for learner in part for e in learner.entries],
                            identities={
                                i * PER_LEARNER: learner.identity for i, learner in enumerate(part)
                            },
                        )
                else:
                    _fast_append(bank, batch_learners, now)
                learner_ids.extend(learner.learner_id for learner in batch_learners)
                if number % (chunk * 20) < chunk or number == learners:
                    progress(
                        f"  ledger: {bank.log.size():,}/{entries:,} entries "
                        f"({time.perf_counter() - started:.0f} s)"
                    )
        # The signers' counters advanced in the worker thread; the nonces never repeat.
        validated_entries = min(validated, bank.log.size())
        tokens = {
            c.actor_id: bank.issue_token(actor_id=c.actor_id, label="bench") for c in providers
        }
        registrar_token = bank.issue_token(actor_id="reg-bench", label="bench")
        sample = rng.sample(learner_ids, min(learner_tokens, len(learner_ids)))
        pairs: list[list[str]] = []
        with Session(engine) as session:
            for learner_id in sample:
                pairs.append(
                    [
                        learner_id,
                        issue_token(session, now=now, learner_id=learner_id, label="bench"),
                    ]
                )
            session.commit()
        total = bank.log.size()
        vkey = bank.log.verifier.vkey
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "VACUUM ANALYZE"
                )
        build_seconds = time.perf_counter() - started
        verdict = "not run"
        if audit:
            progress(f"  ledger: auditing {total:,} entries (creditbank verify) ...")
            began = time.perf_counter()
            report = verify_ledger(engine, origin=ORIGIN, trusted=[vkey], workers=2)
            verdict = (
                f"OK: {report.tree_size:,} entries, {report.checkpoints_checked:,} checkpoints, "
                f"{report.signatures_checked:,} signatures ({time.perf_counter() - began:.0f} s)"
            )
            progress(f"  ledger: {verdict}")
    return Manifest(
        version=MANIFEST_VERSION,
        database_url=url,
        log_key_file=str(log_key_file),
        origin=ORIGIN,
        verifier_key=vkey,
        entries=total,
        learners=len(learner_ids),
        validated_entries=validated_entries,
        providers=[
            Credential(p.actor_id, tokens[p.actor_id], str(paths[p.actor_id])) for p in providers
        ],
        registrar=Credential("reg-bench", registrar_token, str(paths["reg-bench"])),
        learner_tokens=pairs,
        learner_ids=learner_ids,
        qualification_codes=[list(c) for c in codes],
        build_seconds=build_seconds,
        audit=verdict,
    )


def prepare_ledger(
    name: str,
    entries: int,
    *,
    db: str,
    results: Path,
    validated: int = 10_000,
    learner_tokens: int = 5_000,
    audit: bool = True,
    reuse: bool = True,
) -> Manifest:
    """The cached ledger ``name`` of about ``entries`` entries, built if missing or stale."""
    folder = results / f"http-{name}"
    manifest_file = folder / "manifest.json"
    if reuse and manifest_file.exists():
        manifest = Manifest.from_json(json.loads(manifest_file.read_text()))
        if (
            manifest.version == MANIFEST_VERSION
            and _size(manifest.database_url) == manifest.entries
        ):
            return manifest
    manifest_file.unlink(missing_ok=True)
    if db == "postgres":
        # One schema per checkout (its results folder): two working copies benchmarking on the
        # same database must not reset each other's ledger.
        checkout = hashlib.sha256(str(results.resolve()).encode()).hexdigest()[:8]
        schema = f"bench_http_{name}_{checkout}".replace("-", "_")
        _reset_postgres(schema)
        url = postgres_url(schema)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "creditbank.db"
        _reset_sqlite(path)
        url = f"sqlite:///{path}"
    manifest = build_ledger(
        url, folder, entries, validated=validated, learner_tokens=learner_tokens, audit=audit
    )
    manifest_file.write_text(json.dumps(manifest.to_json()))
    return manifest


def _size(url: str) -> int:
    engine = make_engine(url)
    try:
        return SqlLogStore(engine).size()
    except Exception:  # a missing or half-built database: rebuild it
        return -1
    finally:
        engine.dispose()
