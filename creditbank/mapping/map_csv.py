"""Loading ``qualification_map.csv`` (with ``programmes.csv``): strict and atomic.

Either both files load into a :class:`~creditbank.mapping.catalog.Catalog` or nothing does: every
problem found is collected, located by file, line and column, and raised together as
``MapLoadError``. Rows are checked one by one (each cell parsed by :mod:`.values`), then the rows
of one mapping against each other, then the intrinsic rules of each mapping, then the catalogue
as a whole; the later checks run only when the earlier ones passed, so one mistake is reported
once. The formats are documented in ``docs/qualification-map.md``.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from creditbank.errors import CatalogError, MapLoadError, MapProblem
from creditbank.mapping.catalog import Catalog
from creditbank.mapping.consistency import catalog_issues
from creditbank.mapping.courses import Course, Programme
from creditbank.mapping.csv_rows import (
    Problems,
    Row,
    blank,
    identifier,
    locate,
    optional,
    read_rows,
    rows_agree,
    rows_agree_on,
    text,
)
from creditbank.mapping.mappings import (
    CourseRequirement,
    Mapping,
    Mode,
    QualificationRequirement,
    Source,
    mapping_issues,
)
from creditbank.mapping.programmes_csv import PROGRAMME_COLUMNS, read_programmes
from creditbank.mapping.values import (
    parse_course_source,
    parse_credits,
    parse_date,
    parse_grade,
    parse_level,
    parse_occupation_code,
    parse_positive_int,
)

__all__ = [
    "MAP_COLUMNS",
    "MAP_OPTIONAL_COLUMNS",
    "PROGRAMME_COLUMNS",
    "load_catalog",
    "load_programmes",
]

MAP_COLUMNS = (
    "mapping_id",
    "mode",
    "provider",
    "qualification_code",
    "qualification_name",
    "min_level",
    "institution",
    "programme_code",
    "course_code",
    "course_title",
    "credits",
    "valid_years",
    "effective_from",
    "effective_to",
)
#: Optional columns: ``version`` (default 1) and ``min_grade`` (credit_recognition only).
MAP_OPTIONAL_COLUMNS = ("version", "min_grade")
_MAPPING_FIELDS = (
    "mode",
    "provider",
    "valid_years",
    "effective_from",
    "effective_to",
    "institution",
    "programme_code",
)


def load_catalog(map_csv_path: str | Path, programmes_csv_path: str | Path) -> Catalog:
    """Load both files into one catalogue, or raise ``MapLoadError`` listing every problem."""
    programme_problems = Problems(str(programmes_csv_path))
    programmes, programme_lines = read_programmes(programmes_csv_path, programme_problems)
    map_problems = Problems(str(map_csv_path))
    mappings, map_lines = _mappings(map_csv_path, map_problems)
    problems = programme_problems.found + map_problems.found
    if not problems:
        for issue in catalog_issues(programmes, mappings):
            if issue.mapping_id is not None:
                locate(issue, map_lines, map_problems)
            else:
                locate(issue, programme_lines, programme_problems)
        problems = programme_problems.found + map_problems.found
    if problems:
        raise MapLoadError(sorted(problems, key=lambda p: (p.file, p.line)))
    try:
        return Catalog(programmes, mappings)
    except CatalogError as exc:  # pragma: no cover - the same checks ran above, located
        raise MapLoadError(
            [MapProblem(str(map_csv_path), 0, None, issue) for issue in exc.issues]
        ) from exc


def load_programmes(programmes_csv_path: str | Path) -> tuple[Programme, ...]:
    """Load only the programmes file (the accounts layer adds mappings from the ledger)."""
    problems = Problems(str(programmes_csv_path))
    programmes, _ = read_programmes(programmes_csv_path, problems)
    if problems.found:
        raise MapLoadError(problems.found)
    return tuple(programmes)


# --- reading ----------------------------------------------------------------------------------


# --- the map file ------------------------------------------------------------------------------


def _mode(value: str) -> Mode:
    try:
        return Mode(value)
    except ValueError:
        modes = ", ".join(m.value for m in Mode)
        raise ValueError(f"unknown mode {value!r}; the modes are {modes}") from None


def _mappings(
    path: str | Path, problems: Problems
) -> tuple[list[Mapping], dict[tuple[str, int], dict[str | None, int]]]:
    rows = read_rows(path, MAP_COLUMNS, MAP_OPTIONAL_COLUMNS, problems)
    groups: dict[tuple[str, int], list[Row]] = defaultdict(list)
    for row in rows:
        before = len(problems.found)
        _parse_map_row(row, problems)
        if len(problems.found) == before:
            groups[(row.values["mapping_id"], row.values["version"])].append(row)
    mappings: list[Mapping] = []
    lines: dict[tuple[str, int], dict[str | None, int]] = {}
    for key, group in groups.items():
        lines[key] = {None: group[0].line}
        mapping = _mapping(key, group, lines[key], problems)
        if mapping is not None:
            mappings.append(mapping)
    return mappings, lines


def _parse_map_row(row: Row, problems: Problems) -> None:
    row.cells.setdefault("version", "1")
    row.cells.setdefault("min_grade", "")
    for column in ("mapping_id", "programme_code", "course_code", "institution"):
        problems.parse(row, column, identifier)
    for column in ("provider", "qualification_name", "course_title"):
        problems.parse(row, column, text)
    mode = problems.parse(row, "mode", _mode)
    problems.parse(row, "version", lambda v: parse_positive_int(v, "version"))
    problems.parse(row, "credits", parse_credits)
    problems.parse(row, "valid_years", optional(lambda v: parse_positive_int(v, "valid_years")))
    start = problems.parse(row, "effective_from", lambda v: parse_date(v, "effective_from"))
    end = problems.parse(row, "effective_to", optional(lambda v: parse_date(v, "effective_to")))
    if start is not None and end is not None and end < start:
        problems.add(
            row.line, "effective_to", f"effective_to {end} is before effective_from {start}"
        )
    if mode is Mode.CREDIT_RECOGNITION:
        problems.parse(row, "qualification_code", parse_course_source)
        problems.parse(
            row,
            "min_level",
            blank(
                "min_level does not apply to credit_recognition "
                "(a course is the source); leave it blank"
            ),
        )
        problems.parse(row, "min_grade", optional(lambda v: parse_grade(v, "min_grade")))
    elif mode is not None:
        problems.parse(row, "qualification_code", parse_occupation_code)
        problems.parse(row, "min_level", lambda v: parse_level(v, "min_level"))
        problems.parse(
            row,
            "min_grade",
            blank(
                f"min_grade applies only to credit_recognition, not {mode.value}; leave it blank"
            ),
        )


def _mapping(
    key: tuple[str, int], group: list[Row], lines: dict[str | None, int], problems: Problems
) -> Mapping | None:
    mapping_id, version = key
    name = f"mapping {mapping_id} v{version}"
    ok = rows_agree(group, _MAPPING_FIELDS, name, problems)
    ok = (
        rows_agree_on(
            group,
            "qualification_code",
            ("qualification_name", "min_level", "min_grade"),
            name,
            problems,
        )
        and ok
    )
    ok = rows_agree_on(group, "course_code", ("course_title", "credits"), name, problems) and ok
    pairs: dict[tuple[str, str], int] = {}
    for row in group:
        pair = (row.cells["qualification_code"], row.values["course_code"])
        if pair in pairs:
            problems.add(
                row.line,
                None,
                f"duplicate row: the same {name}, qualification and course as line {pairs[pair]}",
            )
            ok = False
        pairs.setdefault(pair, row.line)
        lines.setdefault(row.values["course_code"], row.line)
        lines.setdefault(row.cells["qualification_code"], row.line)
    sources = list(dict.fromkeys(row.cells["qualification_code"] for row in group))
    targets = list(dict.fromkeys(row.values["course_code"] for row in group))
    for source in sources:
        for target in targets:
            if (source, target) not in pairs:
                problems.add(
                    lines[source],
                    "course_code",
                    f"{name} has no row pairing {source} with course {target}: every source "
                    "of a mapping must be listed with every course (the sources are required "
                    "together)",
                )
                ok = False
    if not ok:
        return None
    first = group[0].values
    mode: Mode = first["mode"]
    by_source = {row.cells["qualification_code"]: row for row in group}
    by_target = {row.values["course_code"]: row for row in group}
    fields = {
        "mapping_id": mapping_id,
        "version": version,
        "mode": mode,
        "effective_from": first["effective_from"],
        "effective_to": first["effective_to"],
        "valid_years": first["valid_years"],
        "sources": tuple(_source(mode, by_source[s]) for s in sources),
        "targets": tuple(
            Course(
                row.values["institution"],
                row.values["course_code"],
                row.values["course_title"],
                row.values["credits"],
            )
            for row in (by_target[t] for t in targets)
        ),
    }
    issues = mapping_issues(**fields)
    for issue in issues:
        locate(issue, {key: lines}, problems)
    if issues:
        return None
    return Mapping(provider=first["provider"], programme_code=first["programme_code"], **fields)


def _source(mode: Mode, row: Row) -> Source:
    if mode is Mode.CREDIT_RECOGNITION:
        institution, course_code = row.values["qualification_code"]
        return CourseRequirement(
            institution, course_code, row.values["qualification_name"], row.values["min_grade"]
        )
    return QualificationRequirement(
        row.values["qualification_code"], row.values["qualification_name"], row.values["min_level"]
    )
