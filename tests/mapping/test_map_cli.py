"""``creditbank map check|show`` and ``creditbank plan`` on the shipped data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from creditbank.cli import map as map_area
from creditbank.errors import HoldingsError, MapLoadError, NotFoundError

HOLDINGS = {
    "certificates": [
        {"holding_id": "c1", "qualification_code": "6-31-01-03", "level": 4,
         "issued_on": "2023-06-30"},
        {"holding_id": "c2", "qualification_code": "6-31-07-03", "level": 4,
         "issued_on": "2024-03-01"},
        {"holding_id": "w1", "qualification_code": "6-31-01-03", "level": 3, "what_if": True},
    ],
    "credits": [
        {"holding_id": "k1", "institution": "STIEI", "course_code": "EE2101", "credits": 4,
         "grade": 82.5, "earned_on": "2022-01-15"},
    ],
}  # fmt: skip


@pytest.fixture
def app() -> typer.Typer:
    """The map area's own app (map check, map show, plan), on its own."""
    return map_area.app


@pytest.fixture
def runner() -> CliRunner:
    """Wide enough that rich does not wrap the tables."""
    return CliRunner(env={"COLUMNS": "250"})


def test_map_check_prints_a_summary(
    runner: CliRunner, app: typer.Typer, shipped_paths: tuple[Path, Path]
) -> None:
    result = runner.invoke(
        app, ["map", "check", str(shipped_paths[0]), "--programmes", str(shipped_paths[1])]
    )
    assert result.exit_code == 0, result.output
    assert "OK" in result.output and "SOU-CNC" in result.output
    as_json = runner.invoke(
        app,
        ["map", "check", str(shipped_paths[0]), "--programmes", str(shipped_paths[1]), "--json"],
    )
    summary = json.loads(as_json.output)
    assert summary["programmes"] == 6 and set(summary["modes"]) == {
        "certificate_recognition",
        "through_train",
        "credit_recognition",
        "course_restructuring",
    }


def test_map_check_fails_on_a_bad_file(
    runner: CliRunner, tmp_path: Path, shipped_paths: tuple[Path, Path], app: typer.Typer
) -> None:
    bad = tmp_path / "map.csv"
    text = shipped_paths[0].read_text(encoding="utf-8")
    bad.write_text(text.replace("certificate_recognition", "exemption", 1), encoding="utf-8")
    result = runner.invoke(app, ["map", "check", str(bad), "--programmes",
                                      str(shipped_paths[1])])  # fmt: skip
    assert isinstance(result.exception, MapLoadError)
    assert result.exception.problems[0].line == 2
    # through the real entry point: one line per problem on stderr, exit code 4 (input error)
    process = subprocess.run(
        [
            sys.executable,
            "-c",
            "from creditbank.cli import main; main()",
            "map",
            "check",
            str(bad),
            "--programmes",
            str(shipped_paths[1]),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == 4, process.stderr
    assert f"{bad}:2: column mode: unknown mode 'exemption'" in process.stderr.replace("\n", "")


def test_map_show(runner: CliRunner, app: typer.Typer, shipped_paths: tuple[Path, Path]) -> None:
    files = ["--map", str(shipped_paths[0]), "--programmes", str(shipped_paths[1])]
    table = runner.invoke(app, ["map", "show", "6-18-02-04", *files])
    assert table.exit_code == 0, table.output
    assert "CNC-WELD v2" in table.output and "AUTO-WELD-L4" in table.output
    data = json.loads(
        runner.invoke(
            app, ["map", "show", "6-18-02-04", "--as-of", "2021-01-01", "--json", *files]
        ).output  # fmt: skip
    )
    assert {(m["mapping_id"], m["version"]) for m in data} == {("CNC-WELD", 1),
                                                               ("AUTO-WELD-L4", 1)}  # fmt: skip
    levels = json.loads(
        runner.invoke(
            app,
            [
                "map",
                "show",
                "6-31-01-03",
                "--level",
                "4",
                "--programme",
                "SOU-EAUTO",
                "--json",
                *files,
            ],
        ).output  # fmt: skip
    )
    assert {c["course_code"] for c in levels} == {"EA201", "EA204", "EA205", "EA214"}
    course = json.loads(
        runner.invoke(app, ["map", "show", "STIEI:EE2101", "--json", *files]).output
    )
    assert {c["course_code"] for c in course} == {"EA201", "CNC205"}
    missing = runner.invoke(app, ["map", "show", "9-99-99-99", *files])
    assert isinstance(missing.exception, NotFoundError)


def test_plan_table_and_json(
    runner: CliRunner, app: typer.Typer, tmp_path: Path, shipped_paths: tuple[Path, Path]
) -> None:
    holdings = tmp_path / "holdings.json"
    holdings.write_text(json.dumps(HOLDINGS), encoding="utf-8")
    args = ["plan", "--holdings", str(holdings), "--programme", "SOU-EAUTO", "--as-of",
            "2026-11-24", "--map", str(shipped_paths[0]), "--programmes", str(shipped_paths[1])]  # fmt: skip
    table = runner.invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "Holdings not used" in table.output and "still missing" in table.output
    data = json.loads(runner.invoke(app, [*args, "--json"]).output)
    # the what-if level 3 certificate earns the whole 33-credit block EAUTO-ELEC-TT (issue 12
    # item 4: a block is never credited in pieces), which takes EA201 from the course credit k1
    assert data["total_recognised"] == "41" and data["what_if_credits"] == "33"
    unused = {u["holding_id"]: u["reason"] for u in data["unused"]}
    assert unused == {"c1": "superseded", "k1": "course-already-credited"}
    by_course = {r["course_code"]: r["source_holding_ids"] for r in data["recognitions"]}
    assert by_course["EA201"] == ["w1"] and by_course["EA206"] == ["c2"]


def test_plan_refuses_a_bad_holdings_file(
    runner: CliRunner, app: typer.Typer, tmp_path: Path, shipped_paths: tuple[Path, Path]
) -> None:
    holdings = tmp_path / "holdings.json"
    holdings.write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["plan", "--holdings", str(holdings), "--programme",
                                      "SOU-CNC", "--map", str(shipped_paths[0]),
                                      "--programmes", str(shipped_paths[1])])  # fmt: skip
    assert isinstance(result.exception, HoldingsError)
