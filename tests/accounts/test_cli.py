"""The operator's commands, end to end, on SQLite and PostgreSQL: init with genesis, migrations,
importing a provider's map as signed entries, erasure, rebuild, and a verify that checks both the
log's integrity and who signed what."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from creditbank.accounts.identity import Identity, commitment_of, new_salt
from creditbank.accounts.migrate import head_revision
from creditbank.accounts.wiring import BankConfig, load_programmes, open_bank, shipped_data_dir
from creditbank.cli import app
from creditbank.demo.programmes import programme_body
from creditbank.ledger.entry import Entry, public_key_to_b64, sign_entry
from creditbank.ledger.keys import generate_key, load_private_key, save_private_key

PASSPHRASE = "cli-test-passphrase"
ORIGIN = "creditbank.test/cli"
PROVIDER_NAME = "上海市高技能人才培养基地（机械制造）"


@pytest.fixture
def cli_env(
    engine: Engine, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    env = {
        "CREDITBANK_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "CREDITBANK_LOG_KEY_FILE": str(tmp_path / "log.key"),
        "CREDITBANK_LOG_KEY_PASSPHRASE": PASSPHRASE,
        "CREDITBANK_KEY_PASSPHRASE": PASSPHRASE,
        "CREDITBANK_ORIGIN": ORIGIN,
    }
    if engine.dialect.name == "postgresql":
        monkeypatch.setenv("PGOPTIONS", f"-csearch_path={request.getfixturevalue('pg_schema')[1]}")
    return env


def run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def flat(text: str) -> str:
    """Rich wraps long lines; compare words, not line breaks."""
    return " ".join(text.split())


def test_operator_workflow(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = run(cli_env, "init", "--admin-key", str(tmp_path / "admin.key"))
    vkey = out.strip().splitlines()[-1]
    assert vkey.startswith(ORIGIN + "+")
    assert "cbt_" in out  # the first admin token, shown once
    head = head_revision()
    assert f"{head} -> {head}" in run(cli_env, "db", "upgrade")

    admin = load_private_key(tmp_path / "admin.key", passphrase=PASSPHRASE.encode())
    provider = generate_key()
    save_private_key(provider, tmp_path / "provider.key", passphrase=PASSPHRASE.encode())
    config = BankConfig(
        database_url=cli_env["CREDITBANK_DATABASE_URL"],
        log_key_file=tmp_path / "log.key",
        log_key_passphrase=PASSPHRASE.encode(),
        origin=ORIGIN,
        data_dir=shipped_data_dir(),
    )
    registrar = generate_key()
    with open_bank(config) as bank:
        for actor_id, role, name, key in (
            ("prov-mech", "provider", PROVIDER_NAME, provider),
            ("SOU", "institution", "上海开放大学", generate_key()),
            ("reg-sou", "registrar", "上海开放大学学分银行", registrar),
        ):
            body = {
                "v": 1,
                "actor_id": actor_id,
                "role": role,
                "name": name,
                "public_key": public_key_to_b64(key.public_key()),
                **({"institution": "SOU"} if role == "registrar" else {}),
            }
            entry = Entry.create(
                type="actor.registered",
                actor="admin",
                nonce=f"register-{actor_id}",
                claimed_at=bank.clock(),
                body=body,
            )
            bank.submit(sign_entry(entry, admin))
        for programme in load_programmes(shipped_data_dir()):  # the catalogue is the log's
            entry = Entry.create(
                type="programme.registered",
                actor="reg-sou",
                nonce=f"programme-{programme.code}",
                claimed_at=bank.clock(),
                body=programme_body(programme),
            )
            bank.submit(sign_entry(entry, registrar))

    map_csv = str(shipped_data_dir() / "qualification_map.csv")
    import_args = (
        "import-map",
        map_csv,
        "--provider",
        "prov-mech",
        "--key",
        str(tmp_path / "provider.key"),
    )
    out = flat(run(cli_env, *import_args))
    assert "registered 7 mappings of prov-mech" in out and "0 were already registered" in out
    assert "already registered" in flat(run(cli_env, *import_args))

    identity = Identity(name="陈静", id_number="310101198805055555", salt=new_salt())
    with open_bank(config) as bank:
        entry = Entry.create(
            type="learner.registered",
            actor="reg-sou",
            nonce="learner-1",
            claimed_at=bank.clock(),
            body={"v": 1, "learner_id": "L-cli", "commitment": commitment_of(identity)},
        )
        bank.submit(sign_entry(entry, registrar), identity=identity)
    assert "erased" in run(cli_env, "learner", "erase", "L-cli")

    out = run(cli_env, "verify", "--log-key", vkey, "--workers", "1")
    assert "OK:" in out and "every entry was signed by a key its actor held" in flat(out)
    assert "rebuilt the read models" in flat(run(cli_env, "rebuild"))
    run(cli_env, "verify", "--log-key", vkey, "--workers", "1")


def test_genesis_happens_once(cli_env: dict[str, str], tmp_path: Path) -> None:
    run(cli_env, "init", "--admin-key", str(tmp_path / "admin.key"))
    result = CliRunner().invoke(
        app, ["init", "--admin-key", str(tmp_path / "admin2.key")], env=cli_env
    )
    assert result.exit_code != 0
    assert not (tmp_path / "admin2.key").exists()
