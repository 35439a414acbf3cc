"""Starting a ledger with a programmes catalogue: institutions, their registrars, their programmes.

The shipped ``programmes.csv`` is never read by the running bank: the bank's programmes are the
log's ``programme.registered`` entries. ``creditbank init --admin-key K --seed`` and the demo turn
the file into such entries here: for each institution the file names, the new admin registers the
institution (its actor id is its code) and one registrar of it (``reg-<code>``), each with a new
key file; then each registrar signs version 1 of its institution's programmes. Everything goes in
one batch through :meth:`CreditBank.submit_many`, so a refused entry leaves none of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditbank.accounts.bank import CreditBank
from creditbank.accounts.kinds.institutions import INSTITUTION_ROLE, is_institution_code
from creditbank.errors import InputError, KeyFormatError, MapLoadError
from creditbank.ledger.entry import Entry, SignedEntry, public_key_to_b64, sign_entry
from creditbank.ledger.keys import generate_key, save_private_key
from creditbank.mapping import Programme
from creditbank.mapping.consistency import catalog_issues
from creditbank.mapping.csv_rows import Problems, locate
from creditbank.mapping.programme_json import programme_to_json
from creditbank.mapping.programmes_csv import read_programmes

__all__ = [
    "SHIPPED_EFFECTIVE_FROM",
    "SeededInstitution",
    "plan_seed",
    "programme_body",
    "read_seed_programmes",
    "refuse_existing",
    "seed_catalogue",
]

#: The day the shipped programmes' first versions take effect (a term before any demo date).
SHIPPED_EFFECTIVE_FROM = date(2020, 9, 1)

#: Names (institution, its registrar) for institutions of the shipped catalogue; any other
#: institution is registered under its code.
_NAMES = {"SOU": ("上海开放大学 (Shanghai Open University)", "上海开放大学学分银行 (registrar)")}


def programme_body(
    programme: Programme, version: int = 1, effective_from: date = SHIPPED_EFFECTIVE_FROM
) -> dict[str, Any]:
    """``{"v": 1, "programme": ..., "version": ..., "effective_from": ...}``."""
    return {
        "v": 1,
        "programme": programme_to_json(programme),
        "version": version,
        "effective_from": effective_from.isoformat(),
    }


def read_seed_programmes(path: Path) -> tuple[Programme, ...]:
    """The programmes of a programmes CSV, checked as the bank will check them, before anything
    is written: each row (file, line and column on error), the programmes against each other (a
    shared course keeps one title and credit value) and each institution code."""
    problems = Problems(str(path))
    programmes, lines = read_programmes(path, problems)
    if not problems.found:
        for issue in catalog_issues(programmes, ()):
            locate(issue, lines, problems)
        for programme in programmes:
            if not is_institution_code(programme.institution):
                problems.add(
                    lines[programme.code][None],
                    "institution",
                    f"机构代码须为大写字母开头的 2 至 16 位大写字母或数字 / an institution code is "
                    f"2 to 16 capital letters or digits, starting with a letter, like SOU; got "
                    f"{programme.institution!r}",
                )
    if problems.found:
        raise MapLoadError(sorted(problems.found, key=lambda p: p.line))
    if not programmes:
        raise InputError(f"{path} 中没有课程方案 / {path} holds no programmes")
    return tuple(programmes)


@dataclass(frozen=True)
class SeededInstitution:
    """One institution of the seed: its programmes, its registrar and where their keys go."""

    code: str
    registrar_id: str
    key_file: Path
    registrar_key_file: Path
    programmes: tuple[Programme, ...]
    #: The registrar's bearer token, once issued (shown once, stored hashed).
    token: str = ""

    @property
    def names(self) -> tuple[str, str]:
        return _NAMES.get(self.code, (self.code, f"{self.code} 登记员 (registrar)"))


def plan_seed(programmes: Sequence[Programme], key_folder: Path) -> tuple[SeededInstitution, ...]:
    """One :class:`SeededInstitution` per institution, in the file's order; keys in
    ``key_folder`` named for their actors (``SOU.key``, ``reg-sou.key``)."""
    by_code: dict[str, list[Programme]] = {}
    for programme in programmes:
        by_code.setdefault(programme.institution, []).append(programme)
    seeds = []
    for code, mine in by_code.items():
        registrar = f"reg-{code.lower()}"
        seeds.append(
            SeededInstitution(
                code,
                registrar,
                key_folder / f"{code}.key",
                key_folder / f"{registrar}.key",
                tuple(mine),
            )
        )
    return tuple(seeds)


def refuse_existing(paths: Iterable[Path]) -> None:
    """Refuse before writing anything when a key file would be overwritten."""
    for path in paths:
        if path.exists():
            raise KeyFormatError(
                f"{path} 已存在，不覆盖密钥 / already exists; refusing to overwrite"
            )


def seed_catalogue(
    bank: CreditBank,
    plan: Sequence[SeededInstitution],
    *,
    admin_id: str,
    admin_key: Ed25519PrivateKey,
    passphrase: bytes | None,
    insecure: bool,
) -> dict[str, Ed25519PrivateKey]:
    """Write the plan's keys, then register its actors and programmes in one signed batch.

    The batch is all or nothing; the key files are written first (a refused batch leaves them,
    unused, which :func:`read_seed_programmes` checking the file beforehand makes unlikely).
    Returns each registrar's private key by actor id (the demo signs further entries with it).
    """
    now = bank.clock()
    actors: list[SignedEntry] = []
    programmes: list[SignedEntry] = []
    registrars: dict[str, Ed25519PrivateKey] = {}
    for seed in plan:
        institution_name, registrar_name = seed.names
        keys = [generate_key(), generate_key()]
        for key, path in zip(keys, (seed.key_file, seed.registrar_key_file), strict=True):
            save_private_key(key, path, passphrase=passphrase, insecure=insecure)
        for actor_id, role, name, key, extra in (
            (seed.code, INSTITUTION_ROLE, institution_name, keys[0], {}),
            (seed.registrar_id, "registrar", registrar_name, keys[1], {"institution": seed.code}),
        ):
            body = {"v": 1, "actor_id": actor_id, "role": role, "name": name, **extra}
            body["public_key"] = public_key_to_b64(key.public_key())
            nonce = f"seed-register-{actor_id}"
            actors.append(_signed(admin_id, admin_key, "actor.registered", body, nonce, now))
        registrars[seed.registrar_id] = keys[1]
        programmes += [
            _signed(
                seed.registrar_id,
                keys[1],
                "programme.registered",
                programme_body(p),
                f"seed-programme-{p.code}-v1",
                now,
            )
            for p in seed.programmes
        ]
    bank.submit_many(actors + programmes)
    return registrars


def _signed(
    actor: str,
    key: Ed25519PrivateKey,
    entry_type: str,
    body: dict[str, Any],
    nonce: str,
    now: datetime,
) -> SignedEntry:
    entry = Entry.create(type=entry_type, actor=actor, nonce=nonce, claimed_at=now, body=body)
    return sign_entry(entry, key)
