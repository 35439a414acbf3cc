"""The credential on paper: an A4 PDF in Chinese with English labels, a QR code, the JSON attached.

The font is Noto Sans SC (SIL Open Font License), installed from PyPI with the package
``pylopdf-fonts-zh-cn`` and embedded as a subset, so the text renders on any reader whether or not
it has Chinese fonts. The QR code opens the verify page for this credential; the signed JSON is
attached (``credential.json``) so the paper copy carries the document that can actually be checked.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import segno
from fpdf import FPDF
from pylopdf_fonts_zh_cn import sans_path
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from creditbank.errors import CredentialFormatError

__all__ = ["ATTACHMENT_NAME", "read_attached_credential", "render_credential_pdf"]

ATTACHMENT_NAME = "credential.json"
_FONT = "NotoSansSC"
_MODES = {
    "certificate_recognition": "证书认可 certificate",
    "through_train": "直通车 through-train",
    "credit_recognition": "学分认可 credit",
    "course_restructuring": "课程重组 restructured",
}


def _achievements(document: Mapping[str, Any], kind: str) -> list[Mapping[str, Any]]:
    subject = document.get("credentialSubject", {})
    found = []
    for item in subject.get("verifiableCredential", []):
        facts = item.get("credentialSubject", {}).get("creditbank", {})
        if facts.get("kind") == kind:
            found.append(facts)
    return found


class _Page(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_FONT, size=7)
        self.set_text_color(110)
        self.cell(
            0,
            5,
            f"第 {self.page_no()} 页 Page {self.page_no()} · 已签名凭证见附件 {ATTACHMENT_NAME} "
            "(signed credential attached) · eddsa-jcs-2022",
            align="C",
        )


def _heading(pdf: FPDF, chinese: str, english: str) -> None:
    pdf.ln(3)
    pdf.set_font(_FONT, size=12)
    pdf.set_text_color(20, 60, 120)
    pdf.cell(0, 7, f"{chinese}  {english}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.set_font(_FONT, size=8.5)


def _table(
    pdf: FPDF, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]
) -> None:
    if not rows:
        pdf.set_text_color(110)
        pdf.cell(0, 6, "无 None", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
        return
    with pdf.table(col_widths=tuple(widths), line_height=5, first_row_as_headings=False) as table:
        heading = table.row()
        for text in header:
            heading.cell(text, style=None)
        for values in rows:
            row = table.row()
            for text in values:
                row.cell(text)


def _qr(pdf: FPDF, url: str, x: float, y: float, size: float) -> None:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=6, border=2)
    buffer.seek(0)
    pdf.image(buffer, x=x, y=y, w=size, h=size)


def _header(pdf: FPDF, document: Mapping[str, Any], verify_url: str) -> None:
    _qr(pdf, verify_url, x=160, y=12, size=36)
    pdf.set_font(_FONT, size=18)
    pdf.cell(140, 10, "学分银行学习成果证明", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=11)
    pdf.cell(140, 6, "Credit Bank Learning Record", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    subject = document.get("credentialSubject", {})
    issuer = document.get("issuer", {})
    transcript = document.get("evidence", [{}])[0].get("transcript", {})
    lines = [
        ("学员编号 Learner ID", str(subject.get("id", ""))),
        ("签发机构 Issuer", f"{issuer.get('name', '')} ({issuer.get('id', '')})"),
        ("生效时间 Valid from", str(document.get("validFrom", ""))),
        ("凭证编号 Credential ID", str(document.get("id", ""))),
        ("日志规模 Log tree size", str(transcript.get("tree_size", ""))),
    ]
    for identifier in subject.get("identifier", []):
        if identifier.get("identityType") == "name":
            lines.insert(1, ("姓名 Name", str(identifier.get("identityHash", ""))))
    pdf.set_font(_FONT, size=8.5)
    for label, value in lines:
        pdf.cell(42, 5, label)
        pdf.multi_cell(100, 5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), 52))
    pdf.set_font(_FONT, size=7)
    pdf.set_text_color(110)
    pdf.cell(
        0, 4, "扫描二维码或打开以下网址验证本凭证 Scan the QR code or open this address to verify:"
    )
    pdf.ln(4)
    pdf.multi_cell(0, 4, verify_url, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)


@dataclass(frozen=True)
class _Section:
    """One table of the page: its title, column labels and widths, and how a row reads."""

    kind: str
    chinese: str
    english: str
    header: tuple[str, ...]
    widths: tuple[int, ...]
    row: Callable[[Mapping[str, Any]], list[str]]


_SECTIONS = (
    _Section(
        "certificate",
        "职业技能等级证书",
        "Vocational certificates",
        (
            "职业代码 Code",
            "职业名称 Occupation",
            "等级 Level",
            "发证日期 Issued",
            "发证机构 Provider",
            "日志 Log #",
        ),
        (24, 34, 14, 24, 72, 18),
        lambda c: [
            c["qualification_code"],
            c["qualification_name"],
            str(c["level"]),
            c["issued_on"],
            c["provider"],
            str(c["index"]),
        ],
    ),
    _Section(
        "credit",
        "课程学分",
        "Earned course credits",
        (
            "院校 Institution",
            "课程 Course",
            "课程名称 Title",
            "学分 Credits",
            "日期 Earned",
            "日志 Log #",
        ),
        (24, 22, 64, 20, 36, 20),
        lambda c: [
            c["institution"],
            c["course_code"],
            c["course_title"],
            c["credits"],
            c["earned_on"],
            str(c["index"]),
        ],
    ),
    _Section(
        "recognition",
        "认定课程",
        "Recognised courses",
        (
            "专业 Programme",
            "课程 Course",
            "课程名称 Title",
            "学分 Credits",
            "对应规则 Mapping",
            "方式 Mode",
            "日志 Log #",
        ),
        (26, 18, 42, 16, 30, 36, 18),
        lambda r: [
            r["programme_code"],
            r["course_code"],
            r["course_title"],
            r["credits"],
            r["mapping_id"],
            _MODES.get(r["mode"], r["mode"]),
            str(r["conversion_index"]),
        ],
    ),
    _Section(
        "programme_total",
        "专业累计认定学分",
        "Credits recognised per programme",
        ("专业 Programme", "专业名称 Title", "认定学分 Recognised credits"),
        (40, 100, 46),
        lambda p: [p["programme_code"], p["programme_title"], p["recognised_credits"]],
    ),
)


def _sections(pdf: FPDF, document: Mapping[str, Any]) -> None:
    for section in _SECTIONS:
        _heading(pdf, section.chinese, section.english)
        rows = [section.row(item) for item in _achievements(document, section.kind)]
        _table(pdf, section.header, rows, section.widths)


def render_credential_pdf(document: Mapping[str, Any], *, verify_url: str) -> bytes:
    """The A4 PDF of a signed credential; ``verify_url`` is what the QR code opens."""
    pdf = _Page(format="A4")
    pdf.set_title("学分银行学习成果证明 Credit Bank Learning Record")
    pdf.set_creator("creditbank")
    pdf.set_lang("zh-CN")
    pdf.add_font(_FONT, fname=str(sans_path()))
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()
    _header(pdf, document, verify_url)
    _sections(pdf, document)
    pdf.embed_file(
        basename=ATTACHMENT_NAME,
        bytes=json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"),
        desc="已签名的 W3C 可验证凭证 The signed W3C Verifiable Credential (eddsa-jcs-2022)",
        compress=True,
    )
    return bytes(pdf.output())


def read_attached_credential(pdf: bytes) -> Any:
    """The credential JSON attached to a credential PDF (what a paper copy lets you check)."""
    try:
        attachments = PdfReader(io.BytesIO(pdf)).attachments
    except (PdfReadError, ValueError, KeyError) as exc:
        raise CredentialFormatError(f"not a readable PDF: {exc}") from exc
    found = attachments.get(ATTACHMENT_NAME)
    if not found:
        raise CredentialFormatError(f"the PDF has no {ATTACHMENT_NAME} attachment")
    try:
        return json.loads(found[0])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CredentialFormatError(f"the attached {ATTACHMENT_NAME} is not JSON") from exc
