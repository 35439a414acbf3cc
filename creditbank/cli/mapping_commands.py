"""``creditbank mapping proposed|approve|retire``: reviewing providers' proposed mappings.

A provider's ``import-map`` only proposes; a registrar of the programme's institution lists what
is proposed, approves a version (a signed ``mapping.approved``) or retires a mapping (a signed
``mapping.retired``, which the owning provider may post too).
"""

from __future__ import annotations

from typing import Annotated

import typer

from creditbank.cli.common import new_app
from creditbank.cli.output import print_json, print_receipt
from creditbank.cli.remote import (
    DEFAULT_URL,
    REASON_HELP,
    ActorOption,
    JsonOption,
    KeyOption,
    TokenOption,
    UrlOption,
    writer,
)
from creditbank.client import CreditbankClient

__all__ = ["mapping_app"]

mapping_app = new_app(help="Mappings: list the proposed ones, approve or retire them.")


@mapping_app.command("proposed")
def proposed_command(
    programme: Annotated[
        str | None, typer.Option("--programme", help="Only mappings into this programme.")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    as_json: JsonOption = False,
) -> None:
    """Mapping versions registered by providers and not yet approved (they count nowhere)."""
    filters = {} if programme is None else {"programme_code": programme}
    with CreditbankClient(url) as api:
        page = api.catalogue("proposed-mappings", limit=1000, **filters)
    if as_json:
        print_json(page["items"])
        return
    for item in page["items"]:
        courses = ", ".join(str(t["course_code"]) for t in item.get("targets", []))
        typer.echo(
            f"{item['mapping_id']} v{item['version']}  {item['mode']}  "
            f"{item['programme_code']}: {courses}  ({item['provider']})"
        )
    typer.echo(f"{page['total']} proposed")


@mapping_app.command("approve")
def approve_command(
    mapping_id: Annotated[str, typer.Argument(help="The mapping's id.")],
    version: Annotated[int, typer.Option("--version", min=1, help="The version to approve.")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    key: KeyOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve one version (a registrar of the programme's institution signs mapping.approved)."""
    with writer(url, token, key, actor) as api:
        receipt = api.approve_mapping(mapping_id, version)
    print_receipt(receipt, as_json)


@mapping_app.command("retire")
def retire_command(
    mapping_id: Annotated[str, typer.Argument(help="The mapping's id.")],
    reason: Annotated[str, typer.Option("--reason", help=REASON_HELP)],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    key: KeyOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Retire every version (its provider, or a registrar of the programme's institution)."""
    with writer(url, token, key, actor) as api:
        receipt = api.retire_mapping(mapping_id, reason)
    print_receipt(receipt, as_json)
