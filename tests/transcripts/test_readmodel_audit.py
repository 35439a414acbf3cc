"""Read models are checked: a row changed behind the code's back fails the audit, by name."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from creditbank.accounts.readmodel_audit import audit_read_models
from creditbank.cli import app, exit_code_for
from creditbank.errors import TamperError
from tests.accounts.conftest import ORIGIN, World


def _history(world: World) -> None:
    world.register_learner("L-1")
    world.credit("CR-1", "L-1", "SSPU", "MA101", "4", 88)
    world.credit("CR-2", "L-1", "SSPU", "PH101", "3", 75)
    world.issue("C-1", "L-1")


def test_untouched_read_models_pass(world: World) -> None:
    _history(world)
    report = audit_read_models(world.bank.engine, world.bank.log.store)
    assert report.entries == world.bank.log.size()
    assert report.rows > 5


def test_a_credit_of_4_set_to_40_is_named(world: World) -> None:
    _history(world)
    with world.bank.engine.begin() as conn:
        conn.execute(text("UPDATE credits SET credits = '40' WHERE credit_id = 'CR-1'"))
    assert world.bank.balance("L-1")  # the API would serve the forged row
    with pytest.raises(TamperError) as caught:
        audit_read_models(world.bank.engine, world.bank.log.store)
    message = str(caught.value)
    assert (
        "table credits, key (CR-1), column credits: stored '40', derived from the log '4'"
        in message
    )
    assert "1 difference(s)" in message


def test_a_deleted_row_and_an_invented_row_are_named(world: World) -> None:
    _history(world)
    with world.bank.engine.begin() as conn:
        conn.execute(text("DELETE FROM certificates WHERE certificate_id = 'C-1'"))
        conn.execute(
            text(
                "INSERT INTO credits SELECT 'CR-X', learner_id, registrar, institution, course_code, "
                "credits, grade, earned_on, earned_index, recorded_at FROM credits "
                "WHERE credit_id = 'CR-2'"
            )
        )
    with pytest.raises(TamperError) as caught:
        audit_read_models(world.bank.engine, world.bank.log.store)
    message = str(caught.value)
    assert "table certificates, key (C-1): row missing from the stored table" in message
    assert "table credits, key (CR-X): row not in the log" in message


def test_creditbank_verify_fails_on_a_forged_row(sqlite_world: World) -> None:
    _history(sqlite_world)
    url = sqlite_world.bank.engine.url.render_as_string(hide_password=False)
    args = ["verify", "--db", url, "--origin", ORIGIN, "--workers", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "read models equal a replay of the log" in " ".join(result.output.split())
    with sqlite_world.bank.engine.begin() as conn:
        conn.execute(text("UPDATE credits SET credits = '40' WHERE credit_id = 'CR-1'"))
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, TamperError)
    assert exit_code_for(result.exception) == 3  # what `creditbank verify` exits with
    assert "table credits, key (CR-1), column credits" in str(result.exception)
