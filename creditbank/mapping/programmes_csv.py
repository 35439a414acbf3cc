"""Loading ``programmes.csv``: programmes, their courses, totals and recognition caps.

One row per course; the programme's own columns repeat on each of its rows and must agree. The
format is documented in ``docs/qualification-map.md``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from creditbank.mapping.courses import Course, Programme, ProgrammeCaps, programme_issues
from creditbank.mapping.csv_rows import (
    Problems,
    Row,
    identifier,
    locate,
    optional,
    read_rows,
    rows_agree,
    text,
)
from creditbank.mapping.values import parse_credits, parse_positive_int, parse_share

__all__ = ["PROGRAMME_COLUMNS", "read_programmes"]

PROGRAMME_COLUMNS = (
    "programme_code",
    "institution",
    "programme_title",
    "total_credits",
    "max_recognised_credits",
    "max_recognised_share",
    "max_certificates",
    "max_through_train_share",
    "course_code",
    "course_title",
    "credits",
)
#: Optional: blank or absent means the default lower bound (40%) of a through-train block.
PROGRAMME_OPTIONAL_COLUMNS = ("min_through_train_share",)
_PROGRAMME_FIELDS = (*PROGRAMME_COLUMNS[1:8], *PROGRAMME_OPTIONAL_COLUMNS)


def read_programmes(
    path: str | Path, problems: Problems
) -> tuple[list[Programme], dict[str, dict[str | None, int]]]:
    rows = read_rows(path, PROGRAMME_COLUMNS, PROGRAMME_OPTIONAL_COLUMNS, problems)
    for row in rows:
        row.cells.setdefault("min_through_train_share", "")
    parsers: dict[str, Callable[[str], Any]] = {
        "programme_code": identifier,
        "institution": identifier,
        "programme_title": text,
        "total_credits": lambda v: parse_credits(v, "total_credits"),
        "max_recognised_credits": optional(lambda v: parse_credits(v, "max_recognised_credits")),
        "max_recognised_share": optional(lambda v: parse_share(v, "max_recognised_share")),
        "max_certificates": optional(lambda v: parse_positive_int(v, "max_certificates")),
        "max_through_train_share": optional(lambda v: parse_share(v, "max_through_train_share")),
        "min_through_train_share": optional(lambda v: parse_share(v, "min_through_train_share")),
        "course_code": identifier,
        "course_title": text,
        "credits": parse_credits,
    }
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        before = len(problems.found)
        for column, parser in parsers.items():
            problems.parse(row, column, parser)
        if len(problems.found) == before:
            groups[row.values["programme_code"]].append(row)
    programmes: list[Programme] = []
    lines: dict[str, dict[str | None, int]] = {}
    for code, group in groups.items():
        first = group[0]
        lines[code] = {None: first.line}
        ok = rows_agree(group, _PROGRAMME_FIELDS, f"programme {code}", problems)
        courses: list[Course] = []
        for row in group:
            course_code = row.values["course_code"]
            if course_code in lines[code]:
                problems.add(
                    row.line,
                    "course_code",
                    f"duplicate row: course {course_code} of programme {code} is already on "
                    f"line {lines[code][course_code]}",
                )
                ok = False
                continue
            lines[code][course_code] = row.line
            courses.append(
                Course(
                    row.values["institution"],
                    course_code,
                    row.values["course_title"],
                    row.values["credits"],
                )
            )
        if not ok:
            continue
        v = first.values
        caps = ProgrammeCaps(
            max_recognised_credits=v["max_recognised_credits"],
            max_recognised_share=v["max_recognised_share"],
            max_certificates=v["max_certificates"],
            max_through_train_share=v["max_through_train_share"],
            min_through_train_share=v["min_through_train_share"],
        )
        issues = programme_issues(code, v["institution"], v["total_credits"], caps, courses)
        for issue in issues:
            locate(issue, lines, problems)
        if not issues:
            programmes.append(
                Programme(
                    code,
                    v["institution"],
                    v["programme_title"],
                    v["total_credits"],
                    caps,
                    tuple(courses),
                )
            )
    return programmes, lines
