"""A signing Python client of the creditbank HTTP API.

>>> from creditbank.client import CreditbankClient, EntrySigner   # doctest: +SKIP
>>> signer = EntrySigner("prov-weld-base", private_key)           # doctest: +SKIP
>>> with CreditbankClient(url, token=token, signer=signer) as api:  # doctest: +SKIP
...     api.issue_certificate(learner_id=..., qualification_code="6-18-02-04", level=3,
...                           issued_on=date(2026, 2, 20))

Writes are built and signed here, with the actor's key; the server never sees a private key.
Errors come back as the classes of :mod:`creditbank.errors`.
"""

from creditbank.client.http import CreditbankClient, Receipt
from creditbank.client.problems import PROBLEM_ERRORS, error_from_response
from creditbank.client.signer import EntrySigner, new_nonce

__all__ = [
    "PROBLEM_ERRORS",
    "CreditbankClient",
    "EntrySigner",
    "Receipt",
    "error_from_response",
    "new_nonce",
]
