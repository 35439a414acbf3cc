"""The static gates run with the tests, so "the tests pass" also means "the layers hold".

import-linter checks the layer contracts of DESIGN.md (declared in pyproject.toml); ruff and mypy
(strict for ``creditbank/``) keep the code clean. Each runs as its own process with the venv's tools.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        ["lint-imports"],
        ["ruff", "check", "creditbank", "tests", "bench"],
        ["ruff", "format", "--check", "creditbank", "tests", "bench"],
        ["mypy"],
    ],
    ids=["import-linter", "ruff", "ruff-format", "mypy"],
)
def test_static_gate(command: list[str]) -> None:
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
