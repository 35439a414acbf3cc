"""The learner's record as a W3C VC 2.0 ``ClrCredential`` with Open Badges 3.0 achievements.

Pure: given what the accounts say (a balance, names from the catalogue, the verifiable transcript)
it returns the unsigned credential; :mod:`creditbank.credentials.issuer` signs it. Each achievement
is also an ``OpenBadgeCredential`` of its own (``credentialSubject.verifiableCredential``), signed
separately, so a wallet can hold one certificate or course without the rest.

Every achievement subject carries a ``creditbank`` member naming the log entry behind it (its
index) so a verifier can find that entry, with its inclusion proof, in the evidence.
Credit figures are exact decimals written as strings: Open Badges' ``creditsEarned`` is a JSON
float, which our RFC 8785 profile refuses, so it is not used (``docs/credentials.md``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from creditbank.accounts.views import LearnerBalance
from creditbank.mapping import Programme

__all__ = [
    "CLR_CONTEXT",
    "KEY_REGISTRATION_GENRE",
    "OB_CONTEXT",
    "VC_CONTEXT",
    "CredentialFacts",
    "achievement_credentials",
    "clr_credential",
    "learner_subject_id",
]

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
KEY_REGISTRATION_GENRE = "creditbank-key-registration"


_LEVELS = {1: "一级", 2: "二级", 3: "三级", 4: "四级", 5: "五级"}


def _derived_id(credential_id: str, name: str) -> str:
    """A ``urn:uuid`` of its own for a part of the credential, derived from the credential's."""
    base = uuid.UUID(credential_id.removeprefix("urn:uuid:"))
    return f"urn:uuid:{uuid.uuid5(base, name)}"


def learner_subject_id(learner_id: str) -> str:
    """The subject id: the pseudonymous learner id of the log, as a URN."""
    return f"urn:creditbank:learner:{learner_id}"


@dataclass(frozen=True)
class CredentialFacts:
    """Everything the credential states, read from the accounts at one moment."""

    learner_id: str
    balance: LearnerBalance
    transcript: Mapping[str, Any]
    qualification_names: Mapping[str, str] = field(default_factory=dict)
    programmes: Mapping[str, Programme] = field(default_factory=dict)
    #: The learner's name, only when the learner asked for it to be included.
    name: str | None = None
    #: The issuing key's ``credential_key.registered`` log entry, proven against the transcript's
    #: checkpoint: ``{index, leaf, leaf_hash, inclusion_proof}``.
    key_registration: Mapping[str, Any] | None = None

    @property
    def tree_size(self) -> int:
        return int(self.transcript["tree_size"])

    def course_title(self, institution: str, course_code: str) -> str:
        for programme in self.programmes.values():
            for course in programme.courses:
                if course.institution == institution and course.course_code == course_code:
                    return course.title
        return course_code

    def programme_title(self, code: str) -> str:
        programme = self.programmes.get(code)
        return programme.title if programme is not None else code


def _achievement(
    achievement_id: str, kind: str, name: str, description: str, code: str
) -> dict[str, Any]:
    return {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": kind,
        "name": name,
        "description": description,
        "humanCode": code,
        "criteria": {"narrative": description},
    }


def _certificates(facts: CredentialFacts) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    found = []
    for cert in facts.balance.certificates:
        if cert.revoked or cert.index >= facts.tree_size:
            continue
        name = facts.qualification_names.get(cert.qualification_code, cert.qualification_code)
        achievement = _achievement(
            f"urn:creditbank:qualification:{cert.qualification_code}:level:{cert.level}",
            "Certification",
            f"{name} {_LEVELS.get(cert.level, f'{cert.level}级')} (level {cert.level})",
            f"职业技能等级证书 Vocational skill certificate: {name} "
            f"({cert.qualification_code}), level {cert.level}",
            cert.qualification_code,
        )
        facts_json = {
            "kind": "certificate",
            "certificate_id": cert.certificate_id,
            "qualification_code": cert.qualification_code,
            "qualification_name": name,
            "level": cert.level,
            "issued_on": cert.issued_on.isoformat(),
            "provider": cert.provider,
            "index": cert.index,
        }
        found.append((achievement, facts_json))
    return found


def _credits(facts: CredentialFacts) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    found = []
    for credit in facts.balance.credits_earned:
        if credit.index >= facts.tree_size:
            continue
        title = facts.course_title(credit.institution, credit.course_code)
        achievement = _achievement(
            f"urn:creditbank:course:{credit.institution}:{credit.course_code}",
            "Course",
            title,
            f"课程学分 Course credit: {title} ({credit.institution} {credit.course_code})",
            credit.course_code,
        )
        facts_json = {
            "kind": "credit",
            "credit_id": credit.credit_id,
            "institution": credit.institution,
            "course_code": credit.course_code,
            "course_title": title,
            "credits": str(credit.credits),
            "grade": credit.grade,
            "earned_on": credit.earned_on.isoformat(),
            "index": credit.index,
        }
        found.append((achievement, facts_json))
    return found


def _programmes(facts: CredentialFacts) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    found = []
    for programme in facts.balance.programmes:
        items = [item for item in programme.items if item.index < facts.tree_size]
        if not items:
            continue
        title = facts.programme_title(programme.programme_code)
        known = facts.programmes.get(programme.programme_code)
        institution = known.institution if known is not None else ""
        for item in items:
            course = facts.course_title(institution, item.course_code)
            achievement = _achievement(
                f"urn:creditbank:programme:{programme.programme_code}:course:{item.course_code}",
                "Course",
                course,
                f"认定课程 Recognised course of {title}: {course} ({item.course_code})",
                item.course_code,
            )
            facts_json = {
                "kind": "recognition",
                "programme_code": programme.programme_code,
                "conversion_id": item.conversion_id,
                "course_code": item.course_code,
                "course_title": course,
                "credits": str(item.credits),
                "mapping_id": item.mapping_id,
                "mode": item.mode,
                "sources": list(item.sources),
                "conversion_index": item.index,
            }
            found.append((achievement, facts_json))
        total = sum((item.credits for item in items), Decimal(0))
        achievement = _achievement(
            f"urn:creditbank:programme:{programme.programme_code}",
            "LearningProgram",
            title,
            f"专业累计认定学分 Credits recognised toward {title} ({programme.programme_code})",
            programme.programme_code,
        )
        facts_json = {
            "kind": "programme_total",
            "programme_code": programme.programme_code,
            "programme_title": title,
            "recognised_credits": str(total),
            "conversion_indices": sorted({item.index for item in items}),
        }
        found.append((achievement, facts_json))
    return found


def achievement_credentials(
    facts: CredentialFacts,
    *,
    credential_id: str,
    issuer: Mapping[str, Any],
    valid_from: str,
    status: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """One unsigned ``OpenBadgeCredential`` per achievement, in a stable order."""
    subject_id = learner_subject_id(facts.learner_id)
    documents = []
    everything = _certificates(facts) + _credits(facts) + _programmes(facts)
    for position, (achievement, facts_json) in enumerate(everything):
        documents.append(
            {
                "@context": [VC_CONTEXT, OB_CONTEXT],
                "id": _derived_id(credential_id, f"achievement/{position}"),
                "type": ["VerifiableCredential", "OpenBadgeCredential"],
                "issuer": dict(issuer),
                "validFrom": valid_from,
                "name": achievement["name"],
                "credentialSubject": {
                    "id": subject_id,
                    "type": ["AchievementSubject"],
                    "achievement": achievement,
                    "creditbank": facts_json,
                },
                "credentialStatus": dict(status),
            }
        )
    return documents


def clr_credential(
    facts: CredentialFacts,
    *,
    credential_id: str,
    issuer: Mapping[str, Any],
    valid_from: str,
    status: Mapping[str, Any],
    achievements: list[dict[str, Any]],
) -> dict[str, Any]:
    """The unsigned ``ClrCredential`` around already-signed achievement credentials."""
    subject: dict[str, Any] = {
        "id": learner_subject_id(facts.learner_id),
        "type": ["ClrSubject"],
        "achievement": [doc["credentialSubject"]["achievement"] for doc in achievements],
        "verifiableCredential": achievements,
    }
    if facts.name is not None:
        subject["identifier"] = [
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": facts.name,
            }
        ]
    return {
        "@context": [VC_CONTEXT, CLR_CONTEXT, OB_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": dict(issuer),
        "name": "学分银行学习成果证明 Credit bank learning record",
        "description": (
            "职业技能等级证书、课程学分与认定学分；证据为学分银行日志的可验证成绩单。 "
            "Vocational certificates, course credits and recognised credits; the evidence is a "
            "transcript of the credit bank's log with an inclusion proof for every entry."
        ),
        "validFrom": valid_from,
        "credentialSubject": subject,
        "credentialStatus": dict(status),
        "evidence": [
            {
                "id": _derived_id(credential_id, "evidence/transcript"),
                "type": ["Evidence"],
                "name": "可验证成绩单 Verifiable transcript",
                "description": (
                    "The learner's log entries with RFC 9162 inclusion proofs against a C2SP "
                    "checkpoint signed by the log key."
                ),
                "genre": str(facts.transcript.get("format", "creditbank-transcript")),
                "transcript": dict(facts.transcript),
            },
            *_key_evidence(facts, credential_id),
        ],
    }


def _key_evidence(facts: CredentialFacts, credential_id: str) -> list[dict[str, Any]]:
    if facts.key_registration is None:
        return []
    return [
        {
            "id": _derived_id(credential_id, "evidence/key-registration"),
            "type": ["Evidence"],
            "name": "签发密钥登记 Issuing key registration",
            "description": (
                "The log entry by which the log key registered this credential's signing key, "
                "with its RFC 9162 inclusion proof against the transcript's checkpoint."
            ),
            "genre": KEY_REGISTRATION_GENRE,
            "logEntry": dict(facts.key_registration),
        }
    ]
