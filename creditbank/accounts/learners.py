"""Which learner an entry is about: the key the log chains it under (h5, issue 11).

Most bodies name the learner; a revocation or a reversal names a certificate or a conversion, whose
learner the read models know (the row exists before the entry is applied). Entries about no
learner (actors, mappings, index roots) return ``None`` and are not chained.
"""

from __future__ import annotations

from sqlmodel import Session

from creditbank.accounts import schemas as s
from creditbank.accounts.tables import CertificateRow, ConversionRow
from creditbank.errors import NotFoundError

__all__ = ["learner_of"]


def learner_of(session: Session, body: s.Body) -> str | None:
    if isinstance(
        body, s.LearnerRegistered | s.CertificateIssued | s.CreditEarned | s.ConversionPosted
    ):
        return body.learner_id
    if isinstance(body, s.CertificateRevoked):
        cert = session.get(CertificateRow, body.certificate_id)
        if cert is None:
            raise NotFoundError(f"certificate {body.certificate_id!r} does not exist")
        return cert.learner_id
    if isinstance(body, s.ConversionReversed):
        conv = session.get(ConversionRow, body.conversion_id)
        if conv is None:
            raise NotFoundError(f"conversion {body.conversion_id!r} does not exist")
        return conv.learner_id
    return None
