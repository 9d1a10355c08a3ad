"""Checks of a caller's input that need no database, run on both sides of the wire.

The services run them before they open a transaction, and HttpClient runs the same ones before it
sends a request it could not send (a window it cannot put in a URL, say), so both clients raise
the same first error. Nothing here imports the store, the services or a driver: HttpClient
imports this module (the architecture test checks it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from mo.domain.event_types import EVENT_TYPES
from mo.domain.instants import parse_instant
from mo.errors import validation_error

if TYPE_CHECKING:
    from mo.domain.context import TenantContext

MAX_KEY_LENGTH = 255
# Open ends of a window: both backends store these instants, and no event falls outside them
# (a stored instant may lie outside the window of dates mo accepts as input, mo/domain/instants.py).
EARLIEST = datetime(1, 1, 2, tzinfo=timezone.utc)
LATEST = datetime.max.replace(tzinfo=timezone.utc)
WINDOWS = {"m": "minutes", "h": "hours", "d": "days"}
_WINDOW_TEXT = re.compile(r"^\s*(\d{1,6})\s*([mhd])\s*$")


def check_key(key: object) -> str:
    """The idempotency key itself. Raises validation_error naming idempotency_key."""
    if not isinstance(key, str) or not key.strip():
        raise validation_error("idempotency_key is required", field="idempotency_key")
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise validation_error(
            "idempotency_key must be printable and at most 255 characters", field="idempotency_key"
        )
    return key


@dataclass(frozen=True)
class Window:
    """A checked half-open window [since, until) of aware UTC instants, and a type filter."""

    since: datetime
    until: datetime
    types: tuple[str, ...] | None

    def params(self, ctx: TenantContext) -> dict[str, Any]:
        return {
            "tenant_id": ctx.tenant_id, "since": self.since, "until": self.until,
            "all_types": self.types is None, "types": list(self.types or ()),
        }


def check_window(since: object, until: object, types: Iterable[str] | None = None) -> Window:
    """The Window for optional bounds and types.

    Raises validation_error when since >= until (naming both), when a bound is not a time,
    or when types is not a list of known event types.
    """
    start = EARLIEST if since is None else parse_instant(since, field="since")
    end = LATEST if until is None else parse_instant(until, field="until")
    if start >= end:
        raise validation_error("since must be before until: the window is [since, until)",
                               since=start.isoformat(), until=end.isoformat())
    return Window(start, end, check_types(types))


def check_types(types: Iterable[str] | None) -> tuple[str, ...] | None:
    """Known event types as a sorted tuple, or None for all. Raises validation_error."""
    if types is None:
        return None
    if isinstance(types, str) or not isinstance(types, Iterable):
        raise validation_error("types must be a list of event types", field="types")
    chosen = tuple(sorted(set(types)))
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown or not chosen:
        raise validation_error("types must name known event types", field="types",
                               unknown=unknown, known=sorted(EVENT_TYPES))
    return chosen


def parse_span(window: object) -> timedelta:
    """A look-back span from text like "15m", "1h", "24h" or "7d". Raises validation_error."""
    match = _WINDOW_TEXT.match(window) if isinstance(window, str) else None
    if match is None or int(match.group(1)) == 0:
        raise validation_error(
            'window must be a positive count of m, h or d, such as "15m", "1h" or "7d"',
            field="window",
            value=repr(window)[:40],
        )
    return timedelta(**{WINDOWS[match.group(2)]: int(match.group(1))})


def check_batch_id(batch_id: object) -> int:
    """A batch id is a positive whole number (both clients check it alike). validation_error."""
    if isinstance(batch_id, bool) or not isinstance(batch_id, int) or not 0 < batch_id < 2**63:
        raise validation_error(
            "batch_id must be a positive whole number",
            field="batch_id",
            value=repr(batch_id)[:100],
        )
    return batch_id
