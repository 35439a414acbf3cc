"""Creating or reopening the demo in a folder, and what to try next."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from creditbank.accounts.bank import CreditBank
from creditbank.accounts.wiring import BankConfig, create_schema, open_bank, shipped_data_dir
from creditbank.demo.seed import build_demo
from creditbank.demo.setup import CREDENTIALS_FILE, DATABASE_FILE, DEMO_ORIGIN, LOG_KEY, DemoSetup
from creditbank.errors import ConflictError
from creditbank.ledger.database import make_engine
from creditbank.ledger.keys import generate_key, save_private_key
from creditbank.ledger.private_files import private_folder, private_sqlite_file
from creditbank.web import signin_link

__all__ = ["next_steps", "open_demo"]


@contextmanager
def open_demo(
    data_dir: Path, *, base_url: str, map_dir: Path | None = None
) -> Iterator[tuple[CreditBank, DemoSetup]]:
    """Create (or reopen) the demo in ``data_dir``; yield the open bank and what it holds."""
    data_dir = private_folder(data_dir.resolve())
    map_dir = map_dir or shipped_data_dir()
    credentials = data_dir / CREDENTIALS_FILE
    database = data_dir / DATABASE_FILE
    log_key = data_dir / "keys" / LOG_KEY
    fresh = not database.exists()
    if not fresh and not (credentials.exists() and log_key.exists()):
        raise ConflictError(
            f"{data_dir} holds a database but no demo credentials; use an empty directory"
        )
    if fresh:
        private_folder(log_key.parent)
        save_private_key(generate_key(), log_key, passphrase=None, insecure=True)
    private_sqlite_file(f"sqlite:///{database}")
    config = BankConfig(
        database_url=f"sqlite:///{database}",
        log_key_file=log_key,
        log_key_passphrase=None,
        origin=DEMO_ORIGIN,
        data_dir=map_dir,
    )
    engine = make_engine(config.database_url)
    try:
        create_schema(engine)
        with open_bank(config, engine=engine) as bank:
            if fresh:
                setup = build_demo(bank, data_dir, base_url=base_url, map_dir=map_dir)
            else:
                setup = DemoSetup.from_json(
                    data_dir, json.loads(credentials.read_text("utf-8")), base_url
                )
            credentials.write_text(
                json.dumps(setup.to_json(), ensure_ascii=False, indent=2) + "\n", "utf-8"
            )
            credentials.chmod(0o600)
            yield bank, setup
    finally:
        engine.dispose()


def next_steps(setup: DemoSetup) -> Sequence[str]:
    """What to try, as lines to print."""
    url = setup.base_url
    learner = setup.learners[0]
    registrar = setup.registrars[0]
    quoted = shlex.quote(f"Authorization: Bearer {learner.token}")
    programme = setup.programmes.get(learner.learner_id, "")
    return [
        f"creditbank demo: a ledger with {len(setup.providers)} training providers, "
        f"{len(setup.registrars)} registrar and {len(setup.learners)} learners",
        f"  data:         {setup.data_dir}",
        f"  credentials:  {setup.data_dir / CREDENTIALS_FILE}",
        f"  log key:      {setup.verifier_key}",
        "",
        "Try:",
        f"  open {url}/docs                          (OpenAPI, with examples)",
        f"  curl {url}/v1/log/checkpoint",
        f"  curl -H {quoted} {url}/v1/learners/{learner.learner_id}/balance",
        f"  curl -H {quoted} {url}/v1/learners/{learner.learner_id}/transcript > transcript.json",
        f"  creditbank verify-transcript transcript.json --log-key '{setup.verifier_key}'",
        f"  CREDITBANK_URL={url} CREDITBANK_TOKEN={registrar.token} \\",
        f"    creditbank convert plan --learner {learner.learner_id} --programme {programme}",
        f"  creditbank verify --db {setup.database_url} --origin {DEMO_ORIGIN} \\",
        f"    --log-key '{setup.verifier_key}'",
        "",
        f"Serving on {url} (Ctrl-C to stop)",
    ]


def sign_in_links(bank: CreditBank, setup: DemoSetup) -> list[str]:
    """A one-time sign-in link for the web pages per demo account (each works once, 15 min).

    The link carries a one-time code, never the account's token.
    """
    accounts = [
        (f"{actor.role} {actor.actor_id}", actor.token)
        for actor in (setup.admin, *setup.registrars, *setup.providers)
    ] + [(f"learner {learner.learner_id}", learner.token) for learner in setup.learners]
    return ["Sign in to the web pages (each link works once, for 15 minutes):"] + [
        f"  {label}: {signin_link(bank, token, setup.base_url)}" for label, token in accounts
    ]
