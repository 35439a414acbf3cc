"""The handlers that answer every error with RFC 9457 ``application/problem+json``, and log it.

Which problem an error is comes from the one table in :mod:`creditbank.api.errors`
(:func:`~creditbank.api.errors.problem_for`); this module installs the exception handlers and the
middleware that use it, writes the one log line of each error answer (:func:`log_problem`: no
body, no header, no token, no exception message), and states in the OpenAPI document that error
answers are problem+json.
"""

from __future__ import annotations

import json
import logging
import secrets
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creditbank import errors
from creditbank.api.errors import (
    HTTP_PROBLEMS,
    PROBLEM_MEDIA_TYPE,
    ProblemType,
    problem_answer,
    problem_for,
    problem_response,
)

__all__ = ["UnexpectedErrors", "install_problem_handlers", "log_problem"]

_log = logging.getLogger("creditbank.api")


def _always_possible(path: str, operation: dict[str, Any]) -> list[int]:
    """Problems any operation of its kind can answer, whatever its route declares.

    A body can be malformed JSON (400), too large (413) or not JSON at all (415); every route but
    liveness reads the database, which can be unavailable (503).
    """
    statuses = [400, 413, 415] if "requestBody" in operation else []
    if path != "/healthz":
        statuses.append(503)
    return statuses


def _validation_issues(raw: Sequence[Any]) -> list[dict[str, Any]]:
    issues = []
    for err in raw:
        loc = [p if isinstance(p, int) else str(p) for p in err.get("loc", ())]
        issues.append(
            {"loc": loc, "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))}
        )
    return issues


def _route_of(scope: Mapping[str, Any]) -> str:
    """The route template (``/v1/learners/{learner_id}/balance``), never the concrete path."""
    route = scope.get("route")
    return str(getattr(route, "path", None) or "(no route)")


def log_problem(
    scope: Mapping[str, Any], status: int, slug: str, exc: BaseException | None = None
) -> str:
    """Write the one log line of an error answer; return its correlation id.

    The line is JSON with fixed keys: no request body, no header, no token, no exception message
    (a database error's message quotes the row), and the route template rather than the path.
    The problem+json answer carries the same ``correlation_id``, so an operator finds the line from
    what the user reports. Server faults also name the code location that raised.
    """
    correlation_id = secrets.token_hex(8)
    record: dict[str, Any] = {
        "event": "problem",
        "correlation_id": correlation_id,
        "status": status,
        "type": slug,
        "method": scope.get("method"),
        "route": _route_of(scope),
    }
    if exc is not None:
        record["error"] = type(exc).__name__
        frames = traceback.extract_tb(exc.__traceback__)
        if frames:
            record["at"] = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}"
    level = logging.ERROR if status >= 500 else logging.INFO
    _log.log(level, json.dumps(record, ensure_ascii=True, sort_keys=True))
    return correlation_id


def _answer(
    request: Request,
    problem: ProblemType,
    detail: str,
    exc: BaseException | None = None,
    **extensions: Any,
) -> JSONResponse:
    correlation_id = log_problem(request.scope, problem.status, problem.slug, exc)
    return problem_response(
        problem, detail, instance=request.url.path, correlation_id=correlation_id, **extensions
    )


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.CreditbankError)
    problem, extensions = problem_for(exc)
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
    if problem.status >= 500:
        detail = "the server could not complete the request; the operator has been told"
        if isinstance(exc, errors.StorageError):
            detail = "the ledger database is not available; try again later"
        return _answer(request, problem, detail, exc)
    return _answer(request, problem, str(exc), headers=headers, **extensions)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in raw):
        ctx = next((err.get("ctx") or {} for err in raw if err.get("type") == "json_invalid"), {})
        reason = ctx.get("error", "not valid JSON") if isinstance(ctx, dict) else "not valid JSON"
        return _answer(
            request,
            HTTP_PROBLEMS["malformed-json"],
            f"the request body is not valid JSON: {reason}",
        )
    body_not_json = any(
        tuple(err.get("loc", ())) == ("body",) and isinstance(err.get("input"), bytes | str)
        for err in raw
    )
    if body_not_json and "json" not in request.headers.get("content-type", ""):
        return _answer(
            request,
            HTTP_PROBLEMS["unsupported-media-type"],
            "send the body as JSON with Content-Type: application/json",
        )
    issues = _validation_issues(raw)
    first = issues[0] if issues else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"])
    return _answer(
        request,
        HTTP_PROBLEMS["validation"],
        f"{where}: {first['msg']}" + (f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""),
        errors=issues,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    by_status = {p.status: p for p in HTTP_PROBLEMS.values()}
    problem = by_status.get(
        exc.status_code, ProblemType(exc.status_code, f"http-{exc.status_code}", "HTTP error")
    )
    detail = exc.detail if isinstance(exc.detail, str) else problem.title
    if exc.status_code == 404:
        detail = f"no route {request.method} {request.url.path}"
    elif exc.status_code == 413:
        detail = "the request body is larger than this server accepts"
    headers = dict(exc.headers) if exc.headers else None
    return _answer(request, problem, detail, headers=headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    return _answer(
        request,
        HTTP_PROBLEMS["internal"],
        "the server could not complete the request; the operator has been told",
        exc,
    )


class UnexpectedErrors:
    """Answer a crash with problem+json and one log line, and let nothing re-raise.

    Starlette's outermost middleware re-raises an exception after its handler answered, so the
    server logs a second, full traceback (with the database values in it). This middleware sits
    inside it and ends the exception here.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # too late for an answer; the line is still written once
                log_problem(scope, 500, "internal", exc)
                return
            response = await _unexpected(Request(scope, receive), exc)
            await response(scope, receive, send)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error, domain or HTTP, answer ``application/problem+json``, and say so in the
    OpenAPI document (error answers are listed as problem+json only)."""
    app.add_exception_handler(errors.CreditbankError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(UnexpectedErrors)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status in _always_possible(path, operation):
                    responses.setdefault(str(status), problem_answer(status))
                for answer in responses.values():
                    content = answer.get("content", {})
                    if PROBLEM_MEDIA_TYPE in content:
                        content.pop("application/json", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
