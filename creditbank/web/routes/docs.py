"""``/docs``: Swagger UI from assets served by this app (the bank may run with no internet).

FastAPI's ``/redoc`` is removed (its page loads ReDoc, a font and a logo from CDNs; the ReDoc
bundle itself fetches a logo from its vendor), so the API's only docs page works offline.
The JavaScript and CSS come from the ``fastapi-offline`` package (a dependency), served under
``/static/swagger``; the page's own start-up script is ``static/js/swagger-init.js`` so the page
keeps the same strict Content-Security-Policy as the rest of the site.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>creditbank API</title>
<link rel="icon" href="/static/swagger/favicon.png">
<link rel="stylesheet" href="/static/swagger/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/swagger/swagger-ui-bundle.js"></script>
<script src="/static/js/swagger-init.js"></script>
</body></html>
"""


_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'"
)


@router.get("/docs")
def docs() -> HTMLResponse:
    return HTMLResponse(_HTML, headers={"Content-Security-Policy": _CSP})
