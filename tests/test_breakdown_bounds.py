"""Issue #14, finding 4: a recipe breakdown costs what a recompute costs, and no statement runs
unbounded. Both backends (conftest), real databases.

D_k uses D_{k-1} twice, so D_k has 2^k paths down to D_0's one ingredient line: a walk of every
path (as the breakdown once was) never ends at k = 30. Only pytest-timeout bounds these tests;
nothing here asserts a duration.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest

from mo.client import MOClient
from mo.domain.context import TenantContext
from mo.errors import ErrorCode, MOError
from mo.services import recipes as rec
from mo.services.costs import update_cost
from mo.services.ingredients import add_ingredient
from mo.store import Store, connect_store

K = 30
LEAF_G = Decimal(3)  # D_0 uses 3 g of flour
PRICE_PER_G = Decimal("0.01")


def chain_lines(k: int) -> list[dict[str, object]]:
    if k == 0:
        return [{"ingredient": "Flour", "qty": str(LEAF_G), "unit": "g"}]
    below = f"D_{k - 1}"
    return [{"recipe": below, "qty": 1, "unit": "each"}, {"recipe": below, "qty": 1, "unit": "each"}]


def build_chain(store: Store, ctx: TenantContext, k: int) -> None:
    add_ingredient(store, ctx, "Flour", unit="g")
    update_cost(store, ctx, "Flour", str(PRICE_PER_G), per="1 g", idempotency_key=uuid.uuid4().hex)
    for level in range(k + 1):
        rec.save_recipe(store, ctx, f"D_{level}", yield_qty=1, yield_unit="each",
                        lines=chain_lines(level))


@pytest.mark.timeout(300)
def test_a_breakdown_of_two_to_the_thirty_paths_answers_with_the_summed_quantity(
    store: Store, ctx: TenantContext
) -> None:
    build_chain(store, ctx, K)
    frame = rec.recipe_breakdown(store, ctx, f"D_{K}")
    assert list(frame.columns) == rec.BREAKDOWN_COLUMNS
    assert frame["ingredient"].tolist() == ["Flour"]
    assert frame.loc[0, "qty"] == LEAF_G * 2**K
    assert frame.loc[0, "unit"] == "g"
    assert frame.loc[0, "cost"] == LEAF_G * 2**K * PRICE_PER_G
    # ... and it costs what the recompute stored for the recipe.
    costs = rec.recipes_frame(store, ctx).set_index("name")
    assert costs.loc[f"D_{K}", "total_cost"] == frame.loc[0, "cost"]
    # Every path now stops at the deleted D_0: one row for it, with why, not 2^30.
    rec.delete_recipe(store, ctx, "D_0")
    frame = rec.recipe_breakdown(store, ctx, f"D_{K}")
    assert frame.to_dict("records") == [
        {"ingredient": "D_0", "qty": None, "unit": "each", "cost": None,
         "reason": "D_0: deleted"}]
    assert rec.recipes_frame(store, ctx).set_index("name").loc[f"D_{K}", "missing"] == (
        "D_0: deleted")


@pytest.mark.timeout(300)
def test_the_breakdown_route_answers_for_the_chain(
    connect_as: Callable[[str], MOClient],
) -> None:
    client = connect_as("acme")
    client.add_ingredient("Flour", unit="g")
    client.update_cost("Flour", str(PRICE_PER_G), per="1 g", idempotency_key="flour-1")
    for level in range(K + 1):
        client.save_recipe(f"D_{level}", yield_qty=1, yield_unit="each", lines=chain_lines(level))
    frame = client.recipe_breakdown(f"D_{K}")
    assert frame["qty"].tolist() == [LEAF_G * 2**K]


# ------------------------------------------------------------------------- statement bounds

LIMIT_S = 0.3
# testing.slow runs about n² pair checks: seconds on either engine without the bound.
SLOW_N = {"duckdb": 40_000, "postgres": 10_000}


def slow(store: Store) -> MOError:
    with pytest.raises(MOError) as caught:
        with store.transaction() as tx:
            tx.all("testing.slow", {"n": SLOW_N[store.dialect]})
    return caught.value


def test_a_statement_past_the_limit_is_stopped_as_unavailable(db_url: str) -> None:
    with connect_store(db_url, statement_timeout=LIMIT_S) as store:
        err = slow(store)
        assert err.code is ErrorCode.UNAVAILABLE
        assert err.message == (
            "the statement ran longer than the 0.3 s limit (MO_STATEMENT_TIMEOUT)")
        assert err.details == {"reason": "statement_timeout", "limit_s": LIMIT_S,
                               "setting": "MO_STATEMENT_TIMEOUT"}
        # The store keeps working: the next transactions, short ones, are not cut.
        for _ in range(3):
            with store.transaction() as tx:
                assert tx.all("testing.slow", {"n": 10}) == [{"pairs": 0}]


def test_a_tenant_transaction_is_bounded_too(db_url: str, ctx: TenantContext) -> None:
    with connect_store(db_url, statement_timeout=LIMIT_S) as store:
        with pytest.raises(MOError) as caught:
            with store.transaction(tenant_id=ctx.tenant_id) as tx:
                tx.all("testing.slow", {"n": SLOW_N[store.dialect]})
        assert caught.value.details["reason"] == "statement_timeout"
        with store.transaction(tenant_id=ctx.tenant_id) as tx:
            assert tx.all("testing.events", {"tenant_id": ctx.tenant_id}) is not None


def test_the_limit_comes_from_mo_statement_timeout(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MO_STATEMENT_TIMEOUT", "0.3")
    with connect_store(db_url) as store:
        assert store.statement_timeout == LIMIT_S  # type: ignore[attr-defined]
        assert slow(store).details["limit_s"] == LIMIT_S


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf"])
def test_a_limit_mo_cannot_use_is_refused(
    db_url: str, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("MO_STATEMENT_TIMEOUT", value)
    with pytest.raises(MOError) as caught:
        connect_store(db_url)
    assert caught.value.code is ErrorCode.VALIDATION_ERROR
    assert caught.value.details == {"field": "MO_STATEMENT_TIMEOUT", "value": value}
