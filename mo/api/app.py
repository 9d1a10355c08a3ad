"""The HTTP API: create_app(db_url) builds a FastAPI app over one store it holds for its lifetime.

The tenant of every request comes from its API key (Authorization: Bearer …), never from
anything else the caller chooses. Endpoints are plain `def` functions, so FastAPI runs them in
its threadpool (the two upload endpoints read the body asynchronously, then do the same); the
stores are thread-safe (DuckDB: a cursor per transaction; PostgreSQL: a pool).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mo.api.body_limit import BodyLimit
from mo.api.errors import (
    HeadTooLarge,
    IdempotencyKeyRequired,
    IdempotencyKeyUnreadable,
    error_response,
    install_error_handlers,
)
from mo.api.scratch import remove_stale
from mo.client.local import LocalClient
from mo.domain.context import TenantContext
from mo.errors import ErrorCode, MOError
from mo.services.tenants import authenticate
from mo.settings import load_input_limits, load_page_limits, load_settings, max_header_bytes
from mo.store import Store, open_store

_bearer = HTTPBearer(auto_error=False, description="an API key from `mo apikey create --tenant …`")


class InFlight:
    """The (tenant, idempotency key) pairs this process is working on right now.

    A duplicate that arrives while the first is still running is told idempotency_in_progress
    (409) at once, rather than waiting on a database lock and maybe timing out. Across several
    server processes the services' idempotency records still allow one effect only.
    """

    def __init__(self) -> None:
        self._keys: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    @contextmanager
    def claim(self, tenant_id: str, key: str) -> Iterator[None]:
        pair = (tenant_id, key)
        with self._lock:
            if pair in self._keys:
                raise MOError(
                    ErrorCode.IDEMPOTENCY_IN_PROGRESS,
                    "a request with this idempotency key is still in progress; retry shortly",
                    {"idempotency_key": key},
                )
            self._keys.add(pair)
        try:
            yield
        finally:
            with self._lock:
                self._keys.discard(pair)


@dataclass(frozen=True)
class Caller:
    """The authenticated tenant of a request, and a client bound to it and the app's store."""

    ctx: TenantContext
    client: LocalClient


class ApiKeyAuth:
    """ASGI middleware: every /v1 request but /v1/health is authenticated before anything else.

    Running ahead of routing and body parsing means a caller without a valid key learns nothing
    (401 for any path, method or body) and cannot make the server parse an upload.
    """

    OPEN_PATHS = frozenset({"/v1/health"})

    def __init__(self, app: ASGIApp, *, store: Store) -> None:
        self.app, self.store = app, store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/v1/") or path in self.OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        try:
            ctx = await run_in_threadpool(
                authenticate, self.store, _bearer_token(Headers(scope=scope))
            )
        except MOError as err:
            await error_response(err)(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = Caller(ctx, LocalClient.bound(self.store, ctx))
        await self.app(scope, receive, send)


class HeadLimit:
    """ASGI middleware: a request whose line and headers exceed max_bytes is answered 431.

    uvicorn's h11 parser stops a head that arrives in pieces at the same size (with its own
    plain-text 400), but a head that arrives in one read is parsed whole; this catches those.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _head_size(scope) > self.max_bytes:
            await error_response(HeadTooLarge(max_bytes=self.max_bytes))(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _head_size(scope: Scope) -> int:
    # As on the wire: "METHOD target?query HTTP/1.1" and "name: value\r\n" per header.
    path = scope.get("raw_path") or scope["path"].encode()
    line = len(scope["method"]) + len(path) + len(scope["query_string"]) + 12
    return line + sum(len(name) + len(value) + 4 for name, value in scope["headers"])


def _bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    """The tenant whose API key the request carries (ApiKeyAuth checked it; `credentials` is
    declared so that the OpenAPI document shows the bearer scheme)."""
    return request.state.caller  # type: ignore[no-any-return]


def idempotency_key(request: Request) -> str:
    """The Idempotency-Key header (raw, or an RFC 8941 string in quotes); 400 when missing,
    blank, or not UTF-8."""
    raw = request.headers.get("idempotency-key")
    if raw is None:
        raise IdempotencyKeyRequired()
    # Starlette decodes headers as latin-1; clients send UTF-8 bytes for non-ASCII keys.
    # Bytes that are not UTF-8 are refused, not replaced: replaced, distinct keys would collide.
    try:
        key = raw.encode("latin-1").decode("utf-8").strip()
    except UnicodeDecodeError:
        raise IdempotencyKeyUnreadable() from None
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if not key.strip():  # '" "' is as missing as no header at all
        raise IdempotencyKeyRequired()
    return key


@contextmanager
def in_flight(request: Request, who: Caller, key: str) -> Iterator[None]:
    with request.app.state.in_flight.claim(who.ctx.tenant_id, key):
        yield


def create_app(db_url: str | None = None) -> FastAPI:
    """The API over the store db_url names (default MO_DB_URL), opened now and closed on shutdown.

    Raises what open_store raises: migration_required for a PostgreSQL schema behind the code,
    unavailable when the database cannot be reached, validation_error for a bad URL.
    """
    from mo.api.routes import router

    limits = load_page_limits()  # before the store opens: a bad setting leaves nothing open
    store = open_store(db_url or load_settings().db_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        remove_stale()  # uploads and exports left by servers that were killed
        yield
        store.close()

    app = FastAPI(
        title="mo",
        version="1",
        lifespan=lifespan,
        description="Recipe costing: ingredients, supplier prices, recipes and their costs.",
    )
    app.state.store = store
    app.state.in_flight = InFlight()
    app.state.page_limits = limits
    install_error_handlers(app)
    # Inside ApiKeyAuth (added later, so outer): a caller without a key gets 401 whatever it sends.
    app.add_middleware(BodyLimit, max_bytes=load_input_limits().max_body_bytes)
    app.add_middleware(ApiKeyAuth, store=store)
    app.add_middleware(HeadLimit, max_bytes=max_header_bytes())  # outermost: before any key check
    # The routes themselves, not include_router: an included router's routes are rebuilt for
    # each app at its first request (~50 ms: pydantic fields of every operation); these were
    # built once, when mo.api.routes was imported, and hold no state of their own.
    app.router.routes.extend(router.routes)
    return app
