"""Costing never refuses a cost update for amounts too large to store (issue #14, finding 7).

Amounts are stored as DECIMAL(38,12): below 1e26. A recipe whose cost (total, unit cost or
food-cost %) cannot be stored is stored incomplete with "cost too large" among its missing
items, the amount stored as 0, and the write goes through; every recipe above it misses it too.
Below that bound costing is exact, however large an intermediate product gets (DuckDB's
DECIMAL(38,24) products overflowed past 1e14).
"""

from __future__ import annotations

from decimal import Decimal

from mo.domain.context import TenantContext
from mo.services import costs, ingredients, recipes
from mo.store import Store

TOO_LARGE = "cost too large"
UP = "ROUND_HALF_UP"  # as a CAST to DECIMAL(38,12) rounds (half away from zero)


def _frame(store: Store, ctx: TenantContext):
    return recipes.recipes_frame(store, ctx).set_index("name")


def test_an_ingredient_under_the_deepest_doubling_chain_stays_updatable(store, ctx) -> None:
    """D_k uses D_(k-1) twice, 63 levels over one ingredient (the 64-level limit): its cost is
    2^63 × the base line's. No bound on prices, quantities or yields can prevent that (two lines
    of share 1 per level double it), so costing must tolerate it: the recipes that overflow are
    stored incomplete with a reason, and the cost update goes through.
    """
    ingredients.add_ingredient(store, ctx, "Flour", unit="g")
    line = {"ingredient": "flour", "qty": 1000, "unit": "g"}
    recipes.save_recipe(store, ctx, "D0", yield_qty=1, yield_unit="loaf", lines=[line])
    for k in range(1, 64):  # no cost yet: every total is 0, nothing overflows while saving
        twice = [{"recipe": f"D{k - 1}", "qty": 1, "unit": "loaf"}] * 2
        recipes.save_recipe(store, ctx, f"D{k}", yield_qty=1, yield_unit="loaf", lines=twice)
    done = costs.update_cost(store, ctx, "flour", "1000000", per="1 g", idempotency_key="big")
    assert done.changed
    frame = _frame(store, ctx)
    assert frame.loc["D0", "complete"] and not frame.loc["D63", "complete"]
    # D_k costs 2^k × 1e9: D56 (7.2e25) still fits, D57 (1.4e26) does not, nor anything above.
    assert frame.loc["D56", "total_cost"] == Decimal(2**56 * 10**9)
    assert frame.loc["D56", "complete"]
    for k in (57, 58, 63):
        assert frame.loc[f"D{k}", "missing"] == TOO_LARGE
        assert frame.loc[f"D{k}", "total_cost"] == 0
    # A smaller price makes every recipe fit, and complete, again.
    assert costs.update_cost(store, ctx, "flour", "1", per="1 g", idempotency_key="small").changed
    frame = _frame(store, ctx)
    assert frame["complete"].all()
    assert frame.loc["D63", "total_cost"] == Decimal(2**63 * 1000)


def test_large_intermediate_products_cost_exactly(store, ctx) -> None:
    """An ordinary recipe in a currency of large numbers: 8 t of a 25,000,000,000-per-kg
    ingredient at 90 % yield and 12.5 % waste, used twice by a banquet of 3 portions. Every line
    product passes 1e14 (DuckDB's DECIMAL(38,24) bound) while every stored figure fits."""
    ingredients.add_ingredient(store, ctx, "Saffron", unit="g", yield_pct="90")
    ingredients.add_ingredient(store, ctx, "Oil", unit="ml", density="0.92")
    costs.update_cost(store, ctx, "saffron", "25000000000", per="1 kg", idempotency_key="s")
    costs.update_cost(store, ctx, "oil", "7777777777.777", per="1 l", idempotency_key="o")
    lines = [
        {"ingredient": "saffron", "qty": 8000, "unit": "kg", "waste_pct": "12.5"},
        {"ingredient": "oil", "qty": "123456.789", "unit": "kg"},
    ]
    recipes.save_recipe(store, ctx, "Base", yield_qty=1, yield_unit="batch", lines=lines)
    twice = [{"recipe": "Base", "qty": 2, "unit": "batch"}]
    recipes.save_recipe(store, ctx, "Banquet", yield_qty=3, yield_unit="portion", lines=twice,
                        menu_price="99999999999999")
    q12 = Decimal("1e-12")
    saffron_rate = (Decimal(25_000_000) * 100 / 90).quantize(q12, rounding="ROUND_DOWN")
    saffron_rate = (saffron_rate * 100 / Decimal("87.5")).quantize(q12, rounding="ROUND_DOWN")
    oil_ml = (Decimal("123456789") / Decimal("0.92")).quantize(q12, rounding="ROUND_DOWN")
    base = (8_000_000 * saffron_rate + oil_ml * Decimal("7777777.777777")).quantize(q12, UP)
    frame = _frame(store, ctx)
    assert frame.loc["Base", "complete"] and frame.loc["Banquet", "complete"]
    assert base > Decimal("1e14")
    assert frame.loc["Base", "total_cost"] == base
    assert frame.loc["Banquet", "total_cost"] == 2 * base
    unit = (2 * base / 3).quantize(q12, rounding="ROUND_DOWN")
    assert frame.loc["Banquet", "unit_cost"] == unit
    pct = (unit * 100 / Decimal("99999999999999")).quantize(q12, rounding="ROUND_DOWN")
    assert frame.loc["Banquet", "food_cost_pct"] == pct
    # A later update of the same ingredient recomputes the chain exactly too.
    costs.update_cost(store, ctx, "oil", "7777777777.778", per="1 l", idempotency_key="o2")
    base2 = (8_000_000 * saffron_rate + oil_ml * Decimal("7777777.777778")).quantize(q12, UP)
    assert _frame(store, ctx).loc["Banquet", "total_cost"] == 2 * base2


def test_a_unit_cost_too_large_to_store_marks_only_its_recipe(store, ctx) -> None:
    """A total that fits but a unit cost that does not (a tiny yield): that recipe is stored
    incomplete; a recipe using it costs it from its total and stays complete."""
    ingredients.add_ingredient(store, ctx, "Gold", unit="g")
    costs.update_cost(store, ctx, "gold", "1", per="1 g", idempotency_key="g1")
    line = {"ingredient": "gold", "qty": "1e12", "unit": "g"}
    recipes.save_recipe(store, ctx, "Speck", yield_qty="0.000000000001", yield_unit="g",
                        lines=[line])
    use = [{"recipe": "Speck", "qty": "0.000000000001", "unit": "g"}]
    recipes.save_recipe(store, ctx, "Plate", yield_qty=1, yield_unit="each", lines=use)
    costs.update_cost(store, ctx, "gold", "100000", per="1 g", idempotency_key="g2")
    frame = _frame(store, ctx)
    assert frame.loc["Speck", "missing"] == TOO_LARGE
    assert frame.loc["Speck", "total_cost"] == Decimal("1e17")
    assert frame.loc["Speck", "unit_cost"] == 0
    assert frame.loc["Plate", "complete"]
    assert frame.loc["Plate", "total_cost"] == Decimal("1e17")
