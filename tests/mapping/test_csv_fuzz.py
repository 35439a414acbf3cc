"""Fuzzing the CSV loader: whatever the bytes, it loads or raises ``MapLoadError``, nothing else.

Hypothesis feeds :func:`load_catalog` random and garbled bytes, and random mutations of the shipped
map and programmes: cells replaced by awkward values (huge, negative or non-ASCII numbers, impossible
dates, whitespace, quotes and line breaks, very long text), rows dropped, duplicated, shortened or
lengthened, bytes flipped, inserted or cut, other encodings. The loader must either load a catalogue
or raise an error of the input branch of the error tree (``MapLoadError`` names file, line and
column); a ``KeyError``, ``IndexError``, ``csv.Error`` or ``decimal`` error escaping would be a bug.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditbank.accounts.wiring import shipped_data_dir
from creditbank.errors import InputError
from creditbank.mapping import load_catalog

SHIPPED_MAP = (shipped_data_dir() / "qualification_map.csv").read_bytes()
SHIPPED_PROGRAMMES = (shipped_data_dir() / "programmes.csv").read_bytes()
#: Examples per test: 150 by default, more for a longer run (see docs/reliability.md).
FUZZ = settings(
    max_examples=int(os.environ.get("CREDITBANK_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

#: Cell values that have broken parsers elsewhere: numbers of every shape, odd dates, whitespace.
AWKWARD = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-0",
        "-1",
        "1e309",
        "1E3",
        "NaN",
        "inf",
        "-inf",
        "0x10",
        "1_000",
        "٣",
        "３",
        "²",
        "3.",
        ".5",
        "99999999999999999999999999999999",
        "0.000000000000000000000000001",
        "2021-02-30",
        "2021-13-01",
        "0000-01-01",
        "9999-12-31",
        "10000-01-01",
        "2021-9-1",
        "20210901",
        "certificate_recognition",
        "through_train",
        "credit_recognition",
        "EXT:",
        "SOU:",
        ":",
        "6-18-02-04",
        "6-18-02-99",
        "\x00",
        "\ufeff",
        '"',
        "a\nb",
        "a\rb",
        "x" * 70,
        "x" * 5000,
    ]
)
CELL = st.one_of(AWKWARD, st.text(max_size=30))


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="csv-fuzz-") as name:
        yield Path(name)


def _load(folder: Path, map_bytes: bytes, programme_bytes: bytes) -> None:
    map_path, programmes_path = folder / "map.csv", folder / "programmes.csv"
    map_path.write_bytes(map_bytes)
    programmes_path.write_bytes(programme_bytes)
    try:
        load_catalog(map_path, programmes_path)
    except InputError:
        pass  # MapLoadError (or another input error): the documented refusal


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


@st.composite
def mutated_rows(draw: st.DrawFn, data: bytes) -> bytes:
    """The file's rows with a few cell- and row-level mutations."""
    rows = _rows(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["cell", "cell", "cell", "drop", "dup", "short", "long"]))
        line = draw(st.integers(0, len(rows) - 1))
        row = rows[line]
        if kind == "cell" and row:
            row[draw(st.integers(0, len(row) - 1))] = draw(CELL)
        elif kind == "drop":
            del rows[line]
        elif kind == "dup":
            rows.insert(line, list(row))
        elif kind == "short" and row:
            del row[draw(st.integers(0, len(row) - 1))]
        elif kind == "long":
            row.append(draw(CELL))
        if not rows:
            break
    return _csv(rows)


@st.composite
def mutated_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """The file's bytes with a few byte-level mutations (cut, insert, flip, re-encode)."""
    kind = draw(st.sampled_from(["cut", "insert", "flip", "encode"]))
    position = draw(st.integers(0, len(data)))
    if kind == "cut":
        return data[:position] + data[position + draw(st.integers(1, 200)) :]
    if kind == "insert":
        return data[:position] + draw(st.binary(min_size=1, max_size=20)) + data[position:]
    if kind == "flip" and position < len(data):
        return (
            data[:position]
            + bytes([data[position] ^ draw(st.integers(1, 255))])
            + data[position + 1 :]
        )
    encoding = draw(st.sampled_from(["utf-16", "gb18030", "latin-1"]))
    return data.decode("utf-8").encode(encoding, errors="replace")


@FUZZ
@given(garbage=st.binary(max_size=2000))
def test_random_bytes_as_the_map(folder: Path, garbage: bytes) -> None:
    _load(folder, garbage, SHIPPED_PROGRAMMES)


@FUZZ
@given(garbage=st.binary(max_size=2000))
def test_random_bytes_as_the_programmes(folder: Path, garbage: bytes) -> None:
    _load(folder, SHIPPED_MAP, garbage)


#: Text made of CSV's own syntax (quotes, separators, line ends), where a reader's corner cases are.
CSV_SOUP = st.text(alphabet=',"\n\r \x00\ufeffa1-', max_size=300)


@FUZZ
@given(soup=CSV_SOUP, which=st.booleans())
def test_csv_syntax_soup(folder: Path, soup: str, which: bool) -> None:
    data = soup.encode("utf-8")
    if which:
        _load(folder, data, SHIPPED_PROGRAMMES)
    else:
        _load(folder, SHIPPED_MAP, data)


@FUZZ
@given(soup=CSV_SOUP, which=st.booleans())
def test_the_real_header_then_soup(folder: Path, soup: str, which: bool) -> None:
    source = SHIPPED_MAP if which else SHIPPED_PROGRAMMES
    header = source.split(b"\n", 1)[0] + b"\n"
    if which:
        _load(folder, header + soup.encode("utf-8"), SHIPPED_PROGRAMMES)
    else:
        _load(folder, SHIPPED_MAP, header + soup.encode("utf-8"))


@FUZZ
@given(text=st.lists(st.lists(CELL, max_size=18), max_size=6))
def test_random_rows_under_the_real_header(folder: Path, text: list[list[str]]) -> None:
    header = _rows(SHIPPED_MAP)[0]
    _load(folder, _csv([header, *text]), SHIPPED_PROGRAMMES)


@FUZZ
@given(data=st.data())
def test_mutations_of_the_shipped_map(folder: Path, data: st.DataObject) -> None:
    mutate = data.draw(st.sampled_from([mutated_rows, mutated_bytes]))
    _load(folder, data.draw(mutate(SHIPPED_MAP)), SHIPPED_PROGRAMMES)


@FUZZ
@given(data=st.data())
def test_mutations_of_the_shipped_programmes(folder: Path, data: st.DataObject) -> None:
    mutate = data.draw(st.sampled_from([mutated_rows, mutated_bytes]))
    _load(folder, SHIPPED_MAP, data.draw(mutate(SHIPPED_PROGRAMMES)))


def test_the_shipped_files_still_load(folder: Path) -> None:
    """The baseline the mutations start from is valid (so refusals come from the mutations)."""
    catalog = load_catalog(
        shipped_data_dir() / "qualification_map.csv", shipped_data_dir() / "programmes.csv"
    )
    assert catalog.mappings and catalog.programmes
