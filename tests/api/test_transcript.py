"""Verifiable transcripts: downloaded over HTTP, checked offline with only the log's key, and
refused after any tampering, by the library and by ``creditbank verify-transcript``.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from creditbank.accounts.transcript import verify_transcript
from creditbank.cli import app as cli_app
from creditbank.errors import CreditbankError
from creditbank.ledger.checkpoint import NoteSigner, NoteVerifier
from creditbank.ledger.keys import generate_key
from tests.api.world import World


@pytest.fixture(scope="module")
def bundle(sqlite_world: World, sqlite_http: TestClient) -> dict[str, Any]:
    learner = sqlite_world.learner
    answer = sqlite_http.get(
        f"/v1/learners/{learner.learner_id}/transcript", headers=sqlite_world.bearer(learner.token)
    )
    assert answer.status_code == 200
    result: dict[str, Any] = answer.json()
    return result


@pytest.fixture(scope="module")
def vkey(sqlite_http: TestClient) -> str:
    return sqlite_http.get("/v1/log/key").text.strip()


def test_a_transcript_verifies_offline_and_proves_the_learners_credits(
    sqlite_world: World, bundle: dict[str, Any], vkey: str
) -> None:
    proven = verify_transcript(bundle, [NoteVerifier.from_vkey(vkey)])
    balance = sqlite_world.bank.balance(sqlite_world.learner.learner_id)
    assert proven.learner_id == sqlite_world.learner.learner_id
    assert proven.total_recognised == balance.total_recognised > Decimal(0)
    assert [c["certificate_id"] for c in proven.certificates] == [
        c.certificate_id for c in balance.certificates
    ]
    assert bundle["log"]["key_id"] == NoteVerifier.from_vkey(vkey).key_id.hex()


def _leaf(bundle: dict[str, Any], entry_type: str) -> dict[str, Any]:
    item: dict[str, Any] = next(
        e for e in bundle["entries"] if e["leaf"]["entry"]["type"] == entry_type
    )
    return item


def _more_credits(b: dict[str, Any]) -> None:
    _leaf(b, "conversion.posted")["leaf"]["entry"]["body"]["recognitions"][0]["credits"] = "99"


def _drop_proof_hash(b: dict[str, Any]) -> None:
    b["entries"][0]["inclusion_proof"].pop()


def _other_index(b: dict[str, Any]) -> None:
    b["entries"][-1]["index"] += 1


def _forged_checkpoint(b: dict[str, Any]) -> None:
    lines = b["checkpoint"].split("\n")
    lines[1] = str(int(lines[1]) + 1)
    b["checkpoint"] = "\n".join(lines)


def _swapped_leaf_hash(b: dict[str, Any]) -> None:
    b["entries"][0]["leaf_hash"] = base64.b64encode(b"\x00" * 32).decode()


def _another_learners_entry(b: dict[str, Any]) -> None:
    _leaf(b, "certificate.issued")["leaf"]["entry"]["body"]["learner_id"] = "L-0000000000000000"


TAMPERINGS: list[Callable[[dict[str, Any]], None]] = [
    _more_credits,
    _drop_proof_hash,
    _other_index,
    _forged_checkpoint,
    _swapped_leaf_hash,
    _another_learners_entry,
]


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=[t.__name__.strip("_") for t in TAMPERINGS])
def test_a_tampered_transcript_is_rejected(
    bundle: dict[str, Any], vkey: str, tamper: Callable[[dict[str, Any]], None]
) -> None:
    changed = copy.deepcopy(bundle)
    tamper(changed)
    with pytest.raises(CreditbankError):
        verify_transcript(changed, [NoteVerifier.from_vkey(vkey)])


def test_a_transcript_is_rejected_under_another_logs_key(bundle: dict[str, Any]) -> None:
    stranger = NoteSigner("demo.creditbank.example/log", generate_key()).verifier
    with pytest.raises(CreditbankError):
        verify_transcript(bundle, [stranger])


def test_the_cli_verifies_a_transcript_and_prints_its_credits(
    tmp_path: Path, bundle: dict[str, Any], vkey: str
) -> None:
    path = tmp_path / "transcript.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), "utf-8")
    result = CliRunner().invoke(cli_app, ["verify-transcript", str(path), "--log-key", vkey])
    assert result.exit_code == 0, result.output
    assert f"{len(bundle['entries'])} entries verified" in result.output
    programme = _leaf(bundle, "conversion.posted")["leaf"]["entry"]["body"]["programme_code"]
    assert programme in result.output
    key_file = tmp_path / "log.vkey"
    key_file.write_text(vkey + "\n")
    by_file = CliRunner().invoke(
        cli_app, ["verify-transcript", str(path), "--log-key", str(key_file)]
    )
    assert by_file.exit_code == 0, by_file.output


@pytest.mark.parametrize(
    "tamper", [_more_credits, _forged_checkpoint], ids=["more-credits", "forged-checkpoint"]
)
def test_the_cli_exits_non_zero_on_a_tampered_transcript(
    tmp_path: Path, bundle: dict[str, Any], vkey: str, tamper: Callable[[dict[str, Any]], None]
) -> None:
    changed = copy.deepcopy(bundle)
    tamper(changed)
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(changed, ensure_ascii=False), "utf-8")
    result = CliRunner().invoke(cli_app, ["verify-transcript", str(path), "--log-key", vkey])
    assert result.exit_code != 0
    assert isinstance(result.exception, CreditbankError)
