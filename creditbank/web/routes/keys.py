"""The keys page: an actor's signing keys, and a key made in this browser enrolled as one of them.

A provider, registrar or admin makes an Ed25519 key with WebCrypto in the page (non-extractable,
kept in the browser's IndexedDB: ``static/js/browser-keys.js``) and enrolls its public key with an
``actor.key_added`` entry, signed in the page with a key the actor already has (its key file), as
the key-authority rule requires. The server sees only the signed entry (``POST /web/entries``),
never a private key. Afterwards every signing form offers the kept key instead of the key file.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlmodel import Session, col, select

from creditbank.accounts.tables import ActorKeyRow
from creditbank.web.page import PageDep

router = APIRouter(include_in_schema=False)

#: The roles that sign with keys of their own (learners do not sign entries).
SIGNING_ROLES = ("admin", "provider", "registrar")


@router.get("/keys")
def keys_page(page: PageDep) -> Response:
    principal = page.principal
    if principal is None or principal.role not in SIGNING_ROLES or principal.actor_id is None:
        return page.not_found()
    with Session(page.web.bank.engine) as session:
        keys = list(
            session.exec(
                select(ActorKeyRow)
                .where(ActorKeyRow.actor_id == principal.actor_id)
                .order_by(col(ActorKeyRow.added_index))
            )
        )
    return page.render("keys.html", keys=keys, actor=principal.actor_id)
