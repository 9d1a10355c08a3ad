"""Recompute: scope (given recipes or ingredients plus every ancestor), propagation, events,
transactions, and the cycle backstop. Both backends, real databases."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from mo.domain.context import TenantContext
from mo.domain.results import RecomputeResult
from mo.errors import MOError
from mo.services import recipes as rec
from mo.services.costs import update_cost
from mo.services.ingredients import add_ingredient, find_active
from mo.services.recompute import find_cycle, recompute, recompute_for
from mo.store import Store
from mo.store.base import Tx
from mo.util.jsonutil import loads
from recipe_support import save_dough

D = Decimal


def set_cost(
    store: Store, ctx: TenantContext, name: str, price: str, *, per: str, at: str | None = None
) -> None:
    update_cost(store, ctx, name, price, per=per, idempotency_key=uuid.uuid4().hex, effective_at=at)


def totals(store: Store, ctx: TenantContext) -> dict[str, tuple[Decimal, bool]]:
    frame = rec.recipes_frame(store, ctx)
    return {r["name"]: (r["total_cost"], r["complete"]) for r in frame.to_dict("records")}


def computed_at(store: Store, ctx: TenantContext) -> dict[str, Any]:
    frame = rec.recipes_frame(store, ctx)
    return dict(zip(frame["name"], frame["computed_at"], strict=True))


def recomputed_events(store: Store, ctx: TenantContext) -> list[dict[str, Any]]:
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        rows = tx.all("testing.events", {"tenant_id": ctx.tenant_id})
    return [
        loads(r["payload"]) | {"id": r["aggregate_id"]}
        for r in rows
        if r["event_type"] == "recipe.recomputed"
    ]


@pytest.fixture
def chain(store: Store, ctx: TenantContext) -> TenantContext:
    """Flour → Dough (1 kg) → Pizza (4 slices) → Party (1 batch); Salad stands apart."""
    add_ingredient(store, ctx, "Flour", unit="g")
    add_ingredient(store, ctx, "Lettuce", unit="each")
    set_cost(store, ctx, "Flour", "2", per="1 kg")
    set_cost(store, ctx, "Lettuce", "1", per="1 each")
    save_dough(store, ctx)
    for name, yield_qty, yield_unit, line in (
        ("Pizza", 4, "slice", {"recipe": "dough", "qty": 250, "unit": "g"}),
        ("Party", 1, "batch", {"recipe": "pizza", "qty": 8, "unit": "slices"}),
        ("Salad", 1, "portion", {"ingredient": "lettuce", "qty": 1, "unit": "each"}),
    ):
        rec.save_recipe(
            store, ctx, name, yield_qty=yield_qty, yield_unit=yield_unit, lines=[line]
        )
    return ctx


def test_a_cost_change_propagates_to_every_ancestor_with_events(
    store: Store, chain: TenantContext
) -> None:
    assert totals(store, chain) == {
        "Dough": (D(2), True),
        "Pizza": (D("0.5"), True),
        "Party": (D(1), True),
        "Salad": (D(1), True),
    }
    before = len(recomputed_events(store, chain))
    set_cost(store, chain, "Flour", "3", per="1 kg")
    assert totals(store, chain)["Party"] == (D("1.5"), True) and totals(store, chain)["Pizza"] == (
        D("0.75"),
        True,
    )
    new = recomputed_events(store, chain)[before:]
    assert sorted((e["recipe"], e["old_total"], e["new_total"]) for e in new) == [
        ("Dough", "2", "3"),
        ("Party", "1", "1.5"),
        ("Pizza", "0.5", "0.75"),
    ]
    assert {e["cause"] for e in new} == {"ingredient.cost.updated"} and all(
        e["complete"] for e in new
    )


def test_ingredient_scope_is_its_users_and_their_ancestors(
    store: Store, chain: TenantContext
) -> None:
    flour = _ingredient_id(store, chain, "flour")
    result = store.atomic(
        lambda tx: recompute_for(tx, chain, ingredient_ids=[flour], cause="test"),
        tenant_id=chain.tenant_id,
    )
    assert result == RecomputeResult(
        recomputed=3, changed=0
    )  # Dough, Pizza, Party; nothing changed


def test_only_changed_costs_are_rewritten(store: Store, chain: TenantContext) -> None:
    """computed_at is when the stored figures were computed: same figures, same time."""
    stamps = computed_at(store, chain)
    assert recompute(store, chain) == RecomputeResult(recomputed=4, changed=0)
    assert computed_at(store, chain) == stamps
    set_cost(store, chain, "Flour", "4", per="1 kg")
    after = computed_at(store, chain)
    assert after["Salad"] == stamps["Salad"]
    assert all(after[name] > stamps[name] for name in ("Dough", "Pizza", "Party"))


def test_an_edit_that_keeps_the_total_still_refreshes_unit_cost(
    store: Store, chain: TenantContext
) -> None:
    rec.save_recipe(
        store,
        chain,
        "Salad",
        yield_qty=4,
        yield_unit="portion",
        menu_price="1",
        lines=[{"ingredient": "lettuce", "qty": 1, "unit": "each"}],
    )
    got = rec.recipes_frame(store, chain).set_index("name").loc["Salad"]
    assert (got["total_cost"], got["unit_cost"], got["food_cost_pct"]) == (D(1), D("0.25"), D(25))


def test_recipe_scope_is_the_recipe_and_its_ancestors(store: Store, chain: TenantContext) -> None:
    assert recompute(store, chain, recipes=["PIZZA"]) == RecomputeResult(recomputed=2, changed=0)
    assert recompute(store, chain) == RecomputeResult(recomputed=4, changed=0)
    assert recompute(store, chain, recipes=[]) == RecomputeResult(recomputed=0, changed=0)
    with pytest.raises(MOError) as caught:
        recompute(store, chain, recipes=["Pizza", "Calzone"])
    assert (caught.value.code.value, caught.value.details["name"]) == ("not_found", "Calzone")


def test_no_events_when_nothing_changed(store: Store, chain: TenantContext) -> None:
    before = len(recomputed_events(store, chain))
    recompute(store, chain)
    set_cost(
        store, chain, "Lettuce", "1.00", per="1 each"
    )  # same unit cost: no cost row, no recompute
    assert len(recomputed_events(store, chain)) == before


def test_a_future_cost_is_not_current(store: Store, chain: TenantContext) -> None:
    set_cost(store, chain, "Flour", "9", per="1 kg", at="2199-01-01T00:00:00+00:00")
    recompute(store, chain)
    assert totals(store, chain)["Dough"] == (D(2), True)


def test_recompute_rolls_back_with_its_transaction(store: Store, chain: TenantContext) -> None:
    before = (totals(store, chain), len(recomputed_events(store, chain)))

    def work(tx: Tx) -> None:
        tx.run(
            "recipes.delete_lines",
            {"tenant_id": chain.tenant_id, "recipe_id": _recipe_id(tx, chain, "Dough")},
        )
        assert (
            recompute_for(
                tx, chain, recipe_ids=[_recipe_id(tx, chain, "Dough")], cause="test"
            ).changed
            == 3
        )
        raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        store.atomic(work, tenant_id=chain.tenant_id)
    assert (totals(store, chain), len(recomputed_events(store, chain))) == before


def test_recompute_twice_in_one_transaction(store: Store, chain: TenantContext) -> None:
    def work(tx: Tx) -> tuple[RecomputeResult, RecomputeResult]:
        return (
            recompute_for(tx, chain, recipe_ids=[_recipe_id(tx, chain, "Party")], cause="a"),
            recompute_for(tx, chain, cause="b"),
        )

    assert store.atomic(work, tenant_id=chain.tenant_id) == (
        RecomputeResult(1, 0),
        RecomputeResult(4, 0),
    )


def test_a_recipe_without_lines_costs_zero_and_is_complete(
    store: Store, chain: TenantContext
) -> None:
    """Only reachable under the service (save refuses empty recipes); the SQL must not drop it."""

    def work(tx: Tx) -> RecomputeResult:
        tx.run(
            "recipes.delete_lines",
            {"tenant_id": chain.tenant_id, "recipe_id": _recipe_id(tx, chain, "Salad")},
        )
        return recompute_for(tx, chain, recipe_ids=[_recipe_id(tx, chain, "Salad")], cause="test")

    assert store.atomic(work, tenant_id=chain.tenant_id) == RecomputeResult(1, 1)
    assert totals(store, chain)["Salad"] == (D(0), True)


def test_a_cycle_written_under_the_service_is_caught_with_its_path(
    store: Store, chain: TenantContext
) -> None:
    """The save-time check is the rule; this is the backstop for a race that slipped past it."""

    def work(tx: Tx) -> RecomputeResult:
        dough, party = _recipe_id(tx, chain, "Dough"), _recipe_id(tx, chain, "Party")
        tx.run(
            "recipes.insert_line",
            {
                "tenant_id": chain.tenant_id,
                "recipe_id": dough,
                "position": 9,
                "ingredient_id": None,
                "sub_recipe_id": party,
                "qty": 1,
                "unit": "batch",
                "family": "count",
                "base_unit": "batch",
                "qty_base": 1,
                "waste_pct": 0,
            },
        )
        return recompute_for(tx, chain, cause="test")

    with pytest.raises(MOError) as caught:
        store.atomic(work, tenant_id=chain.tenant_id)
    assert caught.value.code.value == "cycle_detected"
    assert caught.value.details["path"] == ["Dough", "Party", "Pizza", "Dough"]


def missing(store: Store, ctx: TenantContext) -> dict[str, str]:
    frame = rec.recipes_frame(store, ctx)
    return dict(zip(frame["name"], frame["missing"], strict=True))


def test_a_sub_recipe_outside_the_scope_never_costed_is_missing_as_such(
    store: Store, chain: TenantContext
) -> None:
    """Only reachable under the services (they cost every recipe they save): a sub without a
    stored cost cannot lend one to the recipes above it, which say so per line."""
    with store.transaction(tenant_id=chain.tenant_id) as tx:
        tx.run("testing.forget_recipe_cost",
               {"tenant_id": chain.tenant_id, "recipe_id": _recipe_id(tx, chain, "Dough")})
    recompute(store, chain, recipes=["Pizza"])  # Dough stays outside the scope
    got = missing(store, chain)
    assert (got["Party"], got["Pizza"], got["Salad"]) == (
        "Dough: not costed", "Dough: not costed", "")
    assert totals(store, chain)["Party"] == (D(0), False)
    recompute(store, chain, recipes=["Dough"])  # costed again, and everything above it
    assert totals(store, chain) == {"Dough": (D(2), True), "Party": (D(1), True),
                                    "Pizza": (D("0.5"), True), "Salad": (D(1), True)}


def test_find_cycle_names_one_cycle_or_none() -> None:
    def edge(a: int, b: int) -> dict[str, Any]:
        return {"parent": a, "child": b, "parent_name": f"r{a}", "child_name": f"r{b}"}

    assert find_cycle([edge(1, 2), edge(2, 3), edge(1, 3)]) is None
    assert find_cycle([edge(1, 2), edge(2, 3), edge(3, 2)]) == ["r2", "r3", "r2"]
    assert find_cycle([edge(5, 5)]) == ["r5", "r5"]


def test_an_empty_cause_is_refused(store: Store, chain: TenantContext) -> None:
    with pytest.raises(MOError) as caught:
        store.atomic(lambda tx: recompute_for(tx, chain, cause=" "), tenant_id=chain.tenant_id)
    assert caught.value.code.value == "validation_error"


def test_recompute_stays_inside_its_tenant(
    store: Store, chain: TenantContext, other_ctx: TenantContext
) -> None:
    add_ingredient(store, other_ctx, "Flour", unit="g")
    set_cost(store, other_ctx, "Flour", "5", per="1 kg")
    save_dough(store, other_ctx)
    stamps = computed_at(store, chain)
    assert recompute(store, other_ctx) == RecomputeResult(1, 0)
    assert computed_at(store, chain) == stamps
    flour = _ingredient_id(
        store, chain, "flour"
    )  # the first tenant's id, used from the other tenant
    result = store.atomic(
        lambda tx: recompute_for(tx, other_ctx, ingredient_ids=[flour], cause="t"),
        tenant_id=other_ctx.tenant_id,
    )
    assert result == RecomputeResult(0, 0)
    assert totals(store, other_ctx) == {"Dough": (D(5), True)}


def _ingredient_id(store: Store, ctx: TenantContext, name: str) -> int:
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        return int(find_active(tx, ctx, name)["id"])


def _recipe_id(tx: Tx, ctx: TenantContext, name: str) -> int:
    row = tx.one("recipes.by_key", {"tenant_id": ctx.tenant_id, "name_key": name.casefold()})
    assert row is not None
    return int(row["id"])
