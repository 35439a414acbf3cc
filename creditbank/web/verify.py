"""The public verify page and the browser crypto library it runs on.

Everything a verifier needs is served by this app (no CDN): the page at ``/verify``, its own
script and style under ``/verify/assets/``, and the ES modules under ``/static/js/crypto/``. The
checks run in the visitor's browser, so the server is only a vehicle: a credential verifies or
fails on its own signature, status list and log proofs, not on our say-so. The JS route is a plain
route (not a mount), so it coexists with any ``/static`` mount of the rest of the web app: both
serve the same files from the package.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from creditbank.errors import NotFoundError

__all__ = ["CRYPTO_DIR", "PAGE_DIR", "router"]

_WEB = Path(str(files("creditbank.web")))
CRYPTO_DIR = _WEB / "static" / "js" / "crypto"
PAGE_DIR = _WEB / "verify"
_ASSET = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(js|css)$")
_TYPES = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
LANGUAGES = ("zh", "en")

#: Scripts and styles only from this origin; the page may fetch a credential and its status list
#: from wherever the QR code points (the issuer's server), and nothing else runs.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' https: http:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)

router = APIRouter(include_in_schema=False)


def _asset(directory: Path, name: str) -> Response:
    """A file of ``directory`` by a name that cannot climb out of it.

    Sent as a plain response (the files are a few kB), which passes through every middleware of
    the API unchanged, where a streamed file response may not.
    """
    match = _ASSET.match(name)
    path = directory / name
    if match is None or not path.is_file():
        raise NotFoundError(f"no asset {name!r}")
    return Response(
        path.read_bytes(), media_type=_TYPES[match.group(1)], headers={"Cache-Control": "no-cache"}
    )


@router.get("/static/js/crypto/{name}")
def crypto_module(name: str) -> Response:
    """One module of the browser crypto library (JCS, Ed25519, Merkle proofs, ...)."""
    return _asset(CRYPTO_DIR, name)


@router.get("/verify/assets/{name}")
def page_asset(name: str) -> Response:
    """The verify page's own script and style."""
    return _asset(PAGE_DIR, name)


@lru_cache(maxsize=1)
def _messages() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads((PAGE_DIR / "messages.json").read_text("utf-8"))
    return data


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PAGE_DIR), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return env.get_template("verify.html")


@router.get("/verify", response_class=HTMLResponse)
def verify_page(
    lang: Annotated[str | None, Query(description="zh (default) or en")] = None,
    credential: Annotated[str | None, Query(description="URL of a credential to verify")] = None,
) -> HTMLResponse:
    """The page itself; ``?credential=URL`` (from a QR code) makes the browser fetch and check it."""
    language = lang if lang in LANGUAGES else LANGUAGES[0]
    messages = _messages()
    context: dict[str, Any] = {
        "lang": language,
        "html_lang": "zh-CN" if language == "zh" else "en",
        "t": messages[language],
        "messages_json": json.dumps(messages, ensure_ascii=False).replace("</", "<\\/"),
        "credential_url": credential or "",
    }
    headers = {"Content-Security-Policy": _CSP, "Referrer-Policy": "no-referrer"}
    return HTMLResponse(_template().render(context), headers=headers)
