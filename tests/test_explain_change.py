"""explain_change (issue #19, item 1): one row per path to a leaf ingredient, contributions that
sum exactly to the change in total, a "(recipe changed)" row when the structure was edited in the
window, missing costs flagged; on both backends and both clients, the two clients' frames
identical, dtypes included."""

# ruff: noqa: F811  (pytest fixtures are imported from client_fixtures, then requested by name)
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from client_fixtures import (  # noqa: F401
    TENANT,
    api_keys,
    api_server,
    error_of,
    flour_and_butter_costs,
)

import mo
from mo.client import MOClient

if TYPE_CHECKING:
    from mo.api.server import BackgroundServer

JAN, JAN15, FEB, MAR = (
    datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 15, tzinfo=UTC),
    datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC),
)
COLUMNS = ["ingredient", "path", "qty", "unit", "old_unit_cost", "new_unit_cost",
           "contribution", "missing_cost"]


def d(text: str) -> Decimal:
    return Decimal(text)


def costed_basics(client: MOClient) -> None:
    """Flour 2 → 3 per kg and butter 5 → 6 per 500 g, from January to February."""
    flour_and_butter_costs(client, jan=JAN, feb=FEB)
    client.update_cost("Butter", "6.00", per="500 g", idempotency_key="b2", effective_at=FEB)


def pizza_diamond(client: MOClient) -> None:
    """Pizza uses Crust and Topping, both of which use Dough: a diamond."""
    costed_basics(client)
    client.save_recipe("Dough", yield_qty=1, yield_unit="kg", lines=[
        {"ingredient": "Flour", "qty": 800, "unit": "g"},
        {"ingredient": "Butter", "qty": 200, "unit": "g"}])
    client.save_recipe("Crust", yield_qty=1, yield_unit="each",
                       lines=[{"recipe": "Dough", "qty": 500, "unit": "g"}])
    client.save_recipe("Topping", yield_qty=1, yield_unit="each",
                       lines=[{"recipe": "Dough", "qty": 250, "unit": "g"}])
    client.save_recipe("Pizza", yield_qty=2, yield_unit="each", menu_price="12", lines=[
        {"recipe": "Crust", "qty": 1, "unit": "each"},
        {"recipe": "Topping", "qty": 1, "unit": "each"}])


def rows_of(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    return [tuple(None if pd.isna(v) else v for v in row)
            for row in frame.itertuples(index=False)]


def test_a_diamond_is_one_row_per_path_and_sums_exactly(client: MOClient) -> None:
    pizza_diamond(client)
    frame = client.explain_change("pizza", since=JAN15, until=MAR, exact=True)
    assert list(frame.columns) == COLUMNS
    assert rows_of(frame) == [
        ("Flour", "Pizza > Crust > Dough > Flour", d("400"), "g", d("0.002"), d("0.003"),
         d("0.4"), False),
        ("Butter", "Pizza > Crust > Dough > Butter", d("100"), "g", d("0.01"), d("0.012"),
         d("0.2"), False),
        ("Flour", "Pizza > Topping > Dough > Flour", d("200"), "g", d("0.002"), d("0.003"),
         d("0.2"), False),
        ("Butter", "Pizza > Topping > Dough > Butter", d("50"), "g", d("0.01"), d("0.012"),
         d("0.1"), False),
    ]
    # 0.75 kg of dough: 2.70 in January, 3.60 in February.
    assert sum(frame["contribution"]) == d("0.9")
    # Saved since February: the structure's row cannot be worked out (no stored total before).
    saved = client.explain_change("Pizza", since=FEB, exact=True)
    assert rows_of(saved)[-1] == ("(recipe changed)", "Pizza", None, None, None, None, None, True)
    # Nothing moved since the save: every contribution is exactly zero, no structure row.
    now = client.explain_change("Pizza", since=_instant_between(), exact=True)
    assert list(now["contribution"]) == [0, 0, 0, 0]
    stored = client.recipes(exact=True).set_index("name").loc["Pizza", "total_cost"]
    assert sum(now["qty"] * now["new_unit_cost"]) == stored


def test_waste_and_yield_are_inside_qty(client: MOClient) -> None:
    client.add_ingredient("Onion", unit="g", yield_pct="80")
    client.update_cost("Onion", "2.00", per="1 kg", idempotency_key="o1", effective_at=JAN)
    client.update_cost("Onion", "2.50", per="1 kg", idempotency_key="o2", effective_at=FEB)
    client.save_recipe("Soup", yield_qty=1, yield_unit="each",
                       lines=[{"ingredient": "Onion", "qty": 300, "unit": "g", "waste_pct": 25}])
    frame = client.explain_change("Soup", since=JAN15, until=MAR, exact=True)
    # 300 g edible after 25% waste and an 80% yield: 300 ÷ 0.8 ÷ 0.75 = 500 g bought.
    assert rows_of(frame) == [("Onion", "Soup > Onion", d("500"), "g", d("0.002"), d("0.0025"),
                               d("0.25"), False)]
    # The costing rounds its rate (0.0025 ÷ 0.8 ÷ 0.75) to 12 places; qty × unit cost does not.
    stored = client.recipes(exact=True)["total_cost"][0]
    assert abs(frame["qty"][0] * frame["new_unit_cost"][0] - stored) < d("1e-9")


def test_a_recipe_edited_in_the_window_gets_a_row_for_the_rest(client: MOClient) -> None:
    client.add_ingredient("Flour", unit="g")
    client.add_ingredient("Butter", unit="g")
    client.update_cost("Flour", "2.00", per="1 kg", idempotency_key="f1", effective_at=JAN)
    client.update_cost("Butter", "5.00", per="500 g", idempotency_key="b1", effective_at=JAN)
    lines = [{"ingredient": "Flour", "qty": 800, "unit": "g"},
             {"ingredient": "Butter", "qty": 200, "unit": "g"}]
    client.save_recipe("Dough", yield_qty=1, yield_unit="kg", lines=lines)
    client.save_recipe("Bread", yield_qty=1, yield_unit="each",
                       lines=[{"recipe": "Dough", "qty": 1, "unit": "kg"}])
    before = _instant_between()
    client.update_cost("Flour", "3.00", per="1 kg", idempotency_key="f2")
    lines[0] = {"ingredient": "Flour", "qty": 900, "unit": "g"}
    client.save_recipe("Dough", yield_qty=1, yield_unit="kg", lines=lines)  # a sub edited
    frame = client.explain_change("Bread", since=before, exact=True)
    assert rows_of(frame) == [
        ("Flour", "Bread > Dough > Flour", d("900"), "g", d("0.002"), d("0.003"), d("0.9"), False),
        ("Butter", "Bread > Dough > Butter", d("200"), "g", d("0.01"), d("0.01"), d("0"), False),
        # Stored 3.60 then 4.70: the 100 g more flour, at the old price, is the structure's part.
        ("(recipe changed)", "Bread", None, None, None, None, d("0.2"), False),
    ]
    history = client.recipe_history("Bread", exact=True)["total_cost"]
    assert sum(frame["contribution"]) == history.iloc[-1] - history.iloc[0] == d("1.1")
    # The same window before the edit has no such row.
    assert RECIPE_CHANGED not in set(client.explain_change("Bread", since=JAN, until=JAN15, exact=True)
                                     ["ingredient"])


RECIPE_CHANGED = "(recipe changed)"


def _instant_between() -> datetime:
    # The clocks of the database and of this process are the same machine's; a few ms either
    # side keep the instant strictly between the writes before and after it.
    time.sleep(0.02)
    instant = datetime.now(UTC)
    time.sleep(0.02)
    return instant


def test_a_missing_cost_is_flagged_never_zero(client: MOClient) -> None:
    costed_basics(client)
    client.add_ingredient("Salt", unit="g")
    client.add_ingredient("Yeast", unit="g")
    client.update_cost("Salt", "1.00", per="1 kg", idempotency_key="s1", effective_at=FEB)
    client.save_recipe("Dough", yield_qty=1, yield_unit="kg", lines=[
        {"ingredient": "Flour", "qty": 800, "unit": "g"},
        {"ingredient": "Salt", "qty": 20, "unit": "g"},
        {"ingredient": "Yeast", "qty": 10, "unit": "g"}])
    frame = client.explain_change("Dough", since=JAN15, until=MAR, exact=True)
    assert rows_of(frame) == [
        ("Flour", "Dough > Flour", d("800"), "g", d("0.002"), d("0.003"), d("0.8"), False),
        ("Salt", "Dough > Salt", d("20"), "g", None, d("0.001"), None, True),
        ("Yeast", "Dough > Yeast", d("10"), "g", None, None, None, True),
    ]
    assert str(frame["missing_cost"].dtype) == "boolean"


def test_unknown_recipe_and_bad_windows(client: MOClient) -> None:
    pizza_diamond(client)
    assert error_of(lambda: client.explain_change("Calzone", since=JAN, exact=True)).code == "not_found"
    inverted = error_of(lambda: client.explain_change("Pizza", since=MAR, until=JAN, exact=True))
    assert inverted.code == "validation_error"
    assert error_of(lambda: client.explain_change("Pizza", since=MAR, until=MAR, exact=True)).code == (
        "validation_error")
    future = datetime.now(UTC) + timedelta(days=30)
    assert error_of(lambda: client.explain_change("Pizza", since=future, exact=True)).code == (
        "validation_error")
    bad = error_of(lambda: client.explain_change("Pizza", since="next tuesday", exact=True))
    assert (bad.code, bad.details.get("field")) == ("validation_error", "since")


def test_both_clients_return_the_same_frame(
    db_url: str, api_server: BackgroundServer, api_keys: dict[str, str]  # noqa: F811
) -> None:
    with mo.LocalClient(TENANT, db_url=db_url) as local:
        pizza_diamond(local)
        client = mo.HttpClient(api_server.base_url, api_key=api_keys[TENANT])
        try:
            for since, until in ((JAN15, MAR), (FEB, None), (_instant_between(), None)):
                pd.testing.assert_frame_equal(
                    local.explain_change("Pizza", since=since, until=until, exact=True),
                    client.explain_change("Pizza", since=since, until=until, exact=True))
        finally:
            client.close()


def test_contributions_are_exact_past_the_default_decimal_precision(client: MOClient) -> None:
    # qty 14109346.426806857142 g (12345678.123456 g at 12.5% waste) × a third of a cent: 32
    # significant digits, more than Python's default 28, which would round them.
    client.add_ingredient("Saffron", unit="g")
    client.update_cost("Saffron", "1", per="3 g", idempotency_key="s1", effective_at=JAN)
    client.update_cost("Saffron", "2", per="3 g", idempotency_key="s2", effective_at=FEB)
    client.save_recipe("Paella", yield_qty=1, yield_unit="each", lines=[
        {"ingredient": "Saffron", "qty": "12345678.123456", "unit": "g", "waste_pct": "12.5"}])
    row = client.explain_change("Paella", since=JAN15, until=MAR, exact=True).iloc[0]
    assert row["qty"] == d("14109346.426806857142")  # exact_div truncates at 12 places
    assert (row["old_unit_cost"], row["new_unit_cost"]) == (d("0.333333333333"),
                                                            d("0.666666666667"))
    # 14109346.426806857142 × 0.333333333334, worked out to the last digit.
    assert row["contribution"] == d("4703115.475611691944951204571428")


def test_too_many_paths_are_refused_not_listed(client: MOClient) -> None:
    # Each level uses the one below twice: 2^17 = 131072 paths to the flour, past the limit;
    # the count is one row per sub and step, so refusing costs nothing like listing them.
    client.add_ingredient("Flour", unit="g")
    client.save_recipe("L0", yield_qty=1, yield_unit="each",
                       lines=[{"ingredient": "Flour", "qty": 1, "unit": "g"}])
    for level in range(1, 18):
        below = {"recipe": f"L{level - 1}", "qty": 1, "unit": "each"}
        client.save_recipe(f"L{level}", yield_qty=1, yield_unit="each", lines=[below, below])
    err = error_of(lambda: client.explain_change("L17", since=JAN, exact=True))
    assert (err.code, err.details.get("paths_over")) == ("validation_error", 100_000)
    assert len(client.explain_change("L10", since=JAN, until=FEB, exact=True)) == 2**10


def test_the_recipe_must_be_text_and_another_tenants_is_unknown(
    client: MOClient, other_client: MOClient
) -> None:
    pizza_diamond(client)
    assert error_of(lambda: client.explain_change(7, since=JAN, exact=True)).code == (  # type: ignore[arg-type]
        "validation_error")
    assert error_of(lambda: other_client.explain_change("Pizza", since=JAN, exact=True)).code == "not_found"
