"""``creditbank verify-credential``: round trip, every tampered field rejected, revocation online."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from typer.testing import CliRunner

from creditbank.cli import app, main
from creditbank.cli.credential_commands import verify_credential_file
from creditbank.credentials.did import did_key_verification_method
from creditbank.credentials.eddsa_jcs import add_proof
from creditbank.credentials.multibase import multibase_b58_decode, multibase_b58_encode
from creditbank.credentials.verification import verify_credential
from creditbank.errors import (
    CredentialProofError,
    CredentialRevokedError,
    DidResolutionError,
    EvidenceError,
    VerificationError,
)
from creditbank.ledger.keys import generate_key
from tests.api.world import World


@pytest.fixture(scope="module")
def issued(http: TestClient, world: World) -> dict[str, Any]:
    _conversion, learner_id = world.new_conversion()
    token = world.bank.issue_token(learner_id=learner_id)
    response = http.get(f"/v1/learners/{learner_id}/credential", headers=world.bearer(token))
    assert response.status_code == 200
    return dict(response.json())


def _fetch(http: TestClient) -> Callable[[str], bytes]:
    def fetch(url: str) -> bytes:
        response = http.get(url.removeprefix("http://testserver"))
        assert response.status_code == 200, (url, response.text)
        return response.content

    return fetch


def _main(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """The console script as a user runs it: domain errors become exit codes in ``main``."""
    monkeypatch.setattr("sys.argv", ["creditbank", *args])
    with pytest.raises(SystemExit) as stopped:
        main()
    return int(stopped.value.code or 0)


def _verify(tmp_path: Path, doc: Any, http: TestClient | None = None) -> str:
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    console = Console(record=True, width=200)
    verify_credential_file(
        path,
        online="http://testserver" if http is not None else None,
        log_key=None,
        console=console,
        fetch=_fetch(http) if http is not None else None,
    )
    return console.export_text()


def test_round_trip_offline_through_the_command(
    issued: dict[str, Any], world: World, tmp_path: Path
) -> None:
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(issued), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["verify-credential", str(path), "--log-key", world.bank.log.verifier.vkey]
    )
    assert result.exit_code == 0, result.output
    assert "eddsa-jcs-2022 proof of the credential, by did:key:z6Mk" in result.output.replace(
        "\n", ""
    )
    assert "every achievement matches a log entry" in result.output
    assert "use --online" in result.output


def test_round_trip_online(issued: dict[str, Any], http: TestClient, tmp_path: Path) -> None:
    text = _verify(tmp_path, issued, http)
    assert "not revoked" in text and "listed by the issuer's did:web document" in text
    assert "grew consistently" in text


def _first(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(
        vc
        for vc in doc["credentialSubject"]["verifiableCredential"]
        if vc["credentialSubject"]["creditbank"]["kind"] == kind
    )


def _flip_proof(doc: dict[str, Any]) -> None:
    raw = bytearray(multibase_b58_decode(doc["proof"]["proofValue"]))
    raw[10] ^= 0x40
    doc["proof"]["proofValue"] = multibase_b58_encode(bytes(raw))


def _other_method(doc: dict[str, Any]) -> None:
    doc["proof"]["verificationMethod"] = did_key_verification_method(generate_key().public_key())


TAMPERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "subject": lambda d: d["credentialSubject"].update(id="urn:creditbank:learner:someone-else"),
    "achievement": lambda d: _first(d, "certificate")["credentialSubject"]["creditbank"].update(
        level=1
    ),
    "achievement name": lambda d: d["credentialSubject"]["achievement"][0].update(name="博士"),
    "validFrom": lambda d: d.update(validFrom="2020-01-01T00:00:00Z"),
    "proof value": _flip_proof,
    "verification method": _other_method,
    "evidence": lambda d: d["evidence"][0]["transcript"].update(tree_size=1),
}


@pytest.mark.parametrize("field", list(TAMPERS))
def test_each_tampered_field_is_rejected(
    issued: dict[str, Any], field: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = copy.deepcopy(issued)
    TAMPERS[field](doc)
    with pytest.raises(CredentialProofError):
        _verify(tmp_path, doc)
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert _main(["verify-credential", str(path)], monkeypatch) == 3  # VerificationError


def test_re_signed_by_another_key_fails_online(
    issued: dict[str, Any], http: TestClient, tmp_path: Path
) -> None:
    """A forger's own valid signature: not the key the log registered, nor in did.json."""
    doc = {k: v for k, v in issued.items() if k != "proof"}
    forger = generate_key()
    method = did_key_verification_method(forger.public_key())
    doc["credentialSubject"] = copy.deepcopy(doc["credentialSubject"])
    doc["credentialSubject"]["verifiableCredential"] = [
        add_proof(
            {k: v for k, v in vc.items() if k != "proof"},
            forger,
            verification_method=method,
            created=datetime.now(UTC),
        )
        for vc in doc["credentialSubject"]["verifiableCredential"]
    ]
    forged = add_proof(doc, forger, verification_method=method, created=datetime.now(UTC))
    with pytest.raises(EvidenceError, match="another key"):  # the log registered the bank's key
        _verify(tmp_path, forged)
    with pytest.raises(CredentialProofError, match="did:web"):
        _verify(tmp_path, forged, http)


def test_lying_achievement_re_signed_fails_on_evidence(
    issued: dict[str, Any], tmp_path: Path, issuer: Any
) -> None:
    """Even the issuer's own key cannot state a certificate level the log does not hold."""
    doc = {k: v for k, v in issued.items() if k != "proof"}
    doc["credentialSubject"] = copy.deepcopy(doc["credentialSubject"])
    nested = doc["credentialSubject"]["verifiableCredential"]
    for position, vc in enumerate(nested):
        unsigned = {k: v for k, v in vc.items() if k != "proof"}
        if unsigned["credentialSubject"]["creditbank"]["kind"] == "certificate":
            unsigned["credentialSubject"]["creditbank"]["level"] = 1
        nested[position] = issuer.sign(unsigned, now=datetime.now(UTC))
    with pytest.raises(EvidenceError):
        _verify(tmp_path, issuer.sign(doc, now=datetime.now(UTC)))


def test_unresolvable_method_and_garbage(
    issued: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = copy.deepcopy(issued)
    doc["proof"]["verificationMethod"] = "did:web:evil.example#key-1"
    with pytest.raises(DidResolutionError):
        _verify(tmp_path, doc)
    path = tmp_path / "garbage.json"
    path.write_text("{not json", encoding="utf-8")
    assert _main(["verify-credential", str(path)], monkeypatch) == 4
    assert "not a JSON credential" in capsys.readouterr().err


def test_issued_before_a_revocation_is_revoked_after_it(
    http: TestClient, world: World, tmp_path: Path
) -> None:
    learner = world.convertible_learner()
    body = world.certificate_body(learner.learner_id)
    world.bank.submit(world.provider.sign("certificate.issued", body))
    headers = world.bearer(learner.token)
    doc = http.get(f"/v1/learners/{learner.learner_id}/credential", headers=headers).json()
    assert "not revoked" in _verify(tmp_path, doc, http)
    world.bank.submit(
        world.provider.sign(
            "certificate.revoked",
            {"certificate_id": body["certificate_id"], "reason": "withdrawn-by-issuer"},
        )
    )
    with pytest.raises(CredentialRevokedError, match="revoked"):
        _verify(tmp_path, doc, http)
    assert isinstance(CredentialRevokedError("x"), VerificationError)


def test_key_registration_evidence_is_required(
    issued: dict[str, Any], tmp_path: Path, issuer: Any
) -> None:
    doc = {k: v for k, v in issued.items() if k != "proof"}
    doc["evidence"] = [e for e in doc["evidence"] if e["genre"] != "creditbank-key-registration"]
    with pytest.raises(EvidenceError, match="registered"):
        _verify(tmp_path, issuer.sign(doc, now=datetime.now(UTC)))


def test_valid_from_in_the_future_beyond_clock_skew(issued: dict[str, Any], issuer: Any) -> None:
    doc = {k: v for k, v in issued.items() if k != "proof"}
    issued_at = datetime.fromisoformat(doc["validFrom"].replace("Z", "+00:00"))
    signed = issuer.sign(doc, now=datetime.now(UTC))
    verify_credential(signed, now=issued_at - timedelta(minutes=4))  # a clock slightly behind
    with pytest.raises(CredentialProofError, match="not valid before"):
        verify_credential(signed, now=issued_at - timedelta(minutes=6))
