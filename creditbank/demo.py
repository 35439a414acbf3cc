"""``creditbank demo``: a small, real credit bank on SQLite, served over HTTP.

:func:`build_demo` creates, in a data directory:

* ``creditbank.db``: a SQLite ledger with the log key's verifier on record and the genesis entries;
* ``keys/``: one Ed25519 key per actor (0600, unencrypted: this is a demo), and the log key;
* every training provider of the shipped qualification map registered as an actor, and its
  mappings registered as signed ``mapping.registered`` entries (one batch per provider);
* a registrar, three learners with certificates and earned credits, a ``through_train``
  conversion, a ``certificate_recognition`` conversion (each exactly what the planner proposed),
  and one conversion reversed;
* ``demo-credentials.json``: the base URL and a bearer token for every actor and learner.

Everything goes through :meth:`CreditBank.submit_many`, the same write path the API uses; nothing
is written to the database behind the ledger's back. Running the demo again on the same directory
serves the existing ledger.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditbank.accounts.bank import CreditBank
from creditbank.accounts.identity import Identity, commitment_of, new_learner_id, new_salt
from creditbank.accounts.wiring import BankConfig, create_schema, open_bank, shipped_data_dir
from creditbank.errors import ConflictError, InputError
from creditbank.ledger.database import make_engine
from creditbank.ledger.entry import Entry, SignedEntry, public_key_to_b64, sign_entry
from creditbank.ledger.keys import generate_key, save_private_key
from creditbank.mapping import Catalog, Mapping, Mode, Plan, load_catalog
from creditbank.web import signin_link

__all__ = [
    "CREDENTIALS_FILE",
    "DEMO_ORIGIN",
    "DemoActor",
    "DemoLearner",
    "DemoSetup",
    "build_demo",
    "next_steps",
    "open_demo",
    "sign_in_links",
]

DEMO_ORIGIN = "demo.creditbank.example/log"
CREDENTIALS_FILE = "demo-credentials.json"
DATABASE_FILE = "creditbank.db"
_LOG_KEY = "log.key"

#: Personal data of the sample learners (fictitious; kept off the log, in the erasable table).
_LEARNERS = (
    ("王建国", "310101198805120031", "through_train"),
    ("李秀英", "310104199203150042", "certificate_recognition"),
    ("张伟", "310110199511300053", "reversed"),
)


@dataclass(frozen=True)
class DemoActor:
    actor_id: str
    role: str
    name: str
    token: str
    private_key_path: Path

    def to_json(self) -> dict[str, Any]:
        return {
            "actor_id": self.actor_id,
            "name": self.name,
            "token": self.token,
            "private_key_path": str(self.private_key_path),
        }


@dataclass(frozen=True)
class DemoLearner:
    learner_id: str
    name: str
    token: str
    story: str

    def to_json(self) -> dict[str, Any]:
        return {
            "learner_id": self.learner_id,
            "name": self.name,
            "token": self.token,
            "story": self.story,
        }


@dataclass(frozen=True)
class DemoSetup:
    """What the demo created; :meth:`to_json` is ``demo-credentials.json``."""

    data_dir: Path
    base_url: str
    verifier_key: str
    admin: DemoActor
    providers: tuple[DemoActor, ...]
    registrars: tuple[DemoActor, ...]
    learners: tuple[DemoLearner, ...]
    programmes: dict[str, str] = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / DATABASE_FILE}"

    def to_json(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "database_url": self.database_url,
            "log": {
                "origin": DEMO_ORIGIN,
                "verifier_key": self.verifier_key,
                "private_key_path": str(self.data_dir / "keys" / _LOG_KEY),
            },
            "admin": self.admin.to_json(),
            "providers": [p.to_json() for p in self.providers],
            "registrars": [r.to_json() for r in self.registrars],
            "learners": [learner.to_json() for learner in self.learners],
            "programmes": self.programmes,
        }

    @classmethod
    def from_json(cls, data_dir: Path, obj: dict[str, Any], base_url: str) -> DemoSetup:
        def actor(item: dict[str, Any], role: str) -> DemoActor:
            return DemoActor(
                item["actor_id"],
                role,
                item.get("name", item["actor_id"]),
                item["token"],
                Path(item["private_key_path"]),
            )

        return cls(
            data_dir=data_dir,
            base_url=base_url,
            verifier_key=obj["log"]["verifier_key"],
            admin=actor(obj["admin"], "admin"),
            providers=tuple(actor(p, "provider") for p in obj["providers"]),
            registrars=tuple(actor(r, "registrar") for r in obj["registrars"]),
            learners=tuple(
                DemoLearner(item["learner_id"], item["name"], item["token"], item.get("story", ""))
                for item in obj["learners"]
            ),
            programmes=dict(obj.get("programmes", {})),
        )


class _Keys:
    """Actor keys written under ``DIR/keys`` (0600, never overwritten)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def new(self, name: str) -> tuple[Ed25519PrivateKey, Path]:
        key = generate_key()
        path = self.folder / f"{name}.key"
        save_private_key(key, path, passphrase=None, insecure=True)
        return key, path


@dataclass
class _Signer:
    actor_id: str
    key: Ed25519PrivateKey
    now: datetime
    count: int = 0

    def sign(self, entry_type: str, body: dict[str, Any]) -> SignedEntry:
        self.count += 1
        entry = Entry.create(
            type=entry_type,
            actor=self.actor_id,
            nonce=f"demo-{self.actor_id}-{self.count:05d}".replace(".", "-"),
            claimed_at=self.now,
            body={"v": 1, **body},
        )
        return sign_entry(entry, self.key)


def _pick(catalog: Catalog, mode: Mode, today: date, avoid: set[str]) -> Mapping:
    """A mapping of ``mode`` in force today whose qualifications no other chosen mapping uses."""
    for mapping in catalog.mappings_in_force(today):
        codes = {q.code for q in mapping.qualification_requirements}
        if mapping.mode is mode and codes and not codes & avoid:
            return mapping
    raise InputError(f"the shipped map has no {mode.value} mapping in force on {today}")


def _recognitions(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "course_code": r.course.course_code,
            "credits": r.to_json()["credits"],
            "mapping_id": r.mapping_id,
            "sources": list(r.source_holding_ids),
        }
        for r in plan.recognitions
        if not r.what_if
    ]


def build_demo(bank: CreditBank, data_dir: Path, *, base_url: str, map_dir: Path) -> DemoSetup:
    """Fill an empty ledger with the demo's actors, mappings, learners and conversions."""
    now = bank.clock()
    today = now.date()
    keys = _Keys(data_dir / "keys")
    bank.log.register_key(now=now)

    admin_key, admin_path = keys.new("admin")
    bank.bootstrap(
        admin_id="admin",
        admin_name="credit bank administrator",
        admin_public_key=public_key_to_b64(admin_key.public_key()),
    )
    admin = _Signer("admin", admin_key, now)

    catalog = load_catalog(map_dir / "qualification_map.csv", map_dir / "programmes.csv")
    provider_names = sorted({m.provider for m in catalog.mappings})
    provider_signers: dict[str, _Signer] = {}
    provider_paths: dict[str, Path] = {}
    registrations = []
    for number, name in enumerate(provider_names, start=1):
        actor_id = f"prov-{number:02d}"
        key, path = keys.new(actor_id)
        provider_signers[name] = _Signer(actor_id, key, now)
        provider_paths[name] = path
        registrations.append(
            admin.sign(
                "actor.registered",
                {
                    "actor_id": actor_id,
                    "role": "provider",
                    "name": name,
                    "public_key": public_key_to_b64(key.public_key()),
                },
            )
        )
    registrar_key, registrar_path = keys.new("reg-sou")
    registrar = _Signer("reg-sou", registrar_key, now)
    registrations.append(
        admin.sign(
            "actor.registered",
            {
                "actor_id": "reg-sou",
                "role": "registrar",
                "name": "上海开放大学学分银行 (registrar)",
                "public_key": public_key_to_b64(registrar_key.public_key()),
            },
        )
    )
    bank.submit_many(registrations)

    for name in provider_names:
        signer = provider_signers[name]
        mine = [m for m in catalog.mappings if m.provider == name]
        bank.submit_many(
            [signer.sign("mapping.registered", {"mapping": m.to_json()}) for m in mine]
        )

    through = _pick(catalog, Mode.THROUGH_TRAIN, today, set())
    recognition = _pick(
        catalog,
        Mode.CERTIFICATE_RECOGNITION,
        today,
        {
            q.code
            for m in catalog.mappings
            if m.mode is Mode.THROUGH_TRAIN
            for q in m.qualification_requirements
        },
    )
    credit_mapping = next(
        (m for m in catalog.mappings_in_force(today) if m.mode is Mode.CREDIT_RECOGNITION), None
    )

    identities: dict[int, Identity] = {}
    learner_entries = []
    learner_ids = []
    for position, (person, id_number, _story) in enumerate(_LEARNERS):
        identity = Identity(name=person, id_number=id_number, salt=new_salt())
        learner_id = new_learner_id()
        learner_ids.append(learner_id)
        identities[position] = identity
        learner_entries.append(
            registrar.sign(
                "learner.registered",
                {"learner_id": learner_id, "commitment": commitment_of(identity)},
            )
        )
    bank.submit_many(learner_entries, identities=identities)

    issued_on = (today - timedelta(days=90)).isoformat()
    stories = [
        (learner_ids[0], through, "through_train"),
        (learner_ids[1], recognition, "certificate_recognition"),
        (learner_ids[2], recognition, "reversed"),
    ]
    certificates: dict[str, list[SignedEntry]] = {}
    for number, (learner_id, mapping, _story) in enumerate(stories, start=1):
        signer = provider_signers[mapping.provider]
        for q_number, requirement in enumerate(mapping.qualification_requirements, start=1):
            certificates.setdefault(mapping.provider, []).append(
                signer.sign(
                    "certificate.issued",
                    {
                        "certificate_id": f"CERT-{today.year}-{number:03d}-{q_number}",
                        "learner_id": learner_id,
                        "qualification_code": requirement.code,
                        "level": requirement.min_level,
                        "issued_on": issued_on,
                    },
                )
            )
    for entries in certificates.values():
        bank.submit_many(entries)

    credits = []
    for number, learner_id in enumerate(learner_ids, start=1):
        source = credit_mapping.source_course if credit_mapping is not None else None
        institution, course_code = (
            (source.institution, source.course_code) if source else ("SSPU", "ME1021")
        )
        credits.append(
            registrar.sign(
                "credit.earned",
                {
                    "credit_id": f"CR-{today.year}-{number:03d}",
                    "learner_id": learner_id,
                    "institution": institution,
                    "course_code": course_code,
                    "credits": "4",
                    "grade": 85,
                    "earned_on": (today - timedelta(days=200)).isoformat(),
                },
            )
        )
    bank.submit_many(credits)

    programmes: dict[str, str] = {}
    for number, (learner_id, mapping, story) in enumerate(stories, start=1):
        plan = bank.plan_for(learner_id, mapping.programme_code, today)
        claims = _recognitions(plan)
        modes = {r.mode for r in plan.recognitions}
        if not claims or (story != "reversed" and mapping.mode not in modes):
            raise ConflictError(
                f"the planner proposes no {mapping.mode.value} conversion for the demo learner "
                f"toward {mapping.programme_code}; the shipped map may have changed"
            )
        conversion_id = f"CV-{today.year}-{number:03d}"
        bank.submit(
            registrar.sign(
                "conversion.posted",
                {
                    "conversion_id": conversion_id,
                    "learner_id": learner_id,
                    "programme_code": mapping.programme_code,
                    "as_of": today.isoformat(),
                    "recognitions": claims,
                },
            )
        )
        programmes[learner_id] = mapping.programme_code
        if story == "reversed":
            bank.submit(
                registrar.sign(
                    "conversion.reversed",
                    {
                        "conversion_id": conversion_id,
                        "reason": "posted against the wrong programme intake (demo reversal)",
                    },
                )
            )

    def actor(signer: _Signer, role: str, name: str, path: Path) -> DemoActor:
        token = bank.issue_token(actor_id=signer.actor_id, label="demo")
        return DemoActor(signer.actor_id, role, name, token, path)

    return DemoSetup(
        data_dir=data_dir,
        base_url=base_url,
        verifier_key=bank.log.verifier.vkey,
        admin=actor(admin, "admin", "credit bank administrator", admin_path),
        providers=tuple(
            actor(provider_signers[name], "provider", name, provider_paths[name])
            for name in provider_names
        ),
        registrars=(
            actor(registrar, "registrar", "上海开放大学学分银行 (registrar)", registrar_path),
        ),
        learners=tuple(
            DemoLearner(
                learner_id,
                person,
                bank.issue_token(learner_id=learner_id, label="demo"),
                story,
            )
            for learner_id, (person, _id, story) in zip(learner_ids, _LEARNERS, strict=True)
        ),
        programmes=programmes,
    )


@contextmanager
def open_demo(
    data_dir: Path, *, base_url: str, map_dir: Path | None = None
) -> Iterator[tuple[CreditBank, DemoSetup]]:
    """Create (or reopen) the demo in ``data_dir``; yield the open bank and what it holds."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    map_dir = map_dir or shipped_data_dir()
    credentials = data_dir / CREDENTIALS_FILE
    database = data_dir / DATABASE_FILE
    log_key = data_dir / "keys" / _LOG_KEY
    fresh = not database.exists()
    if not fresh and not (credentials.exists() and log_key.exists()):
        raise ConflictError(
            f"{data_dir} holds a database but no demo credentials; use an empty directory"
        )
    if fresh:
        save_private_key(generate_key(), log_key, passphrase=None, insecure=True)
    config = BankConfig(
        database_url=f"sqlite:///{database}",
        log_key_file=log_key,
        log_key_passphrase=None,
        origin=DEMO_ORIGIN,
        data_dir=map_dir,
    )
    engine = make_engine(config.database_url)
    try:
        create_schema(engine)
        with open_bank(config, engine=engine) as bank:
            if fresh:
                setup = build_demo(bank, data_dir, base_url=base_url, map_dir=map_dir)
            else:
                setup = DemoSetup.from_json(
                    data_dir, json.loads(credentials.read_text("utf-8")), base_url
                )
            credentials.write_text(
                json.dumps(setup.to_json(), ensure_ascii=False, indent=2) + "\n", "utf-8"
            )
            credentials.chmod(0o600)
            yield bank, setup
    finally:
        engine.dispose()


def next_steps(setup: DemoSetup) -> Sequence[str]:
    """What to try, as lines to print."""
    url = setup.base_url
    learner = setup.learners[0]
    registrar = setup.registrars[0]
    quoted = shlex.quote(f"Authorization: Bearer {learner.token}")
    programme = setup.programmes.get(learner.learner_id, "")
    return [
        f"creditbank demo: a ledger with {len(setup.providers)} training providers, "
        f"{len(setup.registrars)} registrar and {len(setup.learners)} learners",
        f"  data:         {setup.data_dir}",
        f"  credentials:  {setup.data_dir / CREDENTIALS_FILE}",
        f"  log key:      {setup.verifier_key}",
        "",
        "Try:",
        f"  open {url}/docs                          (OpenAPI, with examples)",
        f"  curl {url}/v1/log/checkpoint",
        f"  curl -H {quoted} {url}/v1/learners/{learner.learner_id}/balance",
        f"  curl -H {quoted} {url}/v1/learners/{learner.learner_id}/transcript > transcript.json",
        f"  creditbank verify-transcript transcript.json --log-key '{setup.verifier_key}'",
        f"  CREDITBANK_URL={url} CREDITBANK_TOKEN={registrar.token} \\",
        f"    creditbank convert plan --learner {learner.learner_id} --programme {programme}",
        f"  creditbank verify --db {setup.database_url} --origin {DEMO_ORIGIN} \\",
        f"    --log-key '{setup.verifier_key}'",
        "",
        f"Serving on {url} (Ctrl-C to stop)",
    ]


def sign_in_links(bank: CreditBank, setup: DemoSetup) -> list[str]:
    """A one-time sign-in link for the web pages per demo account (each works once, 15 min)."""
    accounts = [
        (f"{actor.role} {actor.actor_id}", actor.token)
        for actor in (setup.admin, *setup.registrars, *setup.providers)
    ] + [
        (f"learner {learner.learner_id} {learner.name}", learner.token)
        for learner in setup.learners
    ]
    return ["Sign in to the web pages (each link works once, for 15 minutes):"] + [
        f"  {label}: {signin_link(bank, token, setup.base_url)}" for label, token in accounts
    ]
