"""recipe_history and price_changes (issue #19, items 2b and 4): values exact against what was
written, order, window bounds, not_found, tenant walls; on both backends and both clients, and
the two clients' frames identical, dtypes included."""

# ruff: noqa: F811  (pytest fixtures are imported from client_fixtures, then requested by name)
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal

import pandas as pd
import pytest
from client_fixtures import (  # noqa: F401
    OTHER_TENANT,
    TENANT,
    api_keys,
    api_server,
    error_of,
    flour_and_butter_costs,
)

import mo
from mo.client import MOClient

JAN, FEB, FEB15, MAR, MAR15 = (
    datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC),
    datetime(2024, 2, 15, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC),
    datetime(2024, 3, 15, tzinfo=UTC),
)


def butter_list(price: str) -> pd.DataFrame:
    return pd.DataFrame({"item": ["Butter"], "price": [price], "pack": ["500 g"]})


def dough_history(client: MOClient) -> None:
    """Flour costed, Dough saved (butter missing), butter costed, flour dearer, butter
    imported dearer, Dough edited: five recomputes of Dough."""
    client.add_ingredient("Flour", unit="g")
    client.add_ingredient("Butter", unit="g")
    client.update_cost("Flour", "2.00", per="1 kg", idempotency_key="f1")
    lines = [{"ingredient": "Flour", "qty": 500, "unit": "g"},
             {"ingredient": "Butter", "qty": 100, "unit": "g"}]
    client.save_recipe("Dough", yield_qty=2, yield_unit="each", lines=lines, menu_price="4")
    client.update_cost("Butter", "5.00", per="500 g", idempotency_key="b1")
    client.update_cost("Flour", "3.00", per="1 kg", idempotency_key="f2")
    client.import_price_list(butter_list("6.00"), idempotency_key="i1", supplier="Metro")
    lines[0] = {"ingredient": "Flour", "qty": 1000, "unit": "g"}
    client.save_recipe("Dough", yield_qty=4, yield_unit="each", lines=lines, menu_price="5")


def cost_moves(client: MOClient) -> None:
    """Flour 2 → 3 → 2.40 per kg (Jan, Feb, Mar), butter 5 per 500 g in Jan, 6 by import mid-Feb."""
    flour_and_butter_costs(client, jan=JAN, feb=FEB)
    client.import_price_list(butter_list("6.00"), idempotency_key="i1", supplier="Metro",
                             effective_at=FEB15)
    client.update_cost("Flour", "2.40", per="1 kg", idempotency_key="f3", effective_at=MAR,
                       supplier="Bakers")
    client.update_cost("Flour", "2.40", per="1 kg", idempotency_key="f4", effective_at=MAR15)


def d(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def test_recipe_history_is_the_stored_cost_after_each_change(client: MOClient) -> None:
    dough_history(client)
    frame = client.recipe_history("dough", exact=True)  # names match as everywhere: case-insensitively
    assert list(frame.columns) == ["at", "total_cost", "unit_cost", "food_cost_pct", "complete",
                                   "cause"]
    assert frame["at"].is_monotonic_increasing
    rows = [(r.total_cost, r.unit_cost, r.food_cost_pct, bool(r.complete), r.cause)
            for r in frame.itertuples()]
    assert rows == [
        (d("1"), d("0.5"), d("12.5"), False, "recipe.saved"),
        (d("2"), d("1"), d("25"), True, "ingredient.cost.updated"),
        (d("2.5"), d("1.25"), d("31.25"), True, "ingredient.cost.updated"),
        (d("2.7"), d("1.35"), d("33.75"), True, "import.completed"),
        (d("4.2"), d("1.05"), d("21"), True, "recipe.saved"),  # at the new yield and price
    ]
    # The last row is what recipes() stores now.
    now = client.recipes(exact=True).set_index("name").loc["Dough"]
    assert (now["total_cost"], now["unit_cost"], now["food_cost_pct"]) == rows[-1][:3]


def test_recipe_history_of_an_unknown_recipe_is_not_found(client: MOClient) -> None:
    dough_history(client)
    err = error_of(lambda: client.recipe_history("Dogh"))
    assert err.code == "not_found"
    assert "Dough" in str(err.details)


def test_price_changes_in_a_window_biggest_first(client: MOClient) -> None:
    cost_moves(client)
    frame = client.price_changes(since=FEB, until=MAR15, exact=True)
    rows = [(r.ingredient, r.old_unit_cost, r.new_unit_cost, r.change_pct, r.effective_at,
             r.source, None if pd.isna(r.supplier) else r.supplier) for r in frame.itertuples()]
    assert rows == [
        ("Flour", d("0.002"), d("0.003"), d("50"), pd.Timestamp(FEB), "manual", None),
        ("Butter", d("0.01"), d("0.012"), d("20"), pd.Timestamp(FEB15), "import", "Metro"),
        ("Flour", d("0.003"), d("0.0024"), d("-20"), pd.Timestamp(MAR), "manual", "Bakers"),
    ]
    assert frame["batch_id"].notna().tolist() == [False, True, False]


def test_price_changes_window_is_half_open(client: MOClient) -> None:
    cost_moves(client)
    # since included, until excluded; a repeated cost (Mar 15) is no change.
    assert client.price_changes(since=FEB15, until=MAR)["ingredient"].tolist() == ["Butter"]
    assert client.price_changes(since=MAR)["ingredient"].tolist() == ["Flour"]
    # First costs have no old cost and come last.
    everything = client.price_changes(since=JAN)
    assert everything["old_unit_cost"].isna().tolist() == [False] * 3 + [True] * 2
    assert everything["change_pct"].isna().tolist() == [False] * 3 + [True] * 2


PLACES = Decimal("1E-12")  # change_pct is exact_div's: truncated to 12 places


def change_rows(frame: pd.DataFrame) -> list[tuple]:
    return [(r.ingredient, None if pd.isna(r.supplier) else r.supplier, r.old_unit_cost,
             r.new_unit_cost, r.change_pct, r.effective_at, r.source) for r in frame.itertuples()]


def test_price_changes_follow_the_preferred_supplier(client: MOClient) -> None:
    """Metro preferred: FreshCo's cheaper and moving prices are never chosen, so no row; Metro
    re-listing its price is no row; Metro's own move is one, from import."""
    client.add_ingredient("Flour", unit="g")
    client.set_cost_policy("Flour", "preferred", supplier="Metro", idempotency_key="p")
    client.update_cost("Flour", "2.00", per="1 kg", supplier="Metro", idempotency_key="m1",
                       effective_at=JAN)
    client.update_cost("Flour", "1.80", per="1 kg", supplier="FreshCo", idempotency_key="f1",
                       effective_at=JAN.replace(day=2))
    client.update_cost("Flour", "1.50", per="1 kg", supplier="FreshCo", idempotency_key="f2",
                       effective_at=FEB)
    client.update_cost("Flour", "2.00", per="1 kg", supplier="Metro", idempotency_key="m2",
                       effective_at=FEB15)
    client.import_price_list(pd.DataFrame({"item": ["Flour"], "price": ["2.50"],
                                           "pack": ["1 kg"]}),
                             idempotency_key="m3", supplier="Metro", effective_at=MAR)
    assert len(client.cost_history("Flour")) == 5  # every offer was written
    frame = client.price_changes(since=FEB, exact=True)
    assert change_rows(frame) == [
        ("Flour", "Metro", d("0.002"), d("0.0025"), d("25"), pd.Timestamp(MAR), "import"),
    ]
    assert frame["batch_id"].notna().tolist() == [True]
    assert change_rows(client.price_changes(since=JAN, exact=True))[1] == (
        "Flour", "Metro", None, d("0.002"), None, pd.Timestamp(JAN), "manual")


def test_price_changes_follow_lowest_when_an_offer_goes_stale(client: MOClient) -> None:
    """Under "lowest" Alpha's 1.00 stops competing when Beta lists 1.20 45 days later: the
    chosen cost moves with no change of Alpha's price, and that is the row."""
    client.add_ingredient("Flour", unit="g")
    client.set_cost_policy("Flour", "lowest", idempotency_key="p")
    client.update_cost("Flour", "1.00", per="1 kg", supplier="Alpha", idempotency_key="a1",
                       effective_at=JAN)
    client.update_cost("Flour", "1.20", per="1 kg", supplier="Beta", idempotency_key="b1",
                       effective_at=FEB15)
    client.update_cost("Flour", "1.00", per="1 kg", supplier="Alpha", idempotency_key="a2",
                       effective_at=MAR)  # re-listed: fresh again, and the cheapest
    fall = -(Decimal("0.0002") * 100 / Decimal("0.0012")).quantize(PLACES, rounding=ROUND_DOWN)
    assert change_rows(client.price_changes(since=FEB, exact=True)) == [
        ("Flour", "Beta", d("0.001"), d("0.0012"), d("20"), pd.Timestamp(FEB15), "manual"),
        ("Flour", "Alpha", d("0.0012"), d("0.001"), fall, pd.Timestamp(MAR), "manual"),
    ]


def test_price_changes_refuses_an_inverted_window(client: MOClient) -> None:
    err = error_of(lambda: client.price_changes(since=MAR, until=FEB))
    assert err.code == "validation_error"
    err = error_of(lambda: client.price_changes(since="not a time"))
    assert err.code == "validation_error"


def test_another_tenants_history_never_shows(client: MOClient, other_client: MOClient) -> None:
    cost_moves(other_client)
    other_client.save_recipe("Dough", yield_qty=1, yield_unit="each",
                             lines=[{"ingredient": "Flour", "qty": 100, "unit": "g"}])
    assert client.price_changes(since=JAN).empty
    assert error_of(lambda: client.recipe_history("Dough")).code == "not_found"
    dough_history(client)
    assert len(client.recipe_history("Dough")) == 5
    assert len(other_client.recipe_history("Dough")) == 1
    assert len(other_client.price_changes(since=JAN)) == 5
    assert client.price_changes(since=JAN)["effective_at"].min() > pd.Timestamp(MAR15)


def test_both_clients_return_identical_frames(
    db_url: str, api_server: object, api_keys: dict[str, str]  # noqa: F811
) -> None:
    local = mo.LocalClient(TENANT, db_url=db_url)
    http = mo.HttpClient(api_server.base_url, api_key=api_keys[TENANT])  # type: ignore[attr-defined]
    try:
        cost_moves(local)
        local.save_recipe("Dough", yield_qty=2, yield_unit="each", menu_price="3",
                          lines=[{"ingredient": "Butter", "qty": 100, "unit": "g"}])
        for exact in (False, True):
            for read in (lambda c: c.recipe_history("Dough", exact=exact),
                         lambda c: c.price_changes(since=JAN, exact=exact),
                         lambda c: c.price_changes(since=FEB, until=MAR, exact=exact)):
                pd.testing.assert_frame_equal(read(local), read(http))
    finally:
        local.close()
        http.close()
