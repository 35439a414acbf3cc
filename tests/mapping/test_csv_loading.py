"""The CSV loader: strict, atomic, and every error names file, line and column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from creditbank.errors import MapLoadError, MapProblem
from creditbank.mapping import Mode, load_catalog, load_programmes
from creditbank.mapping.map_csv import MAP_COLUMNS, MAP_OPTIONAL_COLUMNS, PROGRAMME_COLUMNS

Writer = Callable[[str, list[list[str]]], Path]
MAP_HEADER = [*MAP_COLUMNS, *MAP_OPTIONAL_COLUMNS]
COL = {name: i for i, name in enumerate(MAP_HEADER)}


def programme_rows() -> list[list[str]]:
    common = ["P", "SOU", "Programme P", "12", "", "0.8", "2", "0.5"]
    return [
        list(PROGRAMME_COLUMNS),
        [*common, "C1", "Course one", "3"],
        [*common, "C2", "Course two", "3"],
        [*common, "C3", "Course three", "4"],
    ]


def map_rows() -> list[list[str]]:
    def row(mapping: str, mode: str, source: str, level: str, course: str, title: str,
            credits: str, grade: str = "") -> list[str]:  # fmt: skip
        return [mapping, mode, "Provider", source, "Name " + source, level, "SOU", "P", course,
                title, credits, "5", "2021-09-01", "", "1", grade]  # fmt: skip

    return [
        list(MAP_HEADER),
        row("M1", "certificate_recognition", "6-18-02-04", "4", "C1", "Course one", "3"),  # 2
        row("M1", "certificate_recognition", "6-18-02-04", "4", "C2", "Course two", "3"),  # 3
        row("M2", "credit_recognition", "EXT:X1", "", "C3", "Course three", "4", "60"),  # 4
        row("M3", "certificate_recognition", "6-18-02-04", "4", "C3", "Course three", "4"),  # 5
        row("M3", "certificate_recognition", "6-31-01-03", "4", "C3", "Course three", "4"),  # 6
    ]


def load(write_csv: Writer, maps: list[list[str]], programmes: list[list[str]]) -> None:
    load_catalog(write_csv("map.csv", maps), write_csv("programmes.csv", programmes))


def problems_of(
    write_csv: Writer, maps: list[list[str]], programmes: list[list[str]]
) -> list[MapProblem]:
    with pytest.raises(MapLoadError) as caught:
        load(write_csv, maps, programmes)
    return caught.value.problems


def test_a_valid_pair_loads(write_csv: Writer) -> None:
    catalog = load_catalog(write_csv("map.csv", map_rows()), write_csv("p.csv", programme_rows()))
    assert [m.mapping_id for m in catalog.mappings] == ["M1", "M2", "M3"]
    many_to_one = catalog.mapping("M3")
    assert [r.code for r in many_to_one.qualification_requirements] == ["6-18-02-04", "6-31-01-03"]
    assert catalog.mapping("M2").mode is Mode.CREDIT_RECOGNITION
    assert catalog.mapping("M1").target_credits == 6


def _mutated(line: int, column: str, value: str) -> list[list[str]]:
    """The valid map with one cell changed (``line`` as in the file: the header is line 1)."""
    rows = map_rows()
    rows[line - 1][COL[column]] = value
    return rows


@pytest.mark.parametrize(
    ("row", "column", "value", "fragment"),
    [
        (2, "mode", "apprenticeship", "unknown mode 'apprenticeship'"),
        (2, "min_level", "6", "from 1"),
        (2, "min_level", "0", "from 1"),
        (2, "credits", "-3", "non-negative"),
        (2, "credits", "three", "non-negative decimal"),
        (2, "credits", "0", "greater than 0"),
        (2, "effective_to", "2020-01-01", "effective_to 2020-01-01 is before effective_from"),
        (2, "effective_from", "2021-13-01", "not a valid ISO date"),
        (2, "qualification_code", "welder", "occupation code"),
        (4, "qualification_code", "X1", "INSTITUTION:COURSE_CODE"),
        (4, "min_level", "3", "min_level does not apply"),
        (2, "min_grade", "60", "min_grade applies only to credit_recognition"),
        (4, "min_grade", "120", "between 0 and 100"),
        (2, "valid_years", "0", "at least 1"),
        (2, "mapping_id", "M 1", "letters, digits"),
    ],
)
def test_a_bad_cell_is_located(
    write_csv: Writer, row: int, column: str, value: str, fragment: str
) -> None:
    problems = problems_of(write_csv, _mutated(row, column, value), programme_rows())
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.file.endswith("map.csv")
    assert (problem.line, problem.column) == (row, column)
    assert fragment in problem.message


def test_rows_of_one_mapping_must_agree(write_csv: Writer) -> None:
    (problem,) = problems_of(write_csv, _mutated(3, "provider", "Somebody"), programme_rows())
    assert (problem.line, problem.column) == (3, "provider")
    assert "on line 2; its rows must agree" in problem.message


def test_a_course_credited_differently_between_rows(write_csv: Writer) -> None:
    rows = map_rows()
    rows[5][COL["credits"]] = "5"  # line 6
    problems = problems_of(write_csv, rows, programme_rows())
    assert (problems[0].line, problems[0].column) == (6, "credits")
    assert "course C3 has credits '5' here but '4' on line 5" in problems[0].message


def test_a_course_credited_differently_from_the_programme(write_csv: Writer) -> None:
    rows = map_rows()
    rows[3][COL["credits"]] = "5"  # line 4
    (problem,) = problems_of(write_csv, rows, programme_rows())
    assert (problem.file.endswith("map.csv"), problem.line, problem.column) == (True, 4, "credits")
    assert "differ from the 4 of programme P" in problem.message


def test_duplicate_rows(write_csv: Writer) -> None:
    rows = map_rows()
    rows.append(list(rows[2]))
    (problem,) = problems_of(write_csv, rows, programme_rows())
    assert problem.line == 7 and "duplicate row" in problem.message and "line 3" in problem.message
    programmes = programme_rows()
    programmes.append(list(programmes[1]))
    (problem,) = problems_of(write_csv, map_rows(), programmes)
    assert problem.file.endswith("programmes.csv") and problem.line == 5
    assert "already on line 2" in problem.message


def test_many_to_one_rows_must_form_a_grid(write_csv: Writer) -> None:
    rows = map_rows()
    extra = list(rows[4])  # line 5: 6-18-02-04 -> C3
    extra[COL["course_code"]], extra[COL["course_title"]], extra[COL["credits"]] = (
        "C1",
        "Course one",
        "3",
    )
    rows.append(extra)  # 6-18-02-04 -> C1, but 6-31-01-03 (line 6) has no C1 row
    (problem,) = problems_of(write_csv, rows, programme_rows())
    assert problem.line == 6 and "no row pairing 6-31-01-03 with course C1" in problem.message


def test_programme_whose_courses_exceed_its_total(write_csv: Writer) -> None:
    programmes = programme_rows()
    for row in programmes[1:]:
        row[3] = "9"
    (problem,) = problems_of(write_csv, map_rows(), programmes)
    assert problem.file.endswith("programmes.csv")
    assert (problem.line, problem.column) == (2, "total_credits")
    assert "add up to 10 credits, more than the programme total 9" in problem.message


def test_cycles_within_an_institution_are_refused(write_csv: Writer) -> None:
    rows = map_rows()
    base = ["credit_recognition", "Provider"]
    tail = ["SOU", "P"]
    rows.append(["L1", *base, "SOU:C1", "Course one", "", *tail, "C2", "Course two", "3", "5",
                 "2021-09-01", "", "1", ""])  # fmt: skip
    rows.append(["L2", *base, "SOU:C2", "Course two", "", *tail, "C1", "Course one", "3", "5",
                 "2021-09-01", "", "1", ""])  # fmt: skip
    (problem,) = problems_of(write_csv, rows, programme_rows())
    assert (problem.line, problem.column) == (7, "qualification_code")
    assert "loops back on itself" in problem.message


def test_overlapping_versions_are_located(write_csv: Writer) -> None:
    rows = map_rows()
    second = list(rows[4])
    second[COL["version"]] = "2"
    rows.append(second)
    (problem,) = problems_of(write_csv, rows, programme_rows())
    assert (problem.line, problem.column) == (7, "effective_from")


def test_header_problems(write_csv: Writer) -> None:
    rows = map_rows()
    rows[0][COL["mode"]] = "modus"
    problems = problems_of(write_csv, rows, programme_rows())
    assert {(p.line, p.column) for p in problems} == {(1, "mode"), (1, "modus")}
    assert problems_of(write_csv, [], programme_rows())[0].message.startswith("the file is empty")


def test_loading_is_atomic_and_reports_every_problem(write_csv: Writer) -> None:
    maps = _mutated(2, "mode", "nope")
    maps[3][COL["credits"]] = "x"  # line 4
    programmes = programme_rows()
    programmes[2][10] = "-1"
    problems = problems_of(write_csv, maps, programmes)
    assert [(Path(p.file).name, p.line, p.column) for p in problems] == [
        ("map.csv", 2, "mode"),
        ("map.csv", 4, "credits"),
        ("programmes.csv", 3, "credits"),
    ]
    assert str(problems[0]).startswith(f"{problems[0].file}:2: column mode: unknown mode")


def test_missing_file_and_bom(write_csv: Writer, tmp_path: Path) -> None:
    with pytest.raises(MapLoadError, match="cannot read the file"):
        load_catalog(tmp_path / "absent.csv", write_csv("p.csv", programme_rows()))
    path = write_csv("map.csv", map_rows())
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(load_catalog(path, write_csv("p.csv", programme_rows())).mappings) == 3


def test_load_programmes_alone(write_csv: Writer) -> None:
    (programme,) = load_programmes(write_csv("p.csv", programme_rows()))
    assert programme.total_credits == 12 and len(programme.courses) == 3
    assert programme.caps.max_certificates == 2
