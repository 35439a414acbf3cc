"""Register a provider's mappings through the HTTP API: one signed batch, all or nothing.

A training provider needs only its own key and token: each mapping becomes a
``mapping.registered`` entry signed here, and all of them go to ``POST /v1/batch`` in one request,
so either every new row of the map is registered or none is. Running the import again is safe:
mappings the server already holds with the same terms are skipped, the rest are sent, and a
mapping whose version is registered with *other* terms is a conflict (register a new version).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from creditbank.accounts.kinds.registry import KINDS
from creditbank.accounts.mapping_import import mapping_nonce
from creditbank.client.http import CreditbankClient, Receipt
from creditbank.errors import ConflictError, InputError
from creditbank.ledger.canonical import canonical_bytes
from creditbank.mapping import Mapping

__all__ = ["MAX_IMPORT", "MappingImport", "import_mappings", "mapping_nonce"]

#: A map is registered in one batch (all or nothing), so at most as many rows as a batch takes.
MAX_IMPORT = 1000


@dataclass(frozen=True)
class MappingImport:
    """What an import did: the receipts of new registrations and how many were already there."""

    receipts: tuple[Receipt, ...]
    already_registered: int


def _registered(client: CreditbankClient) -> dict[tuple[str, int], bytes]:
    """Every unretired mapping version on the server, approved or proposed, as canonical JSON."""
    found: dict[tuple[str, int], bytes] = {}
    for listing in ("mappings", "proposed-mappings"):
        offset: int | None = 0
        while offset is not None:
            page = client.catalogue(listing, offset=offset, limit=1000)
            for item in page["items"]:
                found[(str(item["mapping_id"]), int(item["version"]))] = canonical_bytes(item)
            offset = page["offset"] + len(page["items"])
            if not page["items"] or offset >= page["total"]:
                offset = None
    return found


def import_mappings(
    client: CreditbankClient, mappings: Iterable[Mapping], providers: Collection[str]
) -> MappingImport:
    """Sign and register the mappings of ``providers`` (ids or names) among ``mappings``."""
    mine = [m for m in mappings if m.provider in providers]
    if not mine:
        raise InputError(f"no mappings of provider {' or '.join(sorted(providers))} to import")
    registered = _registered(client)
    todo: list[Mapping] = []
    for mapping in mine:
        held = registered.get((mapping.mapping_id, mapping.version))
        if held is None:
            todo.append(mapping)
        elif held != canonical_bytes(mapping.to_json()):
            raise ConflictError(
                f"mapping {mapping.mapping_id} version {mapping.version} is already registered "
                "with other terms; register a new version instead"
            )
    if not todo:
        return MappingImport((), len(mine))
    if len(todo) > MAX_IMPORT:
        raise InputError(
            f"{len(todo)} mappings to register; one import takes at most {MAX_IMPORT} "
            "(split the map by provider or programme)"
        )
    signer = client.signer
    if signer is None:
        raise InputError("importing a map needs the provider's key (--key)")
    kind = KINDS["mapping.registered"]
    signed = [
        signer.sign(kind.entry_type, {"v": 1, "mapping": m.to_json()}, nonce=mapping_nonce(m))
        for m in todo
    ]
    receipts = client.submit_batch(signed)
    return MappingImport(tuple(receipts), len(mine) - len(todo))
