"""Frames analysts can compute on: both clients return identical frames, in both modes.

Every read method of both clients, on both backends, over one kitchen that gives each read rows
(money with more digits than a double holds, missing costs, an incomplete recipe, two cost
changes, a partial import): LocalClient and HttpClient frames are `assert_frame_equal`, dtypes
included. Decimal columns are float64 numbers by default (describe, sum, groupby, arithmetic
work) and Decimal objects with exact=True; the floats are the doubles nearest the exact values.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from client_fixtures import TENANT, api_keys, api_server  # noqa: F401  (fixtures)

import mo
from mo.client import frames
from mo.client.base import MOClient

# 26 significant digits: a double cannot hold it, so a float anywhere on the way would show.
LONG_PRICE = "12345678901234.123456789012"
SINCE = "2026-01-01T00:00:00Z"


def _kitchen(client: MOClient) -> dict[str, Any]:
    client.add_ingredient("Flour", unit="g")
    client.add_ingredient("Butter", unit="g", density="0.911", yield_pct="97.5")
    client.add_ingredient("Saffron", unit="g")  # never costed: its unit cost is missing
    client.update_cost("flour", LONG_PRICE, per="1 g", idempotency_key="f-1",
                       effective_at="2026-02-01T00:00:00Z")
    client.update_cost("flour", "20.00", per="25 kg", idempotency_key="f-2",
                       effective_at="2026-03-01T00:00:00Z", supplier="Mill")
    client.update_cost("butter", "4.40", per="500 g", idempotency_key="b-1",
                       effective_at="2026-02-01T00:00:00Z")
    partial = client.import_price_list(
        [{"item": "Butter", "price": "4.80", "pack": "500 g"},
         {"item": "Butter milk", "price": "free", "pack": "1 l"}],
        idempotency_key="p-1", supplier="Dairy", on_bad_rows="skip",
        effective_at="2026-04-01T00:00:00Z",
    )
    client.save_supplier("Mill", columns={"Description": "item"})
    client.add_conversion("butter", "1 each", "250 g", idempotency_key="c-1")
    client.save_recipe("Dough", yield_qty=3, yield_unit="kg", lines=[
        {"ingredient": "flour", "qty": "2", "unit": "kg"},
        {"ingredient": "butter", "qty": "1", "unit": "kg"},
    ])
    client.save_recipe("Tart", yield_qty=7, yield_unit="each", menu_price="4.50", lines=[
        {"recipe": "dough", "qty": "500", "unit": "g"},
    ])
    client.save_recipe("Paella", yield_qty=4, yield_unit="each", menu_price="18", lines=[
        {"ingredient": "saffron", "qty": "1", "unit": "g"},
        {"ingredient": "butter", "qty": "50", "unit": "g"},
    ])
    return {"batch_id": partial.batch_id}


# Every read method, called the same way on both clients.
READS: dict[str, Callable[[MOClient, dict[str, Any], bool], pd.DataFrame]] = {
    "ingredients": lambda c, k, e: c.ingredients(include_deleted=True, exact=e),
    "cost_history": lambda c, k, e: c.cost_history(exact=e),
    "imports": lambda c, k, e: c.imports(exact=e),
    "import_rejections": lambda c, k, e: c.import_rejections(k["batch_id"], exact=e),
    "suppliers": lambda c, k, e: c.suppliers(exact=e),
    "offers": lambda c, k, e: c.offers(exact=e),
    "conversions": lambda c, k, e: c.conversions(exact=e),
    "recipes": lambda c, k, e: c.recipes(include_deleted=True, exact=e),
    "recipe_history": lambda c, k, e: c.recipe_history("Tart", exact=e),
    "price_changes": lambda c, k, e: c.price_changes(since=SINCE, exact=e),
    "recipe_breakdown": lambda c, k, e: c.recipe_breakdown("Tart", exact=e),
    "explain_change": lambda c, k, e: c.explain_change("Tart", since=SINCE, exact=e),
    "what_if": lambda c, k, e: c.what_if({"butter": "+7.5%", "flour": "9.50/kg"}, exact=e),
    "events": lambda c, k, e: c.events(exact=e),
    "event_counts": lambda c, k, e: c.event_counts(window="3650d", exact=e),
    "sanity": lambda c, k, e: c.sanity(exact=e),
}


@pytest.fixture
def pair(
    db_url: str, api_server: Any, api_keys: dict[str, str]  # noqa: F811
) -> Iterator[tuple[MOClient, MOClient, dict[str, Any]]]:
    with (
        mo.LocalClient(TENANT, db_url=db_url) as local,
        mo.HttpClient(api_server.base_url, api_key=api_keys[TENANT]) as http,
    ):
        yield local, http, _kitchen(local)


def _read_methods() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(MOClient).items()
        if callable(member)
        and not name.startswith("_")
        and "DataFrame" in str(inspect.signature(member).return_annotation)
    }


def test_every_read_method_takes_a_keyword_only_exact_defaulting_to_false() -> None:
    reads = _read_methods()
    assert set(reads) == set(READS)  # a new read joins READS, so the parity test covers it
    for adapter in (mo.LocalClient, mo.HttpClient):
        for name in reads:
            exact = inspect.signature(getattr(adapter, name)).parameters.get("exact")
            assert exact is not None, f"{adapter.__name__}.{name} takes no exact"
            assert (exact.kind, exact.default) == (inspect.Parameter.KEYWORD_ONLY, False), name


def _decimal_columns(read: str) -> list[str]:
    return [name for name, kind in frames.READ_SCHEMAS[read] if kind == "decimal"]


@pytest.mark.parametrize("exact", [False, True], ids=["numbers", "exact"])
def test_both_clients_return_identical_frames_from_every_read(pair: Any, exact: bool) -> None:
    local, http, keys = pair
    for read, call in READS.items():
        ours, theirs = call(local, keys, exact), call(http, keys, exact)
        assert len(ours), f"{read} gave no rows: the comparison would prove nothing"
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True, obj=read)
        for name in _decimal_columns(read):
            if exact:
                assert ours[name].dtype == object, (read, name)
                assert all(v is None or isinstance(v, Decimal) for v in ours[name]), (read, name)
            else:
                assert ours[name].dtype == np.float64, (read, name)


def test_numbers_are_the_doubles_nearest_the_exact_values(pair: Any) -> None:
    local, http, keys = pair
    for read in ("ingredients", "cost_history", "recipes", "recipe_history", "price_changes"):
        exact = READS[read](http, keys, True)
        for client in (local, http):
            numbers = READS[read](client, keys, False)
            for name in _decimal_columns(read):
                expected = [np.nan if v is None else float(v) for v in exact[name]]
                # Equal bit for bit (NaN where the value is missing), not approximately.
                np.testing.assert_array_equal(numbers[name].to_numpy(), np.array(expected))
    history = local.cost_history(exact=True)
    assert Decimal(LONG_PRICE) in set(history["price"])  # exact, past what a double holds
    assert float(Decimal(LONG_PRICE)) in set(http.cost_history()["price"])


def test_describe_sum_groupby_and_arithmetic_work_on_money(pair: Any) -> None:
    local, http, _ = pair
    for client in (local, http):
        costs = client.recipes()
        summary = costs.describe()
        assert {"total_cost", "food_cost_pct", "unit_cost"} <= set(summary.columns)
        assert summary.loc["count", "food_cost_pct"] == 2  # Dough has no menu price
        assert costs["total_cost"].sum() > 0
        assert not costs.groupby("complete")["total_cost"].mean().empty
        assert (costs["total_cost"] * 2 / 3).notna().all()
        pd.testing.assert_frame_equal(summary, local.recipes().describe())


def test_a_missing_number_is_nan_in_every_decimal_column(pair: Any) -> None:
    local, http, _ = pair
    for client in (local, http):
        saffron = client.ingredients().set_index("name").loc["Saffron"]
        assert np.isnan(saffron["unit_cost"]) and np.isnan(saffron["density"])
        dough = client.recipes().set_index("name").loc["Dough"]
        assert np.isnan(dough["menu_price"]) and np.isnan(dough["food_cost_pct"])
        assert client.recipes(exact=True).set_index("name").loc["Dough", "menu_price"] is None
