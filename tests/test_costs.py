"""Manual cost updates: exact unit costs, unit families, idempotency, no-ops, history, events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from recipe_support import save_bread

from mo.domain import prices
from mo.domain.context import TenantContext
from mo.errors import MOError
from mo.services import costs
from mo.services import ingredients as ing
from mo.store import Store
from mo.util.jsonutil import loads


def _error(call, *args, **kwargs) -> MOError:
    with pytest.raises(MOError) as caught:
        call(*args, **kwargs)
    return caught.value


def _events(
    store: Store, ctx: TenantContext, event_type: str = "ingredient.cost.updated"
) -> list[dict[str, Any]]:
    with store.transaction() as tx:
        rows = tx.all("testing.events", {"tenant_id": ctx.tenant_id})
    return [{**r, "payload": loads(r["payload"])} for r in rows if r["event_type"] == event_type]


def _current(store: Store, ctx: TenantContext, name: str) -> Decimal | None:
    frame = costs.ingredients_frame(store, ctx)
    return frame.loc[frame["name"] == name, "unit_cost"].iloc[0]


@pytest.fixture
def flour(store: Store, ctx: TenantContext) -> ing.IngredientRecord:
    return ing.add_ingredient(store, ctx, "Flour", unit="g", category="dry goods")


def test_a_pack_price_becomes_a_unit_cost_and_an_event(
    store: Store, ctx: TenantContext, flour
) -> None:
    result = costs.update_cost(
        store,
        ctx,
        " flour ",
        "12.00",
        per="6 x 1 kg",
        idempotency_key="k1",
        supplier="Bakers Supply",
        note="spring list",
    )
    assert result.unit_cost == Decimal("0.002") and result.changed and not result.replayed
    assert result.ingredient == "Flour" and result.cost_id is not None
    [row] = costs.cost_history(store, ctx, "Flour").to_dict("records")
    assert pd.isna(row.pop("batch_id")) and row.pop("effective_at") <= pd.Timestamp.now(tz="UTC")
    assert row == {
        "ingredient": "Flour",
        "price": Decimal(12),
        "pack": "6 x 1 kg",
        "unit_cost": Decimal("0.002"),
        "unit": "g",
        "source": "manual",
        "supplier": "Bakers Supply",
        "note": "spring list",
        "cost_id": result.cost_id,
    }
    [event] = _events(store, ctx)
    assert event["aggregate_id"] == str(flour.id)
    assert event["payload"] | {"effective_at": None} == {
        "ingredient": "Flour",
        "ingredient_id": flour.id,
        "old_unit_cost": None,
        "new_unit_cost": "0.002",
        "effective_at": None,
        "source": "manual",
        "supplier": "Bakers Supply",
    }
    assert _current(store, ctx, "Flour") == Decimal("0.002")


def test_the_history_frame_has_its_documented_columns_and_dtypes(
    store: Store, ctx: TenantContext, flour
) -> None:
    assert list(costs.cost_history(store, ctx).columns) == costs.HISTORY_COLUMNS
    costs.update_cost(
        store, ctx, "flour", "1.10", per="kg", idempotency_key="a", effective_at="2024-01-01"
    )
    costs.update_cost(
        store, ctx, "flour", "1.30", per="kg", idempotency_key="b", effective_at="2024-03-01"
    )
    costs.update_cost(
        store, ctx, "flour", "1.20", per="kg", idempotency_key="c", effective_at="2024-02-01"
    )
    frame = costs.cost_history(store, ctx)
    assert list(frame.columns) == costs.HISTORY_COLUMNS
    assert [str(frame[c].dtype) for c in ("price", "unit_cost", "effective_at", "batch_id")] == [
        "object",
        "object",
        "datetime64[us, UTC]",
        "Int64",
    ]
    assert list(frame["price"]) == [
        Decimal("1.1"),
        Decimal("1.2"),
        Decimal("1.3"),
    ]  # by effective_at
    assert all(isinstance(v, Decimal) for v in frame["unit_cost"])
    assert frame["effective_at"][0] == datetime(2024, 1, 1, tzinfo=UTC)


def test_unit_costs_are_exact_and_rounded_half_even_to_12_places(
    store: Store, ctx: TenantContext, flour
) -> None:
    assert costs.update_cost(
        store, ctx, "flour", "1", per="3 kg", idempotency_key="k"
    ).unit_cost == Decimal("0.000333333333")
    assert prices.unit_cost_of(Decimal("0.0000000000025"), Decimal(1)) == Decimal(
        "0.000000000002"
    )  # half-even
    assert prices.unit_cost_of(Decimal("0.0000000000035"), Decimal(1)) == Decimal("0.000000000004")


@pytest.mark.parametrize(
    ("unit", "density", "price", "per", "expected"),
    [
        ("ml", "1.03", "2.06", "2 kg", Decimal("0.0010609")),  # mass pack for a volume ingredient
        ("g", "0.911", "9.11", "1 l", Decimal("0.01")),  # volume pack for a mass ingredient
        ("g", None, "3.00", "dozen", None),  # count pack for a mass ingredient: refused
        ("ml", None, "2.00", "1 kg", None),  # mass <-> volume without a density: refused
    ],
)
def test_packs_convert_through_density_or_are_a_unit_mismatch(
    store: Store,
    ctx: TenantContext,
    unit: str,
    density: str | None,
    price: str,
    per: str,
    expected: Decimal | None,
) -> None:
    ing.add_ingredient(store, ctx, "Thing", unit=unit, density=density)
    if expected is not None:
        assert (
            costs.update_cost(store, ctx, "thing", price, per=per, idempotency_key="k").unit_cost
            == expected
        )
        return
    err = _error(costs.update_cost, store, ctx, "thing", price, per=per, idempotency_key="k")
    assert err.code.value == "unit_mismatch"
    assert per in err.message and unit in err.message and err.details["ingredient"] == "Thing"
    assert costs.cost_history(store, ctx).empty and _events(store, ctx) == []


def test_a_replay_returns_the_original_result_and_writes_nothing(
    store: Store, ctx: TenantContext, flour
) -> None:
    first = costs.update_cost(store, ctx, "flour", "12.00", per="6 x 1 kg", idempotency_key="same")
    again = costs.update_cost(store, ctx, "flour", "12.00", per="6 x 1 kg", idempotency_key="same")
    assert again.replayed and again.cost_id == first.cost_id and again.unit_cost == first.unit_cost
    assert len(costs.cost_history(store, ctx)) == 1 and len(_events(store, ctx)) == 1


def test_the_same_key_for_another_request_is_an_idempotency_conflict(
    store: Store, ctx: TenantContext, flour
) -> None:
    costs.update_cost(store, ctx, "flour", "12.00", per="6 x 1 kg", idempotency_key="same")
    err = _error(
        costs.update_cost, store, ctx, "flour", "13.00", per="6 x 1 kg", idempotency_key="same"
    )
    assert err.code.value == "idempotency_conflict"
    assert len(costs.cost_history(store, ctx)) == 1 and len(_events(store, ctx)) == 1


def test_an_unchanged_unit_cost_is_written_fresh_without_an_event(
    store: Store, ctx: TenantContext, flour
) -> None:
    """A re-listing at the same unit cost writes its cost row (the offer's effective_at moves
    on), but the chosen cost did not move: no event, no recompute."""
    save_bread(store, ctx)
    costs.update_cost(store, ctx, "flour", "2.00", per="kg", idempotency_key="a")
    recomputes = len(_events(store, ctx, "recipe.recomputed"))
    same = costs.update_cost(store, ctx, "flour", "1.00", per="500 g", idempotency_key="b")
    assert (same.changed, same.unit_cost, same.recomputed) == (False, Decimal("0.002"), 0)
    history = costs.cost_history(store, ctx)
    assert history["cost_id"].tolist()[-1] == same.cost_id and len(history) == 2
    assert history["effective_at"].is_monotonic_increasing
    assert history["unit_cost"].tolist() == [Decimal("0.002")] * 2
    assert len(_events(store, ctx)) == 1
    assert len(_events(store, ctx, "recipe.recomputed")) == recomputes
    assert costs.update_cost(store, ctx, "flour", "1.00", per="500 g", idempotency_key="b").replayed
    assert len(costs.cost_history(store, ctx)) == 2  # the replay wrote nothing


def test_the_same_cost_at_the_same_instant_writes_nothing(
    store: Store, ctx: TenantContext, flour
) -> None:
    jan = datetime(2024, 1, 1, tzinfo=UTC)
    costs.update_cost(store, ctx, "flour", "2.00", per="kg", idempotency_key="a", effective_at=jan)
    same = costs.update_cost(
        store, ctx, "flour", "2.00", per="kg", idempotency_key="b", effective_at=jan
    )
    assert (same.changed, same.cost_id, same.recomputed) == (False, None, 0)
    assert len(costs.cost_history(store, ctx)) == 1 and len(_events(store, ctx)) == 1


def test_a_future_cost_is_stored_with_its_event_but_is_not_current_yet(
    store: Store, ctx: TenantContext, flour
) -> None:
    costs.update_cost(store, ctx, "flour", "2.00", per="kg", idempotency_key="now")
    later = datetime.now(UTC) + timedelta(days=30)
    future = costs.update_cost(
        store, ctx, "flour", "3.00", per="kg", idempotency_key="later", effective_at=later
    )
    assert future.changed and future.cost_id is not None and future.recomputed == 0
    assert _current(store, ctx, "Flour") == Decimal("0.002")
    assert len(costs.cost_history(store, ctx)) == 2
    assert [e["payload"]["new_unit_cost"] for e in _events(store, ctx)] == ["0.002", "0.003"]
    assert _events(store, ctx)[1]["payload"]["effective_at"] == later.isoformat()


def test_naive_and_text_times_are_utc(store: Store, ctx: TenantContext, flour) -> None:
    costs.update_cost(
        store,
        ctx,
        "flour",
        "2",
        per="kg",
        idempotency_key="a",
        effective_at=datetime(2024, 5, 1, 12),
    )
    costs.update_cost(
        store,
        ctx,
        "flour",
        "3",
        per="kg",
        idempotency_key="b",
        effective_at="2024-05-02T12:00:00+02:00",
    )
    times = list(costs.cost_history(store, ctx)["effective_at"])
    assert times == [datetime(2024, 5, 1, 12, tzinfo=UTC), datetime(2024, 5, 2, 10, tzinfo=UTC)]
    assert _current(store, ctx, "Flour") == Decimal("0.003")


def test_failures_write_no_cost_and_no_event(store: Store, ctx: TenantContext, flour) -> None:
    assert (
        _error(costs.update_cost, store, ctx, "rye", "2", per="kg", idempotency_key="a").code.value
        == "not_found"
    )
    assert _error(
        costs.update_cost, store, ctx, "flour", "2", per="2 each", idempotency_key="b"
    ).code.value == ("unit_mismatch")
    assert costs.cost_history(store, ctx).empty and _events(store, ctx) == []
    # The failed keys were not consumed: they can carry a good request now.
    assert costs.update_cost(store, ctx, "flour", "2", per="kg", idempotency_key="b").changed


@pytest.mark.parametrize(
    ("price", "per", "field"),
    [
        ("abc", "kg", "price"),
        ("0", "kg", "price"),
        ("-1.50", "kg", "price"),
        ("NaN", "kg", "price"),
        ("inf", "kg", "price"),
        ("1,50", "kg", "price"),
        ("0.0000000000001", "kg", "price"),
        (float("nan"), "kg", "price"),
        ("2", "24", "text"),
        ("2", "kg kg", "text"),
        ("2", "", "text"),
    ],
)
def test_bad_prices_and_packs_are_validation_errors(
    store: Store, ctx: TenantContext, flour, price, per, field
) -> None:
    err = _error(costs.update_cost, store, ctx, "flour", price, per=per, idempotency_key="k")
    assert err.code.value == "validation_error" and field in (
        err.details.get("field"),
        *err.details,
    )
    assert costs.cost_history(store, ctx).empty


def test_bad_times_and_keys_are_validation_errors(store: Store, ctx: TenantContext, flour) -> None:
    assert (
        _error(
            costs.update_cost,
            store,
            ctx,
            "flour",
            "2",
            per="kg",
            idempotency_key="k",
            effective_at="next tuesday",
        ).details["field"]
        == "effective_at"
    )
    assert _error(
        costs.update_cost, store, ctx, "flour", "2", per="kg", idempotency_key=" "
    ).details["field"] == ("idempotency_key")


def test_tenants_do_not_see_each_other_s_costs(
    store: Store, ctx: TenantContext, other_ctx: TenantContext, flour
) -> None:
    costs.update_cost(store, ctx, "flour", "2", per="kg", idempotency_key="k")
    assert (
        costs.cost_history(store, other_ctx).empty
        and costs.ingredients_frame(store, other_ctx).empty
    )
    assert _error(
        costs.update_cost, store, other_ctx, "flour", "2", per="kg", idempotency_key="k"
    ).code.value == ("not_found")
    ing.add_ingredient(store, other_ctx, "Flour", unit="g")
    theirs = costs.update_cost(
        store, other_ctx, "flour", "3", per="kg", idempotency_key="k"
    )  # same key, own tenant
    assert not theirs.replayed and theirs.unit_cost == Decimal("0.003")
    assert _current(store, ctx, "Flour") == Decimal("0.002") and len(_events(store, other_ctx)) == 1


def test_the_ingredients_frame_shows_current_costs_and_aliases(
    store: Store, ctx: TenantContext, flour
) -> None:
    ing.add_ingredient(store, ctx, "Egg", unit="each")
    ing.add_alias(store, ctx, "egg", "eggs")
    ing.add_alias(store, ctx, "egg", "Large Egg")
    ing.add_ingredient(store, ctx, "Leek", unit="g", yield_pct=60)
    ing.delete_ingredient(store, ctx, "leek")
    costs.update_cost(store, ctx, "eggs", "3.60", per="dozen", idempotency_key="k")
    frame = costs.ingredients_frame(store, ctx)
    assert list(frame.columns) == costs.INGREDIENT_COLUMNS
    assert list(frame["name"]) == ["Egg", "Flour"]
    egg = frame.iloc[0].to_dict()
    assert (egg["unit"], egg["unit_cost"], egg["aliases"], egg["deleted"]) == (
        "each",
        Decimal("0.3"),
        "eggs; Large Egg",
        False,
    )
    assert frame.iloc[1]["unit_cost"] is None and frame.iloc[1]["aliases"] == ""
    everything = costs.ingredients_frame(store, ctx, include_deleted=True)
    assert list(everything["name"]) == ["Egg", "Flour", "Leek"] and list(everything["deleted"]) == [
        False,
        False,
        True,
    ]
    assert str(everything["effective_at"].dtype) == "datetime64[us, UTC]"


def test_current_costs_frame_lists_the_current_cost_per_ingredient(
    store: Store, ctx: TenantContext, flour
) -> None:
    costs.update_cost(
        store, ctx, "flour", "2", per="kg", idempotency_key="a", effective_at="2024-01-01"
    )
    costs.update_cost(store, ctx, "flour", "3", per="kg", idempotency_key="b")
    frame = costs.current_costs_frame(store, ctx)
    assert list(frame.columns) == costs.CURRENT_COLUMNS
    assert frame[["ingredient", "unit_cost"]].values.tolist() == [["Flour", Decimal("0.003")]]


def test_a_cost_change_reaches_the_recipes_using_it(
    store: Store, ctx: TenantContext, flour
) -> None:
    from mo.services import recipes

    save_bread(store, ctx)
    assert (
        costs.update_cost(store, ctx, "flour", "2.00", per="kg", idempotency_key="a").recomputed
        == 1
    )
    later = datetime.now(UTC) + timedelta(days=1)
    assert (
        costs.update_cost(
            store, ctx, "flour", "9.00", per="kg", idempotency_key="b", effective_at=later
        ).recomputed
        == 0
    )
    frame = recipes.recipes_frame(store, ctx)
    assert frame[["name", "total_cost"]].values.tolist() == [["Bread", Decimal(1)]]
