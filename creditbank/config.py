"""Settings, read from the environment in one place.

Only ``api`` and ``cli`` read settings; the core takes explicit arguments. Every variable is
prefixed ``CREDITBANK_``; for example ``CREDITBANK_DATABASE_URL``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_DATABASE_URL", "Settings"]

DEFAULT_DATABASE_URL = "sqlite:///./creditbank.db"


class Settings(BaseSettings):
    """Process-wide settings. Construct once at the edge and pass values inward."""

    model_config = SettingsConfigDict(env_prefix="CREDITBANK_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    #: The log's private key (PKCS#8 PEM, encrypted unless created with --insecure-dev-key).
    log_key_file: Path = Path("./creditbank-log.key")
    #: Passphrase that decrypts ``log_key_file``. Never logged.
    log_key_passphrase: SecretStr | None = None
    #: The checkpoint origin line and signed-note key name of this log.
    origin: str = "creditbank.example/log"
    #: Folder with qualification_map.csv and programmes.csv (what the demo and ``map check``
    #: read; the server takes programmes from the log); unset means the shipped data/.
    data_dir: Path | None = None
    #: Passphrase for actor key files written by ``creditbank keys new`` (optional). Never logged.
    key_passphrase: SecretStr | None = None
    #: IANA time zone of learners' days (as_of, expiry, validity). Default: China Standard Time.
    timezone: str = "Asia/Shanghai"
    #: The credential-issuing Ed25519 key (PKCS#8 PEM, encrypted like the log key); unset means
    #: ``creditbank-credential.key`` beside the log key. No file, no credentials (routes answer 404).
    credential_key_file: Path | None = None
    #: Passphrase of the credential key; unset means the log key's passphrase. Never logged.
    credential_key_passphrase: SecretStr | None = None
    #: The bank's public base URL: credentials, status lists and the QR code point under it.
    public_base_url: str = "http://127.0.0.1:8000"
    #: Days of log time an admin's key recovery waits before the key may sign (the actor's veto
    #: window); the CLI's default for ``actor recover-key``. The log refuses fewer than 7.
    key_recovery_delay_days: int = 7
    #: Witnesses the server submits each new checkpoint to, in the background: ``URL=VKEY``
    #: entries separated by spaces (the witness's URL, then its cosignature/v1 verifier key).
    witnesses: str = ""
    #: Seconds between looks for a new checkpoint to submit (also the retry granularity).
    witness_poll_seconds: float = 1.0

    @property
    def credential_key_path(self) -> Path:
        return self.credential_key_file or self.log_key_file.with_name("creditbank-credential.key")

    @property
    def credential_passphrase(self) -> SecretStr | None:
        return self.credential_key_passphrase or self.log_key_passphrase
