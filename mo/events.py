"""The event registry and emit_event: events are written inside the caller's transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mo.context import TenantContext
from mo.errors import validation_error
from mo.jsonutil import canonical_json, dumps

if TYPE_CHECKING:  # a hint only: mo.checks reads the registry without the store
    from mo.store.base import Tx

EVENT_TYPES: frozenset[str] = frozenset(
    {
        "tenant.created",
        "api_key.created",
        "ingredient.created",
        "ingredient.alias_added",
        "ingredient.deleted",
        "ingredient.restored",
        "ingredient.cost.updated",
        "import.completed",
        "recipe.saved",
        "recipe.deleted",
        "recipe.restored",
        "recipes.imported",
        "recipe.recomputed",
    }
)


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
