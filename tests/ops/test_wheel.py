"""Issue 9 item 14: a non-editable install has the shipped map and uses it from any directory."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_issue9_item14_the_wheel_ships_the_map_and_map_check_runs_elsewhere(
    tmp_path: Path,
) -> None:
    """Build the wheel, install it (without dependencies) into a fresh venv, run ``map check``.

    The fresh venv borrows this environment's third-party packages through a ``.pth`` line (so
    the test needs no network); creditbank itself comes only from the wheel, which the test checks.
    """
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("creditbank-*.whl")
    venv = tmp_path / "venv"
    # No pip inside the fresh venv (creating one with pip costs about 10 s): this environment's
    # pip installs into it through ``--python``.
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True
    )
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps"]
        + ["--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import creditbank; print(creditbank.__file__)"],
        cwd=elsewhere,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert where.startswith(site), where  # the wheel's copy, not the repository's
    result = subprocess.run(
        [str(venv / "bin" / "creditbank"), "map", "check", "--json"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert '"programmes":' in result.stdout and site in result.stdout
    shown = subprocess.run(
        [str(venv / "bin" / "creditbank"), "map", "show", "6-18-02-04", "--json"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert shown.returncode == 0, shown.stderr
