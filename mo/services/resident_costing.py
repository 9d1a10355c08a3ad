"""Recompute from the store's resident recipe graph: the scope and the costing in Python.

Why: on the set-based path a cost update at 100k recipes spends about 45 ms of 75 in three
statements (scope_walk, scope_lines, compute) that read recipe_lines and run a dozen
operators, however few recipes it re-costs. With the graph resident (mo/store/resident_graph.py)
the walk is a few numpy lookups and the costing of ~1,000 recipes a few passes over Python ints.
One read remains (the current costs of the scope's ingredients, and the stored figures of the
scope and of its outside subs). emit_changes and write_costs then write as on every path, from
rc_scope and rc_work staged as Arrow views: loading them into tables cost 4 ms more.

Exactness: amounts are ints at the SQL's scale (value × 10^12) and follow recompute.sql step by
step: line costs and their sums exact at 24 places, one rounding per total (half away from
zero, as DuckDB's and PostgreSQL's CASTs do), exact_div truncating. Where the SQL would raise
(an amount past DECIMAL(38), a division by zero) this path steps aside before anything is
written, and the SQL path runs and raises its own error. tests/test_resident_costing.py
compares the two paths on random recipe books.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from itertools import accumulate
from operator import mul

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mo.context import TenantContext
from mo.results import RecomputeResult
from mo.store.base import Tx
from mo.store.resident_graph import (
    IngredientLines, RecipeGraph, Scope, ScopeLines, SubLines, TooWide, rows_of, scaled_ints,
    scaled_values,
)

ONE = 10**12  # 1 at DECIMAL(38, 12)
HUNDRED = 100 * ONE
_DECIMAL38 = 10**38  # a DECIMAL(38, s) holds |value × 10^s| below this


class Unsure(Exception):
    """The SQL would raise here (overflow, division by zero): let it, on the SQL path."""


def recompute_resident(
    tx: Tx, ctx: TenantContext, graph: RecipeGraph, *, recipe_ids: Sequence[int],
    ingredient_ids: Sequence[int], max_depth: int, cause: str,
) -> RecomputeResult | None:
    """Recompute the seeds' scope from the resident graph, inside the caller's transaction;
    None, with nothing written, when the SQL path must decide: the scope is
    empty or too deep, or an amount is beyond what this path mirrors."""
    scope = graph.walk_up(recipe_ids=recipe_ids, ingredient_ids=ingredient_ids, max_depth=max_depth)
    if not scope.size:
        return None
    lines = graph.scope_lines(scope)
    params = {"tenant_id": ctx.tenant_id}
    outside = [sub for sub, out in zip(lines.subs.sub_id, lines.subs.outside) if out]
    ids = _ids_frame(np.unique(lines.ingredients.ingredient_id),
                     np.unique(np.concatenate([scope.recipe_ids, np.asarray(outside, np.int64)])))
    with tx.staged({"rc_resident_ids": ids}):
        reads = tx.arrow("recompute.resident_reads", params)
    costs_now, stored = (reads.filter(pc.equal(reads["kind"], kind)) for kind in ("cost", "stored"))
    try:
        totals, missing = _cost(scope, lines, graph, costs_now, _Stored(stored))
    except (Unsure, TooWide):
        return None
    staged = {"rc_scope": _scope_rows(graph, scope, stored), "rc_work": _work_rows(totals, missing)}
    with tx.staged(staged):
        changed = tx.run("recompute.emit_changes", {**params, "cause": cause})
        tx.run("recompute.write_costs", params)
    return RecomputeResult(recomputed=scope.size, changed=max(changed, 0))


def _ids_frame(ingredient_ids: np.ndarray, recipe_ids: np.ndarray) -> pa.Table:
    """rc_resident_ids: kind 0 the ingredients to price, 1 the recipes whose stored figures to read."""
    kinds = np.repeat(np.array([0, 1], dtype=np.int8), [len(ingredient_ids), len(recipe_ids)])
    return pa.table({"kind": pa.array(kinds),
                     "id": pa.array(np.concatenate([ingredient_ids, recipe_ids]), pa.int64())})


# --- arithmetic at scale 12, as recompute.sql and exact_div (V006) do it ---------------------

def _round12(value24: int) -> int:
    """CAST(DECIMAL(38,24) AS DECIMAL(38,12)): half away from zero."""
    _check(value24)
    quotient, remainder = divmod(abs(value24), ONE)
    rounded = quotient + (1 if 2 * remainder >= ONE else 0)
    return rounded if value24 >= 0 else -rounded


def _exact_div(numerator: int, denominator: int) -> int:
    """exact_div(a, b) on scale-12 ints: a ÷ b truncated (toward zero) to 12 places. Both
    operands pass through DECIMAL(38,12) × 10^12 there, which must not overflow."""
    scaled = abs(numerator) * ONE
    if denominator == 0 or scaled >= _DECIMAL38 or abs(denominator) * ONE >= _DECIMAL38:
        raise Unsure
    quotient = scaled // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient


def _check(value: int) -> int:
    """A DECIMAL(38, s) value (scaled): beyond it DuckDB raises, so the SQL path must run."""
    if abs(value) >= _DECIMAL38:
        raise Unsure
    return value


# --- the two reads ---------------------------------------------------------------------------

class _Stored:
    """recipe_costs' figures by recipe id: total (scale 12), and missing names when incomplete."""

    def __init__(self, table: pa.Table) -> None:
        ids = table["id"].to_pylist()
        self.total = dict(zip(ids, scaled_values(table["amount"])))
        rows = zip(ids, table["complete"].to_pylist(), table["missing"].to_pylist())
        self.missing = {i: [str(n) for n in json.loads(m or "[]")] for i, c, m in rows if not c}


# --- the costing: compute's CTEs, in order ---------------------------------------------------

def _cost(scope: Scope, lines: ScopeLines, graph: RecipeGraph, costs_now: pa.Table,
          stored: _Stored) -> tuple[dict[int, int], dict[int, list[str]]]:
    lacks: dict[int, set[str]] = {}
    known = _ingredient_sums(lines.ingredients, graph, costs_now, lacks)
    subs, below = _sub_shares(lines.subs, stored, lacks)
    joined = set(lines.subs.recipe_id)
    order = scope.by_level()
    return _totals(order, known, subs, stored, joined), _transitive(order, lacks, below)


def _ingredient_sums(lines: IngredientLines, graph: RecipeGraph, costs_now: pa.Table,
                     lacks: dict[int, set[str]]) -> dict[int, int]:
    """ingsum: per recipe, the exact sum of qty × rate over its ingredient lines (scale 24).
    A line whose ingredient is gone from the table is skipped (compute's inner join); one
    without a rate lists the ingredient as missing."""
    row = graph.ingredients.rows(lines.ingredient_id)
    present = row >= 0
    recipe, row = lines.recipe_id[present], row[present]
    rates = _Rates(graph, costs_now, lines.ingredient_id[present], row)
    rate, divisor, known = rates.per_line(lines.family[present], lines.base_unit[present],
                                          lines.waste_pct[present])
    qty = lines.qty_base[present].tolist()
    for i in np.flatnonzero(divisor >= 0).tolist():
        qty[i] = _exact_div(qty[i], int(divisor[i]))
    names = graph.ingredients.names
    for i in np.flatnonzero(~known).tolist():
        lacks.setdefault(int(recipe[i]), set()).add(names[row[i]])
    products = list(map(mul, qty, np.where(known, rate, 0).tolist()))
    if products and max(map(abs, products)) >= _DECIMAL38:
        raise Unsure
    return _group_sums(recipe, products)


def _group_sums(recipe: np.ndarray, values: list[int]) -> dict[int, int]:
    """Sums of `values` per run of equal recipe ids (a recipe's lines are contiguous)."""
    if not values:
        return {}
    running = [0, *accumulate(values)]
    bounds = np.flatnonzero(np.diff(recipe)) + 1
    starts = [0, *bounds.tolist()]
    ends = [*bounds.tolist(), len(values)]
    return {int(recipe[a]): _check(running[b] - running[a]) for a, b in zip(starts, ends)}


class _Rates:
    """compute's `converted` and `rate`, per line: the ingredient's edible cost (its cost now ÷
    yield_pct/100; none when it is deleted or has no cost) in the line's unit, grossed up for
    the line's waste; a mass line of a volume ingredient keeps the density as its divisor."""

    def __init__(self, graph: RecipeGraph, costs_now: pa.Table, ingredient_id: np.ndarray,
                 row: np.ndarray) -> None:
        table = graph.ingredients
        self._row = row
        self._family, self._unit = table.family[row], table.base_unit[row]
        self._density, self._has_density = table.density[row], table.has_density[row]
        self._mass, self._volume = graph.code_of("mass"), graph.code_of("volume")
        cost_ids = np.asarray(costs_now["id"].to_numpy(zero_copy_only=False), np.int64)
        order = np.argsort(cost_ids)
        at = rows_of(cost_ids[order], ingredient_id)
        costs, has_costs = scaled_ints(costs_now["amount"])
        has = (at >= 0) & ~table.deleted[row]
        picked = order[np.maximum(at, 0)]
        has &= has_costs[picked]
        self._cost, self._has_cost = np.where(has, costs[picked], 0), has
        self._edible(table.yield_pct[row])

    def _edible(self, yield_pct: np.ndarray) -> None:
        """÷ yield_pct/100 where it is not 100, once per ingredient (exact_div truncates)."""
        done: dict[int, int] = {}
        for i in np.flatnonzero(self._has_cost & (yield_pct != HUNDRED)).tolist():
            row = int(self._row[i])
            if row not in done:
                done[row] = _as_int64(_exact_div(_check(int(self._cost[i]) * 100), int(yield_pct[i])))
            self._cost[i] = done[row]

    def per_line(self, family: np.ndarray, unit: np.ndarray, waste: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rate, divisor or -1, has a rate) per line. A line in its ingredient's own unit takes
        the edible cost, grossed up for waste all at once; the others (a unit conversion) go
        through _rate, once per use."""
        mass_of_volume = (family == self._mass) & (self._family == self._volume)
        divisor = np.where(mass_of_volume & self._has_density, self._density, -1)
        own_unit = self._has_cost & (unit == self._unit)
        rate, known = np.where(own_unit, self._cost, 0), own_unit.copy()
        wasted = np.flatnonzero(own_unit & (waste != 0))
        if len(wasted):
            rate[wasted] = _grossed_up(self._cost[wasted].tolist(), waste[wasted].tolist())
        done: dict[tuple[int, int, int, int], int | None] = {}
        for i in np.flatnonzero(self._has_cost & ~own_unit).tolist():
            key = (int(self._row[i]), int(family[i]), int(unit[i]), int(waste[i]))
            if key not in done:
                done[key] = self._rate(i, key[1], key[2], key[3])
            value = done[key]
            if value is not None:
                rate[i], known[i] = _as_int64(value), True
        return rate, divisor, known

    def _rate(self, i: int, family: int, unit: int, waste: int) -> int | None:
        cost, own_family = int(self._cost[i]), int(self._family[i])
        density = int(self._density[i]) if self._has_density[i] else None
        if unit == self._unit[i]:
            converted: int | None = cost
        elif family == self._volume and own_family == self._mass:
            converted = None if density is None else _round12(cost * density)
        elif family == self._mass and own_family == self._volume and density is not None:
            converted = cost
        else:
            converted = None
        if converted is None or waste == 0:
            return converted
        return _exact_div(_check(converted * 100), HUNDRED - waste)


def _grossed_up(costs: list[int], wastes: list[int]) -> list[int]:
    """exact_div(CAST(cost × 100 AS DECIMAL(38,12)), 100 − waste_pct) for many lines at once:
    costs and wastes are validated non-negative and wastes below 100, so integer division
    truncates as exact_div does; anything else takes the one-at-a-time path."""
    if min(costs) < 0 or max(wastes) >= HUNDRED or min(wastes) < 0 or max(costs) * 100 * ONE >= _DECIMAL38:
        return [_as_int64(_exact_div(_check(c * 100), HUNDRED - w)) for c, w in zip(costs, wastes)]
    rates = [c * 100 * ONE // (HUNDRED - w) for c, w in zip(costs, wastes)]
    return [_as_int64(r) for r in rates] if max(rates) >= 2**63 else rates


def _as_int64(value: int) -> int:
    if not -(2**63) <= value < 2**63:
        raise Unsure  # kept as int64 per line: a rate this large is not a kitchen's
    return value


def _sub_shares(subs: SubLines, stored: _Stored, lacks: dict[int, set[str]]
                ) -> tuple[dict[int, list[tuple[int, int]]], dict[int, list[int]]]:
    """Per recipe, its usable sub-recipe lines as (sub, share); per in-scope sub, the recipes
    using it. Also lacks' sub rows: unusable or uncosted subs by name, and the stored missing
    items of usable subs outside the scope."""
    shares: dict[int, list[tuple[int, int]]] = {}
    below: dict[int, list[int]] = {}
    rows = zip(subs.recipe_id, subs.sub_id, subs.share, subs.usable, subs.qty_base,
               subs.sub_yield_base_qty, subs.sub_name, subs.outside)
    for recipe, sub, share, usable, qty, yield_qty, name, outside in rows:
        effective = None if not usable else share if share is not None else _exact_div(qty, yield_qty)
        if effective is None or (outside and stored.total.get(sub) is None):
            lacks.setdefault(recipe, set()).add(name)
        if effective is None:
            continue
        shares.setdefault(recipe, []).append((sub, effective))
        if outside:
            if sub in stored.missing:
                lacks.setdefault(recipe, set()).update(stored.missing[sub])
        else:
            below.setdefault(sub, []).append(recipe)
    return shares, below


def _totals(by_level: list[tuple[int, int]], known: dict[int, int],
            shares: dict[int, list[tuple[int, int]]], stored: _Stored, joined: set[int]
            ) -> dict[int, int]:
    """tot: level by level, known + Σ share × the sub's total (computed below, or stored). As
    in SQL, a recipe above level 0 is costed through its sub-recipe lines, so one none of whose
    subs has a recipe row (hard-deleted) gets no total. Amounts are never negative, so a sum
    within DECIMAL(38) had every partial sum within it too: _round12 checks the sum."""
    total: dict[int, int] = {}
    for recipe, level in by_level:
        if level > 0 and recipe not in joined:
            continue
        amount = known.get(recipe, 0)
        for sub, share in shares.get(recipe, ()):
            sub_total = total[sub] if sub in total else stored.total.get(sub)
            if sub_total is not None:
                amount += _check(share * sub_total)
        total[recipe] = _round12(amount)
    return total


def _transitive(by_level: list[tuple[int, int]], lacks: dict[int, set[str]],
                below: dict[int, list[int]]) -> dict[int, list[str]]:
    """lacks, to any depth: what a usable in-scope sub lacks, its users lack too."""
    for sub, _ in by_level:
        names = lacks.get(sub)
        if names:
            for parent in below.get(sub, ()):
                lacks.setdefault(parent, set()).update(names)
    return {recipe: sorted(names) for recipe, names in lacks.items() if names}


# --- rc_scope and rc_work, as the SQL path stages them ---------------------------------------

def _scope_rows(graph: RecipeGraph, scope: Scope, stored: pa.Table) -> pa.Table:
    """rc_scope: each scoped recipe, with its stored figures before this recompute (if any)."""
    row_of = {recipe: i for i, recipe in enumerate(stored["id"].to_pylist())}
    old = stored.take(pa.array([row_of.get(r) for r in scope.recipe_ids.tolist()], pa.int64()))
    rows = graph.scope_recipes(scope)
    for name, column in (("old_total", old["amount"]), ("old_complete", old["complete"]),
                         ("old_missing", old["missing"]), ("old_at", old["computed_at"])):
        rows = rows.append_column(name, column)
    return rows


def _work_rows(totals: dict[int, int], missing: dict[int, list[str]]) -> pa.Table:
    ids = list(totals)
    return pa.table({
        "recipe_id": pa.array(ids, pa.int64()),
        "total": pa.array([Decimal(totals[i]).scaleb(-12) for i in ids], pa.decimal128(38, 12)),
        "names": pa.array([missing.get(i) for i in ids], pa.list_(pa.string())),
    })
