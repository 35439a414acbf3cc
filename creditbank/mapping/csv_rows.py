"""Reading a CSV file strictly and reporting problems by line and column.

Shared by the two files of the catalogue (:mod:`.map_csv`, :mod:`.programmes_csv`): the header is
checked against the known columns, each cell is parsed by a function that raises ``ValueError``,
and every problem is kept with its line and column instead of stopping at the first.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creditbank.errors import MapProblem
from creditbank.mapping.issues import Issue

__all__ = [
    "Problems",
    "Row",
    "blank",
    "identifier",
    "locate",
    "optional",
    "read_rows",
    "rows_agree",
    "rows_agree_on",
    "text",
]

_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass
class Row:
    line: int
    cells: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict)


class Problems:
    """The problems found so far in one file."""

    def __init__(self, file: str, header: Sequence[str] = ()) -> None:
        self.file = file
        self.header = tuple(header)
        self.found: list[MapProblem] = []

    def add(self, line: int, column: str | None, message: str) -> None:
        self.found.append(MapProblem(self.file, line, column, message))

    def parse(self, row: Row, column: str, parser: Callable[[str], Any]) -> Any:
        """Parse one cell into ``row.values``; record the problem (and None) if it is bad."""
        try:
            value = parser(row.cells[column])
        except ValueError as exc:
            self.add(row.line, column, str(exc))
            return None
        row.values[column] = value
        return value


def read_rows(
    path: str | Path, required: Sequence[str], optional: Sequence[str], problems: Problems
) -> list[Row]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.add(1, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        return []
    except OSError as exc:
        problems.add(0, None, f"cannot read the file: {exc.strerror or exc}")
        return []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        problems.add(1, None, "the file is empty; expected a header row")
        return []
    except csv.Error as exc:
        problems.add(1, None, f"malformed CSV header: {exc}")
        return []
    problems.header = tuple(header)
    for column in required:
        if column not in header:
            problems.add(1, column, "required column is missing from the header")
    for column in header:
        if column not in required and column not in optional:
            problems.add(1, column, f"unknown column; the columns are {', '.join(required)}")
        if header.count(column) > 1:
            problems.add(1, column, "column appears twice in the header")
    if problems.found:
        return []
    rows: list[Row] = []
    try:
        for cells in reader:
            if not cells:
                continue
            if len(cells) != len(header):
                problems.add(
                    reader.line_num,
                    None,
                    f"row has {len(cells)} fields but the header has {len(header)}",
                )
                continue
            rows.append(
                Row(
                    reader.line_num,
                    {name: cell.strip() for name, cell in zip(header, cells, strict=True)},
                )
            )
    except csv.Error as exc:
        problems.add(reader.line_num, None, f"malformed CSV: {exc}")
    return rows


def text(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


def identifier(value: str) -> str:
    if not _IDENTIFIER.match(value):
        raise ValueError(f"must be letters, digits, '.', '_' or '-' (at most 64), got {value!r}")
    return value


def optional(parser: Callable[[str], Any]) -> Callable[[str], Any]:
    return lambda value: None if value == "" else parser(value)


def blank(explanation: str) -> Callable[[str], None]:
    def parse(value: str) -> None:
        if value:
            raise ValueError(explanation)

    return parse


def rows_agree(group: list[Row], columns: Sequence[str], name: str, problems: Problems) -> bool:
    """Every row of one mapping or programme repeats the same value in ``columns``."""
    first = group[0]
    ok = True
    for row in group[1:]:
        for column in columns:
            if row.values[column] != first.values[column]:
                problems.add(
                    row.line,
                    column,
                    f"{name}: {column} is {row.cells[column]!r} here but "
                    f"{first.cells[column]!r} on line {first.line}; its rows must agree",
                )
                ok = False
    return ok


def rows_agree_on(
    group: list[Row], key: str, columns: Sequence[str], name: str, problems: Problems
) -> bool:
    """Rows naming the same source (or course) repeat the same details for it."""
    first_rows: dict[str, Row] = {}
    ok = True
    for row in group:
        first = first_rows.setdefault(row.cells[key], row)
        for column in columns:
            if row.values.get(column) != first.values.get(column):
                what = "course" if key == "course_code" else "source"
                problems.add(
                    row.line,
                    column,
                    f"{name}: {what} {row.cells[key]} has {column} {row.cells[column]!r} here "
                    f"but {first.cells[column]!r} on line {first.line}",
                )
                ok = False
    return ok


def locate(issue: Issue, lines: dict[Any, dict[str | None, int]], problems: Problems) -> None:
    """Turn a catalogue issue into a problem at the line of the row it is about."""
    key: Any = (
        (issue.mapping_id, issue.version) if issue.mapping_id is not None else issue.programme_code
    )
    rows = lines.get(key, {})
    line = rows.get(issue.course_code) or rows.get(issue.source_code) or rows.get(None, 0)
    column = issue.field if issue.field in problems.header else None
    message = issue.message
    if issue.course_code is not None and issue.course_code not in rows:
        message = f"course {issue.course_code}: {message}"
    prefix = (
        f"mapping {issue.mapping_id} v{issue.version}"
        if issue.mapping_id
        else (f"programme {issue.programme_code}")
    )
    problems.add(line, column, f"{prefix}: {message}")
