"""The public verify page and the browser crypto library it runs on.

Everything a verifier needs is served by this app (no CDN): the page at ``/verify`` and the ES
modules under ``/static/js/crypto/``. The checks run in the visitor's browser, so the page is only a
vehicle: a credential verifies or fails on its own signature, status list and log proofs, not on
our say-so. The JS route is a plain route (not a mount), so it coexists with any ``/static`` mount
of the rest of the web app: both serve the same files from the package.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from creditbank.errors import NotFoundError

__all__ = ["CRYPTO_DIR", "router"]

_WEB = Path(str(files("creditbank.web")))
CRYPTO_DIR = _WEB / "static" / "js" / "crypto"
_ASSET = re.compile(r"^[a-z0-9][a-z0-9_-]*\.js$")
_JS = "text/javascript; charset=utf-8"

router = APIRouter(include_in_schema=False)


def _asset(directory: Path, name: str) -> FileResponse:
    """A file of ``directory`` by a name that cannot climb out of it."""
    path = directory / name
    if not _ASSET.match(name) or not path.is_file():
        raise NotFoundError(f"no asset {name!r}")
    return FileResponse(path, media_type=_JS, headers={"Cache-Control": "no-cache"})


@router.get("/static/js/crypto/{name}")
def crypto_module(name: str) -> FileResponse:
    """One module of the browser crypto library (JCS, Ed25519, Merkle proofs, ...)."""
    return _asset(CRYPTO_DIR, name)
