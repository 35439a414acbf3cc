"""The paper credential: A4, Chinese rendered with an embedded font, a QR code, the JSON attached.

The PDF is rendered to pixels with PDFium. "Rendered" means each Chinese character's box has ink,
and different characters draw differently: a missing font draws every character as the same
empty box (tofu), which this test would catch.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pypdfium2 as pdfium
import pytest
import segno
from fastapi.testclient import TestClient
from PIL import Image
from pypdf import PdfReader
from typer.testing import CliRunner

from creditbank.cli import app
from creditbank.credentials.pdf import ATTACHMENT_NAME, read_attached_credential
from creditbank.errors import CredentialFormatError
from tests.api.world import World

A4_POINTS = (595.28, 841.89)


@pytest.fixture(scope="module")
def pdf_and_json(http: TestClient, world: World) -> tuple[bytes, dict[str, Any]]:
    _conversion, learner_id = world.new_conversion()
    token = world.bank.issue_token(learner_id=learner_id)
    headers = world.bearer(token)
    response = http.get(f"/v1/learners/{learner_id}/credential.pdf", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    document = http.get(f"/v1/learners/{learner_id}/credential", headers=headers).json()
    return response.content, document


def _glyph_bitmaps(pdf: bytes, wanted: str) -> dict[str, bytes]:
    """Each wanted character's rendered pixels (grey), cut out of the page at its text box."""
    doc = pdfium.PdfDocument(pdf)
    page = doc[0]
    scale = 4
    image = page.render(scale=scale, grayscale=True).to_pil()
    height = page.get_height()
    text = page.get_textpage()
    found: dict[str, bytes] = {}
    for i in range(text.count_chars()):
        char = text.get_text_range(i, 1)
        if char in wanted and char not in found:
            left, bottom, right, top = text.get_charbox(i)
            box = (
                int(left * scale),
                int((height - top) * scale),
                int(right * scale) + 1,
                int((height - bottom) * scale) + 1,
            )
            found[char] = image.crop(box).resize((24, 24)).tobytes()
    return found


def test_a4_with_chinese_text_rendered_not_tofu(pdf_and_json: tuple[bytes, Any]) -> None:
    pdf, _document = pdf_and_json
    doc = pdfium.PdfDocument(pdf)
    width, height = doc[0].get_size()
    assert (round(width, 1), round(height, 1)) == (round(A4_POINTS[0], 1), round(A4_POINTS[1], 1))
    page_text = doc[0].get_textpage().get_text_range()
    for label in ("学分银行学习成果证明", "职业技能等级证书", "认定课程", "Learning Record"):
        assert label in page_text
    glyphs = _glyph_bitmaps(pdf, "学分银行证书")
    assert set(glyphs) == set("学分银行证书")
    for char, pixels in glyphs.items():
        assert min(pixels) < 100, f"{char} has no ink"
    assert len(set(glyphs.values())) == len(glyphs), "different characters drew the same box"


def test_font_is_embedded(pdf_and_json: tuple[bytes, Any]) -> None:
    reader = PdfReader(io.BytesIO(pdf_and_json[0]))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    descendants = [fonts[name].get_object() for name in fonts]
    cjk = [f for f in descendants if "NotoSansSC" in str(f.get("/BaseFont"))]
    assert cjk, "the CJK font is not used"
    descriptor = cjk[0]["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_attachment_round_trips(pdf_and_json: tuple[bytes, Any]) -> None:
    pdf, document = pdf_and_json
    attachments = PdfReader(io.BytesIO(pdf)).attachments
    assert list(attachments) == [ATTACHMENT_NAME]
    assert json.loads(attachments[ATTACHMENT_NAME][0]) == document


def test_qr_code_opens_the_verify_page(pdf_and_json: tuple[bytes, Any]) -> None:
    """The QR image is exactly the code of ``<base>/verify?credential=<base>/v1/credentials/<id>``."""
    pdf, document = pdf_and_json
    uuid = document["id"].removeprefix("urn:uuid:")
    url = "http://testserver/verify?" + urlencode(
        {"credential": f"http://testserver/v1/credentials/{uuid}"}
    )
    assert parse_qs(urlsplit(url).query)["credential"] == [
        f"http://testserver/v1/credentials/{uuid}"
    ]
    text = pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range().replace("\r\n", "")
    assert url in text
    expected = io.BytesIO()
    segno.make(url, error="m").save(expected, kind="png", scale=6, border=2)
    expected.seek(0)
    images = PdfReader(io.BytesIO(pdf)).pages[0].images
    assert len(images) == 1
    drawn = images[0].image.convert("L")
    wanted = Image.open(expected).convert("L")
    assert drawn.size == wanted.size and drawn.tobytes() == wanted.tobytes()


def test_verify_credential_reads_the_pdf(
    pdf_and_json: tuple[bytes, Any], world: World, tmp_path: Path
) -> None:
    path = tmp_path / "credential.pdf"
    path.write_bytes(pdf_and_json[0])
    result = CliRunner().invoke(
        app, ["verify-credential", str(path), "--log-key", world.bank.log.verifier.vkey]
    )
    assert result.exit_code == 0, result.output
    assert pdf_and_json[1]["id"] in result.output
    with pytest.raises(CredentialFormatError):
        read_attached_credential(b"%PDF-1.4 not really")
