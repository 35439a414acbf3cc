"""A request-size limit that answers like every other error: ``413 application/problem+json``.

The body is read (up to the limit) before the app sees the request, then handed on unchanged, so
an oversize request is refused whether it declares its length or streams in chunks, and never
reaches a route half-read.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creditbank.api.errors import HTTP_PROBLEMS, problem_response
from creditbank.api.problem_handlers import log_problem

__all__ = ["BodyLimitMiddleware"]


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_bytes: int, path_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        #: Larger (or smaller) limits for exact paths, e.g. the batch route.
        self.path_limits = dict(path_limits or {})

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        problem = HTTP_PROBLEMS["payload-too-large"]
        response = problem_response(
            problem,
            f"the request body is larger than the {limit} bytes this server accepts",
            instance=scope.get("path"),
            headers={"Connection": "close"},
            correlation_id=log_problem(scope, problem.status, problem.slug),
        )
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope.get("path", ""), self.max_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, receive, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        await self.app(
            scope,
            _replay([{"type": "http.request", "body": body, "more_body": False}], receive),
            send,
        )


def _replay(messages: list[Message], then: Receive) -> Receive:
    """The messages already read, then the real channel: a streamed answer (a file) listens for
    the client's disconnect while it sends, so answering "disconnected" at once would cut it."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return await then()

    return receive
