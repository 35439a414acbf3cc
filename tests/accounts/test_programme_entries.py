"""Programmes and their versions are signed entries (issue 12, item 1).

The bank takes its catalogue from ``programme.registered`` entries, never from a file; a new
version takes effect on its day; conversions are judged, live and by ``creditbank verify``'s
re-check, under the version in force on their as-of day, and a conversion appended behind the
bank's back that breaks that version's cap is named by its index.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from creditbank.accounts.bank import CreditBank
from creditbank.accounts.conversion_audit import audit_conversions
from creditbank.accounts.tables import ProgrammeRow
from creditbank.cli import app
from creditbank.errors import (
    CatalogError,
    ConflictError,
    PermissionDenied,
    RuleViolation,
    TamperError,
)
from creditbank.ledger.keys import save_private_key
from creditbank.mapping.programme_json import programme_from_json, programme_to_json
from creditbank.mapping.programmes_csv import PROGRAMME_COLUMNS
from tests.accounts.conftest import (
    CNC,
    CNC_MAPPING,
    PROGRAMME,
    PROGRAMME_B,
    WELD_MAPPING,
    World,
    course,
)
from tests.accounts.test_kind_parts import _serving


@pytest.fixture
def mapped(world: World) -> World:
    for m in (WELD_MAPPING, CNC_MAPPING):
        world.register_mapping(m)
    for learner_id in ("L-1", "L-2"):
        world.register_learner(learner_id)
        world.issue(f"{learner_id}-W", learner_id)
        world.issue(f"{learner_id}-C", learner_id, code=CNC, level=3)
    return world


def _body(world: World, conversion_id: str, learner_id: str, as_of: str) -> dict[str, Any]:
    """What the planner proposes under version 1 (two certificates, 24 credits)."""
    plan = world.bank.plan_for(learner_id, "AD-MFG", datetime.fromisoformat(as_of).date())
    return {
        "conversion_id": conversion_id,
        "learner_id": learner_id,
        "programme_code": "AD-MFG",
        "as_of": as_of,
        "recognitions": [
            {"course_code": r.course_code, "credits": str(r.credits), "mapping_id": r.mapping_id,
             "sources": list(r.source_holding_ids)}
            for r in plan.recognitions
        ],
    }  # fmt: skip


def test_the_catalogue_is_the_logs(world: World) -> None:
    assert world.bank.programmes == (PROGRAMME, PROGRAMME_B)
    # a bank opened over the same log, given no programmes, serves the same catalogue
    fresh = CreditBank(world.bank.engine, world.bank.log, clock=world.clock)
    assert fresh.programmes == (PROGRAMME, PROGRAMME_B)
    assert programme_from_json(programme_to_json(PROGRAMME)) == PROGRAMME


def test_registration_rules(world: World) -> None:
    tomorrow = (world.clock().date() + timedelta(days=1)).isoformat()
    with pytest.raises(ConflictError, match="the next is 2"):
        world.register_programme(PROGRAMME, version=3, effective_from=tomorrow)
    with pytest.raises(RuleViolation, match="must take effect after"):
        world.register_programme(
            PROGRAMME, version=2, effective_from=world.clock().date().isoformat()
        )
    other = world.registrar_of("SSPU")  # a registrar of another institution
    body = {"programme": programme_to_json(PROGRAMME), "version": 2, "effective_from": tomorrow}
    with pytest.raises(PermissionDenied, match="belong to institution SOU"):
        world.post(other, "programme.registered", body)
    with pytest.raises(PermissionDenied):  # a provider signs no programme
        world.post(world.provider, "programme.registered", body)
    # a course shared within the institution keeps one credit value (WELD101 is 4 in AD-MFG)
    clash = replace(
        PROGRAMME_B, code="BD-NEW", courses=(course("WELD101", "3"), *PROGRAMME_B.courses[1:])
    )
    with pytest.raises(CatalogError, match="WELD101"):
        world.register_programme(clash)
    # a programme that breaks its own rules (courses do not fit the total) never reaches the log
    broken = programme_to_json(PROGRAMME) | {"code": "BD-BAD", "total_credits": "10"}
    with pytest.raises(CatalogError):
        world.post(
            world.registrar,
            "programme.registered",
            {"programme": broken, "version": 1, "effective_from": tomorrow},
        )
    assert world.register_programme(PROGRAMME, version=2, effective_from=tomorrow).index > 0
    assert world.bank.programmes == (PROGRAMME, PROGRAMME_B)  # version 2 is not in force yet


def test_an_approval_must_fit_the_programme_versions_still_to_come(world: World) -> None:
    tomorrow = (world.clock().date() + timedelta(days=1)).isoformat()
    without = replace(
        PROGRAMME, courses=tuple(c for c in PROGRAMME.courses if c.course_code != "WELD102")
    )
    world.register_programme(without, 2, tomorrow)
    with pytest.raises(CatalogError, match="WELD102"):  # M-WELD credits WELD102, gone tomorrow
        world.register_mapping(WELD_MAPPING)
    world.clock.advance(days=2)
    assert world.bank.programmes == (without, PROGRAMME_B)  # the catalogue still builds


def test_conversions_are_judged_under_the_version_in_force_on_their_as_of_day(
    mapped: World,
) -> None:
    day0 = mapped.clock().date()
    one_certificate = replace(PROGRAMME, caps=replace(PROGRAMME.caps, max_certificates=1))
    mapped.register_programme(one_certificate, 2, (day0 + timedelta(days=1)).isoformat())
    under_v1 = _body(mapped, "X-1", "L-1", day0.isoformat())
    tampered = _body(mapped, "X-2", "L-2", day0.isoformat())
    assert len({s for r in under_v1["recognitions"] for s in r["sources"]}) == 2
    mapped.clock.advance(days=2)
    assert mapped.bank.programmes == (one_certificate, PROGRAMME_B)
    # dated before version 2 took effect: admitted, and re-checked, under version 1
    mapped.post(mapped.registrar, "conversion.posted", under_v1)
    assert audit_conversions(mapped.bank.log.store).conversions == 1
    # the same two certificates dated today break version 2's cap of one certificate
    tampered["as_of"] = mapped.clock().date().isoformat()
    signed = mapped.sign(mapped.registrar, "conversion.posted", tampered)
    with pytest.raises(RuleViolation, match="at most 1 certificate"):
        mapped.bank.submit(signed)
    index = mapped.bank.log.size()
    mapped.bank.log.append([signed], now=mapped.clock())  # behind the bank's back
    with pytest.raises(TamperError) as found:
        audit_conversions(mapped.bank.log.store)
    assert found.value.index == index
    assert f"entry {index}" in str(found.value) and "cap-exceeded" in str(found.value)


def test_programme_register_through_the_cli_over_http(
    sqlite_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``creditbank programme register`` signs a programmes CSV's programme with the registrar's
    key file and posts it with its token; the same version again is refused."""
    world = sqlite_world
    # The CLI signs with the real time; bring the world's hand-moved clock up to it.
    world.clock.advance(seconds=(datetime.now(UTC) - world.clock()).total_seconds())
    caps = PROGRAMME.caps
    csv_file = tmp_path / "programmes.csv"
    with csv_file.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(PROGRAMME_COLUMNS)
        for c in PROGRAMME.courses:
            writer.writerow(
                [PROGRAMME.code, PROGRAMME.institution, "新版 new title", PROGRAMME.total_credits,
                 caps.max_recognised_credits, caps.max_recognised_share, 2,
                 caps.max_through_train_share, c.course_code, c.title, c.credits]
            )  # fmt: skip
    key_file = tmp_path / "registrar.key"
    save_private_key(world.registrar.key, key_file, passphrase=b"passphrase-1")
    monkeypatch.setenv("CREDITBANK_KEY_PASSPHRASE", "passphrase-1")
    token = world.bank.issue_token(actor_id=world.registrar.actor_id)
    tomorrow = (
        world.clock().astimezone(world.bank.timezone).date() + timedelta(days=1)
    ).isoformat()
    with _serving(world) as url:
        words = ["programme", "register", str(csv_file), "--version", "2"]
        options = ["--effective-from", tomorrow, "--url", url, "--token", token]
        options += ["--key", str(key_file), "--json"]
        first = CliRunner().invoke(app, [*words, *options])
        assert first.exit_code == 0, first.output
        assert json.loads(first.output)["entry_type"] == "programme.registered"
        again = CliRunner().invoke(app, [*words, *options])
        assert again.exit_code != 0 and "the next is 3" in str(again.exception or again.output)
    with Session(world.bank.engine) as session:
        row = session.get(ProgrammeRow, (PROGRAMME.code, 2))
    assert row is not None and row.effective_from == tomorrow
    world.clock.advance(days=2)
    (now,) = [p for p in world.bank.programmes if p.code == PROGRAMME.code]
    assert now.title == "新版 new title" and now.caps.max_certificates == 2
