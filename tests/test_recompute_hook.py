"""compute_only: a recompute's costing without its writes, at a chosen instant (as_of) and with
price overrides (rc_cost_override), the hook supplier cost policies and what-if costing build on.
Both backends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from mo.domain.context import TenantContext
from mo.services import recipes as rec
from mo.services.costs import update_cost
from mo.services.ingredients import add_ingredient
from mo.services.recompute import compute_only
from mo.store import Store
from mo.store.base import Row, Tx


def _book(store: Store, ctx: TenantContext) -> int:
    """Flour (80% yield) → Dough (2 kg yield) → Pizza; returns Flour's id."""
    flour = int(add_ingredient(store, ctx, "Flour", unit="g", yield_pct=80).id)
    update_cost(store, ctx, "Flour", "2", per="1 kg", idempotency_key=uuid.uuid4().hex)
    rec.save_recipe(store, ctx, "Dough", yield_qty=2, yield_unit="kg",
                    lines=[{"ingredient": "flour", "qty": 1, "unit": "kg", "waste_pct": 20}])
    rec.save_recipe(store, ctx, "Pizza", yield_qty=1, yield_unit="each",
                    lines=[{"recipe": "dough", "qty": 500, "unit": "g"}])
    return flour


def _rows(store: Store, ctx: TenantContext, **options: object) -> dict[str, Row]:
    def work(tx: Tx) -> list[Row]:
        return compute_only(tx, ctx, **options)  # type: ignore[arg-type]

    return {row["name"]: row for row in store.atomic(work, tenant_id=ctx.tenant_id)}


def _stored_events(store: Store, ctx: TenantContext) -> int:
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        return len(tx.all("testing.event_texts", {"tenant_id": ctx.tenant_id}))


def test_an_override_replaces_the_chosen_cost_before_yield_and_waste(
    store: Store, ctx: TenantContext
) -> None:
    flour = _book(store, ctx)
    events = _stored_events(store, ctx)
    plain = _rows(store, ctx, ingredient_ids=[flour])
    # 0.002/g ÷ 0.8 yield ÷ 0.8 waste × 1000 g = 3.125; Pizza: a quarter of it.
    assert Decimal(plain["Dough"]["total"]) == Decimal("3.125")
    assert Decimal(plain["Pizza"]["total"]) == Decimal("0.78125")
    cheaper = _rows(store, ctx, ingredient_ids=[flour], overrides={flour: Decimal("0.0016")})
    assert Decimal(cheaper["Dough"]["total"]) == Decimal("2.5")
    assert Decimal(cheaper["Pizza"]["total"]) == Decimal("0.625")
    assert cheaper["Pizza"]["names"] is None
    assert _stored_events(store, ctx) == events  # nothing written


def test_as_of_in_the_past_picks_the_older_cost(store: Store, ctx: TenantContext) -> None:
    flour = _book(store, ctx)
    between = datetime.now(UTC)
    update_cost(store, ctx, "Flour", "4", per="1 kg", idempotency_key=uuid.uuid4().hex)
    now = _rows(store, ctx, recipe_ids=None, ingredient_ids=[flour])
    then = _rows(store, ctx, ingredient_ids=[flour], as_of=between)
    before = _rows(store, ctx, ingredient_ids=[flour], as_of=between - timedelta(days=1))
    assert Decimal(now["Dough"]["total"]) == Decimal("6.25")
    assert Decimal(then["Dough"]["total"]) == Decimal("3.125")
    assert before["Dough"]["names"] == ["Flour: no cost"]  # no cost yet at that instant


def test_a_full_scope_is_costed_too(store: Store, ctx: TenantContext) -> None:
    _book(store, ctx)
    assert set(_rows(store, ctx)) == {"Dough", "Pizza"}
