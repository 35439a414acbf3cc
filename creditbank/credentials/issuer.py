"""The bank as a credential issuer: its Ed25519 issuing key, its did:web and its public URLs.

The issuing key is not the log key: a leaked issuing key could forge credentials but not the log,
and the log (with every learner's inclusion proofs) is what a credential's evidence rests on.
It is kept like the log key, as an encrypted PKCS#8 file (:mod:`creditbank.ledger.keys`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditbank.credentials.did import did_key_verification_method, did_web, did_web_document
from creditbank.credentials.eddsa_jcs import add_proof
from creditbank.errors import CredentialFormatError
from creditbank.ledger.keys import generate_key, load_private_key, save_private_key

__all__ = ["CredentialIssuer", "demo_issuer", "ensure_issuing_key", "load_issuer"]


@dataclass(frozen=True)
class CredentialIssuer:
    """Signs credentials and status lists; knows the absolute URLs they point at."""

    private_key: Ed25519PrivateKey
    #: The bank's public base URL (``https://creditbank.example``), without a trailing slash.
    base_url: str
    name: str = "学分银行 creditbank"

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or self.base_url.endswith("/"):
            raise CredentialFormatError(
                f"the public base URL {self.base_url!r} must be absolute http(s), no trailing '/'"
            )
        if parts.query or parts.fragment:
            raise CredentialFormatError("the public base URL takes no query or fragment")

    @property
    def did(self) -> str:
        return did_web(self.base_url)

    @property
    def verification_method(self) -> str:
        return did_key_verification_method(self.private_key.public_key())

    @property
    def profile(self) -> dict[str, Any]:
        """The ``issuer`` member of every credential: an Open Badges ``Profile``."""
        return {"id": self.did, "type": ["Profile"], "name": self.name, "url": self.base_url}

    def did_document(self) -> dict[str, Any]:
        return did_web_document(self.base_url, [self.private_key.public_key()])

    def status_list_url(self, list_number: int) -> str:
        return f"{self.base_url}/v1/status-lists/{list_number}"

    def share_url(self, credential_uuid: str) -> str:
        return f"{self.base_url}/v1/credentials/{credential_uuid}"

    def verify_page_url(self, credential_uuid: str) -> str:
        """What the PDF's QR code opens: the verify page, fetching the shared credential."""
        return f"{self.base_url}/verify?" + urlencode(
            {"credential": self.share_url(credential_uuid)}
        )

    def sign(self, document: dict[str, Any], *, now: datetime) -> dict[str, Any]:
        return add_proof(
            document, self.private_key, verification_method=self.verification_method, created=now
        )


def load_issuer(
    key_file: Path, *, passphrase: bytes | None, base_url: str
) -> CredentialIssuer | None:
    """The issuer with its key loaded, or None when no key file exists (credentials disabled).

    A key file that exists but does not open (wrong passphrase) raises: that is a misconfiguration
    an operator must see at start-up, not a silent loss of the credential routes.
    """
    if not key_file.exists():
        return None
    key = load_private_key(key_file, passphrase=passphrase)
    return CredentialIssuer(key, base_url.rstrip("/"))


def ensure_issuing_key(key_file: Path, *, passphrase: bytes | None, insecure: bool = False) -> bool:
    """Create the credential-issuing key file unless it exists; return whether it was created.

    Like the log key: mode 0600, encrypted with ``passphrase`` unless ``insecure`` is asked for.
    """
    if key_file.exists():
        load_private_key(key_file, passphrase=passphrase)  # it must open with this passphrase
        return False
    save_private_key(generate_key(), key_file, passphrase=passphrase, insecure=insecure)
    return True


def demo_issuer(key_file: Path, base_url: str) -> CredentialIssuer:
    """The demo's issuer: an unencrypted key beside the demo's other keys, created on first use."""
    ensure_issuing_key(key_file, passphrase=None, insecure=True)
    return CredentialIssuer(load_private_key(key_file, passphrase=None), base_url.rstrip("/"))
