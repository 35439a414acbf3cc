"""The public /verify page in real Chromium, on the project's app over a real demo ledger.

The credential's evidence is the transcript the demo app serves over HTTP
(``GET /v1/learners/{id}/transcript``); the credential and its status list are signed in the test
with the W3C vector key and served by a second local server (the "issuer"), as a QR code would
point at them. No request may leave 127.0.0.1.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI, HTTPException
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from creditbank.api.app import create_app
from creditbank.ledger.checkpoint import NoteSigner
from creditbank.ledger.database import make_engine
from tests.api.world import World as BankWorld
from tests.api.world import open_world
from tests.browser_crypto import issuer
from tests.browser_crypto.conftest import LiveServer, guard

pytestmark = pytest.mark.slow


@dataclass
class Issuer:
    """Documents served at ``/docs/{name}`` with CORS open, as an issuer serves status lists."""

    documents: dict[str, Any] = field(default_factory=dict)
    server: LiveServer | None = None

    def app(self) -> FastAPI:
        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"])

        @app.get("/.well-known/did.json")
        def did_document() -> JSONResponse:
            return JSONResponse(self.documents["did.json"])

        @app.get("/docs/{name}")
        def document(name: str) -> JSONResponse:
            if name not in self.documents:
                raise HTTPException(404)
            return JSONResponse(self.documents[name])

        return app

    def url(self, name: str) -> str:
        assert self.server is not None
        return f"{self.server.url}/docs/{name}"


@dataclass
class World:
    app_url: str
    issuer: Issuer
    transcript: dict[str, Any]
    did: str
    vm: str
    key: Any
    bank: BankWorld

    def credential(
        self, index: int = 94567, revoked: tuple[int, ...] = (), did: str | None = None
    ) -> dict[str, Any]:
        did = did or self.did
        url = self.issuer.url(f"status-{index}-{len(revoked)}-{did}")
        name = url.rsplit("/", 1)[1]
        self.issuer.documents[name] = issuer.sign(
            issuer.status_list(url, did, list(revoked)), self.key, self.vm
        )
        unsigned = issuer.credential(self.transcript, did, url, index, self.key, self.vm)
        return issuer.sign(unsigned, self.key, self.vm)

    @property
    def did_web(self) -> str:
        """The issuer server's did:web, whose did.json lists the vector key."""
        assert self.issuer.server is not None
        did = f"did:web:127.0.0.1%3A{self.issuer.server.port}"
        self.issuer.documents["did.json"] = {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": did,
            "verificationMethod": [
                {
                    "id": self.vm,
                    "type": "Multikey",
                    "controller": self.vm.split("#")[0],
                    "publicKeyMultibase": self.vm.split("#")[1],
                }
            ],
            "assertionMethod": [self.vm],
        }
        return did


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    served = Issuer()
    served.server = LiveServer(served.app()).start()
    data_dir = tmp_path_factory.mktemp("demo")
    engine = make_engine(f"sqlite:///{data_dir / 'creditbank.db'}")
    app_server: LiveServer | None = None
    try:
        bank = open_world(engine, data_dir)
        app_server = LiveServer(create_app(bank.bank)).start()
        learner = bank.learner
        response = httpx.get(
            f"{app_server.url}/v1/learners/{learner.learner_id}/transcript",
            headers={"Authorization": f"Bearer {learner.token}"},
        )
        response.raise_for_status()
        key, vm = issuer.vector_key()
        yield World(app_server.url, served, response.json(), vm.split("#")[0], vm, key, bank)
    finally:
        if app_server is not None:
            app_server.stop()
        served.server.stop()
        engine.dispose()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    tab = context.new_page()
    escaped = guard(tab)
    tab.escaped = escaped
    yield tab
    context.close()
    assert escaped == [], f"requests left 127.0.0.1: {escaped}"


def verify_file(page: Any, world: World, document: Any, tmp_path: Path, lang: str = "") -> str:
    page.goto(f"{world.app_url}/verify" + (f"?lang={lang}" if lang else ""))
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    page.set_input_files("#credential-file", str(path))
    return finished(page)


def finished(page: Any) -> str:
    page.wait_for_selector("#verification-result[data-result]", timeout=20000)
    return str(page.get_attribute("#verification-result", "data-result"))


def check(page: Any, name: str) -> list[tuple[str, str, str]]:
    """(status, reason, text) of every row of the named check."""
    rows = page.query_selector_all(f"#checks li[data-check='{name}']")
    return [
        (r.get_attribute("data-status"), r.get_attribute("data-reason"), r.inner_text())
        for r in rows
    ]


def test_a_valid_credential(page: Any, world: World, tmp_path: Path) -> None:
    assert verify_file(page, world, world.credential(), tmp_path) == "valid"
    for name, reason in [
        ("format", "format_ok"),
        ("signature", "sig_ok"),
        ("issuer", "issuer_did_key"),
        ("validity", "validity_ok"),
        ("status", "status_ok"),
        ("achievements", "ach_ok"),
        ("evidence", "evidence_ok"),
        ("complete", "complete_ok"),
        ("log", "log_consistent"),
    ]:
        [(status, why, _text)] = check(page, name)
        assert (status, why) == ("pass", reason)
    assert page.inner_text("#result-heading") == "凭证有效"
    assert page.get_attribute("html", "lang") == "zh-CN"
    entries = len(world.transcript["entries"])
    assert f"{entries} 条记录均在日志中" in check(page, "evidence")[0][2]
    assert "电工 四级" in page.inner_text("#summary")


def test_arriving_from_a_qr_code_fetches_the_credential(page: Any, world: World) -> None:
    world.issuer.documents["qr.json"] = world.credential(index=7)
    page.goto(f"{world.app_url}/verify?credential={world.issuer.url('qr.json')}")
    assert finished(page) == "valid"
    assert check(page, "status")[0][:2] == ("pass", "status_ok")


def test_an_unreachable_credential_url_is_named(page: Any, world: World) -> None:
    page.goto(f"{world.app_url}/verify?credential={world.issuer.url('missing.json')}&lang=en")
    assert finished(page) == "invalid"
    [(status, reason, text)] = check(page, "load")
    assert (status, reason) == ("fail", "load_fetch")
    assert "could not be downloaded" in text


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    target: Any = doc
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = value


OTHER_KEY = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
TAMPERS = {
    "subject": ("credentialSubject.id", "urn:creditbank:learner:someone-else", "sig_SIGNATURE"),
    "achievement": (
        "credentialSubject.achievement.1.name",
        "电工基础 40 学分",
        "sig_SIGNATURE",
    ),
    "validFrom": ("validFrom", "2025-01-15T08:00:00Z", "sig_SIGNATURE"),
    "proof value": (
        "proof.proofValue",
        "z" + issuer.b58encode(bytes(64)),
        "sig_SIGNATURE",
    ),
    "verification method": (
        "proof.verificationMethod",
        f"{OTHER_KEY}#{OTHER_KEY[8:]}",
        "sig_SIGNATURE",
    ),
}


@pytest.mark.parametrize("field_name", list(TAMPERS))
def test_each_tampered_field_is_invalid_and_named(
    page: Any, world: World, tmp_path: Path, field_name: str
) -> None:
    path, value, reason = TAMPERS[field_name]
    doc = world.credential()
    _set(doc, path, value)
    assert verify_file(page, world, doc, tmp_path) == "invalid"
    [(status, why, text)] = check(page, "signature")
    assert (status, why) == ("fail", reason)
    assert "签名与内容不符" in text
    assert page.inner_text("#result-heading") == "凭证无效"


def test_a_set_status_bit_shows_revoked(page: Any, world: World, tmp_path: Path) -> None:
    doc = world.credential(index=94567, revoked=(94567,))
    assert verify_file(page, world, doc, tmp_path, lang="en") == "invalid"
    [(status, reason, text)] = check(page, "status")
    assert (status, reason) == ("fail", "status_revoked")
    assert "bit 94567" in text
    assert page.inner_text("#result-heading") == "The credential has been revoked"
    # its neighbour on the same list is not revoked
    doc = world.credential(index=94568, revoked=(94567,))
    assert verify_file(page, world, doc, tmp_path) == "valid"


def _resigned(world: World, change: Any) -> dict[str, Any]:
    doc = world.credential()
    unsigned = {k: v for k, v in doc.items() if k != "proof"}
    unsigned = copy.deepcopy(unsigned)
    change(unsigned["evidence"][0]["transcript"])
    return issuer.sign(unsigned, world.key, world.vm)


def _flip_b64(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def test_a_broken_inclusion_proof_is_named(page: Any, world: World, tmp_path: Path) -> None:
    def break_proof(transcript: dict[str, Any]) -> None:
        entry = next(e for e in transcript["entries"] if e["inclusion_proof"])
        entry["inclusion_proof"][0] = _flip_b64(entry["inclusion_proof"][0])
        transcript["broken"] = entry["index"]

    doc = _resigned(world, break_proof)
    index = doc["evidence"][0]["transcript"]["broken"]
    assert verify_file(page, world, doc, tmp_path) == "invalid"
    assert check(page, "signature")[0][:2] == ("pass", "sig_ok")
    [(status, reason, text)] = check(page, "evidence")
    assert (status, reason) == ("fail", "evidence_INCLUSION")
    assert f"第 {index} 条记录的包含证明无效" in text


@pytest.mark.parametrize(
    ("where", "reason"),
    [("leaf", "evidence_LEAF_HASH"), ("checkpoint", "evidence_CHECKPOINT")],
)
def test_a_changed_leaf_or_checkpoint_is_named(
    page: Any, world: World, tmp_path: Path, where: str, reason: str
) -> None:
    def change(transcript: dict[str, Any]) -> None:
        if where == "leaf":
            transcript["entries"][-1]["leaf"]["integrated_at"] = "2020-01-01T00:00:00.000000Z"
        else:
            lines = transcript["checkpoint"].split("\n")
            lines[1] = str(int(lines[1]) + 1)
            transcript["checkpoint"] = "\n".join(lines)

    assert verify_file(page, world, _resigned(world, change), tmp_path) == "invalid"
    assert check(page, "evidence")[0][:2] == ("fail", reason)


def test_an_entry_left_out_of_the_evidence_is_named(
    page: Any, world: World, tmp_path: Path
) -> None:
    """Issue 11 item 4: the page checks v2 completeness like `verify-transcript` does."""

    def leave_out(transcript: dict[str, Any]) -> None:
        chained = [e for e in transcript["entries"] if "chain" in e["leaf"]]
        transcript["entries"].remove(chained[-1])

    assert verify_file(page, world, _resigned(world, leave_out), tmp_path, lang="en") == "invalid"
    [(status, reason, text)] = check(page, "evidence")
    assert (status, reason) == ("fail", "evidence_COMPLETENESS")
    assert "missing" in text
    # A v1 transcript still verifies, with a warning that it is not proven complete.
    doc = _resigned(world, lambda t: t.update(format="creditbank-transcript/v1"))
    assert verify_file(page, world, doc, tmp_path) == "valid"
    assert check(page, "complete")[0][:2] == ("warn", "complete_not_proven")


def test_the_signature_part_works_offline(page: Any, world: World, tmp_path: Path) -> None:
    doc = world.credential()
    page.goto(f"{world.app_url}/verify")
    page.context.set_offline(True)
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(doc), "utf-8")
    page.set_input_files("#credential-file", str(path))
    assert finished(page) == "valid"
    assert check(page, "signature")[0][:2] == ("pass", "sig_ok")
    assert check(page, "evidence")[0][:2] == ("pass", "evidence_ok")
    assert check(page, "status")[0][:2] == ("warn", "status_offline")
    assert check(page, "log")[0][:2] == ("warn", "log_offline")
    page.context.set_offline(False)


def test_the_language_switch(page: Any, world: World, tmp_path: Path) -> None:
    assert verify_file(page, world, world.credential(), tmp_path) == "valid"
    assert page.inner_text("h1") == "验证学分凭证"
    page.click("#language-switch")
    assert page.inner_text("h1") == "Verify a credit credential"
    assert page.inner_text("#result-heading") == "The credential is valid"
    assert page.get_attribute("html", "lang") == "en"
    assert "lang=en" in page.url
    assert "valid signature by key" in check(page, "signature")[0][2]
    page.reload()
    assert page.inner_text("h1") == "Verify a credit credential"
    page.click("#language-switch")
    assert page.inner_text("h1") == "验证学分凭证"


def test_the_page_and_assets_over_http(world: World) -> None:
    response = httpx.get(f"{world.app_url}/verify")
    assert response.status_code == 200
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert 'lang="zh-CN"' in response.text
    assert '<html lang="en">' in httpx.get(f"{world.app_url}/verify?lang=en").text
    js = httpx.get(f"{world.app_url}/static/js/crypto/jcs.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    for bad in ("../verify.py", "..%2Fverify.py", "nope.js", "messages.json"):
        assert httpx.get(f"{world.app_url}/static/js/crypto/{bad}").status_code == 404
    assert httpx.get(f"{world.app_url}/verify/assets/verify.css").status_code == 200


def test_an_embedded_achievement_credential_is_checked(
    page: Any, world: World, tmp_path: Path
) -> None:
    doc = world.credential()
    unsigned = copy.deepcopy({k: v for k, v in doc.items() if k != "proof"})
    embedded = unsigned["credentialSubject"]["verifiableCredential"][0]
    embedded["credentialSubject"]["achievement"]["name"] = "电工 一级 Electrician level 1"
    doc = issuer.sign(unsigned, world.key, world.vm)
    assert verify_file(page, world, doc, tmp_path) == "invalid"
    assert check(page, "signature")[0][:2] == ("pass", "sig_ok")
    [(status, reason, text)] = check(page, "achievements")
    assert (status, reason) == ("fail", "ach_fail")
    assert "电工 四级" in text


def test_a_did_web_issuer_listing_the_key(page: Any, world: World, tmp_path: Path) -> None:
    doc = world.credential(did=world.did_web)
    assert verify_file(page, world, doc, tmp_path) == "valid"
    assert check(page, "issuer")[0][:2] == ("pass", "issuer_listed")


def test_a_key_the_issuer_does_not_list_is_refused(page: Any, world: World, tmp_path: Path) -> None:
    """Someone re-signs a credential with their own key and claims the bank as its issuer."""
    doc = world.credential(did=world.did_web)
    world.issuer.documents["did.json"]["assertionMethod"] = []
    assert verify_file(page, world, doc, tmp_path) == "invalid"
    assert check(page, "signature")[0][:2] == ("pass", "sig_ok")
    [(status, reason, text)] = check(page, "issuer")
    assert (status, reason) == ("fail", "issuer_not_listed")
    assert "不属于签发方" in text
    # and a did:key issuer that is not the signing key
    doc = world.credential(did=OTHER_KEY)
    assert verify_file(page, world, doc, tmp_path) == "invalid"
    assert check(page, "issuer")[0][:2] == ("fail", "issuer_not_listed")


def test_a_did_web_issuer_offline_is_unconfirmed(page: Any, world: World, tmp_path: Path) -> None:
    doc = world.credential(did=world.did_web)
    page.goto(f"{world.app_url}/verify")
    page.context.set_offline(True)
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(doc), "utf-8")
    page.set_input_files("#credential-file", str(path))
    assert finished(page) == "valid"
    assert check(page, "issuer")[0][:2] == ("warn", "issuer_offline")
    assert check(page, "signature")[0][:2] == ("pass", "sig_ok")


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "verify"


@pytest.mark.parametrize("width", [375, 1280])
def test_no_sideways_scrolling_and_screenshots(
    page: Any, world: World, tmp_path: Path, width: int
) -> None:
    """Screenshots (valid, and revoked in English) go to test-artifacts/verify/ for review."""
    page.set_viewport_size({"width": width, "height": 900})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert verify_file(page, world, world.credential(), tmp_path) == "valid"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(ARTIFACTS / f"verify-valid-{width}.png"), full_page=True)
    revoked = world.credential(index=5, revoked=(5,))
    assert verify_file(page, world, revoked, tmp_path, lang="en") == "invalid"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(ARTIFACTS / f"verify-revoked-en-{width}.png"), full_page=True)


def test_dropping_a_file_on_the_page(page: Any, world: World) -> None:
    page.goto(f"{world.app_url}/verify")
    text = json.dumps(world.credential())
    page.evaluate(
        """(text) => {
          const data = new DataTransfer();
          data.items.add(new File([text], 'credential.json', { type: 'application/json' }));
          const zone = document.getElementById('drop-zone');
          zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
          zone.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
        }""",
        text,
    )
    assert finished(page) == "valid"


def test_a_file_that_is_not_json(page: Any, world: World, tmp_path: Path) -> None:
    page.goto(f"{world.app_url}/verify")
    path = tmp_path / "credential.json"
    path.write_text("{not json", "utf-8")
    page.set_input_files("#credential-file", str(path))
    assert finished(page) == "invalid"
    assert check(page, "load")[0][:2] == ("fail", "load_json")


def test_a_browser_without_ed25519_is_told_so(page: Any, world: World, tmp_path: Path) -> None:
    """Not 'the signature does not match': the browser cannot check, and the page says that."""
    page.add_init_script(
        """const importKey = crypto.subtle.importKey.bind(crypto.subtle);
           crypto.subtle.importKey = (format, data, algorithm, ...rest) =>
             (algorithm && algorithm.name === 'Ed25519')
               ? Promise.reject(new DOMException('Unrecognized name', 'NotSupportedError'))
               : importKey(format, data, algorithm, ...rest);"""
    )
    assert verify_file(page, world, world.credential(), tmp_path, lang="en") == "invalid"
    [(status, reason, text)] = check(page, "load")
    assert (status, reason) == ("fail", "load_unsupported")
    assert "no Ed25519" in text


def test_the_log_grew_since_issuance_and_stayed_consistent(
    page: Any, world: World, tmp_path: Path
) -> None:
    doc = world.credential()
    old = world.transcript["tree_size"]
    world.bank.convertible_learner()  # more entries on the log after the credential was made
    new = world.bank.bank.log.latest_checkpoint().tree_size
    assert new > old
    assert verify_file(page, world, doc, tmp_path) == "valid"
    [(status, reason, text)] = check(page, "log")
    assert (status, reason) == ("pass", "log_consistent")
    assert f"树大小 {old}" in text and f"树大小 {new}" in text


def test_evidence_from_a_log_key_that_is_not_the_banks(
    page: Any, world: World, tmp_path: Path
) -> None:
    """A self-consistent fake: the same checkpoint re-signed by someone else's key of that name."""

    def forge(transcript: dict[str, Any]) -> None:
        origin = transcript["log"]["origin"]
        fake = NoteSigner(origin, Ed25519PrivateKey.generate())
        text = transcript["checkpoint"].split("\n\n")[0] + "\n"
        transcript["checkpoint"] = text + "\n" + fake.signature_line(text)
        transcript["log"]["verifier_key"] = fake.verifier.vkey

    assert verify_file(page, world, _resigned(world, forge), tmp_path) == "invalid"
    assert check(page, "evidence")[0][:2] == ("pass", "evidence_ok")
    [(status, reason, text)] = check(page, "log")
    assert (status, reason) == ("fail", "log_key_unknown")
    assert "不是本银行的日志密钥" in text


def test_a_did_web_document_naming_the_key_by_reference(
    page: Any, world: World, tmp_path: Path
) -> None:
    did = world.did_web
    document = world.issuer.documents["did.json"]
    document["verificationMethod"] = [
        {
            "id": "#key-1",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": world.vm.split("#")[1],
        }
    ]
    document["assertionMethod"] = [f"{did}#key-1"]
    assert verify_file(page, world, world.credential(did=did), tmp_path) == "valid"
    assert check(page, "issuer")[0][:2] == ("pass", "issuer_listed")
    document["verificationMethod"][0]["publicKeyMultibase"] = OTHER_KEY[len("did:key:") :]
    assert verify_file(page, world, world.credential(did=did), tmp_path) == "invalid"
    assert check(page, "issuer")[0][:2] == ("fail", "issuer_not_listed")


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "result", "reason"),
    [
        ("2999-01-01T00:00:00Z", None, "invalid", "validity_not_yet"),
        ("2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z", "invalid", "validity_expired"),
        ("yesterday", None, "invalid", "validity_bad"),
    ],
)
def test_the_validity_period(
    page: Any,
    world: World,
    tmp_path: Path,
    valid_from: str,
    valid_until: str | None,
    result: str,
    reason: str,
) -> None:
    doc = world.credential()
    unsigned = {k: v for k, v in doc.items() if k != "proof"}
    unsigned["validFrom"] = valid_from
    if valid_until is not None:
        unsigned["validUntil"] = valid_until
    doc = issuer.sign(unsigned, world.key, world.vm)
    assert verify_file(page, world, doc, tmp_path) == result
    assert check(page, "signature")[0][:2] == ("pass", "sig_ok")
    assert check(page, "validity")[0][:2] == ("fail", reason)


def test_a_missing_status_list_is_named(page: Any, world: World, tmp_path: Path) -> None:
    doc = world.credential(index=11)
    name = doc["credentialStatus"]["statusListCredential"].rsplit("/", 1)[1]
    del world.issuer.documents[name]
    assert verify_file(page, world, doc, tmp_path, lang="en") == "valid"
    [(status, reason, text)] = check(page, "status")
    assert (status, reason) == ("warn", "status_unreadable")
    assert "HTTP 404" in text
    assert "some checks could not be completed" in page.inner_text("#checks")
