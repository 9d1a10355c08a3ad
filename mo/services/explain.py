"""Why a recipe's cost moved between two instants: its leaf ingredients, path by path, each
with its cost at both ends and what that move contributed. The walk and the costs at both
instants are one set-based query (sql/queries/history.sql, explain_*); the products and the one
sum are exact Decimal arithmetic here, on the rows that query returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

import pandas as pd

from mo.domain.context import TenantContext
from mo.domain.instants import parse_instant
from mo.domain.names import name_key
from mo.domain.results import money
from mo.errors import validation_error
from mo.services.costs import typed_frame
from mo.services.recompute import MAX_DEPTH
from mo.services.suggestions import name_not_found
from mo.store.base import Row, Store, Tx

EXPLAIN_COLUMNS = [
    "ingredient", "path", "qty", "unit", "old_unit_cost", "new_unit_cost", "contribution",
    "missing_cost",
]
RECIPE_CHANGED = "(recipe changed)"
_AMOUNTS = ("qty", "old_unit_cost", "new_unit_cost", "contribution")
# Paths grow exponentially with depth (a recipe using its sub twice, whose sub does the same...);
# past this many leaf paths the answer is refused rather than listed.
MAX_EXPLAIN_PATHS = 100_000
# Two DECIMAL(38,12) factors have at most 76 digits: enough precision that no product or sum
# of them rounds.
_EXACT_DIGITS = 200


@dataclass(frozen=True)
class StoredEnds:
    """The recipe's stored totals at both instants and the edits of its structure between."""

    old_total: Decimal | None
    old_complete: bool | None
    new_total: Decimal | None
    new_complete: bool | None
    edits: int


def explain_change(
    store: Store, ctx: TenantContext, recipe: str, *, since: object, until: object = None
) -> pd.DataFrame:
    """Why `recipe`'s total cost moved from `since` to `until` (None: the transaction's now).

    One row per path from the recipe, through its current lines and usable sub-recipe lines,
    to a leaf ingredient line (a diamond gives one row per path), in line order (EXPLAIN_COLUMNS):

    - qty, unit: the ingredient, in its base unit and as bought, that the path puts in one
      whole yield of the recipe: mult × line qty (density-converted) × 100 ÷ yield_pct ×
      100 ÷ (100 − waste_pct), where mult is the product along the path of line qty ÷ sub
      yield; every step is one exact_div (truncating at 12 places). Waste and yield are inside
      qty, so qty × unit cost is that leaf's cost in the recipe, linear in the unit cost.
    - old_unit_cost, new_unit_cost: the ingredient's cost current at since and at until
      (latest effective_at ≤ the instant, ties by highest id, as the costing picks it).
    - contribution = qty × (new_unit_cost − old_unit_cost), exact (no rounding: up to 24 places).
    - missing_cost: true when a cost is absent at either end (none yet, or the ingredient is
      deleted) or the line's unit does not convert; contribution is then None, never zero.

    Exactness: let total(t) = Σ over the rows of qty × unit cost at t (the recipe recomputed
    from those costs over the current structure). When no row is flagged, Σ contribution =
    total(until) − total(since) exactly (Decimal equality). total(t) can differ from the
    costing's stored total by the costing's own roundings (it rounds each recipe once); that
    difference is not reported unless the structure changed:

    When the recipe, or a recipe its current structure reaches, was saved, deleted, restored or
    re-imported in (since, until], one more row, ingredient RECIPE_CHANGED (path: the recipe),
    carries stored(until) − stored(since) − Σ contribution, where stored(t) is the total the
    costing stored by t (the latest recipe.recomputed event at or before t); the column then sums
    exactly to the stored change. Its contribution is None (and missing_cost true) when a stored
    total is absent or incomplete at either end, or any row is flagged.

    Raises validation_error for a bound that is not an instant or since ≥ until, and for a
    structure of more than MAX_EXPLAIN_PATHS paths; not_found (with suggestions) for an unknown
    recipe.
    """
    start = parse_instant(since, field="since")
    end = None if until is None else parse_instant(until, field="until")
    key = name_key(recipe, field="recipe")
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        end = end if end is not None else parse_instant(tx.scalar("costs.now"), field="until")
        if start >= end:
            raise validation_error("since must be before until: the window is (since, until]",
                                   since=start.isoformat(), until=end.isoformat())
        row = tx.one("recipes.by_key", {"tenant_id": ctx.tenant_id, "name_key": key})
        if row is None:
            raise name_not_found(tx, ctx, "recipe", recipe)
        params = {"tenant_id": ctx.tenant_id, "recipe_id": row["id"], "since": start,
                  "until": end, "max_depth": MAX_DEPTH}
        _refuse_too_many_paths(tx, params)
        paths = tx.all("history.explain_paths", params)
        stored = _stored_ends(tx.one("history.explain_stored", params))
    return _explained(paths, stored, recipe_name=str(row["name"]))


def _refuse_too_many_paths(tx: Tx, params: dict[str, object]) -> None:
    count = int(tx.scalar("history.explain_path_count", {**params, "cap": MAX_EXPLAIN_PATHS + 1}))
    if count > MAX_EXPLAIN_PATHS:
        raise validation_error("the recipe has too many ingredient paths to list one by one",
                               field="recipe", paths_over=MAX_EXPLAIN_PATHS)


def _stored_ends(row: Row | None) -> StoredEnds:
    row = row or {}
    return StoredEnds(
        old_total=_decimal(row.get("old_total")),
        old_complete=row.get("old_complete"),
        new_total=_decimal(row.get("new_total")),
        new_complete=row.get("new_complete"),
        edits=int(row.get("edits") or 0),
    )


def _explained(paths: Sequence[Row], stored: StoredEnds, *, recipe_name: str) -> pd.DataFrame:
    with localcontext() as exact:
        exact.prec = _EXACT_DIGITS
        rows = [_leaf_row(p) for p in paths]
        if stored.edits:
            rows.append(_changed_row(rows, stored, recipe_name=recipe_name))
        # Trailing zeros dropped as every read model does; inside the exact context, because
        # normalize() rounds to the context's precision.
        rows = [{k: money(v) if isinstance(v, Decimal) else v for k, v in row.items()}
                for row in rows]
    frame = typed_frame(rows, EXPLAIN_COLUMNS, decimals=_AMOUNTS)
    frame["missing_cost"] = frame["missing_cost"].astype("boolean")
    return frame


def _leaf_row(path: Row) -> dict[str, object]:
    qty, old, new = (_decimal(path[k]) for k in ("qty", "old_unit_cost", "new_unit_cost"))
    known = qty is not None and old is not None and new is not None
    return {
        "ingredient": path["ingredient"], "path": path["path"], "qty": qty, "unit": path["unit"],
        "old_unit_cost": old, "new_unit_cost": new,
        "contribution": qty * (new - old) if known else None,  # type: ignore[operator]
        "missing_cost": not known,
    }


def _changed_row(
    rows: Sequence[dict[str, object]], stored: StoredEnds, *, recipe_name: str
) -> dict[str, object]:
    ends_known = (stored.old_total is not None and stored.new_total is not None
                  and bool(stored.old_complete) and bool(stored.new_complete))
    rest = None
    if ends_known and not any(r["missing_cost"] for r in rows):
        explained = sum((r["contribution"] for r in rows), Decimal(0))  # type: ignore[misc]
        rest = stored.new_total - stored.old_total - explained  # type: ignore[operator]
    return {
        "ingredient": RECIPE_CHANGED, "path": recipe_name, "qty": None, "unit": None,
        "old_unit_cost": None, "new_unit_cost": None, "contribution": rest,
        "missing_cost": rest is None,
    }


def _decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))

