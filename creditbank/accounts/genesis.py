"""A credit bank's first entries, and the authority audit that replays them.

``bootstrap_admin`` is what ``creditbank init --admin-key`` does on an empty log: a new admin key
file, the two genesis entries (the system actor registering itself, then the first admin), and the
admin's first bearer token; with ``--seed``, then the catalogue's institutions, registrars and
programmes (:mod:`creditbank.accounts.seeding`) and a token per registrar. ``verify_authority`` is
the credit-bank half of ``creditbank verify``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Engine

from creditbank.accounts.authority import AuthorityReport, audit_authority
from creditbank.accounts.bank import CreditBank
from creditbank.accounts.cascade import SYSTEM_ACTOR
from creditbank.accounts.seeding import (
    SeededInstitution,
    plan_seed,
    refuse_existing,
    seed_catalogue,
)
from creditbank.errors import ConflictError
from creditbank.ledger import SqlLogStore
from creditbank.ledger.checkpoint import NoteSigner
from creditbank.ledger.entry import public_key_to_b64
from creditbank.ledger.keys import generate_key, load_private_key, save_private_key
from creditbank.ledger.log import Log
from creditbank.mapping import Programme

__all__ = ["Genesis", "bootstrap_admin", "verify_authority"]


@dataclass(frozen=True)
class Genesis:
    """What ``init`` made: the admin's token and, when seeded, each institution with its
    registrar's token (tokens are shown once; the bank keeps only their hashes)."""

    admin_token: str
    seeded: tuple[SeededInstitution, ...] = ()


def verify_authority(engine: Engine, *, audited: int = 0) -> AuthorityReport | None:
    """Replay who may sign what (accounts/authority.py) when this log is a credit bank's.

    The ledger is reusable: a log whose entry 0 is not the credit bank's genesis is audited for
    integrity only.
    """
    store = SqlLogStore(engine)
    first = list(store.leaves(0, 1))
    if not first or first[0].entry_type != "actor.registered" or first[0].actor != SYSTEM_ACTOR:
        return None
    return audit_authority(store, audited=audited)


def bootstrap_admin(
    engine: Engine,
    *,
    log_key_file: Path,
    log_key_passphrase: bytes | None,
    origin: str,
    admin_id: str,
    admin_key: Path,
    admin_key_passphrase: bytes | None,
    insecure: bool,
    seed: Sequence[Programme] = (),
) -> Genesis:
    """Genesis on an empty log: a new admin key file, the two genesis entries, an admin token;
    then, for ``seed`` programmes, their institutions, registrars (keys beside the admin's) and
    the programmes themselves. Every key path is checked free before any file or entry is made."""
    log_key = load_private_key(log_key_file, passphrase=log_key_passphrase)
    store = SqlLogStore(engine)
    if store.size() != 0:
        raise ConflictError(
            "此日志已有创世条目；其他管理员请以条目登记 / this log already has its genesis; "
            "register further admins by entry"
        )
    plan = plan_seed(seed, admin_key.parent)
    refuse_existing([admin_key, *(p for s in plan for p in (s.key_file, s.registrar_key_file))])
    key = generate_key()
    save_private_key(key, admin_key, passphrase=admin_key_passphrase, insecure=insecure)
    bank = CreditBank(engine, Log(store, origin=origin, signer=NoteSigner(origin, log_key)))
    bank.bootstrap(
        admin_id=admin_id,
        admin_name="Administrator",
        admin_public_key=public_key_to_b64(key.public_key()),
    )
    token = bank.issue_token(actor_id=admin_id, label="created by creditbank init")
    if plan:
        seed_catalogue(
            bank,
            plan,
            admin_id=admin_id,
            admin_key=key,
            passphrase=admin_key_passphrase,
            insecure=insecure,
        )
    seeded = tuple(
        replace(s, token=bank.issue_token(actor_id=s.registrar_id, label="creditbank init --seed"))
        for s in plan
    )
    return Genesis(token, seeded)
