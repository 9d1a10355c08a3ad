"""explain_change on random recipe DAGs (diamonds included) with random cost histories, against
an exact fractions.Fraction model of the paths and of the costs at two instants (the model of
tests/test_costing_property.py, extended: each ingredient has dated costs, and a cost at an
instant is the latest effective at or before it, ties to the one recorded last).

Checked on both backends through the services: the rows are the model's paths in line order,
missing costs are flagged exactly where the model has none, unit costs and qtys match the
model, the contributions sum exactly (Decimal equality) to total(until) − total(since) over the
rows and within a hair of the model's change; after an edit inside the window, exactly the
recipes reaching the edited one get a "(recipe changed)" row and the column sums exactly to the
stored change. Few examples in `make test`, more under MO_FUZZ=1.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from fractions import Fraction

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import examples
from test_costing_property import (
    INGREDIENT_UNITS,
    PACKS,
    UNITS,
    _factor,
    Ingredient,
    Plan,
    Recipe,
    plans,
)

from mo.domain.context import TenantContext
from mo.services import explain, history, tenants
from mo.services import recipes as rec
from mo.services.costs import update_cost
from mo.services.ingredients import add_ingredient
from mo.store import Store

F = Fraction
TOLERANCE = F(1, 10_000)
DAYS = [datetime(2024, month, 1, tzinfo=UTC) for month in range(1, 7)]
INSTANTS = [datetime(2023, 12, 1, tzinfo=UTC),
            *(datetime(2024, m, 15, tzinfo=UTC) for m in range(1, 7))]
PRICES = ["0.5", "1.2", "3.33", "12", "99.99"]
Cost = tuple[datetime, str, str]  # effective_at, price, pack: recorded in this order


@dataclass(frozen=True)
class Case:
    plan: Plan
    histories: dict[str, list[Cost]]
    since: datetime
    until: datetime
    edit: bool  # explain from an instant before a re-save and a new cost, until now


@st.composite
def cases(draw: st.DrawFn) -> Case:
    plan = draw(plans(rich=False))
    histories = {}
    for item in plan.ingredients:
        packs = sorted(PACKS[INGREDIENT_UNITS[item.unit]])
        count = 0 if item.price is None else draw(st.integers(1, 3))
        histories[item.name] = [
            (draw(st.sampled_from(DAYS)), draw(st.sampled_from(PRICES)),
             draw(st.sampled_from(packs)))
            for _ in range(count)
        ]
    since, until = sorted(draw(st.lists(st.sampled_from(INSTANTS), min_size=2, max_size=2,
                                        unique=True)))
    return Case(plan, histories, since, until, draw(st.booleans()))


# ------------------------------------------------------------------------------ the model


@dataclass(frozen=True)
class Leaf:
    ingredient: str
    path: str
    qty: Fraction | None  # bought, base unit, per whole yield of the top recipe
    unit: str = ""  # the line's base unit


def leaves(plan: Plan, name: str) -> list[Leaf]:
    """Every path from the recipe to a leaf ingredient line, in line order."""
    recipes = {r.name: r for r in plan.recipes}
    items = {i.name: i for i in plan.ingredients}

    def walk(recipe: Recipe, mult: Fraction, path: str) -> list[Leaf]:
        found: list[Leaf] = []
        for line in recipe.lines:
            qty = F(line["qty"]) * UNITS[line["unit"]][2]
            if "recipe" in line:
                sub = recipes[line["recipe"]]
                share = qty / (F(sub.yield_qty) * UNITS[sub.yield_unit][2])
                found += walk(sub, mult * share, f"{path} > {sub.name}")
            else:
                item = items[line["ingredient"]]
                found.append(Leaf(item.name, f"{path} > {item.name}",
                                  _bought(item, mult * qty, line), UNITS[line["unit"]][1]))
        return found

    return walk(recipes[name], F(1), name)


def _bought(item: Ingredient, qty: Fraction, line: dict[str, str]) -> Fraction | None:
    factor = _factor(item, UNITS[line["unit"]][1])  # density and the item's own conversions
    if factor is None:
        return None
    return qty * factor * 100 / F(item.yield_pct) * 100 / (100 - F(line["waste_pct"]))


def cost_at(history_: list[Cost], instant: datetime, item: Ingredient) -> Fraction | None:
    """The latest cost effective at or before the instant; of equal dates, the last recorded."""
    current = None
    for effective_at, price, pack in history_:
        if effective_at <= instant and (current is None or effective_at >= current[0]):
            current = (effective_at, F(price) / PACKS[INGREDIENT_UNITS[item.unit]][pack])
    return None if current is None else current[1]


def reaches(plan: Plan, name: str, target: str) -> bool:
    recipes = {r.name: r for r in plan.recipes}
    return name == target or any(
        reaches(plan, line["recipe"], target) for line in recipes[name].lines if "recipe" in line)


# ------------------------------------------------------------------------------ the property


def _apply(store: Store, case: Case) -> TenantContext:
    slug = f"explain-{uuid.uuid4().hex[:12]}"
    tenants.create_tenant(store, slug)
    ctx = tenants.resolve_tenant(store, slug)
    for item in case.plan.ingredients:
        add_ingredient(store, ctx, item.name, unit=item.unit, density=item.density,
                       yield_pct=item.yield_pct)
        for effective_at, price, pack in case.histories[item.name]:
            update_cost(store, ctx, item.name, price, per=pack, effective_at=effective_at,
                        idempotency_key=uuid.uuid4().hex)
    for recipe in case.plan.recipes:
        rec.save_recipe(store, ctx, recipe.name, yield_qty=recipe.yield_qty,
                        yield_unit=recipe.yield_unit, lines=recipe.lines)
    return ctx


def _edit(store: Store, ctx: TenantContext, case: Case) -> tuple[datetime, str]:
    """An instant, then after it one recipe re-saved with one line less (or more yield) and a
    new cost for one ingredient, effective now. Returns the instant and the edited recipe."""
    time.sleep(0.02)
    mark = datetime.now(UTC)
    time.sleep(0.02)
    plan = case.plan
    edited = plan.recipes[len(plan.recipes) // 2]
    if len(edited.lines) > 1:
        edited.lines = edited.lines[:-1]
    else:
        edited.yield_qty = str(F(edited.yield_qty) * 2)
    rec.save_recipe(store, ctx, edited.name, yield_qty=edited.yield_qty,
                    yield_unit=edited.yield_unit, lines=edited.lines)
    item = plan.ingredients[0]
    pack = sorted(PACKS[INGREDIENT_UNITS[item.unit]])[0]
    update_cost(store, ctx, item.name, "7.77", per=pack, idempotency_key=uuid.uuid4().hex)
    case.histories[item.name].append((datetime.now(UTC), "7.77", pack))
    return mark, edited.name


def _check_rows(frame: pd.DataFrame, case: Case, name: str, since: datetime,
                until: datetime) -> None:
    items = {i.name: i for i in case.plan.ingredients}
    expected = leaves(case.plan, name)
    rows = frame[frame["ingredient"] != explain.RECIPE_CHANGED]
    assert list(zip(rows["ingredient"], rows["path"])) == [(x.ingredient, x.path) for x in expected]
    change = F(0)
    for row, leaf in zip(rows.itertuples(), expected):
        item = items[leaf.ingredient]
        old = cost_at(case.histories[item.name], since, item)
        new = cost_at(case.histories[item.name], until, item)
        flagged = leaf.qty is None or old is None or new is None
        assert bool(row.missing_cost) == flagged, (leaf, old, new)
        assert (row.contribution is None) == flagged, leaf
        if leaf.qty is not None:
            assert abs(F(row.qty) - leaf.qty) <= TOLERANCE, (leaf, row.qty)
        for got, want in ((row.old_unit_cost, old), (row.new_unit_cost, new)):
            assert (got is None) == (want is None), leaf
            if want is not None:
                assert abs(F(got) - want) <= F(1, 10**12), (leaf, got, want)
        if not flagged:
            assert row.contribution == row.qty * (row.new_unit_cost - row.old_unit_cost)
            change += leaf.qty * (new - old)  # type: ignore[operator]
    if not rows["missing_cost"].any():
        total_old = sum((q * c for q, c in zip(rows["qty"], rows["old_unit_cost"])), Decimal(0))
        total_new = sum((q * c for q, c in zip(rows["qty"], rows["new_unit_cost"])), Decimal(0))
        assert sum(rows["contribution"], Decimal(0)) == total_new - total_old  # exactly
        assert abs(F(total_new - total_old) - change) <= TOLERANCE, (name, change)


def _stored_at(store: Store, ctx: TenantContext, name: str, instant: datetime) -> Decimal | None:
    frame = history.recipe_history(store, ctx, name)
    before = frame[frame["at"] <= pd.Timestamp(instant)]
    if before.empty or not before["complete"].iloc[-1]:
        return None
    return before["total_cost"].iloc[-1]


@settings(max_examples=examples(fast=6, fuzz=60), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=cases())
def test_explain_change_follows_an_exact_model(store: Store, case: Case) -> None:
    with localcontext() as exact:
        exact.prec = 200  # the test's own sums and products must not round either
        _check_case(store, case)


def _check_case(store: Store, case: Case) -> None:
    ctx = _apply(store, case)
    edited = None
    since, until = case.since, case.until
    if case.edit:
        since, edited = _edit(store, ctx, case)
    for recipe in case.plan.recipes:
        frame = explain.explain_change(store, ctx, recipe.name, since=since,
                                       until=None if case.edit else until)
        end = datetime.now(UTC) if case.edit else until
        _check_rows(frame, case, recipe.name, since, end)
        changed = frame[frame["ingredient"] == explain.RECIPE_CHANGED]
        moved = edited is not None and reaches(case.plan, recipe.name, edited)
        assert len(changed) == (1 if moved else 0), (recipe.name, edited)
        if moved:
            old = _stored_at(store, ctx, recipe.name, since)
            new = _stored_at(store, ctx, recipe.name, end)
            rest = changed["contribution"].iloc[0]
            unknown = old is None or new is None or frame["missing_cost"][:-1].any()
            assert (rest is None) == unknown
            if rest is not None:
                assert sum(frame["contribution"], Decimal(0)) == new - old  # exactly
