"""The planner's explanations and why-nots read in Chinese on the Chinese pages (real HTTP).

The planner speaks in message ids with parameters (``creditbank.mapping.wording``); the API and
the CLI keep the English sentences, the pages translate them through the zh_CN catalog.
"""

from __future__ import annotations

import html
import re
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from creditbank import mapping
from creditbank.client.signer import EntrySigner
from creditbank.ledger.keys import load_private_key
from creditbank.web.i18n import load_translations
from creditbank.web.messages import used_messages
from tests.web.conftest import LiveDemo

#: Words of the planner's English sentences; none may be left on a Chinese page.
_ENGLISH = re.compile(
    r"\b(the|is|of|and|not|mapping|level|issued|certificate|credits?|holding|through|valid|"
    r"years|recognised|programme|grade|earned|expired|meets|needs|takes|counts|used)\b",
    re.IGNORECASE,
)
_HAN = re.compile(r"[\u4e00-\u9fff]")


@contextmanager
def _signed_in(live: LiveDemo, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)
        assert found is not None
        answer = client.post("/sign-in", data={"token": token, "csrf_token": found.group(1)})
        assert answer.status_code == 303, answer.text
        yield client


def _sentences(page: str, attribute: str) -> list[str]:
    pattern = rf"<(?:td|span) {attribute}[^>]*>(.*?)</(?:td|span)>"
    return [html.unescape(text).strip() for text in re.findall(pattern, page, re.DOTALL)]


def test_the_chinese_plan_page_shows_no_english_rule_sentence(live: LiveDemo) -> None:
    registrar = live.setup.registrars[0]
    explained: list[str] = []
    why_not: list[str] = []
    english: list[str] = []
    with _signed_in(live, registrar.token) as client:
        for learner in live.setup.learners:
            programme = live.setup.programmes[learner.learner_id]
            query = {"learner_id": learner.learner_id, "programme": programme}
            page = client.get("/registrar/plan", params=query)
            assert page.status_code == 200, page.text
            assert '<html lang="zh-CN">' in page.text
            explained += _sentences(page.text, "data-explanation")
            why_not += _sentences(page.text, "data-why-not")
            with httpx.Client(base_url=live.url, timeout=30) as api:
                answer = api.get(
                    f"/v1/learners/{learner.learner_id}/plan",
                    params={"programme_code": programme},
                    headers={"Authorization": f"Bearer {registrar.token}"},
                )
            assert answer.status_code == 200, answer.text
            body = answer.json()
            english += [r["explanation"] for r in body["recognitions"]]
            english += [u["message"] for u in body["unused"]]
    assert explained and why_not, "the demo's plans explain courses and unused holdings"
    for sentence in explained + why_not:
        assert _HAN.search(sentence), sentence
        assert not _ENGLISH.search(sentence), f"English left on the Chinese page: {sentence}"
    # The API keeps speaking English (the sentences are the same, only the pages translate).
    assert english and all(_ENGLISH.search(sentence) for sentence in english)


def test_every_planner_sentence_keeps_its_fields_in_chinese() -> None:
    """A translation names exactly the fields of its English template (else a KeyError at render)."""
    catalog = load_translations()["zh_CN"]
    fields = string.Formatter()
    templates = [m for m in used_messages() if "{" in m]
    assert len(templates) > 30
    for template in templates:
        translated = catalog.gettext(template)
        english = {name for _, name, _, _ in fields.parse(template) if name}
        chinese = {name for _, name, _, _ in fields.parse(translated) if name}
        assert english == chinese, template


def test_a_rule_refusal_of_a_posted_conversion_reads_in_chinese_on_the_pages(
    live: LiveDemo,
) -> None:
    """The same refused entry: Chinese through the pages' write route, English through the API."""
    registrar = live.setup.registrars[0]
    learner = live.setup.learners[0]
    signer = EntrySigner(
        registrar.actor_id, load_private_key(registrar.private_key_path, passphrase=None)
    )

    def refused() -> dict[str, object]:
        return signer.sign(
            "conversion.posted",
            {
                "v": 1,
                "conversion_id": f"CV-{secrets.token_hex(4).upper()}",
                "learner_id": learner.learner_id,
                "programme_code": live.setup.programmes[learner.learner_id],
                "as_of": live.bank.clock().date().isoformat(),
                "recognitions": [
                    {"course_code": "NO-SUCH", "credits": "3", "mapping_id": "M", "sources": ["x"]}
                ],
            },
        ).to_json()

    with _signed_in(live, registrar.token) as client:
        csrf = client.cookies["cb_csrf"]
        page = client.post("/web/entries", json=refused(), headers={"X-CSRF-Token": csrf})
    with httpx.Client(base_url=live.url, timeout=30) as api:
        plain = api.post(
            "/v1/conversions",
            json=refused(),
            headers={"Authorization": f"Bearer {registrar.token}"},
        )
    assert page.status_code == plain.status_code == 409
    assert page.json()["code"] == plain.json()["code"] == "not-in-programme"
    assert "NO-SUCH" in page.json()["detail"] and _HAN.search(page.json()["detail"])
    assert not _ENGLISH.search(page.json()["detail"]), page.json()["detail"]
    assert plain.json()["detail"].startswith("course NO-SUCH is not part of programme")


def test_every_wording_in_the_mapping_code_is_extracted_for_the_catalog() -> None:
    """Each ``wording("...")`` / ``joined("...")`` literal reaches the catalog extraction."""
    source = "\n".join(
        path.read_text()
        for path in Path(mapping.__file__).parent.glob("*.py")
        if path.name != "wording.py"  # defines them, and shows one in its docstring
    )
    literals = re.findall(r'\b(?:wording|joined)\(\s*"((?:[^"\\]|\\.)*)"', source)
    assert len(literals) > 60
    extracted = used_messages()
    missing = [text for text in literals if not any(m.startswith(text) for m in extracted)]
    assert missing == []
