"""Concurrent saves must not break the recipe graph's rules between them.

Each save checks cycles and depth against its own snapshot, so two saves released at once could
each pass and together store a cycle (A uses B while B uses A) or a chain deeper than recompute
can cost; afterwards every update reaching those recipes would fail. Saves here run on threads
released by a barrier, each in its own transaction (one DuckDB file; a PostgreSQL pool), many
times over, and the stored graph is checked after every round.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eventlog_support import raw
from reliability_support import knob, record, retrying, together

from mo.domain.context import TenantContext
from mo.domain.results import RecipeRecord
from mo.errors import ErrorCode, MOError
from mo.services import costs, recipes
from mo.services import ingredients as ing
from mo.services.recompute import MAX_DEPTH, find_cycle, recompute
from mo.store import Store

ROUNDS = knob("MO_GRAPH_RACE_ROUNDS", 4, 60)  # `make test` 4 (6 until it had to fit 6 minutes)


def _together(calls: list[Callable[[], Any]]) -> list[Any]:
    """The calls on threads released at once; each retries a retryable `unavailable` (after
    Store.atomic's own attempts) as a client would, so the outcome is the save's answer."""
    return together([lambda call=call: retrying(call) for call in calls])


def _save(store: Store, ctx: TenantContext, name: str, *, uses: str | None = None) -> RecipeRecord:
    line = (
        {"recipe": uses, "qty": 1, "unit": "each"}
        if uses
        else {"ingredient": "Flour", "qty": 100, "unit": "g"}
    )
    return recipes.save_recipe(store, ctx, name, yield_qty=1, yield_unit="each", lines=[line])


def _stored_edges(store: Store, ctx: TenantContext) -> list[dict[str, Any]]:
    rows = raw(
        store,
        "SELECT p.id, p.name, c.id, c.name FROM recipe_lines l"
        " JOIN recipes p ON p.id = l.recipe_id AND p.deleted_at IS NULL"
        " JOIN recipes c ON c.id = l.sub_recipe_id AND c.deleted_at IS NULL"
        " WHERE l.tenant_id = %s",
        (ctx.tenant_id,),
    )
    return [
        {"parent": p, "parent_name": pn, "child": c, "child_name": cn} for p, pn, c, cn in rows
    ]


def _longest_chain(edges: list[dict[str, Any]]) -> int:
    """Recipes on the longest parent→child path (the graph is acyclic when this is called)."""
    children: dict[int, list[int]] = {}
    nodes: set[int] = set()
    for edge in edges:
        children.setdefault(edge["parent"], []).append(edge["child"])
        nodes |= {edge["parent"], edge["child"]}
    memo: dict[int, int] = {}

    def height(node: int) -> int:
        if node not in memo:
            memo[node] = 1 + max((height(c) for c in children.get(node, ())), default=0)
        return memo[node]

    return max((height(n) for n in nodes), default=0)


def _refusals(outcomes: list[Any]) -> list[MOError]:
    unexpected = [o for o in outcomes if not isinstance(o, RecipeRecord | MOError)]
    assert unexpected == [], f"a save raised something else than MOError: {unexpected!r}"
    return [o for o in outcomes if isinstance(o, MOError)]


@pytest.fixture
def flour(store: Store, ctx: TenantContext) -> None:
    ing.add_ingredient(store, ctx, "Flour", unit="g")
    costs.update_cost(store, ctx, "Flour", "2.00", per="1 kg", idempotency_key="flour")


def test_two_saves_using_each_other_at_once_never_store_a_cycle(
    store: Store, ctx: TenantContext, flour: None
) -> None:
    won = 0
    for round_ in range(ROUNDS):
        a, b = f"A{round_}", f"B{round_}"
        _save(store, ctx, a)
        _save(store, ctx, b)
        outcomes = _together([lambda: _save(store, ctx, a, uses=b), lambda: _save(store, ctx, b, uses=a)])
        refused = _refusals(outcomes)
        assert [e.code for e in refused] == [ErrorCode.CYCLE_DETECTED], outcomes
        won += 1
        assert find_cycle(_stored_edges(store, ctx)) is None
    # The graph stayed costable: a full recompute walks every recipe without meeting a cycle.
    assert recompute(store, ctx).recomputed == 2 * ROUNDS
    record(f"graph_race_cycle_{store.dialect}", rounds=ROUNDS, one_saved_one_refused=won, failures=0)


def test_a_ring_of_three_saves_at_once_never_stores_a_cycle(
    store: Store, ctx: TenantContext, flour: None
) -> None:
    for round_ in range(ROUNDS):
        ring = [f"R{round_}x{n}" for n in range(3)]
        for name in ring:
            _save(store, ctx, name)
        outcomes = _together(
            [lambda n=n: _save(store, ctx, ring[n], uses=ring[(n + 1) % 3]) for n in range(3)]
        )
        refused = _refusals(outcomes)
        assert refused and {e.code for e in refused} == {ErrorCode.CYCLE_DETECTED}, outcomes
        assert find_cycle(_stored_edges(store, ctx)) is None
    assert recompute(store, ctx).recomputed == 3 * ROUNDS


def _chain(store: Store, ctx: TenantContext, prefix: str, length: int) -> tuple[str, str]:
    """A chain of `length` recipes, each using the one before; (top, bottom) names."""
    _save(store, ctx, f"{prefix}0")
    for n in range(1, length):
        _save(store, ctx, f"{prefix}{n}", uses=f"{prefix}{n - 1}")
    return f"{prefix}{length - 1}", f"{prefix}0"


def test_two_saves_each_within_the_depth_limit_never_together_store_a_deeper_chain(
    store: Store, ctx: TenantContext, flour: None
) -> None:
    """Three chains of 22: hanging the second under the first makes 44 recipes, the third under
    the second 44 too, both at once 66, past the limit of MAX_DEPTH + 1 recipes (64 levels)."""
    third = MAX_DEPTH // 3 + 1
    for round_ in range(max(2, ROUNDS // 4)):
        top_p, bottom_p = _chain(store, ctx, f"P{round_}.", third)
        top_q, bottom_q = _chain(store, ctx, f"Q{round_}.", third)
        top_r, _ = _chain(store, ctx, f"S{round_}.", third)
        outcomes = _together(
            [lambda: _save(store, ctx, bottom_p, uses=top_q), lambda: _save(store, ctx, bottom_q, uses=top_r)]
        )
        refused = _refusals(outcomes)
        assert len(refused) == 1, outcomes
        assert refused[0].code is ErrorCode.VALIDATION_ERROR, refused
        assert refused[0].details["max_depth"] == MAX_DEPTH
        assert _longest_chain(_stored_edges(store, ctx)) <= MAX_DEPTH
        # The chains stay costable end to end: a cost update reaching all of them goes through.
        costs.update_cost(store, ctx, "Flour", f"{3 + round_}.00", per="1 kg",
                          idempotency_key=f"deep{round_}")
