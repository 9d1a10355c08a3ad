"""Recompute's two ways to its scope agree: the one-statement walk that a cost update takes, and
the exact path (scope_ancestors, levels) that a full recompute and a suspected cycle take. After
any incremental recompute, recomputing everything changes nothing. Both backends."""

from __future__ import annotations

import uuid
from decimal import Decimal

from mo.domain.context import TenantContext
from mo.domain.results import RecomputeResult
from mo.services import recipes as rec
from mo.services.costs import update_cost
from mo.services.ingredients import add_ingredient
from mo.services.recompute import recompute
from mo.store import Store


def _cost(store: Store, ctx: TenantContext, name: str, price: str, per: str) -> int:
    return update_cost(store, ctx, name, price, per=per, idempotency_key=uuid.uuid4().hex).recomputed


def _diamond(store: Store, ctx: TenantContext) -> None:
    """Flour → Dough; Dough → Pizza and Focaccia; both → Party, which also uses Flour itself;
    Salad stands apart. Levels within one scope differ by path length."""
    add_ingredient(store, ctx, "Flour", unit="g")
    add_ingredient(store, ctx, "Oil", unit="ml")
    add_ingredient(store, ctx, "Lettuce", unit="each")
    _cost(store, ctx, "Flour", "2", "1 kg")
    _cost(store, ctx, "Oil", "9", "1 l")
    _cost(store, ctx, "Lettuce", "1", "each")
    rec.save_recipe(store, ctx, "Dough", yield_qty=1, yield_unit="kg",
                    lines=[{"ingredient": "flour", "qty": 1, "unit": "kg"}])
    rec.save_recipe(store, ctx, "Pizza", yield_qty=4, yield_unit="slice",
                    lines=[{"recipe": "dough", "qty": 250, "unit": "g"}])
    rec.save_recipe(store, ctx, "Focaccia", yield_qty=1, yield_unit="tray",
                    lines=[{"recipe": "dough", "qty": 500, "unit": "g"},
                           {"ingredient": "oil", "qty": 30, "unit": "ml", "waste_pct": 5}])
    rec.save_recipe(store, ctx, "Party", yield_qty=1, yield_unit="batch",
                    lines=[{"recipe": "pizza", "qty": 8, "unit": "slices"},
                           {"recipe": "focaccia", "qty": 1, "unit": "tray"},
                           {"ingredient": "flour", "qty": 10, "unit": "g"}])
    rec.save_recipe(store, ctx, "Salad", yield_qty=1, yield_unit="portion",
                    lines=[{"ingredient": "lettuce", "qty": 1, "unit": "each"}])


def _figures(store: Store, ctx: TenantContext) -> dict[str, tuple[object, ...]]:
    frame = rec.recipes_frame(store, ctx)
    return {r["name"]: (r["total_cost"], r["complete"], r["missing"])
            for r in frame.to_dict("records")}


def test_an_update_leaves_nothing_for_a_full_recompute_to_change(
    store: Store, ctx: TenantContext
) -> None:
    _diamond(store, ctx)
    assert _cost(store, ctx, "Flour", "3.17", "1 kg") == 4  # Dough, Pizza, Focaccia, Party
    assert _cost(store, ctx, "Oil", "11", "1 l") == 2  # Focaccia, Party
    before = _figures(store, ctx)
    assert recompute(store, ctx) == RecomputeResult(recomputed=5, changed=0)
    assert _figures(store, ctx) == before


def test_the_walk_passes_through_a_deleted_recipe(store: Store, ctx: TenantContext) -> None:
    """Party's only way down to Flour after Focaccia goes is through the deleted Pizza... and
    Focaccia; with both deleted Party still gets recomputed, missing them, and agrees with a
    full recompute."""
    _diamond(store, ctx)
    rec.delete_recipe(store, ctx, "Pizza")
    rec.delete_recipe(store, ctx, "Focaccia")
    assert _cost(store, ctx, "Flour", "5", "1 kg") == 2  # Dough and Party; the deleted ones not
    figures = _figures(store, ctx)
    assert figures["Party"][1] is False
    assert "Pizza" in figures["Party"][2] and "Focaccia" in figures["Party"][2]
    assert recompute(store, ctx) == RecomputeResult(recomputed=3, changed=0)
    assert _figures(store, ctx) == figures


def test_an_ingredient_nobody_uses_recomputes_nothing(store: Store, ctx: TenantContext) -> None:
    _diamond(store, ctx)
    add_ingredient(store, ctx, "Salt", unit="g")
    assert _cost(store, ctx, "Salt", "1", "1 kg") == 0


def test_an_ingredient_only_deleted_recipes_use_recomputes_nothing(
    store: Store, ctx: TenantContext
) -> None:
    """The walk reaches only the deleted Salad and keeps nothing, so the exact path decides:
    nothing to recompute, and the active recipes agree with a full recompute."""
    _diamond(store, ctx)
    rec.delete_recipe(store, ctx, "Salad")
    before = _figures(store, ctx)
    assert _cost(store, ctx, "Lettuce", "3", "each") == 0
    assert _figures(store, ctx) == before
    assert recompute(store, ctx) == RecomputeResult(recomputed=4, changed=0)


def test_a_sub_recipe_outside_the_scope_lends_its_stored_total_and_missing_items(
    store: Store, ctx: TenantContext
) -> None:
    """A Cheese update recomputes Pizza alone. Dough stays outside the scope, so Pizza takes
    Dough's stored total (times its share) and the item Dough misses (Yeast has no cost)."""
    for name in ("Flour", "Yeast", "Cheese"):
        add_ingredient(store, ctx, name, unit="g")
    _cost(store, ctx, "Flour", "2", "1 kg")
    _cost(store, ctx, "Cheese", "10", "1 kg")
    rec.save_recipe(store, ctx, "Dough", yield_qty=1, yield_unit="kg",
                    lines=[{"ingredient": "flour", "qty": 1, "unit": "kg"},
                           {"ingredient": "yeast", "qty": 10, "unit": "g"}])
    rec.save_recipe(store, ctx, "Pizza", yield_qty=4, yield_unit="slice",
                    lines=[{"recipe": "dough", "qty": 250, "unit": "g"},
                           {"ingredient": "cheese", "qty": 100, "unit": "g"}])
    assert _cost(store, ctx, "Cheese", "12", "1 kg") == 1
    figures = _figures(store, ctx)
    assert figures["Pizza"] == (Decimal("1.7"), False, "Yeast: no cost")  # 0.25 × 2 + 0.1 kg × 12
    assert recompute(store, ctx) == RecomputeResult(recomputed=2, changed=0)
    assert _figures(store, ctx) == figures


def test_recipes_follow_the_latest_cost_and_among_equal_times_the_last_written(
    store: Store, ctx: TenantContext
) -> None:
    """The rate a recompute uses: the latest effective_at, ties to the highest id; a cost written
    later but dated earlier is not the current one."""
    add_ingredient(store, ctx, "Flour", unit="g")
    rec.save_recipe(store, ctx, "Dough", yield_qty=1, yield_unit="kg",
                    lines=[{"ingredient": "flour", "qty": 1, "unit": "kg"}])

    def cost(price: str, at: str) -> None:
        update_cost(store, ctx, "Flour", price, per="1 kg", effective_at=at,
                    idempotency_key=uuid.uuid4().hex)

    cost("2", "2026-01-01T00:00:00+00:00")
    cost("3", "2026-01-01T00:00:00+00:00")  # the same instant, written last: current
    assert _figures(store, ctx)["Dough"][0] == Decimal("3")
    cost("5", "2025-06-01T00:00:00+00:00")  # back-dated: the chronicle grows, the rate stays
    assert recompute(store, ctx) == RecomputeResult(recomputed=1, changed=0)
    assert _figures(store, ctx)["Dough"][0] == Decimal("3")
