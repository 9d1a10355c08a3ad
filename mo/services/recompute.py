"""Recipe costs, recomputed set-based over the recipe graph, to any depth.

One recompute costs a *scope*: the given recipes (or the recipes using the given ingredients)
plus every recipe above them. Each scoped recipe gets a level that puts it above all its
in-scope subs: usually from the one walk up from the seeds that finds the scope (its longest
walk, ranked densely), otherwise (a full recompute, or a walk that reaches MAX_DEPTH) from its
longest chain of in-scope sub-recipes. The scope's lines are read once, with what their
sub-recipes need; then one statement rates each distinct ingredient use, lists what each recipe
misses and costs the levels lowest first (ingredient lines as rate × qty, sub-recipe lines from
the levels below or, for subs outside the scope, from their stored recipe_costs). No per-recipe
loop: a fixed number of statements whatever the size (seven for a cost update, from open_work to
write_costs: each DuckDB statement costs a millisecond or more of parsing, planning and
scheduling however small the scope, so steps are merged where the SQL allows).

The SQL, and why it avoids division, lives in sql/queries/recompute.sql (what both engines run),
sql/queries/duckdb/recompute.sql and sql/queries/postgres/recompute.sql (exact_div: V006).
Costs carry 12 decimal places; a line's rate is rounded there too, so a line is exact to about
qty × 10^-12 (well under a cent for any real kitchen quantity).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

import pandas as pd

from mo.domain.context import TenantContext
from mo.domain.names import name_key
from mo.domain.results import RecomputeResult
from mo.errors import ErrorCode, MOError, validation_error
from mo.services.suggestions import name_not_found
from mo.store.base import Row, Store, Tx

# Deeper nesting than this is refused as a cycle (or absurd). It bounds the level walk, which
# would otherwise never end on a cycle that slipped past the save-time check (a race).
MAX_DEPTH = 64
_FEW_IDS = 16
# The work tables' DDL: the shared declaration, then a dialect's own (PostgreSQL's step tables).
WORK_TABLES = ("recompute.work_tables", "recompute.step_tables")


def recompute_for(
    tx: Tx,
    ctx: TenantContext,
    *,
    ingredient_ids: Sequence[int] | None = None,
    recipe_ids: Sequence[int] | None = None,
    cause: str,
) -> RecomputeResult:
    """Recompute, inside the caller's transaction, the recipes that depend on the given ones.

    Scope: the recipes in recipe_ids, the recipes using an ingredient in ingredient_ids, and all
    their ancestors; both None means every active recipe of the tenant. Upserts recipe_costs and
    writes a recipe.recomputed event (payload recipe, old_total, new_total, complete, cause) for
    each recipe whose total or completeness changed. Returns (recomputed=scope size, changed).

    Raises validation_error for an empty cause and cycle_detected (details {"path": [names…]})
    if the stored graph holds a cycle. An amount too large to store (DECIMAL(38,12)) raises
    nothing: its recipe is written incomplete, missing "cost too large" (recompute.sql).
    """
    _check_cause(cause)
    open_work(tx)
    if ingredient_ids is None and recipe_ids is None:
        tx.run("recompute.scope_all", {"tenant_id": ctx.tenant_id})
        return compute_scope(tx, ctx, cause=cause)
    _load_ids(tx, "rc_seed", recipe_ids or ())
    _load_ids(tx, "rc_seed_ing", ingredient_ids or ())
    return recompute_seeded(tx, ctx, cause=cause)


def open_work(tx: Tx) -> None:
    """Fresh, empty work tables (one statement); a caller may then stage recipe ids in rc_seed
    itself (a bulk import does, with INSERT…SELECT) and call recompute_seeded. They are
    temporary and their rows vanish with the transaction, so nothing needs dropping afterwards
    (PostgreSQL keeps the empty tables for the connection's next recompute)."""
    tx.open_work_tables(WORK_TABLES)


def recompute_seeded(tx: Tx, ctx: TenantContext, *, cause: str) -> RecomputeResult:
    """Recompute the recipes staged in rc_seed and all their ancestors (see recompute_for)."""
    _check_cause(cause)
    scoped = _scope_seeded(tx, ctx)
    if not scoped:
        return RecomputeResult(recomputed=0, changed=0)
    return _cost_scope(tx, ctx, scoped, cause=cause)


def _scope_seeded(tx: Tx, ctx: TenantContext) -> int:
    """Fill rc_scope from the seeds: the number of recipes in it (0: nothing to cost)."""
    params = {"tenant_id": ctx.tenant_id, "max_depth": MAX_DEPTH}
    # One statement finds the scope, its levels and what the writes need of it. It keeps nothing
    # when it finds nothing active or walks too deep (a cycle?): the exact path then tells these
    # apart (a second look that a cost update rarely needs: its ingredient is usually in use).
    scoped = tx.run("recompute.scope_walk", params)
    if scoped > 0:
        return scoped
    if tx.run("recompute.scope_ancestors", {"tenant_id": ctx.tenant_id}) == 0:
        return 0
    return _level_scope(tx, ctx)


def compute_only(
    tx: Tx,
    ctx: TenantContext,
    *,
    ingredient_ids: Sequence[int] | None = None,
    recipe_ids: Sequence[int] | None = None,
    as_of: datetime | None = None,
    overrides: Mapping[int, Decimal] | None = None,
) -> list[Row]:
    """Cost a recompute's scope (as recompute_for chooses it) into rc_work and return its rows
    (recipe_id, name, total, unit_cost, food_cost_pct, names: the missing items or None),
    writing nothing else: no recipe_costs, no events. Costs are the ones in effect at `as_of`
    (None: the transaction's clock), except that `overrides` (ingredient id → unit cost)
    replaces an ingredient's chosen unit cost before its yield, density and waste apply."""
    open_work(tx)
    for ingredient_id, unit_cost in sorted((overrides or {}).items()):
        tx.run("recompute.add_rc_cost_override",
               {"ingredient_id": int(ingredient_id), "unit_cost": Decimal(unit_cost)})
    if ingredient_ids is None and recipe_ids is None:
        tx.run("recompute.scope_all", {"tenant_id": ctx.tenant_id})
        scoped = _level_scope(tx, ctx)
    else:
        _load_ids(tx, "rc_seed", recipe_ids or ())
        _load_ids(tx, "rc_seed_ing", ingredient_ids or ())
        scoped = _scope_seeded(tx, ctx)
    if scoped:
        _compute(tx, ctx, as_of=as_of)
    return tx.all("recompute.work_rows")


def _check_cause(cause: object) -> None:
    if not isinstance(cause, str) or not cause.strip():
        raise validation_error("a recompute needs a cause", field="cause")


def compute_scope(tx: Tx, ctx: TenantContext, *, cause: str) -> RecomputeResult:
    """Cost the recipes staged in rc_ids; write their costs and recipe.recomputed events."""
    scoped = _level_scope(tx, ctx)
    if not scoped:  # every statement below would find nothing to do
        return RecomputeResult(recomputed=0, changed=0)
    return _cost_scope(tx, ctx, scoped, cause=cause)


def _level_scope(tx: Tx, ctx: TenantContext) -> int:
    """Fill rc_scope, with levels, from the recipes in rc_ids; the number of recipes in it.
    Raises cycle_detected when the levels reach MAX_DEPTH."""
    params = {"tenant_id": ctx.tenant_id}
    tx.run("recompute.levels", {**params, "max_depth": MAX_DEPTH})
    shape = tx.one("recompute.max_level") or {"recipes": 0, "max_level": -1}
    if int(shape["max_level"]) >= MAX_DEPTH:
        raise _cycle_error(tx.all("recompute.scope_edges", params))
    return int(shape["recipes"])


def _compute(tx: Tx, ctx: TenantContext, *, as_of: datetime | None) -> None:
    """Cost the recipes in rc_scope into rc_work, at the costs in effect at as_of (None: the
    transaction's clock) or rc_cost_override's."""
    params = {"tenant_id": ctx.tenant_id, "as_of": as_of}
    tx.run("recompute.scope_lines", params)  # the lines, and what their sub-recipes need
    tx.run("recompute.compute", params)  # rates, missing items and totals, into rc_work


def _cost_scope(tx: Tx, ctx: TenantContext, scoped: int, *, cause: str) -> RecomputeResult:
    """Cost the recipes in rc_scope (with their levels); write costs and events."""
    params = {"tenant_id": ctx.tenant_id}
    _compute(tx, ctx, as_of=None)
    changed = tx.run("recompute.emit_changes", {**params, "cause": cause})
    tx.run("recompute.write_costs", params)
    return RecomputeResult(recomputed=scoped, changed=max(changed, 0))


def recompute(
    store: Store, ctx: TenantContext, *, recipes: list[str] | None = None, progress: bool = False
) -> RecomputeResult:
    """Recompute the named recipes and everything using them (None: every recipe), in one
    transaction; progress=True draws a tqdm bar (one set-based step: it shows the time taken).
    Raises not_found for a name that is not an active recipe."""
    from tqdm.auto import tqdm

    with tqdm(total=1, desc="recompute", unit="step", disable=not progress) as bar:
        done = _recompute(store, ctx, recipes)
        bar.set_postfix_str(f"{done.recomputed} recipes, {done.changed} changed", refresh=False)
        bar.update()
    return done


def _recompute(store: Store, ctx: TenantContext, recipes: list[str] | None) -> RecomputeResult:
    def work(tx: Tx) -> RecomputeResult:
        if recipes is None:
            return recompute_for(tx, ctx, cause="recompute")
        ids = [_active_recipe_id(tx, ctx, name) for name in recipes]
        if not ids:
            return RecomputeResult(recomputed=0, changed=0)
        return recompute_for(tx, ctx, recipe_ids=ids, cause="recompute")

    return store.atomic(work, tenant_id=ctx.tenant_id)


def _active_recipe_id(tx: Tx, ctx: TenantContext, name: str) -> int:
    row = tx.one(
        "recipes.by_key", {"tenant_id": ctx.tenant_id, "name_key": name_key(name, field="recipe")}
    )
    if row is None:
        raise name_not_found(tx, ctx, "recipe", name)
    return int(row["id"])


def _load_ids(tx: Tx, table: str, ids: Sequence[int]) -> None:
    unique = sorted({int(i) for i in ids})
    if len(unique) <= _FEW_IDS:  # registering a DataFrame costs more than a few tiny inserts
        for one in unique:
            tx.run(f"recompute.add_{table}", {"id": one})
    else:
        tx.load(table, pd.DataFrame({"id": pd.Series(unique, dtype="int64")}))


def _cycle_error(edges: list[Row]) -> MOError:
    path = find_cycle(edges)
    if path is None:
        return validation_error(f"recipes nest deeper than {MAX_DEPTH} levels", max_depth=MAX_DEPTH)
    return MOError(
        ErrorCode.CYCLE_DETECTED,
        "recipes use each other in a cycle: " + " → ".join(path),
        {"path": path},
    )


def find_cycle(edges: list[Row]) -> list[str] | None:
    """Names along one cycle of the (parent → child) edges, first name repeated at the end."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for edge in edges:
        children.setdefault(int(edge["parent"]), []).append(int(edge["child"]))
        names[int(edge["parent"])], names[int(edge["child"])] = (
            edge["parent_name"],
            edge["child_name"],
        )
    state: dict[int, int] = {}  # 1: on the current path, 2: finished
    for start in sorted(children):
        cycle = _dfs_cycle(start, children, state)
        if cycle is not None:
            return [names[node] for node in cycle]
    return None


def _dfs_cycle(
    start: int, children: dict[int, list[int]], state: dict[int, int]
) -> list[int] | None:
    """Iterative DFS (deep graphs must not hit Python's recursion limit)."""
    if state.get(start):
        return None
    path, stack = [start], [iter(children.get(start, ()))]
    state[start] = 1
    while stack:
        child = next(stack[-1], None)
        if child is None:
            state[path.pop()] = 2
            stack.pop()
        elif state.get(child) == 1:
            return path[path.index(child) :] + [child]
        elif not state.get(child):
            state[child] = 1
            path.append(child)
            stack.append(iter(children.get(child, ())))
    return None
