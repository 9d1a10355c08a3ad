"""recipes(as_of=...) on random recipe DAGs (diamonds included) with random dated cost histories,
against the exact fractions.Fraction model of tests/test_explain_property.py: at each instant a
recipe's total is Σ over its paths to leaf ingredients of qty × the cost in effect then (latest
effective_at at or before it, ties to the one recorded last), and it misses exactly the leaves
without a cost or a conversion then. Both backends, through the service; nothing written.
Few examples in `make test`, more under MO_FUZZ=1.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from reliability_support import examples, row_counts
from test_costing_property import BASES, INGREDIENT_UNITS
from test_explain_property import INSTANTS, TOLERANCE, Case, _apply, cases, cost_at, leaves

from mo.services.what_if import recipes_as_of
from mo.store import Store

F = Fraction


def expected_at(case: Case, name: str, instant: object) -> tuple[Fraction, list[str]]:
    """The model's total and sorted missing items of one recipe at the instant."""
    items = {i.name: i for i in case.plan.ingredients}
    total, missing = F(0), set()
    for leaf in leaves(case.plan, name):
        item = items[leaf.ingredient]
        cost = cost_at(case.histories[item.name], instant, item)  # type: ignore[arg-type]
        own = BASES[INGREDIENT_UNITS[item.unit]]
        if cost is None:
            missing.add(f"{item.name}: no cost")  # the reasons as mo's missing items say them
        elif leaf.qty is None:
            missing.add(f"{item.name}: no {leaf.unit}→{own} conversion")
        else:
            total += leaf.qty * cost
    return total, sorted(missing, key=lambda n: (n.casefold(), n))


@settings(max_examples=examples(fast=6, fuzz=60), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=cases())
def test_as_of_costing_follows_an_exact_model(store: Store, case: Case) -> None:
    ctx = _apply(store, case)
    written = row_counts(store)
    for instant in INSTANTS:
        frame = recipes_as_of(store, ctx, as_of=instant)
        assert sorted(frame["name"]) == sorted(r.name for r in case.plan.recipes)
        for row in frame.itertuples():
            total, missing = expected_at(case, row.name, instant)
            assert row.missing == "; ".join(missing), (row.name, instant)
            assert row.complete == (not missing), (row.name, instant)
            assert abs(F(row.total_cost) - total) <= TOLERANCE, (row.name, instant, total)
    assert row_counts(store) == written
