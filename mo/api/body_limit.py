"""A cap on request bodies, applied while they stream in, before anything parses them.

Starlette reads a JSON body whole and spools a multipart upload to disk without a size limit of
its own: 100 MB of multipart once peaked at 2.8 GB. So every body is counted here as it
arrives — a Content-Length that declares too much is refused before a byte is read, and a
chunked body is cut off the moment it passes the cap — with 413 `payload_too_large`.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mo.api.errors import error_response
from mo.errors import ErrorCode, MOError


class BodyTooLarge(MOError):
    """Raised from `receive` when the body passes the cap; the app's MOError handler or, if the
    app let it through, BodyLimit itself answers it."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"the request body is over the limit of {limit:,} bytes (MO_MAX_BODY_MB)",
            {"field": "body", "limit_bytes": limit},
        )


class BodyLimit:
    """ASGI middleware: refuse HTTP request bodies over `max_bytes` with 413 in the error shape."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _declared_length(Headers(scope=scope)) > self.max_bytes:
            await error_response(BodyTooLarge(self.max_bytes))(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, self._counted(receive), send_tracked)
        except BodyTooLarge as err:
            if started:  # too late for an answer: let the server drop the connection
                raise
            await error_response(err)(scope, receive, send)

    def _counted(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        return counted


def _declared_length(headers: Headers) -> int:
    """The Content-Length as a number, 0 when absent; a malformed one is the server's to refuse."""
    try:
        return int(headers.get("content-length", "0"))
    except ValueError:
        return 0
