"""Helpers for the event-log tests: write events the way services do, and reach past the
store with the raw driver to set up or break what no service would."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import psycopg

from mo.domain.context import TenantContext
from mo.services.events import emit_event
from mo.store import Store


def emit(
    store: Store,
    ctx: TenantContext,
    event_type: str = "ingredient.created",
    aggregate_type: str = "ingredient",
    aggregate_id: Any = "1",
    payload: dict[str, Any] | None = None,
    **keys: Any,
) -> None:
    """One event in its own transaction, through mo.services.events.emit_event."""
    store.atomic(
        lambda tx: emit_event(tx, ctx, event_type, aggregate_type, aggregate_id, payload or {}, **keys),
        tenant_id=ctx.tenant_id,
    )


def raw(store: Store, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement with the driver itself (placeholders written %s), autocommitted."""
    if store.dialect == "duckdb":
        conn = duckdb.connect(store.url.removeprefix("duckdb:///"))
        try:
            cur = conn.execute(statement.replace("%s", "?"), list(params))
            return cur.fetchall() if cur.description else []
        finally:
            conn.close()
    with psycopg.connect(store.url, autocommit=True) as conn:
        cur = conn.execute(statement, params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


def insert_row(store: Store, table: str, **values: Any) -> int:
    """Insert a row with the driver and return its id (tables whose id comes from a sequence)."""
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    rows = raw(store, f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id", tuple(values.values()))
    return int(rows[0][0])


def set_occurred_at(store: Store, event_id: int, when: datetime) -> None:
    raw(store, "UPDATE event_log SET occurred_at = %s WHERE id = %s", (when, event_id))


def event_ids(store: Store, ctx: TenantContext) -> list[int]:
    rows = raw(store, "SELECT id FROM event_log WHERE tenant_id = %s ORDER BY id", (ctx.tenant_id,))
    return [int(r[0]) for r in rows]
