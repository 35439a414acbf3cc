"""Filling an empty ledger with the demo's actors, mappings, learners and conversions.

Every entry is built and signed by :class:`creditbank.client.EntrySigner`, the signer the HTTP
client and the benchmarks use, except the institution, its registrar and the shipped programmes,
which :mod:`creditbank.accounts.seeding` registers as ``creditbank init --seed`` does. All are
appended through :meth:`CreditBank.submit_many`, the same write path the API uses; nothing is
written to the database behind the ledger's back.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingOf
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditbank.accounts.bank import CreditBank
from creditbank.accounts.identity import Identity, commitment_of, new_learner_id, new_salt
from creditbank.accounts.seeding import plan_seed, seed_catalogue
from creditbank.client import EntrySigner
from creditbank.demo.setup import DemoActor, DemoLearner, DemoSetup
from creditbank.errors import ConflictError, InputError
from creditbank.ledger.entry import SignedEntry, public_key_to_b64
from creditbank.ledger.keys import generate_key, save_private_key
from creditbank.ledger.private_files import private_folder
from creditbank.mapping import Catalog, Mapping, Mode, Plan, load_catalog

__all__ = ["build_demo"]

#: The demo's institution: every shipped programme is Shanghai Open University's.
INSTITUTION = "SOU"

#: Personal data of the sample learners (fictitious; kept off the log, in the erasable table).
_LEARNERS = (
    ("王建国", "310101198805120031", "through_train"),
    ("李秀英", "310104199203150042", "certificate_recognition"),
    ("张伟", "310110199511300053", "reversed"),
)


class _Keys:
    """Actor keys written under ``DIR/keys`` (0600, never overwritten)."""

    def __init__(self, folder: Path) -> None:
        self.folder = private_folder(folder)

    def new(self, name: str) -> tuple[Ed25519PrivateKey, Path]:
        key = generate_key()
        path = self.folder / f"{name}.key"
        save_private_key(key, path, passphrase=None, insecure=True)
        return key, path


@dataclass
class _Signer:
    """An :class:`EntrySigner` with the demo's deterministic nonces and one claimed time."""

    signer: EntrySigner
    now: datetime
    count: int = 0

    @property
    def actor_id(self) -> str:
        return self.signer.actor_id

    def sign(self, entry_type: str, body: MappingOf[str, Any]) -> SignedEntry:
        self.count += 1
        nonce = f"demo-{self.actor_id}-{self.count:05d}".replace(".", "-")
        return self.signer.sign(entry_type, {"v": 1, **body}, nonce=nonce, claimed_at=self.now)


def _signer(actor_id: str, key: Ed25519PrivateKey, now: datetime) -> _Signer:
    return _Signer(EntrySigner(actor_id, key), now)


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
    admin = _signer("admin", admin_key, now)

    catalog = load_catalog(map_dir / "qualification_map.csv", map_dir / "programmes.csv")
    provider_names = sorted({m.provider for m in catalog.mappings})
    provider_signers: dict[str, _Signer] = {}
    provider_paths: dict[str, Path] = {}
    registrations = []
    for number, name in enumerate(provider_names, start=1):
        actor_id = f"prov-{number:02d}"
        key, path = keys.new(actor_id)
        provider_signers[name] = _signer(actor_id, key, now)
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
    bank.submit_many(registrations)
    # The institution (its id is the code programmes use), a registrar belonging to it, and the
    # shipped programmes registered by that registrar, as `creditbank init --seed` does.
    seeds = plan_seed(catalog.programmes, keys.folder)
    registrar_keys = seed_catalogue(
        bank, seeds, admin_id="admin", admin_key=admin_key, passphrase=None, insecure=True
    )
    sou = next(seeded for seeded in seeds if seeded.code == INSTITUTION)
    registrar = _signer(sou.registrar_id, registrar_keys[sou.registrar_id], now)

    # Providers propose their mappings; SOU's registrar approves every shipped one.
    for name in provider_names:
        signer = provider_signers[name]
        mine = [m for m in catalog.mappings if m.provider == name]
        bank.submit_many(
            [signer.sign("mapping.registered", {"mapping": m.to_json()}) for m in mine]
        )
    bank.submit_many(
        [
            registrar.sign("mapping.approved", {"mapping_id": m.mapping_id, "version": m.version})
            for m in catalog.mappings
        ]
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
    # A registrar records credits of its own institution only: the demo's are SOU's.
    credit_mapping = next(
        (
            m
            for m in catalog.mappings_in_force(today)
            if m.mode is Mode.CREDIT_RECOGNITION
            and m.source_course is not None
            and m.source_course.institution == INSTITUTION
        ),
        None,
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
            (source.institution, source.course_code) if source else (INSTITUTION, "EA201")
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
                        "reason": "entered-in-error",
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
        registrars=(actor(registrar, "registrar", sou.names[1], sou.registrar_key_file),),
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
