"""Recipes: saving (upsert by normalised name), checks, cycles, worked costing examples, soft
delete, import, read models. Every test runs on DuckDB and PostgreSQL (conftest), against real
databases."""

from __future__ import annotations

import uuid
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pandas as pd
import pytest

from mo.domain.context import TenantContext
from mo.errors import MOError
from mo.services import recipes as rec
from mo.services.costs import update_cost
from mo.services.ingredients import add_ingredient, delete_ingredient
from mo.store import Store
from mo.util.jsonutil import loads
from recipe_support import save_dough

D = Decimal
TOLERANCE = Fraction(1, 10**9)  # 12-place storage: anything above this is a real difference


def ingredient(
    store: Store,
    ctx: TenantContext,
    name: str,
    unit: str,
    *,
    price: str | None = None,
    per: str | None = None,
    **options: Any,
) -> None:
    add_ingredient(store, ctx, name, unit=unit, **options)
    if price is not None:
        set_cost(store, ctx, name, price, per=per or f"1 {unit}")


def set_cost(store: Store, ctx: TenantContext, name: str, price: str, *, per: str) -> None:
    update_cost(store, ctx, name, price, per=per, idempotency_key=uuid.uuid4().hex)


def row(store: Store, ctx: TenantContext, name: str) -> dict[str, Any]:
    frame = rec.recipes_frame(store, ctx, include_deleted=True)
    found = frame[frame["name"] == name]
    assert len(found) == 1, f"{name} not in {list(frame['name'])}"
    return found.iloc[0].to_dict()


def assert_money(actual: Decimal, expected: Fraction) -> None:
    assert abs(Fraction(actual) - expected) <= TOLERANCE, f"{actual} != {float(expected)}"


def error_of(call: Any, *args: Any, **kwargs: Any) -> MOError:
    with pytest.raises(MOError) as caught:
        call(*args, **kwargs)
    return caught.value


def events(store: Store, ctx: TenantContext, event_type: str) -> list[dict[str, Any]]:
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        rows = tx.all("testing.events", {"tenant_id": ctx.tenant_id})
    return [{**r, "payload": loads(r["payload"])} for r in rows if r["event_type"] == event_type]


# ------------------------------------------------------------------------------- saving


def test_save_returns_the_record_and_costs_it(store: Store, ctx: TenantContext) -> None:
    ingredient(store, ctx, "Flour", "g", price="12.00", per="6 x 1 kg")
    saved = rec.save_recipe(
        store,
        ctx,
        " Plain  Dough ",
        yield_qty="2",
        yield_unit="portions",
        lines=[{"ingredient": " FLOUR ", "qty": 250, "unit": "g"}],
        menu_price="1.25",
    )
    assert (
        saved.name,
        saved.yield_qty,
        saved.yield_unit,
        saved.menu_price,
        saved.lines,
        saved.deleted,
    ) == ("Plain Dough", D(2), "portions", D("1.25"), 1, False)
    got = row(store, ctx, "Plain Dough")
    # price per pack used per gram: 12.00 / 6000 g = 0.002 per g; 250 g = 0.50
    assert (got["total_cost"], got["unit_cost"], got["complete"], got["missing"]) == (
        D("0.5"),
        D("0.25"),
        True,
        "",
    )
    assert got["food_cost_pct"] == D(20)  # 0.25 per portion of a 1.25 menu price


def test_frame_has_exact_columns_and_types(store: Store, ctx: TenantContext) -> None:
    ingredient(store, ctx, "Salt", "g", price="1", per="1 kg")
    rec.save_recipe(
        store,
        ctx,
        "Brine",
        yield_qty=1,
        yield_unit="l",
        lines=[{"ingredient": "salt", "qty": 30, "unit": "g"}],
    )
    frame = rec.recipes_frame(store, ctx)
    assert list(frame.columns) == rec.FRAME_COLUMNS
    assert (
        frame["complete"].dtype == bool and str(frame["computed_at"].dtype) == "datetime64[us, UTC]"
    )
    assert all(
        frame[c].dtype == object
        for c in ("yield_qty", "total_cost", "unit_cost", "menu_price", "food_cost_pct")
    )
    assert isinstance(frame.loc[0, "total_cost"], Decimal) and frame.loc[0, "total_cost"] == D(
        "0.03"
    )
    assert frame.loc[0, "menu_price"] is None and frame.loc[0, "food_cost_pct"] is None


def test_save_upserts_by_normalised_name_and_replaces_lines(
    store: Store, ctx: TenantContext
) -> None:
    ingredient(store, ctx, "Tomato", "g", price="3", per="1 kg")
    ingredient(store, ctx, "Garlic", "g", price="10", per="1 kg")
    first = rec.save_recipe(
        store,
        ctx,
        "Tomato Sauce",
        yield_qty=1,
        yield_unit="kg",
        lines=[
            {"ingredient": "tomato", "qty": 1, "unit": "kg"},
            {"ingredient": "garlic", "qty": 50, "unit": "g"},
        ],
    )
    second = rec.save_recipe(
        store,
        ctx,
        "  tomato SAUCE",
        yield_qty=2,
        yield_unit="kg",
        lines=[{"ingredient": "tomato", "qty": 2, "unit": "kg"}],
    )
    assert second.id == first.id and second.lines == 1 and second.name == "tomato SAUCE"
    frame = rec.recipes_frame(store, ctx, include_deleted=True)
    assert list(frame["name"]) == ["tomato SAUCE"]
    assert frame.loc[0, "total_cost"] == D(6) and frame.loc[0, "unit_cost"] == D(
        3
    )  # per kg of yield
    saved = events(store, ctx, "recipe.saved")
    assert [e["payload"]["created"] for e in saved] == [True, False]


# ------------------------------------------------------------------------------- checks


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("yield_qty", 0),
        ("yield_qty", "-1"),
        ("yield_qty", "NaN"),
        ("yield_qty", "abc"),
        ("menu_price", 0),
        # any word yields a count of it ("parsecs" would be one "parsec"); a number is no unit
        ("yield_unit", "3 parsecs"),
        ("yield_unit", "??"),
    ],
)
def test_bad_recipe_fields_are_validation_errors(
    store: Store, ctx: TenantContext, field: str, value: Any
) -> None:
    ingredient(store, ctx, "Salt", "g")
    args = {"yield_qty": 1, "yield_unit": "portion", "menu_price": None, field: value}
    err = error_of(
        rec.save_recipe,
        store,
        ctx,
        "X",
        lines=[{"ingredient": "salt", "qty": 1, "unit": "g"}],
        **args,
    )
    assert err.code.value == "validation_error" and err.details["field"] == field


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"ingredient": "salt", "qty": 0, "unit": "g"}, "qty"),
        ({"ingredient": "salt", "qty": -2, "unit": "g"}, "qty"),
        ({"ingredient": "salt", "qty": float("nan"), "unit": "g"}, "qty"),
        ({"ingredient": "salt", "qty": "1e400", "unit": "g"}, "qty"),
        ({"ingredient": "salt", "qty": 1, "unit": "furlong"}, "unit"),
        ({"ingredient": "salt", "qty": 1, "unit": "g", "waste_pct": 100}, "waste_pct"),
        ({"ingredient": "salt", "qty": 1, "unit": "g", "waste_pct": -1}, "waste_pct"),
        ({"ingredient": "salt", "qty": 1, "unit": "g", "quantity": 2}, "quantity"),
        ({"ingredient": "salt", "recipe": "brine", "qty": 1, "unit": "g"}, "ingredient"),
    ],
)
def test_bad_lines_name_the_line_index_and_field(
    store: Store, ctx: TenantContext, line: dict, field: str
) -> None:
    ingredient(store, ctx, "Salt", "g")
    good = {"ingredient": "salt", "qty": 1, "unit": "g"}
    err = error_of(
        rec.save_recipe, store, ctx, "X", yield_qty=1, yield_unit="portion", lines=[good, line]
    )
    assert err.code.value == "validation_error"
    assert (err.details["line"], err.details["field"]) == (1, field)
    assert rec.recipes_frame(store, ctx).empty


def test_a_recipe_needs_lines(store: Store, ctx: TenantContext) -> None:
    err = error_of(rec.save_recipe, store, ctx, "Air", yield_qty=1, yield_unit="portion", lines=[])
    assert (err.code.value, err.details["field"]) == ("validation_error", "lines")


def test_unknown_items_are_not_found(store: Store, ctx: TenantContext) -> None:
    err = error_of(
        rec.save_recipe,
        store,
        ctx,
        "X",
        yield_qty=1,
        yield_unit="portion",
        lines=[{"ingredient": "unobtainium", "qty": 1, "unit": "g"}],
    )
    assert (err.code.value, err.details) == (
        "not_found",
        {"kind": "ingredient", "name": "unobtainium", "suggestions": []},
    )
    err = error_of(
        rec.save_recipe,
        store,
        ctx,
        "X",
        yield_qty=1,
        yield_unit="portion",
        lines=[{"recipe": "Ghost Stock", "qty": 1, "unit": "l"}],
    )
    assert (err.code.value, err.details) == ("not_found", {"kind": "recipe", "name": "Ghost Stock"})


def test_unconvertible_ingredient_lines_are_saved_incomplete_with_the_reason(
    store: Store, ctx: TenantContext
) -> None:
    """One rule whatever the families: count vs mass as volume vs mass without a density."""
    ingredient(store, ctx, "Egg", "each", price="3", per="12 each")
    ingredient(store, ctx, "Flour", "g", price="1", per="1 kg")
    ingredient(store, ctx, "Milk", "ml", price="1", per="1 l")
    rec.save_recipe(
        store,
        ctx,
        "X",
        yield_qty=1,
        yield_unit="portion",
        lines=[
            {"ingredient": "flour", "qty": 1, "unit": "each"},
            {"ingredient": "egg", "qty": 100, "unit": "g"},
            {"ingredient": "milk", "qty": 100, "unit": "g"},
        ],
    )
    got = row(store, ctx, "X")
    assert (got["complete"], got["missing"], got["total_cost"]) == (
        False,
        "Egg: no g→each conversion; Flour: no each→g conversion; Milk: no g→ml conversion",
        D(0),
    )


def test_sub_recipe_lines_in_another_unit_are_refused_at_save(
    store: Store, ctx: TenantContext
) -> None:
    ingredient(store, ctx, "Flour", "g")
    save_dough(store, ctx)
    rec.save_recipe(
        store,
        ctx,
        "Rolls",
        yield_qty=12,
        yield_unit="each",
        lines=[{"ingredient": "flour", "qty": 1, "unit": "kg"}],
    )
    for unit in (
        "ml",
        "portion",
        "each",
    ):  # a mass yield is used by mass only: recipes have no density
        err = error_of(
            rec.save_recipe,
            store,
            ctx,
            "Pie",
            yield_qty=1,
            yield_unit="portion",
            lines=[{"recipe": "dough", "qty": 1, "unit": unit}],
        )
        assert err.code.value == "unit_mismatch", unit
    err = error_of(
        rec.save_recipe,
        store,
        ctx,
        "Pie",
        yield_qty=1,
        yield_unit="portion",
        lines=[{"recipe": "rolls", "qty": 1, "unit": "portion"}],
    )
    assert err.code.value == "unit_mismatch" and err.details["to_unit"] == "each"
    pie = rec.save_recipe(
        store,
        ctx,
        "Pie",
        yield_qty=1,
        yield_unit="portion",
        lines=[
            {"recipe": "dough", "qty": 300, "unit": "g"},
            {"recipe": "rolls", "qty": 1, "unit": "dozen"},
        ],
    )
    assert pie.lines == 2


def test_waste_applies_to_ingredient_lines_only(store: Store, ctx: TenantContext) -> None:
    ingredient(store, ctx, "Flour", "g", price="1", per="1 kg")
    save_dough(store, ctx)
    err = error_of(
        rec.save_recipe,
        store,
        ctx,
        "Pie",
        yield_qty=1,
        yield_unit="portion",
        lines=[{"recipe": "dough", "qty": 1, "unit": "kg", "waste_pct": 5}],
    )
    assert (err.code.value, err.details["field"], err.details["line"]) == (
        "validation_error",
        "waste_pct",
        0,
    )


# ------------------------------------------------------------------------------- cycles


def test_a_recipe_cannot_use_itself(store: Store, ctx: TenantContext) -> None:
    ingredient(store, ctx, "Water", "ml")
    err = error_of(
        rec.save_recipe,
        store,
        ctx,
        "Stock",
        yield_qty=1,
        yield_unit="l",
        lines=[
            {"ingredient": "water", "qty": 1, "unit": "l"},
            {"recipe": " STOCK", "qty": 1, "unit": "l"},
        ],
    )
    assert (err.code.value, err.details["path"]) == ("cycle_detected", ["Stock", "Stock"])
    rec.save_recipe(
        store,
        ctx,
        "Stock",
        yield_qty=1,
        yield_unit="l",
        lines=[{"ingredient": "water", "qty": 1, "unit": "l"}],
    )
    err = error_of(
        rec.save_recipe,
        store,
        ctx,
        "Stock",
        yield_qty=1,
        yield_unit="l",
        lines=[{"recipe": "stock", "qty": 1, "unit": "l"}],
    )
    assert (err.code.value, err.details["path"]) == ("cycle_detected", ["Stock", "Stock"])


def test_longer_cycles_are_refused_with_their_path(store: Store, ctx: TenantContext) -> None:
    ingredient(store, ctx, "Water", "ml")
    rec.save_recipe(
        store,
        ctx,
        "C",
        yield_qty=1,
        yield_unit="l",
        lines=[{"ingredient": "water", "qty": 1, "unit": "l"}],
    )
    rec.save_recipe(
        store, ctx, "B", yield_qty=1, yield_unit="l", lines=[{"recipe": "c", "qty": 1, "unit": "l"}]
    )
    rec.save_recipe(
        store, ctx, "A", yield_qty=1, yield_unit="l", lines=[{"recipe": "b", "qty": 1, "unit": "l"}]
    )
    rec.save_recipe(
        store,
        ctx,
        "Side",
        yield_qty=1,
        yield_unit="l",
        lines=[{"recipe": "c", "qty": 1, "unit": "l"}],
    )
    err = error_of(
        rec.save_recipe,
        store,
        ctx,
        "C",
        yield_qty=1,
        yield_unit="l",
        lines=[
            {"ingredient": "water", "qty": 1, "unit": "l"},
            {"recipe": "a", "qty": 1, "unit": "l"},
        ],
    )
    assert (err.code.value, err.details["path"]) == ("cycle_detected", ["C", "A", "B", "C"])
    # A shared sub-recipe is not a cycle (no false positive): C used by B and by Side, A uses both.
    rec.save_recipe(
        store,
        ctx,
        "A",
        yield_qty=1,
        yield_unit="l",
        lines=[
            {"recipe": "b", "qty": 1, "unit": "l"},
            {"recipe": "side", "qty": 1, "unit": "l"},
            {"recipe": "c", "qty": 1, "unit": "l"},
        ],
    )


def test_restoring_a_recipe_whose_lines_would_close_a_cycle_is_refused(
    store: Store, ctx: TenantContext
) -> None:
    ingredient(store, ctx, "Water", "ml")
    rec.save_recipe(
        store,
        ctx,
        "Leaf",
        yield_qty=1,
        yield_unit="l",
        lines=[{"ingredient": "water", "qty": 1, "unit": "l"}],
    )
    rec.save_recipe(
        store,
        ctx,
        "Mid",
        yield_qty=1,
        yield_unit="l",
        lines=[{"recipe": "leaf", "qty": 1, "unit": "l"}],
    )
    rec.save_recipe(
        store,
        ctx,
        "Top",
        yield_qty=1,
        yield_unit="l",
        lines=[{"recipe": "mid", "qty": 1, "unit": "l"}],
    )
    rec.delete_recipe(store, ctx, "mid")
    # With Mid deleted, Leaf may use Top: Top → Mid → Leaf is not a live path.
    rec.save_recipe(
        store,
        ctx,
        "Leaf",
        yield_qty=1,
        yield_unit="l",
        lines=[{"recipe": "top", "qty": 1, "unit": "l"}],
    )
    err = error_of(rec.restore_recipe, store, ctx, "mid")
    assert (err.code.value, err.details["path"]) == (
        "cycle_detected",
        ["Mid", "Leaf", "Top", "Mid"],
    )
    assert row(store, ctx, "Mid")["name"] == "Mid" and rec.recipes_frame(store, ctx)[
        "name"
    ].tolist() == ["Leaf", "Top"]


# ------------------------------------------------------------------------------- worked examples

F = Fraction


def kitchen(store: Store, ctx: TenantContext) -> dict[str, Fraction]:
    """Stock (4 l) → Sauce (1.5 kg) → Dish (4 portions) → Banquet (1 batch, also uses Stock
    directly); Butter is used in Sauce and in Dish. Returns the expected totals, by hand."""
    ingredient(store, ctx, "Bones", "g", price="4.00", per="2 kg")
    ingredient(store, ctx, "Water", "ml", price="0.001", per="1 l")
    ingredient(store, ctx, "Onion", "g", price="1.50", per="1 kg", yield_pct="80")
    ingredient(store, ctx, "Cream", "ml", price="3.00", per="1 l")
    ingredient(store, ctx, "Butter", "g", price="8.00", per="1 kg")
    ingredient(store, ctx, "Pasta", "g", price="2.00", per="500 g")
    rec.save_recipe(
        store,
        ctx,
        "Stock",
        yield_qty=4,
        yield_unit="l",
        lines=[
            {"ingredient": "bones", "qty": 2, "unit": "kg"},
            {"ingredient": "water", "qty": 5, "unit": "l"},
            {"ingredient": "onion", "qty": 500, "unit": "g", "waste_pct": 10},
        ],
    )
    rec.save_recipe(
        store,
        ctx,
        "Sauce",
        yield_qty="1.5",
        yield_unit="kg",
        lines=[
            {"recipe": "stock", "qty": 600, "unit": "ml"},
            {"ingredient": "cream", "qty": 250, "unit": "ml"},
            {"ingredient": "butter", "qty": 50, "unit": "g"},
        ],
    )
    rec.save_recipe(
        store,
        ctx,
        "Dish",
        yield_qty=4,
        yield_unit="portions",
        menu_price="12",
        lines=[
            {"recipe": "sauce", "qty": 300, "unit": "g"},
            {"ingredient": "pasta", "qty": "0.4", "unit": "kg"},
            {"ingredient": "butter", "qty": 20, "unit": "g"},
        ],
    )
    rec.save_recipe(
        store,
        ctx,
        "Banquet",
        yield_qty=1,
        yield_unit="batch",
        lines=[
            {"recipe": "dish", "qty": 10, "unit": "portions"},
            {"recipe": "stock", "qty": 1, "unit": "l"},
        ],
    )
    onion = 500 * F(3, 2000) * F(100, 80) * F(100, 90)
    stock = 2000 * F(2, 1000) + 5000 * F(1, 10**6) + onion
    sauce = 600 * stock / 4000 + 250 * F(3, 1000) + 50 * F(8, 1000)
    dish = 300 * sauce / 1500 + 400 * F(4, 1000) + 20 * F(8, 1000)
    banquet = 10 * dish / 4 + 1000 * stock / 4000
    return {"Stock": stock, "Sauce": sauce, "Dish": dish, "Banquet": banquet}


def test_nesting_four_levels_with_different_yields(store: Store, ctx: TenantContext) -> None:
    expected = kitchen(store, ctx)
    for name, total in expected.items():
        got = row(store, ctx, name)
        assert got["complete"] and got["missing"] == ""
        assert_money(got["total_cost"], total)
    dish = row(store, ctx, "Dish")
    assert_money(dish["unit_cost"], expected["Dish"] / 4)  # per portion
    assert_money(dish["food_cost_pct"], expected["Dish"] / 4 / 12 * 100)
    assert_money(row(store, ctx, "Sauce")["unit_cost"], expected["Sauce"] / F(3, 2))  # per kg


def test_a_sub_recipe_used_in_another_quantity_than_its_yield_is_scaled_once(
    store: Store, ctx: TenantContext
) -> None:
    ingredient(store, ctx, "Rice", "g", price="3", per="1 kg")
    rec.save_recipe(
        store,
        ctx,
        "Rice Pot",
        yield_qty=10,
        yield_unit="portion",
        lines=[{"ingredient": "rice", "qty": 1, "unit": "kg"}],
    )
    rec.save_recipe(
        store,
        ctx,
        "Rice Tray",
        yield_qty=2,
        yield_unit="kg",
        lines=[{"ingredient": "rice", "qty": 1, "unit": "kg"}],
    )
    rec.save_recipe(
        store,
        ctx,
        "Plate",
        yield_qty=1,
        yield_unit="portion",
        lines=[
            {"recipe": "rice pot", "qty": 3, "unit": "portions"},
            {"recipe": "rice tray", "qty": "0.5", "unit": "kg"},
        ],
    )
    assert row(store, ctx, "Plate")["total_cost"] == D("0.9") + D(
        "0.75"
    )  # 3/10 × 3.00 + 500/2000 × 3.00


def test_the_same_ingredient_at_several_levels_is_summed_in_the_breakdown(
    store: Store, ctx: TenantContext
) -> None:
    expected = kitchen(store, ctx)
    frame = rec.recipe_breakdown(store, ctx, "banquet")
    assert list(frame.columns) == rec.BREAKDOWN_COLUMNS
    got = {r["ingredient"]: r for r in frame.to_dict("records")}
    assert sorted(got) == ["Bones", "Butter", "Cream", "Onion", "Pasta", "Water"]
    dishes = F(10, 4)  # Banquet uses 10 of Dish's 4 portions
    sauces = dishes * F(300, 1500)
    stocks = sauces * F(600, 4000) + F(1000, 4000)  # Stock arrives by two paths
    assert abs(F(got["Butter"]["qty"]) - (sauces * 50 + dishes * 20)) < TOLERANCE
    assert abs(F(got["Bones"]["qty"]) - stocks * 2000) < TOLERANCE
    assert got["Bones"]["unit"] == "g" and got["Water"]["unit"] == "ml"
    assert_money(got["Onion"]["cost"], stocks * 500 * F(3, 2000) * F(100, 80) * F(100, 90))
    assert abs(sum(F(c) for c in frame["cost"]) - expected["Banquet"]) < F(1, 10**6)


def test_missing_density_makes_the_recipe_incomplete_not_wild(
    store: Store, ctx: TenantContext
) -> None:
    ingredient(store, ctx, "Milk", "ml", price="1.20", per="1 l")
    ingredient(store, ctx, "Oil", "ml", price="10", per="1 l", density="0.92")
    ingredient(store, ctx, "Flour", "g", price="1", per="1 kg")
    rec.save_recipe(
        store,
        ctx,
        "Batter",
        yield_qty=1,
        yield_unit="kg",
        lines=[
            {"ingredient": "milk", "qty": 300, "unit": "g"},
            {"ingredient": "flour", "qty": 500, "unit": "g"},
            {"ingredient": "oil", "qty": 92, "unit": "g"},
        ],
    )  # 92 g of oil = 100 ml through its density
    rec.save_recipe(
        store,
        ctx,
        "Pancakes",
        yield_qty=4,
        yield_unit="portion",
        lines=[{"recipe": "batter", "qty": 1, "unit": "kg"}],
    )
    batter, pancakes = row(store, ctx, "Batter"), row(store, ctx, "Pancakes")
    assert (batter["complete"], batter["missing"], batter["total_cost"]) == (
        False,
        "Milk: no g→ml conversion",
        D("1.5"),
    )
    assert (pancakes["complete"], pancakes["missing"], pancakes["total_cost"]) == (
        False,
        "Milk: no g→ml conversion",
        D("1.5"),
    )
    breakdown = rec.recipe_breakdown(store, ctx, "Batter").set_index("ingredient")
    assert breakdown.loc["Milk", "qty"] is None and breakdown.loc["Milk", "cost"] is None
    assert breakdown.loc["Milk", "reason"] == "Milk: no g→ml conversion"
    assert breakdown.loc["Oil", "qty"] == D(100)


def test_missing_cost_lists_the_item_and_keeps_the_known_part(
    store: Store, ctx: TenantContext
) -> None:
    ingredient(store, ctx, "Saffron", "g")
    ingredient(store, ctx, "Rice", "g", price="2", per="1 kg")
    rec.save_recipe(
        store,
        ctx,
        "Paella",
        yield_qty=6,
        yield_unit="portions",
        lines=[
            {"ingredient": "saffron", "qty": "0.5", "unit": "g"},
            {"ingredient": "rice", "qty": 600, "unit": "g"},
        ],
    )
    got = row(store, ctx, "Paella")
    assert (got["complete"], got["missing"], got["total_cost"]) == (
        False, "Saffron: no cost", D("1.2"))
    set_cost(store, ctx, "Saffron", "8", per="1 g")
    got = row(store, ctx, "Paella")
    assert (got["complete"], got["missing"], got["total_cost"]) == (True, "", D("5.2"))


def test_a_deleted_ingredient_or_sub_recipe_is_missing(store: Store, ctx: TenantContext) -> None:
    ingredient(store, ctx, "Basil", "g", price="20", per="1 kg")
    ingredient(store, ctx, "Oil", "ml", price="10", per="1 l")
    rec.save_recipe(
        store,
        ctx,
        "Pesto",
        yield_qty=500,
        yield_unit="g",
        lines=[
            {"ingredient": "basil", "qty": 100, "unit": "g"},
            {"ingredient": "oil", "qty": 200, "unit": "ml"},
        ],
    )
    rec.save_recipe(
        store,
        ctx,
        "Pasta Pesto",
        yield_qty=2,
        yield_unit="portion",
        lines=[
            {"recipe": "pesto", "qty": 100, "unit": "g"},
            {"ingredient": "oil", "qty": 10, "unit": "ml"},
        ],
    )
    delete_ingredient(store, ctx, "basil")  # recomputes the recipes that use it
    assert (row(store, ctx, "Pesto")["missing"], row(store, ctx, "Pasta Pesto")["missing"]) == (
        "Basil: deleted",
        "Basil: deleted",
    )
    assert row(store, ctx, "Pesto")["total_cost"] == D(2)
    deleted = rec.delete_recipe(store, ctx, "pesto")
    assert deleted.deleted is True
    parent = row(store, ctx, "Pasta Pesto")
    assert (parent["complete"], parent["missing"], parent["total_cost"]) == (
        False,
        "Pesto: deleted",
        D("0.1"),
    )
    assert list(rec.recipes_frame(store, ctx)["name"]) == ["Pasta Pesto"]
    assert list(rec.recipes_frame(store, ctx, include_deleted=True)["name"]) == [
        "Pasta Pesto",
        "Pesto",
    ]
    assert rec.restore_recipe(store, ctx, "PESTO").deleted is False
    assert row(store, ctx, "Pasta Pesto")["missing"] == "Basil: deleted"
    err = error_of(rec.restore_recipe, store, ctx, "pesto")
    assert err.code.value == "not_found"
    assert [
        e["event_type"]
        for e in events(store, ctx, "recipe.deleted") + events(store, ctx, "recipe.restored")
    ] == ["recipe.deleted", "recipe.restored"]


def test_restore_refuses_a_name_that_is_active_again(store: Store, ctx: TenantContext) -> None:
    ingredient(store, ctx, "Salt", "g")
    rec.save_recipe(
        store,
        ctx,
        "Brine",
        yield_qty=1,
        yield_unit="l",
        lines=[{"ingredient": "salt", "qty": 1, "unit": "g"}],
    )
    rec.delete_recipe(store, ctx, "brine")
    rec.save_recipe(
        store,
        ctx,
        "BRINE",
        yield_qty=1,
        yield_unit="l",
        lines=[{"ingredient": "salt", "qty": 2, "unit": "g"}],
    )
    err = error_of(rec.restore_recipe, store, ctx, "brine")
    assert (err.code.value, err.details) == ("conflict", {"name": "Brine"})
    assert error_of(rec.delete_recipe, store, ctx, "nothing").code.value == "not_found"


def test_breakdown_of_an_unknown_recipe_is_not_found(store: Store, ctx: TenantContext) -> None:
    err = error_of(rec.recipe_breakdown, store, ctx, "Ghost")
    assert (err.code.value, err.details) == ("not_found", {"kind": "recipe", "name": "Ghost", "suggestions": []})


def test_count_units_scale_exactly(store: Store, ctx: TenantContext) -> None:
    ingredient(store, ctx, "Egg", "each", price="3.60", per="1 doz")
    rec.save_recipe(
        store,
        ctx,
        "Omelette",
        yield_qty=2,
        yield_unit="serving",
        lines=[{"ingredient": "egg", "qty": 3, "unit": "each"}],
    )
    rec.save_recipe(
        store,
        ctx,
        "Brunch",
        yield_qty=1,
        yield_unit="tray",
        menu_price="9",
        lines=[
            {"recipe": "omelette", "qty": 5, "unit": "servings"},
            {"ingredient": "egg", "qty": "0.5", "unit": "dozen"},
        ],
    )
    got = row(store, ctx, "Brunch")
    assert got["total_cost"] == D("2.25") + D("1.8")  # 5/2 × 0.90 + 6 eggs
    assert got["food_cost_pct"] == D(45)


def test_tenants_never_see_each_others_recipes(
    store: Store, ctx: TenantContext, other_ctx: TenantContext
) -> None:
    for c, price in ((ctx, "2"), (other_ctx, "5")):
        ingredient(store, c, "Flour", "g", price=price, per="1 kg")
        rec.save_recipe(
            store,
            c,
            "Bread",
            yield_qty=1,
            yield_unit="loaf",
            lines=[{"ingredient": "flour", "qty": 1, "unit": "kg"}],
        )
    assert row(store, ctx, "Bread")["total_cost"] == D(2) and row(store, other_ctx, "Bread")[
        "total_cost"
    ] == D(5)
    set_cost(store, other_ctx, "Flour", "7", per="1 kg")
    assert row(store, ctx, "Bread")["total_cost"] == D(2) and row(store, other_ctx, "Bread")[
        "total_cost"
    ] == D(7)
    rec.save_recipe(
        store,
        ctx,
        "Sandwich",
        yield_qty=1,
        yield_unit="each",
        lines=[{"recipe": "bread", "qty": 1, "unit": "loaf"}],
    )
    err = error_of(
        rec.save_recipe,
        store,
        other_ctx,
        "Toast",
        yield_qty=1,
        yield_unit="each",
        lines=[{"recipe": "sandwich", "qty": 1, "unit": "each"}],
    )
    assert err.code.value == "not_found"
    assert len(rec.recipes_frame(store, other_ctx)) == 1
    assert all(
        e["payload"]["recipe"] == "Bread" for e in events(store, other_ctx, "recipe.recomputed")
    )


# ------------------------------------------------------------------------------- import

LONG_COLUMNS = [
    "recipe",
    "yield_qty",
    "yield_unit",
    "menu_price",
    "kind",
    "item",
    "qty",
    "unit",
    "waste_pct",
]


def long_frame(*rows: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=LONG_COLUMNS)


def pantry(store: Store, ctx: TenantContext) -> None:
    ingredient(store, ctx, "Flour", "g", price="2", per="1 kg")
    ingredient(store, ctx, "Milk", "ml", price="1", per="1 l")
    ingredient(store, ctx, "Egg", "each", price="3.60", per="1 dozen")


BOOK = long_frame(
    ("Dough", "1", "kg", "", "ingredient", "flour", "1", "kg", ""),
    ("Dough", "1", "kg", "", "ingredient", "milk", "200", "ml", "5"),
    ("Pizza", "4", "slices", "3", "recipe", "dough", "250", "g", ""),
    ("Pizza", "", "", "", "ingredient", "egg", "2", "each", ""),
)


def test_import_creates_recipes_costs_them_and_replays(store: Store, ctx: TenantContext) -> None:
    pantry(store, ctx)
    result = rec.import_recipes(store, ctx, BOOK, idempotency_key="book-1")
    assert (result.recipes, result.lines, result.replayed) == (2, 4, False)
    dough, pizza = row(store, ctx, "Dough"), row(store, ctx, "Pizza")
    expected_dough = F(2) + 200 * F(1, 1000) * F(100, 95)
    assert_money(dough["total_cost"], expected_dough)
    assert_money(pizza["total_cost"], expected_dough / 4 + F(6, 10))
    assert (pizza["yield_unit"], pizza["menu_price"], pizza["complete"]) == ("slices", D(3), True)
    imported = events(store, ctx, "recipes.imported")
    assert [e["payload"]["recipes"] for e in imported] == [2]
    before = len(events(store, ctx, "recipe.recomputed"))
    again = rec.import_recipes(store, ctx, BOOK.copy(), idempotency_key="book-1")
    assert again == result.__class__(
        **{
            **result.to_dict(),
            "replayed": True,
            "batch_id": result.batch_id,
            "recipes": 2,
            "lines": 4,
        }
    )
    assert (
        len(events(store, ctx, "recipes.imported")) == 1
        and len(events(store, ctx, "recipe.recomputed")) == before
    )
    err = error_of(rec.import_recipes, store, ctx, BOOK.iloc[:2], idempotency_key="book-1")
    assert err.code.value == "idempotency_conflict"


def test_import_reads_csv_and_xlsx_files(store: Store, ctx: TenantContext, tmp_path: Any) -> None:
    pantry(store, ctx)
    BOOK.to_csv(tmp_path / "book.csv", index=False)
    assert rec.import_recipes(store, ctx, tmp_path / "book.csv", idempotency_key="csv").recipes == 2
    changed = BOOK.assign(qty=["2", "200", "250", "2"])
    changed.to_excel(tmp_path / "book.xlsx", index=False)
    assert (
        rec.import_recipes(store, ctx, str(tmp_path / "book.xlsx"), idempotency_key="xlsx").lines
        == 4
    )
    assert row(store, ctx, "Dough")["total_cost"] > D(4)
    err = error_of(rec.import_recipes, store, ctx, tmp_path / "book.txt", idempotency_key="txt")
    assert err.code.value == "validation_error"


def test_import_reports_every_bad_row_and_writes_nothing(store: Store, ctx: TenantContext) -> None:
    pantry(store, ctx)
    save_dough(store, ctx)
    bad = long_frame(
        ("Bread", "0", "loaf", "", "ingredient", "flour", "500", "g", ""),
        ("Bread", "1", "loaf", "", "ingredient", "unobtainium", "abc", "g", "100"),
        ("Bread", "2", "loaf", "", "recipe", "dough", "1", "l", "3"),
        ("", "1", "portion", "-1", "thing", "egg", "1", "furlong", ""),
        ("Omelette", "1", "portion", "", "ingredient", "egg", "100", "g", ""),  # saved: costed
        ("Omelette", "1", "portion", "", "recipe", "Ghost", "1", "portion", ""),  # as missing
    )
    before = len(events(store, ctx, "recipe.saved")) + len(events(store, ctx, "recipe.recomputed"))
    err = error_of(rec.import_recipes, store, ctx, bad, idempotency_key="bad")
    assert err.code.value == "validation_error"
    found = {(r["row"], r["column"]): r for r in err.details["rows"]}
    assert set(found) == {
        (2, "yield_qty"),
        (3, "item"),
        (3, "qty"),
        (3, "waste_pct"),
        (4, "yield_qty"),
        (4, "unit"),
        (4, "waste_pct"),
        (5, "recipe"),
        (5, "kind"),
        (5, "unit"),
        (5, "menu_price"),
        (7, "item"),
    }
    assert [(r["row"], r["column"]) for r in err.details["rows"]][:3] == [
        (2, "yield_qty"),
        (3, "item"),
        (3, "qty"),
    ]
    assert err.details["bad_rows"] == 5
    assert (
        found[(3, "item")]["problem"] == "unknown ingredient"
        and found[(7, "item")]["problem"] == "unknown recipe"
    )
    assert found[(4, "yield_qty")]["problem"] == "differs from row 3 of this recipe"
    assert found[(3, "qty")]["value"] == "abc"
    assert list(rec.recipes_frame(store, ctx)["name"]) == ["Dough"]
    assert (
        len(events(store, ctx, "recipe.saved")) + len(events(store, ctx, "recipe.recomputed"))
        == before
    )
    assert (
        rec.import_recipes(store, ctx, BOOK, idempotency_key="bad").recipes == 2
    )  # the key was not used up


def test_import_needs_the_required_columns(store: Store, ctx: TenantContext) -> None:
    err = error_of(
        rec.import_recipes, store, ctx, BOOK.drop(columns=["qty", "unit"]), idempotency_key="cols"
    )
    assert err.code.value == "validation_error"
    assert [(r["row"], r["column"], r["problem"]) for r in err.details["rows"]] == [
        (1, "qty", "missing column"),
        (1, "unit", "missing column"),
    ]
    err = error_of(rec.import_recipes, store, ctx, BOOK.iloc[:0], idempotency_key="empty")
    assert (err.code.value, err.details["bad_rows"]) == ("validation_error", 0)
    optional_left_out = BOOK.drop(columns=["menu_price", "waste_pct"])
    pantry(store, ctx)
    assert rec.import_recipes(store, ctx, optional_left_out, idempotency_key="lean").recipes == 2
    assert row(store, ctx, "Pizza")["menu_price"] is None


@pytest.mark.parametrize(
    "rows",
    [
        [("Soup", "1", "l", "", "recipe", "soup", "1", "l", "")],
        [
            ("A", "1", "kg", "", "recipe", "b", "1", "kg", ""),
            ("B", "1", "kg", "", "recipe", "c", "1", "kg", ""),
            ("C", "1", "kg", "", "recipe", "a", "1", "kg", ""),
        ],
    ],
)
def test_import_refuses_cycles_with_a_path(
    store: Store, ctx: TenantContext, rows: list[tuple[str, ...]]
) -> None:
    err = error_of(rec.import_recipes, store, ctx, long_frame(*rows), idempotency_key="cycle")
    assert err.code.value == "cycle_detected"
    path = err.details["path"]
    assert path[0] == path[-1] and len(path) == len(rows) + 1
    assert rec.recipes_frame(store, ctx).empty


def test_import_closing_a_cycle_through_a_stored_recipe_is_refused(
    store: Store, ctx: TenantContext
) -> None:
    pantry(store, ctx)
    rec.save_recipe(
        store,
        ctx,
        "Base",
        yield_qty=1,
        yield_unit="kg",
        lines=[{"ingredient": "flour", "qty": 1, "unit": "kg"}],
    )
    rec.save_recipe(
        store,
        ctx,
        "Top",
        yield_qty=1,
        yield_unit="kg",
        lines=[{"recipe": "base", "qty": 1, "unit": "kg"}],
    )
    err = error_of(
        rec.import_recipes,
        store,
        ctx,
        long_frame(("Base", "1", "kg", "", "recipe", "top", "1", "kg", "")),
        idempotency_key="c2",
    )
    assert (err.code.value, sorted(err.details["path"][:-1])) == ("cycle_detected", ["Base", "Top"])
    assert row(store, ctx, "Base")["total_cost"] == D(2)


def test_import_replaces_lines_and_recomputes_recipes_using_the_imported_ones(
    store: Store, ctx: TenantContext
) -> None:
    pantry(store, ctx)
    save_dough(store, ctx)
    rec.save_recipe(
        store,
        ctx,
        "Focaccia",
        yield_qty=1,
        yield_unit="tray",
        lines=[{"recipe": "dough", "qty": 500, "unit": "g"}],
    )
    assert row(store, ctx, "Focaccia")["total_cost"] == D(1)
    rec.import_recipes(
        store,
        ctx,
        long_frame(("DOUGH", "2", "kg", "", "ingredient", "flour", "3", "kg", "")),
        idempotency_key="replace",
    )
    dough = row(store, ctx, "DOUGH")
    assert (dough["total_cost"], dough["yield_qty"]) == (D(6), D(2))
    assert row(store, ctx, "Focaccia")["total_cost"] == D("1.5")  # 500 g of a 2 kg batch costing 6
    assert [e["payload"]["cause"] for e in events(store, ctx, "recipe.recomputed")][-2:] == [
        "recipes.imported"
    ] * 2


def test_import_stays_inside_its_tenant(
    store: Store, ctx: TenantContext, other_ctx: TenantContext
) -> None:
    pantry(store, ctx)
    err = error_of(rec.import_recipes, store, other_ctx, BOOK, idempotency_key="same-key")
    assert {r["value"] for r in err.details["rows"] if r["column"] == "item"} == {
        "flour",
        "milk",
        "egg",
    }
    assert rec.import_recipes(store, ctx, BOOK, idempotency_key="same-key").recipes == 2
    assert rec.recipes_frame(store, other_ctx).empty
