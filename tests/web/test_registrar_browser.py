"""A registrar plans, signs in the browser and posts a conversion, then reverses it (real Chromium).

The private key is opened by the page from the key file (plain PKCS#8 as the demo writes it, and
the encrypted PKCS#8 that ``creditbank keys new`` writes); the test then checks, outside the
browser, that the new log entries carry the registrar's signature under the registrar's key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from creditbank.ledger.entry import Leaf, SignedEntry, public_key_to_b64
from creditbank.ledger.keys import load_private_key, save_private_key
from tests.web.conftest import LiveDemo, api, sign_in


def _logged(live: LiveDemo, index: int) -> SignedEntry:
    with api(live) as client:
        found = client.get(f"/v1/log/entries/{index}")
    assert found.status_code == 200
    leaf = Leaf.from_bytes(live.bank.log.leaf(index).data)
    assert leaf.signed.entry.to_json() == found.json()["leaf"]["entry"]
    return leaf.signed


def _sign_and_post(page: Any, form: str, key_file: Path, passphrase: str = "") -> int:
    page.set_input_files(f"{form} input[type=file]", str(key_file))
    if passphrase:
        page.fill(f"{form} input[name=passphrase]", passphrase)
    page.click(f"{form} button[type=submit]")
    status = page.locator(f"{form} [role=status]")
    page.wait_for_function(
        "(sel) => document.querySelector(sel).className !== ''",
        arg=f"{form} [role=status]",
        timeout=30_000,
    )
    assert status.get_attribute("class") == "ok", status.inner_text()
    return int(status.get_attribute("data-index") or "-1")


def test_a_registrar_posts_a_conversion_signed_in_the_browser(
    context: Any, live: LiveDemo, tmp_path: Path
) -> None:
    registrar = live.setup.registrars[0]
    learner = next(item for item in live.setup.learners if item.story == "reversed")
    programme = live.setup.programmes[learner.learner_id]
    page = context.new_page()
    sign_in(page, registrar.token)
    assert page.url.endswith("/registrar")
    page.fill("#plan-learner", learner.learner_id)
    page.select_option("#plan-programme", programme)
    page.click("#plan-h ~ form button")
    page.wait_for_load_state()
    preview = page.locator("#post-conversion .preview").inner_text()
    assert learner.learner_id in preview  # what will be signed, in words, before signing
    assert page.locator("#post-conversion li").count() >= 1
    size_before = live.bank.log.size()

    index = _sign_and_post(page, "#post-conversion", registrar.private_key_path)
    assert index >= size_before
    signed = _logged(live, index)
    key = load_private_key(registrar.private_key_path, passphrase=None)
    assert signed.entry.type == "conversion.posted" and signed.entry.actor == registrar.actor_id
    assert signed.public_key == public_key_to_b64(key.public_key())
    signed.verify()  # Ed25519 over "creditbank-entry/v1\n" || RFC 8785(entry), checked in Python
    assert signed.entry.body["learner_id"] == learner.learner_id

    # The same key as `creditbank keys new` writes it: encrypted PKCS#8 (PBES2), opened in the page.
    encrypted = tmp_path / "registrar.key"
    save_private_key(key, encrypted, passphrase=b"correct horse battery")
    page.goto("/registrar")
    page.fill("#rev-id", signed.entry.body["conversion_id"])
    page.select_option("#rev-reason", "entered-in-error")
    assert (
        signed.entry.body["conversion_id"]
        in page.locator("#reverse-h ~ form .preview").inner_text()
    )
    page.set_input_files("#rev-key", str(encrypted))
    page.fill("#rev-passphrase", "wrong passphrase")
    page.click("#reverse-h ~ form button[type=submit]")
    status = page.locator("#reverse-h ~ form [role=status]")
    status.filter(has_text="passphrase").wait_for(timeout=30_000)
    reversed_at = _sign_and_post(page, "#reverse-h ~ form", encrypted, "correct horse battery")
    reversal = _logged(live, reversed_at)
    assert reversal.entry.type == "conversion.reversed"
    assert reversal.public_key == signed.public_key
    reversal.verify()


def test_the_log_entry_page_checks_the_inclusion_proof_in_the_browser(
    context: Any, live: LiveDemo
) -> None:
    page = context.new_page()
    page.goto("/log/entries/3")
    page.wait_for_selector("#inclusion[data-verified]", timeout=30_000)
    assert page.locator("#inclusion").get_attribute("data-verified") == "true"
    root = live.bank.log.latest_checkpoint()
    size = int(page.locator("#inclusion").get_attribute("data-tree-size") or 0)
    assert size <= root.tree_size
    assert page.locator("#inclusion").get_attribute("data-root") == live.bank.log.root(size).hex()


def test_a_registrar_registers_a_learner_with_the_commitment_made_in_the_browser(
    context: Any, live: LiveDemo
) -> None:
    from sqlmodel import Session

    from creditbank.accounts.identity import Identity, commitment_of
    from creditbank.accounts.identity_vault import open_identity

    registrar = live.setup.registrars[0]
    page = context.new_page()
    sign_in(page, registrar.token)
    page.fill("#reg-name", "赵六")
    page.fill("#reg-idn", "310101200001011234")
    index = _sign_and_post(page, "#register-learner", registrar.private_key_path)
    signed = _logged(live, index)
    assert signed.entry.type == "learner.registered"
    assert "赵六" not in str(signed.entry.to_json())  # personal data stays off the log
    learner_id = signed.entry.body["learner_id"]
    with Session(live.bank.engine) as session:
        row = open_identity(session, learner_id)  # sealed under the learner's data key
    assert row.name == "赵六"
    identity = Identity(name=row.name, id_number=row.id_number, salt=row.salt)
    assert commitment_of(identity) == signed.entry.body["commitment"]
    page.click("#register-learner [role=status] a[href^='/learners/']")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "学习者的学分"
    assert learner_id in page.content()
