"""Pages of the list routes: the page_size and cursor query parameters, and the `next` cursor.

A cursor is opaque to callers: base64url of JSON holding the key of the last row sent, the rows
still owed under an events `limit`, and a digest binding both to the tenant, the read and its
filters. The digest is no secret (the rows are the caller's own whatever the key says); it makes
a cursor altered, truncated, or taken to another tenant or another listing a validation_error
(422) instead of a page of something else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from mo.client import frames
from mo.domain.context import TenantContext
from mo.errors import MOError, validation_error
from mo.services.paging import FramePage, Key, PageRequest
from mo.settings import PageLimits

# The key of each paged read, part by part: what a cursor's key must hold to be used.
KEY_PARTS: dict[str, tuple[type, ...]] = {
    "ingredients": (str, int),
    "recipes": (str, int),
    "cost_history": (datetime, int),
    "imports": (datetime, int),
    "events": (datetime, int),
}
MAX_CURSOR = 4096  # characters: a key is a name and an id, far below this


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after `after`, with `left` rows still owed (events' limit)."""

    after: Key | None
    left: int | None


@dataclass(frozen=True)
class PageQuery:
    """The page a request asks for: its size (checked against the limits) and raw cursor."""

    size: int
    cursor: str | None

    def open(self, read: str, ctx: TenantContext, filters: dict[str, Any]) -> Cursor:
        """The cursor's key and rows owed; validation_error unless this tenant got it from
        this read with these filters."""
        if self.cursor is None:
            return Cursor(after=None, left=None)
        return _decode(self.cursor, read=read, binding=_binding(read, ctx, filters))

    def request(self, cursor: Cursor) -> PageRequest:
        return PageRequest(after=cursor.after, size=self.size)


def page_query(request: Request, page_size: int | None = None, cursor: str | None = None) -> PageQuery:
    """FastAPI dependency: page_size defaults to MO_PAGE_SIZE and may not pass MO_MAX_PAGE_SIZE."""
    limits: PageLimits = request.app.state.page_limits
    size = limits.default if page_size is None else page_size
    if not 1 <= size <= limits.maximum:
        raise validation_error(
            f"page_size must be between 1 and {limits.maximum}",
            field="page_size",
            value=page_size,
            maximum=limits.maximum,
        )
    return PageQuery(size=size, cursor=cursor)


def paged_table(
    read: str,
    page: FramePage,
    *,
    ctx: TenantContext,
    filters: dict[str, Any],
    left: int | None = None,
) -> JSONResponse:
    """The page as a Table, with `next`: the cursor of the following page, or null at the end."""
    body = frames.encode(page.frame, frames.READ_SCHEMAS[read], read=read)
    body["next"] = (
        None
        if page.next is None
        else _encode(Cursor(page.next, left), binding=_binding(read, ctx, filters))
    )
    return JSONResponse(body)


def _binding(read: str, ctx: TenantContext, filters: dict[str, Any]) -> str:
    return json.dumps([ctx.tenant_id, read, filters], sort_keys=True, default=str)


def _digest(binding: str, key: list[Any], left: int | None) -> str:
    text = json.dumps([binding, key, left], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _encode(cursor: Cursor, *, binding: str) -> str:
    assert cursor.after is not None
    key = [part.isoformat() if isinstance(part, datetime) else part for part in cursor.after]
    body = {"k": key, "l": cursor.left, "d": _digest(binding, key, cursor.left)}
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


def _decode(text: str, *, read: str, binding: str) -> Cursor:
    try:
        if len(text) > MAX_CURSOR:
            raise ValueError("too long")
        body = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        key, left, digest = body["k"], body["l"], body["d"]
        if not isinstance(key, list) or digest != _digest(binding, key, left):
            raise ValueError("digest")
        return Cursor(after=_key(key, KEY_PARTS[read]), left=_left(left))
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise _bad_cursor(text) from None


def _key(parts: list[Any], kinds: tuple[type, ...]) -> Key:
    if len(parts) != len(kinds):
        raise ValueError("key length")
    return tuple(_part(value, kind) for value, kind in zip(parts, kinds, strict=True))


def _part(value: Any, kind: type) -> Any:
    if kind is datetime and isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive time")
        return parsed
    # Within what the key columns hold (BIGINT ids, text without NUL), so that even a cursor
    # forged with a matching digest reaches the database as a value it can compare.
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        if -(2**63) <= value < 2**63:
            return value
    if kind is str and isinstance(value, str) and "\x00" not in value:
        return value
    raise ValueError("key part")


def _left(value: Any) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return value
    raise ValueError("left")


def _bad_cursor(text: str) -> MOError:
    return validation_error(
        "cursor is not one this listing gave out: start again without it",
        field="cursor",
        value=text[:80],
    )
