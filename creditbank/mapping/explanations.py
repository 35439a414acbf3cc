"""The sentences that name things inside the planner's and the rules' sentences.

A mode, a cap, a certificate that met its requirement, a mapping version's span: each is a
:class:`~creditbank.mapping.wording.Wording` so the pages can translate it where it appears inside
an explanation or a refusal, while the API and the CLI keep printing the English they always did
(a mode's code such as ``certificate_recognition``, a cap's code with spaces).
"""

from __future__ import annotations

from datetime import date

from creditbank.mapping.holdings import CertificateHolding
from creditbank.mapping.mappings import Mapping, Mode, QualificationRequirement
from creditbank.mapping.wording import Wording, wording

__all__ = ["CAP_NAMES", "MODE_NAMES", "certificate_met", "version_span"]

#: A cap's name in a sentence (its code with spaces, as the API always printed it).
CAP_NAMES = {
    "recognised-credits": wording("recognised credits"),
    "certificates": wording("certificates"),
    "through-train-credits": wording("through-train credits"),
}

#: The mode's code as the English text (as the API always printed it), a message id for the pages.
MODE_NAMES = {
    Mode.CERTIFICATE_RECOGNITION: wording("certificate_recognition"),
    Mode.THROUGH_TRAIN: wording("through_train"),
    Mode.CREDIT_RECOGNITION: wording("credit_recognition"),
    Mode.COURSE_RESTRUCTURING: wording("course_restructuring"),
}


def certificate_met(
    requirement: QualificationRequirement,
    certificate: CertificateHolding,
    mapping: Mapping,
    as_of: date,
) -> Wording:
    if mapping.valid_years:
        return wording(
            "{name} ({code}) level {level} meets level {min_level}, issued {issued}, valid "
            "{years} years",
            name=requirement.name,
            code=requirement.code,
            level=certificate.level,
            min_level=requirement.min_level,
            issued=certificate.issued_for(as_of),
            years=mapping.valid_years,
        )
    return wording(
        "{name} ({code}) level {level} meets level {min_level}, issued {issued}",
        name=requirement.name,
        code=requirement.code,
        level=certificate.level,
        min_level=requirement.min_level,
        issued=certificate.issued_for(as_of),
    )


def version_span(mapping: Mapping) -> Wording:
    if mapping.effective_to is None:
        return wording(
            "v{version} {start} to further notice",
            version=mapping.version,
            start=mapping.effective_from,
        )
    return wording(
        "v{version} {start} to {end}",
        version=mapping.version,
        start=mapping.effective_from,
        end=mapping.effective_to,
    )
