"""The witness over HTTP: ``POST /add-checkpoint`` as C2SP tlog-witness defines it.

A plain-text protocol, so plain-text answers: 200 with cosignature lines, 409 with
``text/x.tlog.size`` holding the size on record, other refusals with a one-line reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response

from creditbank.errors import WitnessRefusal
from creditbank.witness.core import Witness

__all__ = ["create_witness_app"]


def create_witness_app(witness: Witness, *, clock: Callable[[], float] = time.time) -> FastAPI:
    app = FastAPI(title="creditbank witness", openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/add-checkpoint")
    async def add_checkpoint(request: Request) -> Response:
        raw = await request.body()
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return PlainTextResponse("request body is not UTF-8\n", status_code=400)
        try:
            lines = witness.add_checkpoint(body, now=int(clock()))
        except WitnessRefusal as exc:
            if exc.status == 409 and exc.latest_size is not None:
                return Response(
                    f"{exc.latest_size}\n", status_code=409, media_type="text/x.tlog.size"
                )
            return PlainTextResponse(f"{exc}\n", status_code=exc.status)
        return PlainTextResponse(lines)

    @app.get("/")
    async def about() -> PlainTextResponse:
        return PlainTextResponse(witness.cosigner.verifier.vkey + "\n")

    return app
