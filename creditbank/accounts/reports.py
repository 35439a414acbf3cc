"""Reports for registrars and providers, as CSV or XLSX, with Chinese or English headers.

Three reports, read from the read models (which ``creditbank rebuild`` re-derives from the log):

* ``conversions``: a programme's conversions posted in a date range (reversed ones marked);
* ``roster``: a programme's learners with their recognised credits and progress toward the total;
* ``certificates``: a provider's issued certificates in a date range, revoked ones marked.

Numbers are exact: credits stay :class:`~decimal.Decimal` (XLSX cells hold the decimal's own
digits, never a binary float), shares are decimals rounded half-up to 0.1%. Times in the log are
UTC; a report shows them, and filters its date range, in the configured time zone (default
``Asia/Shanghai``), so a conversion posted at 23:30 UTC belongs to the next Shanghai day.

Who may ask is the caller's business (``api/routes/reports.py``): the scope is passed in
(``registrar``: only conversions that registrar posted; ``provider``: only its certificates).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from creditbank.accounts.tables import CertificateRow, ConversionRow, RecognitionRow
from creditbank.accounts.tokens import Principal
from creditbank.errors import InputError, NotFoundError
from creditbank.ledger.entry import format_time
from creditbank.mapping import Programme

__all__ = [
    "Report",
    "certificates_report",
    "conversions_report",
    "registrar_scope",
    "roster_report",
    "to_csv",
    "to_xlsx",
]

Lang = Literal["zh", "en"]
Cell = str | int | Decimal | None


@dataclass(frozen=True)
class Report:
    title: str
    #: (key, Chinese header, English header)
    columns: tuple[tuple[str, str, str], ...]
    rows: tuple[dict[str, Cell], ...]

    def header(self, lang: Lang) -> list[str]:
        return [zh if lang == "zh" else en for _, zh, en in self.columns]


def _window(start: date, end: date, tz: ZoneInfo) -> tuple[str, str]:
    """The UTC instants bounding local days ``start``..``end`` (inclusive), as ISO text."""
    if end < start:
        raise InputError(f"the date range ends ({end}) before it starts ({start})")
    if (end - start).days > 3660:
        raise InputError("a report covers at most ten years")
    low = datetime.combine(start, time.min, tz).astimezone(ZoneInfo("UTC"))
    high = datetime.combine(end + timedelta(days=1), time.min, tz).astimezone(ZoneInfo("UTC"))
    return format_time(low), format_time(high)


def _local(stamp: str | None, tz: ZoneInfo) -> str | None:
    if stamp is None:
        return None
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def conversions_report(
    engine: Engine,
    programme: Programme,
    start: date,
    end: date,
    tz: ZoneInfo,
    *,
    registrar: str | None,
) -> Report:
    low, high = _window(start, end, tz)
    query = select(ConversionRow).where(
        ConversionRow.programme_code == programme.code,
        col(ConversionRow.posted_at) >= low,
        col(ConversionRow.posted_at) < high,
    )
    if registrar is not None:
        query = query.where(ConversionRow.registrar == registrar)
    with Session(engine) as session:
        found = list(session.exec(query.order_by(col(ConversionRow.posted_index))))
    rows: tuple[dict[str, Cell], ...] = tuple(
        {
            "conversion_id": c.conversion_id,
            "learner_id": c.learner_id,
            "as_of": c.as_of,
            "credits": Decimal(c.credits),
            "posted_at": _local(c.posted_at, tz),
            "posted_index": c.posted_index,
            "status": "reversed" if c.reversed_index is not None else "posted",
            "reversed_at": _local(c.reversed_at, tz),
        }
        for c in found
    )
    return Report(
        f"{programme.code} conversions {start}..{end}",
        (
            ("conversion_id", "转换编号", "conversion id"),
            ("learner_id", "学员编号", "learner id"),
            ("as_of", "认定日期", "as of"),
            ("credits", "认定学分", "credits"),
            ("posted_at", f"登记时间（{tz.key}）", f"posted at ({tz.key})"),
            ("posted_index", "日志序号", "log index"),
            ("status", "状态", "status"),
            ("reversed_at", f"撤销时间（{tz.key}）", f"reversed at ({tz.key})"),
        ),
        rows,
    )


def roster_report(engine: Engine, programme: Programme, *, registrar: str | None) -> Report:
    """Every learner with a conversion in ``programme`` (by ``registrar``, if given)."""
    query = (
        select(RecognitionRow, ConversionRow)
        .where(col(RecognitionRow.conversion_id) == col(ConversionRow.conversion_id))
        .where(RecognitionRow.programme_code == programme.code)
    )
    recognised: dict[str, Decimal] = defaultdict(Decimal)
    courses: dict[str, set[str]] = defaultdict(set)
    learners: set[str] = set()
    with Session(engine) as session:
        for recognition, conversion in session.exec(query):
            if registrar is not None and conversion.registrar != registrar:
                continue
            learners.add(recognition.learner_id)
            if recognition.reversed_index is None:
                recognised[recognition.learner_id] += Decimal(recognition.credits)
                courses[recognition.learner_id].add(recognition.course_code)
    total = programme.total_credits
    rows: tuple[dict[str, Cell], ...] = tuple(
        {
            "learner_id": learner,
            "recognised_courses": len(courses[learner]),
            "recognised_credits": recognised[learner],
            "total_credits": total,
            "remaining_credits": total - recognised[learner],
            "progress_percent": (recognised[learner] * 100 / total).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            ),
        }
        for learner in sorted(learners)
    )
    return Report(
        f"{programme.code} roster",
        (
            ("learner_id", "学员编号", "learner id"),
            ("recognised_courses", "已认定课程数", "courses recognised"),
            ("recognised_credits", "已认定学分", "credits recognised"),
            ("total_credits", "总学分", "total credits"),
            ("remaining_credits", "尚需学分", "credits still needed"),
            ("progress_percent", "进度（%）", "progress (%)"),
        ),
        rows,
    )


def certificates_report(
    engine: Engine, provider: str, start: date, end: date, tz: ZoneInfo
) -> Report:
    low, high = _window(start, end, tz)
    query = (
        select(CertificateRow)
        .where(
            CertificateRow.provider == provider,
            col(CertificateRow.recorded_at) >= low,
            col(CertificateRow.recorded_at) < high,
        )
        .order_by(col(CertificateRow.issued_index))
    )
    with Session(engine) as session:
        found = list(session.exec(query))
    rows: tuple[dict[str, Cell], ...] = tuple(
        {
            "certificate_id": c.certificate_id,
            "learner_id": c.learner_id,
            "qualification_code": c.qualification_code,
            "level": c.level,
            "issued_on": c.issued_on,
            "recorded_at": _local(c.recorded_at, tz),
            "status": "revoked" if c.revoked_index is not None else "issued",
            "revoked_at": _local(c.revoked_at, tz),
        }
        for c in found
    )
    return Report(
        f"{provider} certificates {start}..{end}",
        (
            ("certificate_id", "证书编号", "certificate id"),
            ("learner_id", "学员编号", "learner id"),
            ("qualification_code", "职业代码", "occupation code"),
            ("level", "等级", "level"),
            ("issued_on", "发证日期", "issued on"),
            ("recorded_at", f"登记时间（{tz.key}）", f"recorded at ({tz.key})"),
            ("status", "状态", "status"),
            ("revoked_at", f"撤销时间（{tz.key}）", f"revoked at ({tz.key})"),
        ),
        rows,
    )


_STATUS_ZH = {"posted": "有效", "reversed": "已撤销", "issued": "有效", "revoked": "已撤销"}


def _cells(report: Report, lang: Lang) -> list[list[Cell]]:
    out = []
    for row in report.rows:
        cells: list[Cell] = []
        for key, _, _ in report.columns:
            value = row.get(key)
            if key == "status" and lang == "zh" and isinstance(value, str):
                value = _STATUS_ZH.get(value, value)
            cells.append(value)
        out.append(cells)
    return out


def to_csv(report: Report, lang: Lang) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese headers correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(report.header(lang))
    for cells in _cells(report, lang):
        writer.writerow(["" if c is None else str(c) for c in cells])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(report: Report, lang: Lang) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "report"
    sheet.append(report.header(lang))
    for cells in _cells(report, lang):
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def registrar_scope(principal: Principal) -> str | None:
    """Whose conversions a programme report covers: an admin's all (None), a registrar's own.

    The API's report routes and the web's report downloads both ask this, so the rule is one.
    """
    return None if principal.role == "admin" else principal.actor_id


def programme_of(programmes: Sequence[Programme], code: str) -> Programme:
    for programme in programmes:
        if programme.code == code:
            return programme
    raise NotFoundError(f"there is no programme {code!r}")
