"""A key made in the browser (non-extractable, kept in IndexedDB), enrolled and then used (Chromium).

The registrar makes the key on ``/keys``, enrolls it with an ``actor.key_added`` entry signed with
the key file, and then signs a learner registration with the kept key alone (no key file given);
outside the browser, the test checks both entries' signatures and that the second one's key id is
the new key's.
"""

from __future__ import annotations

import base64
from typing import Any

from sqlmodel import Session, select

from creditbank.accounts.tables import ActorKeyRow
from creditbank.ledger.entry import Leaf, SignedEntry, key_id_of, public_key_to_b64
from creditbank.ledger.keys import load_private_key
from tests.web.conftest import LiveDemo, sign_in


def _logged(live: LiveDemo, index: int) -> SignedEntry:
    signed = Leaf.from_bytes(live.bank.log.leaf(index).data).signed
    signed.verify()  # Ed25519 over "creditbank-entry/v1\n" || RFC 8785(entry), in Python
    return signed


def _posted(page: Any, form: str) -> int:
    page.click(f"{form} button[type=submit]")
    page.wait_for_function(
        "(sel) => document.querySelector(sel).className !== ''",
        arg=f"{form} [role=status]",
        timeout=30_000,
    )
    status = page.locator(f"{form} [role=status]")
    assert status.get_attribute("class") == "ok", status.inner_text()
    return int(status.get_attribute("data-index") or "-1")


def test_a_registrar_enrolls_a_browser_key_and_signs_with_it(context: Any, live: LiveDemo) -> None:
    registrar = live.setup.registrars[0]
    file_key = public_key_to_b64(
        load_private_key(registrar.private_key_path, passphrase=None).public_key()
    )
    page = context.new_page()
    sign_in(page, registrar.token)
    page.goto("/keys")
    assert page.locator("#browser-key-status").get_attribute("data-state") == "none"
    assert page.locator(f"[data-key-id='{key_id_of(file_key)}']").count() == 1

    page.click("#make-key")
    page.wait_for_selector("#browser-key-status[data-state=pending]")
    public_key = page.input_value("#enroll-public-key")
    assert len(base64.b64decode(public_key)) == 32
    key_id = page.locator("#browser-key-status").get_attribute("data-key-id")
    assert key_id == key_id_of(public_key)  # the page computes the bank's key id
    assert public_key in page.locator("#enroll-key .preview").inner_text()  # shown before signing
    # The private key really is non-extractable, and what IndexedDB keeps is the CryptoKey.
    kept = page.evaluate(
        """async () => {
          const { storedKey } = await import("/static/js/browser-keys.js");
          const record = await storedKey(document.getElementById("enroll-key").dataset.actor);
          let exported = "refused";
          try { await crypto.subtle.exportKey("pkcs8", record.privateKey); exported = "exported"; }
          catch (e) {}
          return [record.privateKey.constructor.name, record.privateKey.extractable, exported];
        }"""
    )
    assert kept == ["CryptoKey", False, "refused"]

    page.set_input_files("#enroll-key input[type=file]", str(registrar.private_key_path))
    enrolled_at = _posted(page, "#enroll-key")
    enrollment = _logged(live, enrolled_at)
    assert enrollment.entry.type == "actor.key_added"
    assert enrollment.entry.body == {
        "v": 1,
        "actor_id": registrar.actor_id,
        "public_key": public_key,
    }
    assert enrollment.public_key == file_key  # key authority: signed with a key it already had
    page.wait_for_selector("#browser-key-status[data-state=enrolled]")
    with Session(live.bank.engine) as session:
        row = session.exec(select(ActorKeyRow).where(ActorKeyRow.key_id == key_id)).one()
    assert row.actor_id == registrar.actor_id and row.added_index == enrolled_at

    # Another page, no key file: the form offers the kept key and signs with it.
    page.goto("/registrar")
    choice = page.locator("#register-learner .browser-key")
    choice.wait_for(state="visible")
    assert choice.locator("[data-key-id]").inner_text() == key_id
    assert choice.locator("input[value=browser]").is_checked()
    page.fill("#reg-name", "钱七")
    page.fill("#reg-idn", "310101199202023456")
    index = _posted(page, "#register-learner")
    signed = _logged(live, index)
    assert signed.entry.type == "learner.registered" and signed.entry.actor == registrar.actor_id
    assert signed.public_key == public_key
    assert signed.key_id == key_id
