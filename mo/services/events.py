"""The event registry and emit_event: events are written inside the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mo.domain.context import TenantContext
from mo.domain.event_types import EVENT_TYPES
from mo.domain.results import money
from mo.errors import validation_error
from mo.util.jsonutil import canonical_json, dumps

if TYPE_CHECKING:  # a hint only: mo.domain.checks reads the registry without the store
    from mo.store.base import Tx



# Payloads that SQL writes too (a price list's events, set-based) are defined here, once each;
# imports.created_events and imports.cost_events build the same, one statement per dialect,
# and tests/test_event_payloads.py proves the two equal on both backends.


def ingredient_created_payload(*, name: str, unit: str, category: str | None) -> dict[str, Any]:
    """The ingredient.created payload."""
    return {"name": name, "unit": unit, "category": category}


def cost_updated_payload(
    *,
    ingredient: str,
    ingredient_id: int,
    old_unit_cost: Decimal | None,
    new_unit_cost: Decimal,
    effective_at: datetime,
    source: str,
    supplier: str | None,
) -> dict[str, Any]:
    """The ingredient.cost.updated payload: unit costs as plain decimal text without trailing
    zeros ("0.002", "12"; old None for a first cost), the time as ISO 8601 in UTC."""
    return {
        "ingredient": ingredient,
        "ingredient_id": int(ingredient_id),
        "old_unit_cost": _decimal_text(old_unit_cost),
        "new_unit_cost": _decimal_text(new_unit_cost),
        "effective_at": effective_at.astimezone(UTC).isoformat(),
        "source": source,
        "supplier": supplier,
    }


def recipe_recomputed_payload(
    *, recipe: str, old_total: Decimal | None, new_total: Decimal, complete: bool, cause: str
) -> dict[str, Any]:
    """The recipe.recomputed payload (recompute.emit_changes builds it in SQL, per dialect):
    totals as plain decimal text without trailing zeros (old None for a first costing; a total
    too large to store is reported as stored, 0), complete when nothing is missing, and the
    cause (the event type or action that led to the recompute)."""
    return {
        "recipe": recipe,
        "old_total": _decimal_text(old_total),
        "new_total": _decimal_text(new_total),
        "complete": bool(complete),
        "cause": cause,
    }


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format(money(value), "f")


def emit_event(
    tx: Tx,
    ctx: TenantContext,
    event_type: str,
    aggregate_type: str,
    aggregate_id: Any,
    payload: dict[str, Any],
    *,
    idempotency_key: str | None = None,
    batch_id: int | None = None,
) -> None:
    """Append one event in `tx`; it commits or rolls back with the change it records.

    The payload is stored as dumps() writes it, marked canonical when that text is already
    what readers would re-serialise it to (almost always: dumps sorts keys and escapes to
    ASCII; int keys or keys clashing once made text are the exceptions), so exports can pass
    it through as stored where the backend keeps JSON text as written.
    """
    if event_type not in EVENT_TYPES:
        raise validation_error(f"unknown event type {event_type!r}", event_type=event_type)
    text = dumps(payload)
    tx.run(
        "events.append",
        {
            "tenant_id": ctx.tenant_id,
            "event_type": event_type,
            "aggregate_type": aggregate_type,
            "aggregate_id": str(aggregate_id),
            "payload": text,
            "payload_canonical": canonical_json(text) == text,
            "idempotency_key": idempotency_key,
            "batch_id": batch_id,
        },
    )
