"""``creditbank serve`` and ``creditbank demo``: the HTTP API in this process."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from creditbank.cli.common import new_app
from creditbank.config import Settings

__all__ = ["app"]

app = new_app(help="Serve the HTTP API.")


@app.command("serve")
def serve_command(
    host: Annotated[
        str, typer.Option(metavar="HOST", help="Interface to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT", help="TCP port.")] = 8000,
    db: Annotated[
        str | None,
        typer.Option("--db", metavar="URL", help="Database URL (CREDITBANK_DATABASE_URL)."),
    ] = None,
) -> None:
    """Serve the HTTP API over the configured ledger (see `creditbank init`)."""
    import uvicorn

    from creditbank.api.app import create_app_from_settings

    settings = Settings(database_url=db) if db else Settings()
    uvicorn.run(create_app_from_settings(settings), host=host, port=port)


@app.command("demo")
def demo_command(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", metavar="DIR", help="Where to create the demo (default: a temporary one)."
        ),
    ] = None,
    port: Annotated[int, typer.Option(metavar="PORT", help="TCP port on 127.0.0.1.")] = 8000,
) -> None:
    """Create a demo ledger (providers, a registrar, learners, conversions) and serve it."""
    import uvicorn

    from creditbank.api.app import create_app
    from creditbank.credentials.issuer import demo_issuer
    from creditbank.demo import next_steps, open_demo, sign_in_links

    console = Console()
    with tempfile.TemporaryDirectory(prefix="creditbank-demo-") as scratch:
        folder = data_dir or Path(scratch)
        base_url = f"http://127.0.0.1:{port}"
        with open_demo(folder, base_url=base_url) as (bank, setup):
            for line in [*next_steps(setup), *sign_in_links(bank, setup)]:
                console.print(line, highlight=False, markup=False, soft_wrap=True)
            issuer = demo_issuer(folder / "keys" / "credential.key", base_url)
            app_ = create_app(bank, credential_issuer=issuer)
            uvicorn.run(app_, host="127.0.0.1", port=port, log_level="info")
