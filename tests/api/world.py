"""The world the API tests run in: the demo's ledger (shipped map, providers, a registrar, learners,
conversions) over a real database, plus helpers that sign fresh entries as any of its actors.

Setting up state for a test goes through :meth:`CreditBank.submit`, the same write path the API
calls; the request under test is always real HTTP.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlmodel import Session

from creditbank.accounts.bank import CreditBank
from creditbank.accounts.identity import Identity, commitment_of, new_learner_id, new_salt
from creditbank.accounts.tables import ActorRow
from creditbank.accounts.wiring import create_schema, shipped_data_dir
from creditbank.client.signer import EntrySigner
from creditbank.demo import DEMO_ORIGIN, DemoSetup, build_demo
from creditbank.ledger.checkpoint import NoteSigner
from creditbank.ledger.entry import SignedEntry, public_key_to_b64
from creditbank.ledger.keys import generate_key, load_private_key
from creditbank.ledger.log import Log
from creditbank.ledger.sql import SqlLogStore
from creditbank.mapping import Catalog, Mapping, Mode, load_catalog

_counter = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_counter):04d}-{secrets.token_hex(3)}"


@dataclass
class Actor:
    actor_id: str
    role: str
    name: str
    token: str
    key: Ed25519PrivateKey

    @property
    def signer(self) -> EntrySigner:
        return EntrySigner(self.actor_id, self.key)

    @property
    def public_key(self) -> str:
        return public_key_to_b64(self.key.public_key())

    def sign(self, entry_type: str, body: dict[str, Any], nonce: str | None = None) -> SignedEntry:
        return self.signer.sign(entry_type, {"v": 1, **body}, nonce=nonce)

    def post_json(self, entry_type: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.sign(entry_type, body).to_json()


@dataclass
class Learner:
    learner_id: str
    token: str


@dataclass
class World:
    bank: CreditBank
    setup: DemoSetup
    catalog: Catalog
    admin: Actor
    providers: list[Actor]
    registrar: Actor
    learner: Learner
    other_learner: Learner
    today: date = field(default_factory=lambda: datetime.now(UTC).date())

    @property
    def provider(self) -> Actor:
        """The provider that owns :attr:`recognition` (and so may revoke its certificates)."""
        return self.owner_of(self.recognition)

    @property
    def other_provider(self) -> Actor:
        return next(p for p in self.providers if p is not self.provider)

    def owner_of(self, mapping: Mapping) -> Actor:
        return next(p for p in self.providers if p.name == mapping.provider)

    @property
    def recognition(self) -> Mapping:
        """A certificate_recognition mapping in force today, with one qualification source."""
        through = {
            q.code
            for m in self.catalog.mappings
            if m.mode is Mode.THROUGH_TRAIN
            for q in m.qualification_requirements
        }
        return next(
            m
            for m in self.catalog.mappings_in_force(self.today)
            if m.mode is Mode.CERTIFICATE_RECOGNITION
            and len(m.qualification_requirements) == 1
            and not {q.code for q in m.qualification_requirements} & through
        )

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    # --- state set up through the bank ------------------------------------------------------

    def new_learner(self) -> Learner:
        identity = Identity(name="测试学员", id_number=unique("ID"), salt=new_salt())
        learner_id = new_learner_id()
        self.bank.submit(
            self.registrar.sign(
                "learner.registered",
                {"learner_id": learner_id, "commitment": commitment_of(identity)},
            ),
            identity=identity,
        )
        return Learner(learner_id, self.bank.issue_token(learner_id=learner_id))

    def certificate_body(self, learner_id: str, mapping: Mapping | None = None) -> dict[str, Any]:
        mapping = mapping or self.recognition
        requirement = mapping.qualification_requirements[0]
        return {
            "certificate_id": unique("CERT"),
            "learner_id": learner_id,
            "qualification_code": requirement.code,
            "level": requirement.min_level,
            "issued_on": (self.today - timedelta(days=30)).isoformat(),
        }

    def new_certificate(self, learner_id: str, issuer: Actor | None = None) -> str:
        body = self.certificate_body(learner_id)
        self.bank.submit((issuer or self.provider).sign("certificate.issued", body))
        return str(body["certificate_id"])

    def conversion_body(self, learner_id: str) -> dict[str, Any]:
        """What the planner proposes for ``learner_id`` toward :attr:`recognition`'s programme."""
        programme = self.recognition.programme_code
        plan = self.bank.plan_for(learner_id, programme, self.today)
        assert plan.recognitions, "the planner proposes nothing"
        return {
            "conversion_id": unique("CV"),
            "learner_id": learner_id,
            "programme_code": programme,
            "as_of": self.today.isoformat(),
            "recognitions": [
                {
                    "course_code": r.course.course_code,
                    "credits": r.to_json()["credits"],
                    "mapping_id": r.mapping_id,
                    "sources": list(r.source_holding_ids),
                }
                for r in plan.recognitions
            ],
        }

    def convertible_learner(self) -> Learner:
        learner = self.new_learner()
        self.new_certificate(learner.learner_id)
        return learner

    def new_conversion(self) -> tuple[str, str]:
        learner = self.convertible_learner()
        body = self.conversion_body(learner.learner_id)
        self.bank.submit(self.registrar.sign("conversion.posted", body))
        return str(body["conversion_id"]), learner.learner_id

    def new_mapping_json(self, owner: Actor | None = None) -> dict[str, Any]:
        """A new mapping of ``owner`` (a copy of one of its mappings under a fresh id)."""
        owner = owner or self.provider
        template = next(m for m in self.catalog.mappings if m.provider == owner.name)
        data = template.to_json()
        data["mapping_id"] = unique("MAP")
        data["version"] = 1
        return data

    def new_mapping(self, owner: Actor | None = None) -> str:
        owner = owner or self.provider
        data = self.new_mapping_json(owner)
        self.bank.submit(owner.sign("mapping.registered", {"mapping": data}))
        return str(data["mapping_id"])

    def new_registrar(self, institution: str) -> Actor:
        """A registrar (with a token) of ``institution``, registered first when it is new."""
        with Session(self.bank.engine) as session:
            known = session.get(ActorRow, institution) is not None
        if not known:
            self.bank.submit(
                self.admin.sign(
                    "actor.registered",
                    {
                        "actor_id": institution,
                        "role": "institution",
                        "name": f"institution {institution}",
                        "public_key": public_key_to_b64(generate_key().public_key()),
                    },
                )
            )
        key = generate_key()
        actor_id = unique(f"reg-{institution.lower()}")
        self.bank.submit(
            self.admin.sign(
                "actor.registered",
                {
                    "actor_id": actor_id,
                    "role": "registrar",
                    "name": f"registrar of {institution}",
                    "public_key": public_key_to_b64(key.public_key()),
                    "institution": institution,
                },
            )
        )
        token = self.bank.issue_token(actor_id=actor_id)
        return Actor(actor_id, "registrar", f"registrar of {institution}", token, key)

    def new_actor_with_key(self) -> tuple[str, Ed25519PrivateKey]:
        key = generate_key()
        actor_id = unique("prov")
        self.bank.submit(
            self.admin.sign(
                "actor.registered",
                {
                    "actor_id": actor_id,
                    "role": "provider",
                    "name": f"test provider {actor_id}",
                    "public_key": public_key_to_b64(key.public_key()),
                },
            )
        )
        return actor_id, key


def open_world(engine: Engine, data_dir: Path) -> World:
    """The demo's ledger over ``engine``, with every actor's key loaded for signing."""
    create_schema(engine)
    log_key = generate_key()
    log = Log(SqlLogStore(engine), origin=DEMO_ORIGIN, signer=NoteSigner(DEMO_ORIGIN, log_key))
    shipped = shipped_data_dir()
    bank = CreditBank(engine, log)
    setup = build_demo(bank, data_dir, base_url="http://testserver", map_dir=shipped)
    catalog = load_catalog(shipped / "qualification_map.csv", shipped / "programmes.csv")

    def actor(item: Any) -> Actor:
        return Actor(
            item.actor_id,
            item.role,
            item.name,
            item.token,
            load_private_key(item.private_key_path, passphrase=None),
        )

    return World(
        bank=bank,
        setup=setup,
        catalog=catalog,
        admin=actor(setup.admin),
        providers=[actor(p) for p in setup.providers],
        registrar=actor(setup.registrars[0]),
        learner=Learner(setup.learners[0].learner_id, setup.learners[0].token),
        other_learner=Learner(setup.learners[1].learner_id, setup.learners[1].token),
    )
