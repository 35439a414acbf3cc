"""Fixtures for the mapping tests: the shipped catalogue and a small in-memory catalogue factory."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from mapping_factory import Factory

from creditbank.mapping import Catalog, load_catalog

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def shipped_paths() -> tuple[Path, Path]:
    return ROOT / "data" / "qualification_map.csv", ROOT / "data" / "programmes.csv"


@pytest.fixture(scope="session")
def shipped(shipped_paths: tuple[Path, Path]) -> Catalog:
    return load_catalog(*shipped_paths)


@pytest.fixture(scope="session")
def shipped_rows(shipped_paths: tuple[Path, Path]) -> list[dict[str, str]]:
    with shipped_paths[0].open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def factory() -> Factory:
    return Factory()


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[[str, list[list[str]]], Path]:
    """Write rows (header first) to a CSV file in the test's directory."""

    def write(name: str, rows: list[list[str]]) -> Path:
        path = tmp_path / name
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
        return path

    return write
