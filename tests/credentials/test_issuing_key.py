"""The credential-issuing key: ``creditbank init`` creates it encrypted, the server serves with it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from creditbank.api.app import create_app_from_settings
from creditbank.cli import app
from creditbank.config import Settings
from creditbank.credentials.did import did_key_verification_method
from creditbank.errors import KeyFormatError
from creditbank.ledger.keys import load_private_key

PASSPHRASE = "correct horse battery"


def test_init_creates_an_encrypted_issuing_key_the_server_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CREDITBANK_CREDENTIAL_KEY_FILE", "CREDITBANK_CREDENTIAL_KEY_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    log_key = tmp_path / "keys" / "log.key"
    env = {
        "CREDITBANK_DATABASE_URL": f"sqlite:///{tmp_path / 'bank.db'}",
        "CREDITBANK_LOG_KEY_FILE": str(log_key),
        "CREDITBANK_LOG_KEY_PASSPHRASE": PASSPHRASE,
        "CREDITBANK_PUBLIC_BASE_URL": "https://bank.example",
    }
    result = CliRunner().invoke(app, ["init", "--origin", "bank.example/log"], env=env)
    assert result.exit_code == 0, result.output
    credential_key = tmp_path / "keys" / "creditbank-credential.key"
    assert stat.S_IMODE(credential_key.stat().st_mode) == 0o600
    with pytest.raises(KeyFormatError):
        load_private_key(credential_key, passphrase=None)
    key = load_private_key(credential_key, passphrase=PASSPHRASE.encode())
    again = CliRunner().invoke(app, ["init", "--origin", "bank.example/log"], env=env)
    assert again.exit_code == 0, again.output
    assert load_private_key(credential_key, passphrase=PASSPHRASE.encode()).public_key() == (
        key.public_key()
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with TestClient(create_app_from_settings(Settings())) as http:
        did = http.get("/.well-known/did.json").json()
    assert did["id"] == "did:web:bank.example"
    assert did["assertionMethod"] == [did_key_verification_method(key.public_key())]


def test_without_a_key_file_the_routes_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDITBANK_DATABASE_URL", f"sqlite:///{tmp_path / 'bank.db'}")
    monkeypatch.setenv("CREDITBANK_LOG_KEY_FILE", str(tmp_path / "log.key"))
    monkeypatch.setenv("CREDITBANK_LOG_KEY_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("CREDITBANK_CREDENTIAL_KEY_FILE", raising=False)
    result = CliRunner().invoke(app, ["init", "--origin", "bank.example/log"])
    assert result.exit_code == 0, result.output
    (tmp_path / "creditbank-credential.key").unlink()
    with TestClient(create_app_from_settings(Settings())) as http:
        response = http.get("/.well-known/did.json")
    assert response.status_code == 404
    assert "CREDITBANK_CREDENTIAL_KEY_FILE" in response.json()["detail"]
