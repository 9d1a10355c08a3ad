"""Recompute's work tables: a transaction that recomputes twice gets both right (the second
starts from empty tables), and on PostgreSQL they stay with the pooled connection instead of
being created and dropped in every transaction, and the walk up the recipe graph looks rows up
by index. Both backends where it applies."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from mo.domain.context import TenantContext
from mo.services import recipes as rec
from mo.services.costs import update_cost
from mo.services.ingredients import add_ingredient
from mo.services.recompute import MAX_DEPTH, WORK_TABLES, recompute_for
from mo.store import Store
from mo.store.base import Tx
from mo.store.postgres_store import PostgresStore, _open_work_block
from mo.store.sqlfiles import compiled


def _book(store: Store, ctx: TenantContext) -> dict[str, int]:
    """Flour → Dough → Pizza; Lettuce → Salad. Returns ingredient ids by name."""
    ids = {}
    for name, unit in (("Flour", "g"), ("Lettuce", "each")):
        ids[name] = int(add_ingredient(store, ctx, name, unit=unit).id)
    update_cost(store, ctx, "Flour", "2", per="1 kg", idempotency_key=uuid.uuid4().hex)
    update_cost(store, ctx, "Lettuce", "1", per="each", idempotency_key=uuid.uuid4().hex)
    rec.save_recipe(store, ctx, "Dough", yield_qty=1, yield_unit="kg",
                    lines=[{"ingredient": "flour", "qty": 1, "unit": "kg"}])
    rec.save_recipe(store, ctx, "Pizza", yield_qty=4, yield_unit="slice",
                    lines=[{"recipe": "dough", "qty": 500, "unit": "g"}])
    rec.save_recipe(store, ctx, "Salad", yield_qty=1, yield_unit="portion",
                    lines=[{"ingredient": "lettuce", "qty": 2, "unit": "each"}])
    return ids


def _totals(store: Store, ctx: TenantContext) -> dict[str, Decimal]:
    frame = rec.recipes_frame(store, ctx)
    return {r["name"]: Decimal(str(r["total_cost"])) for r in frame.to_dict("records")}


def test_two_recomputes_in_one_transaction_each_cost_their_own_scope(
    store: Store, ctx: TenantContext
) -> None:
    ids = _book(store, ctx)
    before = _totals(store, ctx)

    def work(tx: Tx) -> tuple[int, int]:
        first = recompute_for(tx, ctx, ingredient_ids=[ids["Flour"]], cause="test")
        second = recompute_for(tx, ctx, ingredient_ids=[ids["Lettuce"]], cause="test")
        return first.recomputed, second.recomputed

    # Leftovers of the first (Dough, Pizza) in the second's work tables would widen its scope.
    assert store.atomic(work, tenant_id=ctx.tenant_id) == (2, 1)
    assert _totals(store, ctx) == before


# DuckDB's work tables live in the transaction's own cursor: this is PostgreSQL's alone.
@pytest.mark.parametrize("backend", ["postgres"])
def test_postgres_work_tables_stay_with_the_connection(
    store: Store, ctx: TenantContext
) -> None:
    assert isinstance(store, PostgresStore)
    _book(store, ctx)

    def work_table() -> object:
        with store.session() as conn:  # the pool's one idle connection, as the updates used
            return conn.execute("SELECT to_regclass('pg_temp.rc_scope')::oid AS oid").fetchone()

    update_cost(store, ctx, "Flour", "3", per="1 kg", idempotency_key=uuid.uuid4().hex)
    kept = work_table()
    update_cost(store, ctx, "Flour", "4", per="1 kg", idempotency_key=uuid.uuid4().hex)
    assert kept is not None and kept["oid"] is not None  # not dropped at commit
    assert work_table() == kept  # the same table again: no catalog writes per update
    assert _totals(store, ctx)["Pizza"] == Decimal("2")  # 500 g of dough at 4 per kg


@pytest.mark.parametrize("backend", ["postgres"])
def test_postgres_walk_looks_up_parents_by_index(store: Store, ctx: TenantContext) -> None:
    """The walk up from an ingredient probes the sub-recipe index with the ids found so far,
    and reads the scope's recipes and stored costs by key: no hash of the tenant's tables, which
    cost 200 ms of a 20k-recipe cost update (their statistics may be missing or stale)."""
    assert isinstance(store, PostgresStore)
    ids = _book(store, ctx)
    with store.session() as conn, conn.transaction(force_rollback=True):
        conn.execute(
            "SELECT set_config('app.tenant_id', %s, true), set_config('role', 'mo_app', true)",
            (ctx.tenant_id,),
        )
        conn.execute(_open_work_block(WORK_TABLES))
        conn.execute("INSERT INTO rc_seed_ing (id) VALUES (%s)", (ids["Flour"],))
        walk = compiled("postgres", "recompute.scope_walk", "pyformat").text
        plan = "\n".join(row["QUERY PLAN"] for row in conn.execute(
            "EXPLAIN " + walk, {"tenant_id": ctx.tenant_id, "max_depth": MAX_DEPTH}))
    # Each step probes the index with the ids found so far; it does not hash all the edges.
    assert "(sub_recipe_id = up.id)" in plan and "Hash Cond: (up.id" not in plan, plan
    assert "(recipe_id = w.id)" in plan, plan  # the stored cost, by key


@pytest.mark.parametrize("backend", ["postgres"])
def test_postgres_chain_levels_steps_by_index(store: Store, ctx: TenantContext) -> None:
    """The save-time depth check walks both ways over one `steps` set; each direction must
    still probe an index with the ids found so far, not hash every line of the tenant."""
    assert isinstance(store, PostgresStore)
    _book(store, ctx)
    with store.session() as conn, conn.transaction(force_rollback=True):
        conn.execute(
            "SELECT set_config('app.tenant_id', %s, true), set_config('role', 'mo_app', true)",
            (ctx.tenant_id,),
        )
        conn.execute("SET LOCAL enable_hashjoin = off")  # as a big tenant's statistics would
        query = compiled("postgres", "recipes.chain_levels", "pyformat").text
        plan = "\n".join(row["QUERY PLAN"] for row in conn.execute(
            "EXPLAIN " + query, {"tenant_id": ctx.tenant_id, "ids": [1], "max_depth": MAX_DEPTH}))
    assert "(sub_recipe_id = w.id)" in plan and "(recipe_id = w.id)" in plan, plan
