"""Cohort files: learners, certificates, revocations and earned credits, read and validated.

A registrar imports learners and earned credits, a provider the certificates it issued or revokes
(a revocation's reason is a reason code, or its Chinese or English label). The whole
file is read and every row checked before anything is signed, so a bad file is reported at once,
every problem with file, row (the header is row 1, as Excel numbers it), column and a sentence in
Chinese and English. Headers may be the English column names or their Chinese labels.

Encodings: CSV files are UTF-8 (a byte-order mark is fine). Excel in China often saves "CSV" as
GBK; such a file is detected (it does not decode as UTF-8 but does as GB18030, GBK's superset) and
read, and the import says so. Anything else is refused with how to save the file as UTF-8.
XLSX files are read with openpyxl (the first sheet); Excel dates and numbers become ISO dates and
exact decimals (a float cell is read through its shortest decimal repr, so 2.5 stays 2.5).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from creditbank.accounts.kinds.fields import REASON_CODES
from creditbank.errors import CohortFileError, CohortProblem
from creditbank.mapping.values import parse_occupation_code

__all__ = ["KINDS", "CohortFile", "CohortRow", "Column", "read_cohort_file"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
_INSTITUTION = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
_COURSE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_CREDITS = re.compile(r"^(0|[1-9]\d{0,3})(\.\d{1,2})?$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_SAVE_AS_UTF8 = (
    "请在 Excel 中选择“另存为 → CSV UTF-8（逗号分隔）(*.csv)”后重新导入",
    'in Excel choose "Save As -> CSV UTF-8 (Comma delimited) (*.csv)" and import that file',
)


class CellError(ValueError):
    """A bad cell: the Chinese and the English sentence."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    parse: Callable[[str], Any]


def _identifier(value: str) -> str:
    if not _ID.match(value):
        raise CellError(
            "须为字母、数字或 . _ : -（至多 128 个字符）",
            f"must be letters, digits, '.', '_', ':' or '-' (at most 128), got {value!r}",
        )
    return value


def _text(limit: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if not value or len(value) > limit:
            raise CellError(f"不能为空，至多 {limit} 个字符", f"must be 1-{limit} characters")
        return value

    return parse


def _id_number(value: str) -> str:
    value = value.upper()
    if len(value) == 18:
        if not _ID_NUMBER.match(value):
            raise CellError(
                "身份证号格式不正确", "a resident ID number is 17 digits then a digit or X"
            )
        total = sum(int(d) * w for d, w in zip(value[:17], _WEIGHTS, strict=True))
        if "10X98765432"[total % 11] != value[17]:
            raise CellError("身份证号校验位不正确", "the ID number's check digit is wrong")
        return value
    return _text(64)(value)


def _pattern(regex: re.Pattern[str], zh: str, en: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if not regex.match(value):
            raise CellError(zh, f"{en}, got {value!r}")
        return value

    return parse


def _occupation(value: str) -> str:
    try:
        return parse_occupation_code(value)
    except ValueError as exc:
        raise CellError("职业代码须形如 6-18-01-01", str(exc)) from None


def _int_range(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not re.fullmatch(r"\d{1,3}", value) or not low <= int(value) <= high:
            raise CellError(
                f"须为 {low} 至 {high} 的整数",
                f"must be a whole number {low}..{high}, got {value!r}",
            )
        return int(value)

    return parse


def _credits(value: str) -> str:
    if not _CREDITS.match(value) or Decimal(value) <= 0:
        raise CellError(
            "学分须为正数，至多两位小数（如 2 或 2.5）",
            f"credits must be a positive decimal with at most 2 places (2, 2.5), got {value!r}",
        )
    return value


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CellError(
            "日期须为 YYYY-MM-DD", f"a date is written YYYY-MM-DD, got {value!r}"
        ) from None


def _reason(value: str) -> str:
    """A reason code, or its Chinese or English label (what a person types in Excel)."""
    for code, (zh, en) in REASON_CODES.items():
        if value in (code, zh) or value.casefold() == en:
            return code
    raise CellError(
        "撤销原因须为原因代码之一："
        + "、".join(f"{c}（{zh}）" for c, (zh, _) in REASON_CODES.items()),
        f"the reason must be one of the reason codes ({', '.join(REASON_CODES)}), got {value!r}",
    )


KINDS: dict[str, tuple[str, tuple[Column, ...]]] = {
    "learners": (
        "learner.registered",
        (Column("name", "姓名", _text(200)), Column("id_number", "身份证号", _id_number)),
    ),
    "certificates": (
        "certificate.issued",
        (
            Column("certificate_id", "证书编号", _identifier),
            Column("learner_id", "学员编号", _identifier),
            Column("qualification_code", "职业代码", _occupation),
            Column("level", "等级", _int_range(1, 5)),
            Column("issued_on", "发证日期", _date),
        ),
    ),
    "revocations": (
        "certificate.revoked",
        (Column("certificate_id", "证书编号", _identifier), Column("reason", "撤销原因", _reason)),
    ),
    "credits": (
        "credit.earned",
        (
            Column("credit_id", "学分编号", _identifier),
            Column("learner_id", "学员编号", _identifier),
            Column(
                "institution",
                "院校代码",
                _pattern(_INSTITUTION, "院校代码须为大写字母开头", "an institution code like SSPU"),
            ),
            Column(
                "course_code", "课程代码", _pattern(_COURSE, "课程代码格式不正确", "a course code")
            ),
            Column("credits", "学分", _credits),
            Column("grade", "成绩", _int_range(0, 100)),
            Column("earned_on", "获得日期", _date),
        ),
    ),
}


@dataclass(frozen=True)
class CohortRow:
    """One good row: its row number and its values by (English) column name."""

    row: int
    values: dict[str, Any]
    cells: dict[str, str]


@dataclass
class CohortFile:
    kind: str
    path: str
    header: list[str]
    rows: list[CohortRow] = field(default_factory=list)
    problems: list[CohortProblem] = field(default_factory=list)
    #: cells of every data row by row number, to write rejects in the file's own columns
    raw: dict[int, list[str]] = field(default_factory=dict)
    encoding: str = "utf-8"

    def problem(self, row: int, column: str | None, zh: str, en: str) -> None:
        self.problems.append(CohortProblem(self.path, row, column, zh, en))


def read_cohort_file(kind: str, path: str | Path, *, today: date) -> CohortFile:
    """Read and check every row; raise :class:`CohortFileError` only if the file is unreadable.

    Bad rows are listed in ``problems`` (the caller refuses the file, or with ``--partial`` goes
    on with ``rows``, the good ones). ``today`` (in the configured time zone) bounds dates.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown cohort kind {kind!r}")
    name = Path(path).name
    cohort = CohortFile(kind, name, [])
    try:
        table = _read_table(Path(path), cohort)
    except CohortFileError:
        raise
    except OSError as exc:
        raise CohortFileError(
            [CohortProblem(name, 0, None, "无法读取文件", f"cannot read the file: {exc}")]
        ) from None
    if not table:
        raise CohortFileError(
            [
                CohortProblem(
                    name, 1, None, "文件为空，缺少表头", "the file is empty; expected a header"
                )
            ]
        )
    _check_rows(cohort, table, today)
    return cohort


def _read_table(path: Path, cohort: CohortFile) -> list[list[str]]:
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return _read_xlsx(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise CohortFileError(
                [
                    CohortProblem(
                        cohort.path,
                        1,
                        None,
                        f"文件不是 UTF-8 或 GBK 编码；{_SAVE_AS_UTF8[0]}",
                        f"the file is neither UTF-8 nor GBK (byte {exc.start}); {_SAVE_AS_UTF8[1]}",
                    )
                ]
            ) from None
        cohort.encoding = "gbk"
    try:
        return [[c.strip() for c in r] for r in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise CohortFileError(
            [CohortProblem(cohort.path, 0, None, "CSV 格式错误", f"malformed CSV: {exc}")]
        ) from None


def _read_xlsx(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook  # only files that are XLSX pay for it

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        try:
            number = Decimal(repr(value))
        except InvalidOperation:
            return str(value)
        return format(number.normalize(), "f") if number == number.to_integral() else repr(value)
    return str(value).strip()


def _check_rows(cohort: CohortFile, table: list[list[str]], today: date) -> None:
    entry_type, columns = KINDS[cohort.kind]
    del entry_type
    by_label = {c.name: c for c in columns} | {c.zh: c for c in columns}
    header = [by_label[h].name if h in by_label else h for h in table[0]]
    cohort.header = table[0]
    names = [c.name for c in columns]
    for column in columns:
        if column.name not in header:
            cohort.problem(
                1, column.name, f"缺少列“{column.zh}”", f"required column {column.name} is missing"
            )
    for label, name in zip(table[0], header, strict=True):
        if name not in names and name:
            cohort.problem(
                1, label, "未知的列", f"unknown column; the columns are {', '.join(names)}"
            )
    if cohort.problems:
        return
    seen: dict[str, int] = {}
    key = names[0] if cohort.kind != "learners" else "id_number"
    for number, cells in enumerate(table[1:], start=2):
        if not any(cells):
            continue
        cohort.raw[number] = cells
        if len(cells) != len(header):
            cohort.problem(
                number,
                None,
                f"该行有 {len(cells)} 个字段，表头有 {len(header)} 个",
                f"row has {len(cells)} fields but the header has {len(header)}",
            )
            continue
        row = _check_row(cohort, number, dict(zip(header, cells, strict=True)), columns, today)
        if row is None:
            continue
        first = seen.setdefault(str(row.values[key]), number)
        if first != number:
            cohort.problem(
                number, key, f"与第 {first} 行重复", f"duplicate of row {first} ({row.values[key]})"
            )
            continue
        cohort.rows.append(row)


def _check_row(
    cohort: CohortFile, number: int, cells: dict[str, str], columns: Iterable[Column], today: date
) -> CohortRow | None:
    values: dict[str, Any] = {}
    ok = True
    for column in columns:
        try:
            values[column.name] = column.parse(cells[column.name])
        except CellError as exc:
            cohort.problem(number, column.name, f"“{column.zh}”{exc.zh}", exc.en)
            ok = False
            continue
        value = values[column.name]
        if isinstance(value, date) and value > today:
            cohort.problem(
                number,
                column.name,
                f"日期 {value} 晚于今天 {today}",
                f"date {value} is after today ({today})",
            )
            ok = False
    return CohortRow(number, values, cells) if ok else None
