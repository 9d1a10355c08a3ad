"""How costs moved over time: a recipe's stored cost after each recompute, and the moves of
ingredients' chosen costs in a window. One set-based query each (sql/queries/history.sql)."""

from __future__ import annotations

import pandas as pd

from mo.domain.checks import check_window
from mo.domain.context import TenantContext
from mo.domain.names import name_key
from mo.services.costs import typed_frame
from mo.services.suggestions import name_not_found
from mo.store.base import Store

RECIPE_HISTORY_COLUMNS = ["at", "total_cost", "unit_cost", "food_cost_pct", "complete", "cause"]
PRICE_CHANGE_COLUMNS = [
    "ingredient", "supplier", "old_unit_cost", "new_unit_cost", "change_pct",
    "effective_at", "source", "batch_id",
]


def recipe_history(store: Store, ctx: TenantContext, name: str) -> pd.DataFrame:
    """The recipe's stored cost after each recipe.recomputed event, oldest first
    (RECIPE_HISTORY_COLUMNS): money as Decimal, `at` datetime64[us, UTC], `cause` the event
    type that triggered the recompute. Raises not_found (with suggestions) for an unknown recipe.
    """
    key = name_key(name, field="recipe")
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        row = tx.one("recipes.by_key", {"tenant_id": ctx.tenant_id, "name_key": key})
        if row is None:
            raise name_not_found(tx, ctx, "recipe", name)
        rows = tx.all("history.recipe_history", {"tenant_id": ctx.tenant_id, "recipe_id": row["id"]})
    frame = typed_frame(rows, RECIPE_HISTORY_COLUMNS,
                        decimals=("total_cost", "unit_cost", "food_cost_pct"), times=("at",))
    frame["complete"] = frame["complete"].astype("boolean")
    return frame


def price_changes(
    store: Store, ctx: TenantContext, *, since: object, until: object = None
) -> pd.DataFrame:
    """One row per move of an active ingredient's chosen cost (the offer its cost policy picks,
    cost_offers) at an instant in [since, until) (until None: open), PRICE_CHANGE_COLUMNS:
    the supplier, source and batch of the offer chosen then, biggest absolute change_pct first
    (first costs, which have no old cost, last). A supplier's offer that is not chosen and a
    re-listing at the same unit cost are no row. change_pct is (new − old) × 100 / old, exact
    to 12 places (sql/queries/history.sql says how the instants are found).
    Raises validation_error for a bound that is not an instant or an empty window.
    """
    window = check_window(since, until)
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        rows = tx.all("history.price_changes",
                      {"tenant_id": ctx.tenant_id, "since": window.since, "until": window.until})
    return typed_frame(rows, PRICE_CHANGE_COLUMNS,
                       decimals=("old_unit_cost", "new_unit_cost", "change_pct"),
                       times=("effective_at",), ints=("batch_id",))
