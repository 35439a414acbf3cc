"""The operator's commands, end to end, on SQLite and PostgreSQL: init with genesis, migrations,
importing a provider's map as signed entries, erasure, rebuild, and a verify that checks both the
log's integrity and who signed what."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient
from typer.testing import CliRunner

from creditbank.accounts.identity import Identity, commitment_of, new_salt
from creditbank.accounts.migrate import head_revision
from creditbank.accounts.wiring import BankConfig, open_bank, shipped_data_dir
from creditbank.api.app import create_app_from_settings
from creditbank.cli import app
from creditbank.client import CreditbankClient, EntrySigner
from creditbank.config import Settings
from creditbank.errors import ConflictError, InputError, KeyFormatError, MapLoadError
from creditbank.ledger import SqlLogStore
from creditbank.ledger.database import make_engine
from creditbank.ledger.entry import Entry, public_key_to_b64, sign_entry
from creditbank.ledger.keys import generate_key, load_private_key, save_private_key
from creditbank.mapping import load_programmes
from tests.institutions.test_cohort_import import ThroughTestClient

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
    # Genesis and the shipped catalogue: SOU, its registrar reg-sou and its programmes.
    out = run(cli_env, "init", "--admin-key", str(tmp_path / "admin.key"), "--seed")
    vkey = out.strip().splitlines()[-1]
    assert vkey.startswith(ORIGIN + "+")
    assert "cbt_" in out  # the first admin token, shown once
    head = head_revision()
    assert f"{head} -> {head}" in run(cli_env, "db", "upgrade")

    admin = load_private_key(tmp_path / "admin.key", passphrase=PASSPHRASE.encode())
    registrar = load_private_key(tmp_path / "reg-sou.key", passphrase=PASSPHRASE.encode())
    provider = generate_key()
    save_private_key(provider, tmp_path / "provider.key", passphrase=PASSPHRASE.encode())
    config = BankConfig(
        database_url=cli_env["CREDITBANK_DATABASE_URL"],
        log_key_file=tmp_path / "log.key",
        log_key_passphrase=PASSPHRASE.encode(),
        origin=ORIGIN,
        data_dir=shipped_data_dir(),
    )
    with open_bank(config) as bank:
        body = {
            "v": 1,
            "actor_id": "prov-mech",
            "role": "provider",
            "name": PROVIDER_NAME,
            "public_key": public_key_to_b64(provider.public_key()),
        }
        entry = Entry.create(
            type="actor.registered",
            actor="admin",
            nonce="register-prov-mech",
            claimed_at=bank.clock(),
            body=body,
        )
        bank.submit(sign_entry(entry, admin))

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


# --- init --seed: the shipped catalogue as signed entries ---------------------------------------


def log_size(env: dict[str, str]) -> int:
    engine = make_engine(env["CREDITBANK_DATABASE_URL"])
    try:
        return SqlLogStore(engine).size()
    finally:
        engine.dispose()


def test_init_seed_registers_the_shipped_catalogue(
    cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = tmp_path / "keys"
    out = flat(run(cli_env, "init", "--admin-key", str(keys / "admin.key"), "--seed"))
    shipped = [p.code for p in load_programmes(shipped_data_dir() / "programmes.csv")]
    assert f"seed: {len(shipped)} programmes registered (version 1) by 1 registrar(s)" in out
    assert f"registrar reg-sou (key {keys / 'reg-sou.key'})" in out
    found = re.search(r"the registrar's API token \(shown once, stored hashed\): (cbt_\S+)", out)
    assert found is not None, out
    for name in ("admin.key", "SOU.key", "reg-sou.key"):
        assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600
    # 2 genesis entries, SOU and its registrar, one programme.registered per shipped programme.
    assert log_size(cli_env) == 4 + len(shipped)

    for name, value in cli_env.items():
        monkeypatch.setenv(name, value)
    registrar_key = load_private_key(keys / "reg-sou.key", passphrase=PASSPHRASE.encode())
    with TestClient(create_app_from_settings(Settings())) as http:
        listed = http.get("/v1/catalogue/programmes").json()
        assert sorted(p["code"] for p in listed["items"]) == sorted(shipped)
        with CreditbankClient(
            "http://testserver",
            token=found.group(1),
            signer=EntrySigner("reg-sou", registrar_key),
            transport=ThroughTestClient(http),
        ) as registrar:
            assert registrar.whoami() == {"role": "registrar", "actor_id": "reg-sou"} | {
                "learner_id": None
            }
            _, receipt = registrar.register_learner(name="陈静", id_number="310101198805055555")
    assert receipt.index == 4 + len(shipped)
    verified = flat(run(cli_env, "verify", "--workers", "1"))
    assert "every entry was signed by a key its actor held" in verified
    assert "the read models equal a replay of the log" in verified


def test_seed_needs_an_admin_key(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["init", "--seed"], env=cli_env)
    assert isinstance(result.exception, InputError)
    assert "--seed needs --admin-key" in str(result.exception)
    assert not (tmp_path / "log.key").exists()  # refused before anything was made


def test_a_malformed_programmes_file_makes_nothing(cli_env: dict[str, str], tmp_path: Path) -> None:
    lines = (shipped_data_dir() / "programmes.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0] + ",three"  # line 3: credits
    bad = tmp_path / "programmes.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["init", "--admin-key", str(tmp_path / "admin.key"), "--seed"]
    result = CliRunner().invoke(app, [*args, "--programmes", str(bad)], env=cli_env)
    assert isinstance(result.exception, MapLoadError)
    assert [(p.file, p.line, p.column) for p in result.exception.problems] == [
        (str(bad), 3, "credits")
    ]
    assert not (tmp_path / "admin.key").exists() and not (tmp_path / "log.key").exists()
    # No genesis happened: the same command with the shipped file still makes one.
    run(cli_env, *args)
    assert log_size(cli_env) > 4


def test_init_seed_refuses_a_seeded_log_and_existing_keys(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    run(cli_env, "init", "--admin-key", str(tmp_path / "first" / "admin.key"), "--seed")
    size = log_size(cli_env)
    again = CliRunner().invoke(
        app, ["init", "--admin-key", str(tmp_path / "second" / "admin.key"), "--seed"], env=cli_env
    )
    assert isinstance(again.exception, ConflictError)
    assert "this log already has its genesis" in str(again.exception)
    assert log_size(cli_env) == size
    assert not any((tmp_path / "second").iterdir())


def test_init_seed_never_overwrites_a_key_file(cli_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "reg-sou.key").write_text("someone's key\n")
    result = CliRunner().invoke(
        app, ["init", "--admin-key", str(tmp_path / "admin.key"), "--seed"], env=cli_env
    )
    assert isinstance(result.exception, KeyFormatError)
    assert "already exists; refusing to overwrite" in str(result.exception)
    assert (tmp_path / "reg-sou.key").read_text() == "someone's key\n"
    assert not (tmp_path / "admin.key").exists() and not (tmp_path / "SOU.key").exists()
    assert log_size(cli_env) == 0
