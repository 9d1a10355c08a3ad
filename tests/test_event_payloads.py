"""A payload SQL builds (a price list's events, a recompute's) is the payload mo.services.events
defines.

ingredient.created and ingredient.cost.updated are written by Python (add_ingredient,
update_cost) and by imports.created_events / imports.cost_events, one statement per dialect.
Each SQL-built event here is compared with the Python builder applied to the rows it records:
the same JSON value, and where the backend marks the stored text canonical, the same text.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from mo.domain.context import TenantContext
from mo.services import imports
from mo.services import recipes as rec
from mo.services.costs import update_cost
from mo.services.events import (
    cost_updated_payload,
    ingredient_created_payload,
    recipe_recomputed_payload,
)
from mo.services.ingredients import add_ingredient
from mo.store.base import Store
from mo.util.jsonutil import dumps, loads

# Quotes, a backslash, non-ASCII and a control-free tab-less name: what the SQL spellings of
# JSON escaping and decimal text have to get right (prices with trailing zeros included).
FIRST = [
    {"item": 'Baker\'s "Best" Flour', "price": "12.50", "pack": "25 kg", "category": "Dry"},
    {"item": "Crème fraîche", "price": "3.000", "pack": "500 ml"},
    {"item": "Back\\slash salt", "price": "1", "pack": "1 kg", "category": "Dry"},
]
SECOND = [  # new prices: each cost event has an old unit cost
    {"item": 'Baker\'s "Best" Flour', "price": "13.1", "pack": "25 kg"},
    {"item": "Crème fraîche", "price": "2.99", "pack": "500 ml"},
    {"item": "Back\\slash salt", "price": "1.20", "pack": "1 kg"},
]
SUPPLIER = "Müller & \"Söhne\""


def _read(store: Store, ctx: TenantContext, query: str) -> list[dict[str, Any]]:
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        return tx.all(query, {"tenant_id": ctx.tenant_id})


def _expected(store: Store, ctx: TenantContext, event: dict[str, Any]) -> dict[str, Any]:
    """The Python builder's payload for the rows the event records."""
    facts = {row["id"]: row for row in _read(store, ctx, "testing.ingredient_facts")}
    ingredient = facts[int(event["aggregate_id"])]
    if event["event_type"] == "ingredient.created":
        return ingredient_created_payload(name=ingredient["name"], unit=ingredient["base_unit"],
                                          category=ingredient["category"])
    costs = [c for c in _read(store, ctx, "testing.cost_rows")
             if c["ingredient_id"] == ingredient["id"]]
    at = next(i for i, c in enumerate(costs) if c["batch_id"] == event["batch_id"])
    return cost_updated_payload(
        ingredient=ingredient["name"], ingredient_id=ingredient["id"],
        old_unit_cost=costs[at - 1]["unit_cost"] if at else None,
        new_unit_cost=costs[at]["unit_cost"], effective_at=costs[at]["effective_at"],
        source="import", supplier=SUPPLIER)


def test_sql_built_payloads_are_the_defined_ones(store: Store, ctx: TenantContext) -> None:
    imports.import_price_list(store, ctx, FIRST, idempotency_key="p1", supplier=SUPPLIER)
    imports.import_price_list(store, ctx, SECOND, idempotency_key="p2", supplier=SUPPLIER)
    events = [e for e in _read(store, ctx, "testing.event_texts")
              if e["event_type"] in ("ingredient.created", "ingredient.cost.updated")]
    assert [e["event_type"] for e in events].count("ingredient.cost.updated") == 6
    assert [e["event_type"] for e in events].count("ingredient.created") == 3
    for event in events:
        expected = _expected(store, ctx, event)
        assert loads(event["payload"]) == expected, event["event_type"]
        if event["payload_canonical"]:
            assert event["payload"] == dumps(expected), event["event_type"]


def _costs_by_name(store: Store, ctx: TenantContext) -> dict[str, tuple[Decimal, bool]]:
    frame = rec.recipes_frame(store, ctx)
    return {r["name"]: (r["total_cost"], bool(r["complete"])) for r in frame.to_dict("records")}


def test_recipe_recomputed_payloads_are_the_defined_one(store: Store, ctx: TenantContext) -> None:
    """recompute.emit_changes (one statement per dialect) against recipe_recomputed_payload:
    a first costing (old None), a changed total, a zero total (no cost: incomplete) and names
    that need escaping."""
    add_ingredient(store, ctx, "Flour", unit="g")
    add_ingredient(store, ctx, "Salt", unit="g")
    update_cost(store, ctx, "Flour", "2", per="1 kg", idempotency_key=uuid.uuid4().hex)
    steps: list[tuple[int, dict[str, tuple[Decimal, bool]]]] = [(_last_event(store, ctx), {})]
    for name, lines in (("Dough", [{"ingredient": "flour", "qty": 250, "unit": "g"}]),
                        ('Pâte "brisée" \\ n°2', [{"ingredient": "flour", "qty": 1, "unit": "kg"}]),
                        ("Brine", [{"ingredient": "salt", "qty": 10, "unit": "g"}])):
        rec.save_recipe(store, ctx, name, yield_qty=1, yield_unit="each", lines=lines)
    steps.append((_last_event(store, ctx), _costs_by_name(store, ctx)))
    update_cost(store, ctx, "Flour", "3.50", per="1 kg", idempotency_key=uuid.uuid4().hex)
    steps.append((_last_event(store, ctx), _costs_by_name(store, ctx)))
    events = _read(store, ctx, "testing.event_texts")
    checked = 0
    for (start, before), (end, after) in zip(steps, steps[1:], strict=False):
        for event in events:
            if event["event_type"] != "recipe.recomputed" or not start < event["id"] <= end:
                continue
            payload = loads(event["payload"])
            name = payload["recipe"]
            old = before.get(name)
            expected = recipe_recomputed_payload(
                recipe=name, old_total=old[0] if old else None, new_total=after[name][0],
                complete=after[name][1], cause=payload["cause"])
            assert payload == expected, name
            if event["payload_canonical"]:
                assert event["payload"] == dumps(expected), name
            checked += 1
    assert checked == 5  # three first costings, then the two flour recipes


def _last_event(store: Store, ctx: TenantContext) -> int:
    return max((e["id"] for e in _read(store, ctx, "testing.event_texts")), default=0)
