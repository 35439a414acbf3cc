"""``creditbank actor register|rotate-key`` and ``creditbank token issue|revoke``: an admin's work."""

from __future__ import annotations

from typing import Annotated

import typer

from creditbank.accounts.kinds import KEY_RECOVERY_REASONS
from creditbank.cli.common import new_app
from creditbank.cli.output import print_receipt
from creditbank.cli.remote import (
    DEFAULT_URL,
    ActorOption,
    JsonOption,
    KeyOption,
    TokenOption,
    UrlOption,
    client,
    writer,
)
from creditbank.config import Settings

__all__ = ["app"]

app = new_app(help="Admins: actors, keys and tokens.")
token_app = new_app(help="Admin: issue and revoke bearer tokens.")
actor_app = new_app(help="Admin: register actors and rotate keys.")
app.add_typer(token_app, name="token")
app.add_typer(actor_app, name="actor")


@actor_app.command("register")
def actor_register(
    actor_id: Annotated[str, typer.Argument(help="The new actor's id.")],
    role: Annotated[str, typer.Option("--role", help="admin, provider, registrar or institution.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    public_key: Annotated[
        str, typer.Option("--public-key", help="base64 Ed25519 key (`creditbank keys new`).")
    ],
    institution: Annotated[
        str | None,
        typer.Option("--institution", help="A registrar's institution code (e.g. SOU)."),
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    key: KeyOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register an actor with its public key (a signed actor.registered, by an admin)."""
    with writer(url, token, key, actor) as api:
        receipt = api.register_actor(actor_id, role, name, public_key, institution)
    print_receipt(receipt, as_json)


@actor_app.command("rotate-key")
def actor_rotate_key(
    actor_id: Annotated[str, typer.Argument(help="Whose key.")],
    new_public_key: Annotated[str, typer.Option("--new-public-key", help="base64 Ed25519.")],
    old_key_id: Annotated[str, typer.Option("--old-key-id", help="Key id to revoke.")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    key: KeyOption = None,
    actor: ActorOption = None,
) -> None:
    """Add the new key, then revoke the old one (two signed entries, by an admin)."""
    with writer(url, token, key, actor) as api:
        print_receipt(api.add_key(actor_id, new_public_key), False)
        print_receipt(api.revoke_key(actor_id, old_key_id), False)


@actor_app.command("recover-key")
def actor_recover_key(
    actor_id: Annotated[str, typer.Argument(help="The actor that lost every key.")],
    public_key: Annotated[
        str,
        typer.Option("--public-key", help="Its new base64 Ed25519 key (`creditbank keys new`)."),
    ],
    reason: Annotated[
        str,
        typer.Option("--reason", help="A reason code: " + ", ".join(KEY_RECOVERY_REASONS) + "."),
    ],
    delay_days: Annotated[
        int | None,
        typer.Option(
            "--delay-days",
            min=7,
            max=90,
            help="Days of log time before the key may sign "
            "(default CREDITBANK_KEY_RECOVERY_DELAY_DAYS, 7).",
        ),
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    key: KeyOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Give a new key to an actor that lost all of its own (a signed actor.key_recovered).

    The key signs nothing until the delay has passed in log time; until then any current key of
    that actor can cancel the recovery, and every entry signed under the key is flagged by
    `creditbank verify` and in transcripts.
    """
    days = delay_days if delay_days is not None else Settings().key_recovery_delay_days
    with writer(url, token, key, actor) as api:
        receipt = api.recover_key(actor_id, public_key, reason, days)
    print_receipt(receipt, as_json)


@actor_app.command("cancel-recovery")
def actor_cancel_recovery(
    actor_id: Annotated[str, typer.Argument(help="Your own actor id.")],
    key_id: Annotated[str, typer.Option("--key-id", help="The recovered key's id.")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    key: KeyOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Veto a pending recovery of your keys, signed with one of your current keys."""
    with writer(url, token, key, actor) as api:
        receipt = api.cancel_key_recovery(actor_id, key_id)
    print_receipt(receipt, as_json)


@token_app.command("issue")
def token_issue(
    actor_id: Annotated[str | None, typer.Option("--actor-id", help="For an actor.")] = None,
    learner_id: Annotated[str | None, typer.Option("--learner-id", help="For a learner.")] = None,
    label: Annotated[str, typer.Option("--label", help="A note for the record.")] = "",
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Issue a bearer token (printed once; only its hash is stored)."""
    with client(url, token) as api:
        issued = api.issue_token(actor_id=actor_id, learner_id=learner_id, label=label)
    typer.echo(f"token: {issued['token']}")
    typer.echo(f"token_id: {issued['token_id']}")


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (its SHA-256, hex).")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Revoke a bearer token."""
    with client(url, token) as api:
        api.revoke_token(token_id)
    typer.echo(f"revoked {token_id}")
