"""sanity() on both backends: every check holds on a consistent tenant and fails when broken.

No cost, import or recipe service exists to build the data with yet, so rows go in with the
driver, each with the event its service is specified to write; mo.services.events writes the events.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import count

import psycopg
import pytest
from eventlog_support import emit, insert_row, raw

from mo.services.ingredients import add_ingredient, delete_ingredient
from mo.services.sanity import CHECKS, sanity

PAST = datetime(2024, 1, 1, tzinfo=timezone.utc)
CHECK_NAMES = ["event_counts"] + [c.name for c in CHECKS]


def cost_payload(flour: int, *, source: str) -> dict[str, object]:
    return {"ingredient": "Flour", "ingredient_id": flour, "old_unit_cost": None,
            "new_unit_cost": "0.002", "effective_at": PAST, "source": source, "supplier": "Mill"}


_prices = count(200)


def add_cost(store, ctx, flour: int, *, effective_at: datetime = PAST, **keys: object) -> int:
    """A cost row at another price each time: a row repeating its supplier's unit cost is a
    re-listing, which needs no event and makes no recipe stale."""
    price = Decimal(next(_prices)) / 100
    return insert_row(store, "ingredient_costs", tenant_id=ctx.tenant_id, ingredient_id=flour,
                      price=price, pack="1 kg", pack_qty=Decimal(1000),
                      unit_cost=price / 1000, effective_at=effective_at,
                      source="import" if keys.get("batch_id") else "manual", **keys)


@pytest.fixture
def world(store, ctx) -> dict[str, int]:
    """Flour with a manual and an imported cost, its completed price-list import, and a bread
    recipe costed after both: everything the checks look at, consistent."""
    flour = add_ingredient(store, ctx, "Flour", unit="g").id
    batch = insert_row(store, "import_batches", tenant_id=ctx.tenant_id, kind="price_list",
                       idempotency_key="import-1", content_hash="h1", status="completed", rows=1)
    emit(store, ctx, "import.completed", "import_batch", batch, {"rows": 1}, batch_id=batch)
    manual = add_cost(store, ctx, flour, idempotency_key="cost-1")
    emit(store, ctx, "ingredient.cost.updated", "ingredient", flour, cost_payload(flour, source="manual"),
         idempotency_key="cost-1")
    imported = add_cost(store, ctx, flour, batch_id=batch)
    emit(store, ctx, "ingredient.cost.updated", "ingredient", flour, cost_payload(flour, source="import"),
         batch_id=batch)
    bread = insert_row(store, "recipes", tenant_id=ctx.tenant_id, name="Bread", name_key="bread",
                       yield_qty=1, yield_unit="each", yield_family="count", yield_base="each", yield_base_qty=1)
    emit(store, ctx, "recipe.saved", "recipe", bread, {"name": "Bread"})
    insert_row(store, "recipe_lines", tenant_id=ctx.tenant_id, recipe_id=bread, position=1,
               ingredient_id=flour, qty=500, unit="g", family="mass", base_unit="g", qty_base=500)
    raw(store, "INSERT INTO recipe_costs (tenant_id, recipe_id, total_cost, unit_cost, complete, missing) "
               "VALUES (%s, %s, 1, 1, true, '[]')", (ctx.tenant_id, bread))
    return {"flour": flour, "batch": batch, "manual": manual, "imported": imported, "bread": bread}


def results(store, ctx) -> dict[str, tuple[bool, str]]:
    frame = sanity(store, ctx)
    assert frame["check"].tolist() == CHECK_NAMES
    assert frame["ok"].dtype == bool
    return {row.check: (bool(row.ok), row.detail) for row in frame.itertuples()}


def failing(store, ctx) -> dict[str, str]:
    return {name: detail for name, (ok, detail) in results(store, ctx).items() if not ok}


def test_a_new_tenant_passes_and_counts_its_events(store, ctx):
    checked = results(store, ctx)
    assert all(ok for ok, _ in checked.values())
    assert checked["event_counts"][1] == "last hour: tenant.created=1"


def test_a_consistent_tenant_passes(store, ctx, world):
    checked = results(store, ctx)
    assert failing(store, ctx) == {}
    assert "import.completed=1" in checked["event_counts"][1]
    assert "ingredient.cost.updated=2" in checked["event_counts"][1]


def _delete_events(store, ctx, condition: str, *params: object) -> None:
    raw(store, f"DELETE FROM event_log WHERE tenant_id = %s AND {condition}", (ctx.tenant_id, *params))


BREAKS = {
    "import event deleted": (
        "completed_imports_have_one_event", "has 0 import.completed events",
        lambda store, ctx, w: _delete_events(store, ctx, "event_type = 'import.completed'")),
    "import event doubled": (
        "completed_imports_have_one_event", "has 2 import.completed events",
        lambda store, ctx, w: emit(store, ctx, "import.completed", "import_batch", w["batch"], {}, batch_id=w["batch"])),
    "manual cost event deleted": (
        "cost_rows_have_events", "key 'cost-1'",
        lambda store, ctx, w: _delete_events(store, ctx, "idempotency_key = 'cost-1'")),
    "import cost event deleted": (
        "cost_rows_have_events", "no ingredient.cost.updated event",
        lambda store, ctx, w: _delete_events(store, ctx, "event_type = 'ingredient.cost.updated' AND batch_id = %s",
                                             w["batch"])),
    "recipe cost older than a cost change": (
        "recipe_costs_current", "before a cost change",
        lambda store, ctx, w: raw(store, "UPDATE recipe_costs SET computed_at = computed_at - INTERVAL '1 day' "
                                         "WHERE tenant_id = %s", (ctx.tenant_id,))),
    "ingredient row removed": (
        "events_point_at_rows", "missing ingredient",
        lambda store, ctx, w: raw(store, "DELETE FROM ingredients WHERE tenant_id = %s", (ctx.tenant_id,))),
    "recipe row removed": (
        "events_point_at_rows", "missing recipe",
        lambda store, ctx, w: raw(store, "DELETE FROM recipes WHERE tenant_id = %s", (ctx.tenant_id,))),
    "import batch row removed": (
        "events_point_at_rows", "missing import_batch",
        lambda store, ctx, w: raw(store, "DELETE FROM import_batches WHERE tenant_id = %s", (ctx.tenant_id,))),
}


@pytest.mark.parametrize("case", list(BREAKS))
def test_breaking_an_invariant_fails_exactly_its_check(store, ctx, world, case):
    check, words, breaks = BREAKS[case]
    breaks(store, ctx, world)
    broken = failing(store, ctx)
    assert list(broken) == [check]
    assert words in broken[check] and broken[check].startswith("1 problem(s)")


def test_the_detail_names_the_offending_rows(store, ctx, world):
    _delete_events(store, ctx, "event_type = 'ingredient.cost.updated'")
    detail = failing(store, ctx)["cost_rows_have_events"]
    assert detail.startswith("2 problem(s)")
    assert f"cost {world['manual']} " in detail and f"cost {world['imported']} " in detail


def test_soft_deleted_rows_still_count_as_existing(store, ctx, world):
    delete_ingredient(store, ctx, "Flour")
    raw(store, "UPDATE recipes SET deleted_at = current_timestamp WHERE tenant_id = %s", (ctx.tenant_id,))
    assert failing(store, ctx) == {}


def test_a_cost_row_matched_by_its_cost_id_passes(store, ctx, world):
    cost = add_cost(store, ctx, world["flour"])  # manual, no key: only its cost_id can name it
    assert list(failing(store, ctx)) == ["cost_rows_have_events", "recipe_costs_current"]
    emit(store, ctx, "ingredient.cost.updated", "ingredient", world["flour"], {"cost_id": cost})
    raw(store, "UPDATE recipe_costs SET computed_at = current_timestamp WHERE tenant_id = %s", (ctx.tenant_id,))
    assert failing(store, ctx) == {}


def test_costs_not_yet_in_effect_do_not_make_recipes_stale(store, ctx, world):
    future = datetime.now(timezone.utc) + timedelta(days=3)
    add_cost(store, ctx, world["flour"], effective_at=future, idempotency_key="cost-future")
    emit(store, ctx, "ingredient.cost.updated", "ingredient", world["flour"],
         cost_payload(world["flour"], source="manual"), idempotency_key="cost-future")
    assert failing(store, ctx) == {}


def test_a_cost_dated_ahead_makes_recipes_stale_once_its_date_has_passed(store, ctx, world):
    """Written yesterday for a minute ago: the recipe costed five minutes ago (after the row was
    written, before it took effect) has missed it; recomputed now, it has not."""
    now = datetime.now(timezone.utc)
    add_cost(store, ctx, world["flour"], effective_at=now - timedelta(minutes=1),
             idempotency_key="cost-dated", created_at=now - timedelta(days=1))
    emit(store, ctx, "ingredient.cost.updated", "ingredient", world["flour"],
         cost_payload(world["flour"], source="manual"), idempotency_key="cost-dated")
    raw(store, "UPDATE recipe_costs SET computed_at = %s WHERE tenant_id = %s",
        (now - timedelta(minutes=5), ctx.tenant_id))
    assert list(failing(store, ctx)) == ["recipe_costs_current"]
    raw(store, "UPDATE recipe_costs SET computed_at = current_timestamp WHERE tenant_id = %s",
        (ctx.tenant_id,))
    assert failing(store, ctx) == {}


def test_one_tenants_breakage_is_not_anothers(store, ctx, other_ctx, world):
    emit(store, other_ctx, "ingredient.deleted", "ingredient", 987654, {"name": "ghost"})
    assert list(failing(store, other_ctx)) == ["events_point_at_rows"]
    assert failing(store, ctx) == {}


def test_a_backdated_cost_that_is_not_current_leaves_recipes_fresh(store, ctx, world):
    add_cost(store, ctx, world["flour"], effective_at=PAST - timedelta(days=365), idempotency_key="cost-old")
    emit(store, ctx, "ingredient.cost.updated", "ingredient", world["flour"],
         cost_payload(world["flour"], source="manual"), idempotency_key="cost-old")
    assert failing(store, ctx) == {}
    add_cost(store, ctx, world["flour"], effective_at=PAST + timedelta(days=1), idempotency_key="cost-new")
    emit(store, ctx, "ingredient.cost.updated", "ingredient", world["flour"],
         cost_payload(world["flour"], source="manual"), idempotency_key="cost-new")
    assert list(failing(store, ctx)) == ["recipe_costs_current"]  # a new current cost, not recomputed


def test_the_services_keep_every_invariant(store, ctx):
    """The cost, import and recipe services, as written, satisfy every check."""
    from mo.services.costs import update_cost
    from mo.services.imports import import_price_list
    from mo.services.recipes import save_recipe

    add_ingredient(store, ctx, "Flour", unit="g")
    update_cost(store, ctx, "Flour", "2.00", per="1 kg", idempotency_key="c1")
    save_recipe(store, ctx, "Bread", yield_qty=1, yield_unit="each",
                lines=[{"ingredient": "Flour", "qty": 500, "unit": "g"}])
    import_price_list(store, ctx, [{"item": "Flour", "sku": "F1", "price": "3.00", "pack": "1 kg"},
                                   {"item": "Sugar", "sku": "S1", "price": "1.00", "pack": "1 kg"}],
                      idempotency_key="import-1", supplier="Mill")
    update_cost(store, ctx, "Flour", "9.00", per="1 kg", idempotency_key="c2", effective_at="2020-01-01")
    # Re-listings at the same price: cost rows with no event and no recompute.
    import_price_list(store, ctx, [{"item": "Flour", "sku": "F1", "price": "3.00", "pack": "1 kg"},
                                   {"item": "Sugar", "sku": "S1", "price": "1.10", "pack": "1 kg"}],
                      idempotency_key="import-2", supplier="Mill")
    update_cost(store, ctx, "Flour", "3.00", per="1 kg", idempotency_key="c3", supplier="Mill")
    assert failing(store, ctx) == {}
    raw(store, "DELETE FROM event_log WHERE tenant_id = %s AND event_type = 'import.completed'", (ctx.tenant_id,))
    assert list(failing(store, ctx)) == ["completed_imports_have_one_event"]


def test_an_event_naming_a_row_by_anything_but_its_id_is_reported(store, ctx, world):
    emit(store, ctx, "ingredient.deleted", "ingredient", f"{world['flour']} ", {"name": "Flour"})
    emit(store, ctx, "recipe.saved", "recipe", "bread", {"name": "Bread"})
    detail = failing(store, ctx)["events_point_at_rows"]
    assert detail.startswith("2 problem(s)")
    assert f"missing ingredient {world['flour']} " in detail and "missing recipe bread" in detail


@pytest.mark.parametrize("backend", ["postgres"])  # PostgreSQL plans: DuckDB has no subplans
@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
def test_no_check_is_planned_row_by_row_on_postgres(store, ctx, world, check):
    """Issue #14, finding 5: each check is a few scans and hash (or merge) joins on PostgreSQL,
    planned as sanity() plans it: no subplan run per row, no nested loop."""
    from mo.store.sqlfiles import compiled

    with psycopg.connect(store.url) as conn:  # one transaction, rolled back
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (ctx.tenant_id,))
        conn.execute(compiled("postgres", "store.plan_for_whole_tables", "pyformat").text)
        query = compiled("postgres", check.query, "pyformat")
        plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + query.text,
                                                        {"tenant_id": ctx.tenant_id}))
    assert "SubPlan" not in plan and "Nested Loop" not in plan, plan
