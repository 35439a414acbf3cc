"""A small, fully known world for the accounts tests: one open-university programme, a provider,
a registrar, real Ed25519 keys, and a clock the test moves by hand. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from creditbank.accounts.bank import CreditBank, Receipt
from creditbank.accounts.identity import Identity, commitment_of, new_salt
from creditbank.accounts.wiring import create_schema
from creditbank.ledger.checkpoint import NoteSigner
from creditbank.ledger.entry import Entry, SignedEntry, public_key_to_b64, sign_entry
from creditbank.ledger.log import Log
from creditbank.ledger.sql import SqlLogStore
from creditbank.mapping import (
    Course,
    CourseRequirement,
    Mapping,
    Mode,
    Programme,
    ProgrammeCaps,
    QualificationRequirement,
)
from creditbank.mapping.programme_json import programme_to_json

ORIGIN = "creditbank.test/log"
SOU = "SOU"
WELDER = "6-18-02-04"
CNC = "6-18-01-07"


def course(code: str, credits: str, title: str | None = None) -> Course:
    return Course(institution=SOU, course_code=code, title=title or code, credits=Decimal(credits))


PROGRAMME = Programme(
    code="AD-MFG",
    institution=SOU,
    title="Associate degree in manufacturing technology",
    total_credits=Decimal("40"),
    caps=ProgrammeCaps(
        max_recognised_credits=Decimal("30"),
        max_recognised_share=Decimal("0.75"),
        max_certificates=3,
        max_through_train_share=Decimal("0.6"),
    ),
    courses=(
        course("WELD101", "4"),
        course("WELD102", "4"),
        course("CNC201", "6"),
        course("CNC202", "6"),
        course("CNC203", "4"),
        course("MATH100", "4"),
        course("ENG100", "4"),
        course("SAFE100", "2"),
        course("DRAW100", "6"),
    ),
)


def mapping(
    mapping_id: str,
    mode: Mode,
    sources: tuple[Any, ...],
    targets: tuple[Course, ...],
    *,
    programme: str = "AD-MFG",
    provider: str = "prov-1",
    valid_years: int | None = 5,
    effective_from: date = date(2020, 1, 1),
    effective_to: date | None = None,
) -> Mapping:
    return Mapping(
        mapping_id=mapping_id,
        version=1,
        mode=mode,
        provider=provider,
        programme_code=programme,
        effective_from=effective_from,
        effective_to=effective_to,
        valid_years=valid_years,
        sources=sources,
        targets=targets,
    )


WELD_MAPPING = mapping(
    "M-WELD",
    Mode.CERTIFICATE_RECOGNITION,
    (QualificationRequirement(WELDER, "焊工", 4),),
    (course("WELD101", "4"), course("WELD102", "4")),
)
CNC_MAPPING = mapping(
    "M-CNC-TT",
    Mode.THROUGH_TRAIN,
    (QualificationRequirement(CNC, "多工序数控机床操作调整工", 3),),
    (course("CNC201", "6"), course("CNC202", "6"), course("CNC203", "4")),
)
#: A second programme that recognises courses already recognised in the first: what makes a
#: revocation cascade run two levels deep.
PROGRAMME_B = Programme(
    code="BD-ENG",
    institution=SOU,
    title="Bachelor in mechanical engineering",
    total_credits=Decimal("20"),
    caps=ProgrammeCaps(max_recognised_share=Decimal("0.5")),
    courses=(course("WLD301", "4"), course("MEC301", "8"), course("MEC302", "8")),
)
ARTICULATION_MAPPING = mapping(
    "M-ART-WELD",
    Mode.CREDIT_RECOGNITION,
    (CourseRequirement(SOU, "WELD101", "Welding I"),),
    (course("WLD301", "4"),),
    programme="BD-ENG",
)
CREDIT_MAPPING = mapping(
    "M-SSPU-MATH",
    Mode.CREDIT_RECOGNITION,
    (CourseRequirement("SSPU", "MA101", "Advanced mathematics", Decimal("60")),),
    (course("MATH100", "4"),),
)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Actor:
    actor_id: str
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    @property
    def public_key(self) -> str:
        return public_key_to_b64(self.key.public_key())


@dataclass
class World:
    bank: CreditBank
    clock: Clock
    admin: Actor
    provider: Actor
    registrar: Actor
    _nonces: Iterator[int] = field(default_factory=itertools.count)
    #: A registrar of each institution other than SOU that tests record credits of.
    other_registrars: dict[str, Actor] = field(default_factory=dict)

    def sign(
        self, actor: Actor, entry_type: str, body: dict[str, Any], nonce: str | None = None
    ) -> SignedEntry:
        entry = Entry.create(
            type=entry_type,
            actor=actor.actor_id,
            nonce=nonce or f"n-{next(self._nonces):08d}",
            claimed_at=self.clock(),
            body={"v": 1, **body},
        )
        return sign_entry(entry, actor.key)

    def post(self, actor: Actor, entry_type: str, body: dict[str, Any], **kw: Any) -> Receipt:
        identity = kw.pop("identity", None)
        return self.bank.submit(self.sign(actor, entry_type, body, **kw), identity=identity)

    def register_actor(self, actor: Actor, role: str, institution: str | None = None) -> Receipt:
        """Register an actor; a registrar belongs to ``institution`` (SOU unless named)."""
        if role == "registrar":
            institution = institution or SOU
        return self.post(
            self.admin,
            "actor.registered",
            {
                "actor_id": actor.actor_id,
                "role": role,
                "name": actor.actor_id,
                "public_key": actor.public_key,
                **({} if institution is None else {"institution": institution}),
            },
        )

    def registrar_of(self, institution: str) -> Actor:
        """SOU's registrar, or one of ``institution`` (registered with it on first use)."""
        if institution == SOU:
            return self.registrar
        if institution not in self.other_registrars:
            self.register_actor(Actor(institution), "institution")
            registrar = Actor(f"reg-{institution.lower()}")
            self.register_actor(registrar, "registrar", institution)
            self.other_registrars[institution] = registrar
        return self.other_registrars[institution]

    def register_learner(self, learner_id: str, name: str = "张伟") -> Identity:
        identity = Identity(name=name, id_number="310101199001011234", salt=new_salt())
        self.post(
            self.registrar,
            "learner.registered",
            {"learner_id": learner_id, "commitment": commitment_of(identity)},
            identity=identity,
        )
        return identity

    def issue(
        self,
        cert_id: str,
        learner_id: str,
        code: str = WELDER,
        level: int = 4,
        issued_on: str = "2024-06-01",
    ) -> Receipt:
        return self.post(
            self.provider,
            "certificate.issued",
            {
                "certificate_id": cert_id,
                "learner_id": learner_id,
                "qualification_code": code,
                "level": level,
                "issued_on": issued_on,
            },
        )

    def register_programme(
        self, programme: Programme, version: int = 1, effective_from: str = "2020-09-01"
    ) -> Receipt:
        """SOU's registrar (or the programme institution's) registers a programme version."""
        return self.post(
            self.registrar_of(programme.institution),
            "programme.registered",
            {
                "programme": programme_to_json(programme),
                "version": version,
                "effective_from": effective_from,
            },
        )

    def register_mapping(self, m: Mapping) -> Receipt:
        """Register (propose) a mapping and approve it as SOU's registrar; the registration's
        receipt."""
        receipt = self.post(self.provider, "mapping.registered", {"mapping": m.to_json()})
        self.post(
            self.registrar, "mapping.approved", {"mapping_id": m.mapping_id, "version": m.version}
        )
        return receipt

    def credit(
        self,
        credit_id: str,
        learner_id: str,
        institution: str,
        course_code: str,
        credits: str,
        grade: int,
        earned_on: str = "2025-01-15",
    ) -> Receipt:
        return self.post(
            self.registrar_of(institution),
            "credit.earned",
            {
                "credit_id": credit_id,
                "learner_id": learner_id,
                "institution": institution,
                "course_code": course_code,
                "credits": credits,
                "grade": grade,
                "earned_on": earned_on,
            },
        )

    def convert(
        self, conversion_id: str, learner_id: str, programme: str = "AD-MFG", **kw: Any
    ) -> Receipt:
        """Post exactly what the planner recommends (the registrar's normal workflow)."""
        plan = self.bank.plan_for(learner_id, programme)
        assert plan.recognitions, plan.to_json()
        return self.post(
            self.registrar,
            "conversion.posted",
            {
                "conversion_id": conversion_id,
                "learner_id": learner_id,
                "programme_code": programme,
                "as_of": self.clock().date().isoformat(),
                "recognitions": [
                    {
                        "course_code": r.course_code,
                        "credits": str(r.credits),
                        "mapping_id": r.mapping_id,
                        "sources": list(r.source_holding_ids),
                    }
                    for r in plan.recognitions
                ],
            },
            **kw,
        )


def make_world(engine: Engine) -> Iterator[World]:
    create_schema(engine)
    clock = Clock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    store = SqlLogStore(engine)
    with Log.open(store, origin=ORIGIN, signer=signer) as log:
        log.register_key(now=clock())
        bank = CreditBank(engine, log, clock=clock)
        admin = Actor("admin")
        bank.bootstrap(
            admin_id="admin", admin_name="Administrator", admin_public_key=admin.public_key
        )
        world = World(bank, clock, admin, Actor("prov-1"), Actor("reg-1"))
        world.register_actor(world.provider, "provider")
        world.register_actor(Actor(SOU), "institution")
        world.register_actor(world.registrar, "registrar")
        for programme in (PROGRAMME, PROGRAMME_B):
            world.register_programme(programme)
        yield world


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    """The world on SQLite and on PostgreSQL."""
    yield from make_world(engine)


@pytest.fixture
def sqlite_world(sqlite_engine: Engine) -> Iterator[World]:
    """The world on SQLite only (for long randomised runs)."""
    yield from make_world(sqlite_engine)
