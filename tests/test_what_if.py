"""recipes(as_of=...) and what_if(prices) (issue #19, items 2 and 3): costings that write
nothing. As-of totals equal the totals stored back then; what-if values, order and errors;
neither writes a row anywhere; on both backends and both clients, the two clients' frames
identical, dtypes included."""

# ruff: noqa: F811  (pytest fixtures are imported from client_fixtures, then requested by name)
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pandas as pd
from client_fixtures import TENANT, api_keys, api_server, error_of  # noqa: F401
from reliability_support import row_counts

import mo
from mo.client import MOClient
from mo.store import connect_store

if TYPE_CHECKING:
    from mo.api.server import BackgroundServer

NOW = datetime.now(UTC)
TWO_WEEKS_BACK, WEEK_BACK, DAYS_BACK = (NOW - timedelta(days=n) for n in (14, 7, 3))
WHAT_IF_COLUMNS = ["recipe", "total_cost", "new_total_cost", "change", "food_cost_pct",
                   "new_food_cost_pct", "complete"]


def d(text: str) -> Decimal:
    return Decimal(text)


def bakery(client: MOClient) -> None:
    """Flour 2/kg and butter 5/500 g two weeks back; Dough → Croissant (and Roux, butter and
    flour, with no menu price); Bread uses flour only."""
    client.add_ingredient("Flour", unit="g")
    client.add_ingredient("Butter", unit="g")
    client.add_ingredient("Salt", unit="g")
    client.update_cost("Flour", "2.00", per="1 kg", idempotency_key="f1",
                       effective_at=TWO_WEEKS_BACK)
    client.update_cost("Butter", "5.00", per="500 g", idempotency_key="b1",
                       effective_at=TWO_WEEKS_BACK)
    client.save_recipe("Dough", yield_qty=1, yield_unit="kg", lines=[
        {"ingredient": "Flour", "qty": 600, "unit": "g"},
        {"ingredient": "Butter", "qty": 400, "unit": "g"}])
    client.save_recipe("Croissant", yield_qty=10, yield_unit="each", menu_price="2.50", lines=[
        {"recipe": "Dough", "qty": 500, "unit": "g"}])
    client.save_recipe("Bread", yield_qty=1, yield_unit="each", menu_price="4", lines=[
        {"ingredient": "Flour", "qty": 500, "unit": "g"}])
    client.save_recipe("Roux", yield_qty=500, yield_unit="g", lines=[
        {"ingredient": "Butter", "qty": 250, "unit": "g"},
        {"ingredient": "Flour", "qty": 250, "unit": "g"}])


def _move_prices_since_a_week_back(client: MOClient) -> None:
    client.update_cost("Butter", "7.00", per="500 g", idempotency_key="b2", effective_at=DAYS_BACK)
    client.update_cost("Flour", "2.50", per="1 kg", idempotency_key="f2")


def _totals(frame: pd.DataFrame) -> dict[str, tuple[object, ...]]:
    columns = ["total_cost", "unit_cost", "food_cost_pct", "complete", "missing"]
    return {row.name: tuple(getattr(row, c) for c in columns) for row in frame.itertuples()}


# ------------------------------------------------------------------------------------ as of


def test_as_of_a_week_back_equals_the_totals_stored_then(client: MOClient) -> None:
    bakery(client)
    stored_then = client.recipes(exact=True)
    _move_prices_since_a_week_back(client)
    now = client.recipes(exact=True)
    assert _totals(now) != _totals(stored_then)  # the prices did move the stored costs
    week_back = client.recipes(exact=True, as_of=WEEK_BACK)
    assert _totals(week_back) == _totals(stored_then)  # exact Decimals
    assert list(week_back.columns) == list(now.columns)
    assert week_back.dtypes.equals(now.dtypes)
    assert (week_back["computed_at"] == pd.Timestamp(WEEK_BACK).floor("us")).all()
    soon = datetime.now(UTC) + timedelta(seconds=5)
    assert _totals(client.recipes(exact=True, as_of=soon)) == _totals(now)


def test_as_of_before_any_cost_lists_what_was_missing(client: MOClient) -> None:
    bakery(client)
    client.update_cost("Salt", "1", per="1 kg", idempotency_key="s1", effective_at=DAYS_BACK)
    client.save_recipe("Brine", yield_qty=1, yield_unit="each", lines=[
        {"ingredient": "Salt", "qty": 100, "unit": "g"},
        {"ingredient": "Flour", "qty": 1, "unit": "g"}])
    then = client.recipes(exact=True, as_of=WEEK_BACK).set_index("name")
    assert not then.loc["Brine", "complete"]
    assert then.loc["Brine", "missing"] == "Salt: no cost"
    assert then.loc["Bread", "complete"] and then.loc["Bread", "total_cost"] == d("1")
    month_back = client.recipes(exact=True, as_of=NOW - timedelta(days=30)).set_index("name")
    assert month_back.loc["Roux", "missing"] == "Butter: no cost; Flour: no cost"
    assert not month_back["complete"].any()


def test_as_of_refuses_bad_input(client: MOClient) -> None:
    bakery(client)
    bad = error_of(lambda: client.recipes(as_of="last tuesday"))
    assert (bad.code.value, bad.details.get("field")) == ("validation_error", "as_of")
    both = error_of(lambda: client.recipes(as_of=WEEK_BACK, include_deleted=True))
    assert (both.code.value, both.details.get("field")) == ("validation_error", "as_of")


# ----------------------------------------------------------------------------------- what if


def test_what_if_a_butter_rise_ranks_by_the_rise_in_food_cost(client: MOClient) -> None:
    bakery(client)
    frame = client.what_if({"butter": "+20%"}, exact=True)
    assert list(frame.columns) == WHAT_IF_COLUMNS
    # Butter 0.01/g → 0.012/g. Dough: 6 flour... 1.2 + 4 → 1.2 + 4.8; Croissant: half a dough
    # over 10 → 0.26 → 0.30 per piece; food cost 10.4% → 12%. Roux: 2.5 + 0.5 → 3 + 0.5.
    rows = {r.recipe: r for r in frame.itertuples()}
    assert set(rows) == {"Dough", "Croissant", "Roux"}  # Bread does not use butter
    assert (rows["Dough"].total_cost, rows["Dough"].new_total_cost, rows["Dough"].change) == (
        d("5.2"), d("6"), d("0.8"))
    assert (rows["Croissant"].food_cost_pct, rows["Croissant"].new_food_cost_pct) == (
        d("10.4"), d("12"))
    assert (rows["Roux"].total_cost, rows["Roux"].new_total_cost) == (d("3"), d("3.5"))
    # Only Croissant has a food-cost %; the others follow by the biggest change in total.
    assert list(frame["recipe"]) == ["Croissant", "Dough", "Roux"]
    assert frame["complete"].all()


def test_what_if_a_new_price_per_pack_and_a_fall(client: MOClient) -> None:
    bakery(client)
    frame = client.what_if({"Flour": "3.00/kg", "BUTTER": "-5%"}, exact=True).set_index("recipe")
    assert frame.loc["Bread", "new_total_cost"] == d("1.5")  # 500 g at 0.003
    assert frame.loc["Bread", "new_food_cost_pct"] == d("37.5")
    assert frame.loc["Roux", "new_total_cost"] == d("0.75") + d("2.375")
    assert list(frame.index) == ["Bread", "Croissant", "Dough", "Roux"]
    packed = client.what_if({"flour": "12/6 x 1 kg"}, exact=True).set_index("recipe")
    assert packed.loc["Bread", "new_total_cost"] == d("1")  # 2/kg: no change
    assert packed.loc["Bread", "change"] == d("0")


def test_what_if_refuses_bad_input_with_details(client: MOClient) -> None:
    bakery(client)
    unknown = error_of(lambda: client.what_if({"Buter": "+20%"}))
    assert unknown.code.value == "not_found"
    assert "Butter" in unknown.details["suggestions"]
    for text in ("+20", "twenty percent", "-100%", "9.50", "9.50/", "x/kg", "9.50/blorp"):
        err = error_of(lambda text=text: client.what_if({"Butter": text}))  # type: ignore[misc]
        assert err.code.value == "validation_error", text
        assert (err.details["field"], err.details["ingredient"], err.details["value"]) == (
            "prices", "Butter", text)
    no_cost = error_of(lambda: client.what_if({"Salt": "+10%"}))
    assert (no_cost.code.value, no_cost.details["ingredient"]) == ("validation_error", "Salt")
    for prices in ({}, ["Butter"], {"Butter": 20}):
        err = error_of(lambda prices=prices: client.what_if(prices))  # type: ignore[misc]
        assert (err.code.value, err.details["field"]) == ("validation_error", "prices")
    mismatch = error_of(lambda: client.what_if({"Butter": "3/l"}))
    assert mismatch.code.value == "unit_mismatch"


def test_neither_writes_a_row_anywhere(client: MOClient, db_url: str) -> None:
    bakery(client)
    _move_prices_since_a_week_back(client)
    with connect_store(db_url) as store:
        before = row_counts(store)
        client.what_if({"butter": "+20%", "flour": "9.50/kg"})
        client.recipes(as_of=WEEK_BACK)
        error_of(lambda: client.what_if({"butter": "+20%", "Nothing": "+1%"}))
        assert row_counts(store) == before


def test_both_clients_return_the_same_frames(
    db_url: str, api_server: BackgroundServer, api_keys: dict[str, str]  # noqa: F811
) -> None:
    with mo.LocalClient(TENANT, db_url=db_url) as local:
        bakery(local)
        _move_prices_since_a_week_back(local)
        client = mo.HttpClient(api_server.base_url, api_key=api_keys[TENANT])
        try:
            for exact in (False, True):  # floats, and exact Decimals
                for instant in (WEEK_BACK, NOW - timedelta(days=30)):
                    pd.testing.assert_frame_equal(client.recipes(as_of=instant, exact=exact),
                                                  local.recipes(as_of=instant, exact=exact))
                for prices in ({"butter": "+20%", "flour": "9.50/kg"}, {"salt": "1/kg"}):
                    pd.testing.assert_frame_equal(client.what_if(prices, exact=exact),
                                                  local.what_if(prices, exact=exact))
            empty = {"salt": "1/kg"}  # used by no recipe
            assert local.what_if(empty).empty
        finally:
            client.close()
