"""Offers, cost policies and per-ingredient conversions, on DuckDB and PostgreSQL, through
LocalClient and HttpClient: which supplier's price an ingredient's cost follows, the events a
move of that choice writes, and packs in another unit priced through a conversion.

Recipe totals follow the chosen offer and the conversions (tests at the end; the exact model
with random suppliers, policies and conversions is tests/test_costing_property.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import count

import pandas as pd
import pytest
from client_fixtures import (  # noqa: F401
    api_keys,
    api_server,
    client,
    connect_as,
    error_of,
    mode,
    other_client,
)

from mo.client import MOClient
from mo.domain.conversions import Conversion, conversion_factor
from mo.errors import ErrorCode

_keys = count()


def key() -> str:
    return f"k{next(_keys)}"


def _import(client: MOClient, supplier: str, price: str, *, item: str = "flour",
            pack: str = "10 kg", at: datetime | None = None) -> None:
    rows = [{"item": item, "price": price, "pack": pack, "sku": f"{supplier[:1]}-1"}]
    client.import_price_list(rows, supplier=supplier, idempotency_key=key(), effective_at=at)


def _chosen(client: MOClient, ingredient: str = "flour") -> tuple[str | None, Decimal]:
    offers = client.offers(ingredient, exact=True)
    picked = offers[offers["chosen"]]
    assert len(picked) == 1, offers
    return picked["supplier"].iloc[0], picked["unit_cost"].iloc[0]


def _cost_events(client: MOClient) -> list[dict]:
    frame = client.events(types=["ingredient.cost.updated"])
    return [json.loads(p) for p in frame["payload"]]


def _row(client: MOClient, name: str = "flour") -> pd.Series:
    frame = client.ingredients(exact=True)
    return frame[frame["name"] == name].iloc[0]


# ---- offers and policies --------------------------------------------------------------------


def test_latest_follows_whichever_list_arrived_last(client: MOClient) -> None:
    client.add_ingredient("flour", unit="g")
    _import(client, "Metro", "10")
    _import(client, "FreshCo", "12")
    assert _chosen(client) == ("FreshCo", Decimal("0.0012"))
    offers = client.offers(exact=True)
    assert list(offers["supplier"]) == ["FreshCo", "Metro"]
    assert list(offers["sku"]) == ["F-1", "M-1"]
    assert list(offers["price"]) == [Decimal("12"), Decimal("10")]
    row = _row(client)
    assert (row["cost_policy"], row["cost_supplier"]) == ("latest", "FreshCo")
    assert [e["supplier"] for e in _cost_events(client)] == ["Metro", "FreshCo"]


def test_preferred_supplier_holds_whatever_order_the_lists_arrive_in(client: MOClient) -> None:
    client.add_ingredient("flour", unit="g")
    _import(client, "Metro", "10")
    _import(client, "FreshCo", "12")
    record = client.set_cost_policy("flour", "preferred", supplier="Metro", idempotency_key=key())
    assert (record.policy, record.cost_supplier, record.unit_cost) == ("preferred", "Metro",
                                                                      Decimal("0.001"))
    assert record.changed
    events = _cost_events(client)
    assert events[-1]["supplier"] == "Metro" and events[-1]["new_unit_cost"] == "0.001"
    before = len(events)
    _import(client, "FreshCo", "9")  # cheaper, newer: not Metro, so the choice stays
    assert _chosen(client) == ("Metro", Decimal("0.001"))
    assert len(_cost_events(client)) == before  # the offer is kept, no cost event
    assert client.cost_history("flour")["supplier"].iloc[-1] == "FreshCo"
    _import(client, "Metro", "11")
    assert _chosen(client) == ("Metro", Decimal("0.0011"))
    assert _cost_events(client)[-1]["supplier"] == "Metro"
    row = _row(client)
    assert (row["cost_policy"], row["preferred_supplier"], row["cost_supplier"]) == (
        "preferred", "Metro", "Metro")
    assert row["unit_cost"] == Decimal("0.0011") and pd.isna(row["cost_note"])


def test_a_preferred_supplier_without_an_offer_falls_back_to_the_latest(client: MOClient) -> None:
    client.add_ingredient("flour", unit="g")
    _import(client, "Metro", "10")
    _import(client, "FreshCo", "12")
    record = client.set_cost_policy("flour", "preferred", supplier="Bidfood",
                                    idempotency_key=key())
    assert record.cost_supplier == "FreshCo" and not record.changed
    row = _row(client)
    assert row["cost_supplier"] == "FreshCo"
    assert row["cost_note"] == "Bidfood has no current offer: the latest offer is used"


def test_lowest_picks_the_cheapest_current_offer(client: MOClient) -> None:
    client.add_ingredient("flour", unit="g")
    _import(client, "Metro", "10")
    _import(client, "FreshCo", "12")
    record = client.set_cost_policy("flour", "lowest", idempotency_key=key())
    assert (record.cost_supplier, record.changed) == ("Metro", True)
    _import(client, "FreshCo", "11")  # still dearer: no move, no event
    count_before = len(_cost_events(client))
    _import(client, "FreshCo", "10.5")
    assert len(_cost_events(client)) == count_before
    _import(client, "FreshCo", "8")
    assert _chosen(client) == ("FreshCo", Decimal("0.0008"))
    assert _cost_events(client)[-1]["supplier"] == "FreshCo"


def test_lowest_ignores_an_offer_older_than_30_days_before_the_newest(client: MOClient) -> None:
    client.add_ingredient("flour", unit="g")
    now = datetime.now(UTC)
    _import(client, "Metro", "5", at=now - timedelta(days=45))
    _import(client, "FreshCo", "12", at=now - timedelta(days=10))
    client.set_cost_policy("flour", "lowest", idempotency_key=key())
    assert _chosen(client) == ("FreshCo", Decimal("0.0012"))  # Metro's is 35 days older
    _import(client, "Metro", "6", at=now - timedelta(days=35))  # 25 days older: competes
    assert _chosen(client) == ("Metro", Decimal("0.0006"))


def _roux_under_lowest(client: MOClient) -> None:
    """flour under "lowest", used by a recipe, so a move of its cost would recompute it."""
    client.add_ingredient("flour", unit="g")
    client.add_ingredient("sugar", unit="g")
    client.set_cost_policy("flour", "lowest", idempotency_key=key())
    client.save_recipe("Roux", yield_qty=1, yield_unit="each",
                       lines=[{"ingredient": "flour", "qty": 100, "unit": "g"}])


def test_lowest_keeps_a_supplier_that_relists_the_same_price_weekly(client: MOClient) -> None:
    """Alpha lists flour at 1.00/kg every week for six weeks, Beta at 1.20/kg an hour later.
    Each re-listing is written with its week's time, so Alpha's offer never goes stale (36 days
    after its first list it would have); none moves the chosen cost: no cost event for flour,
    no recompute."""
    _roux_under_lowest(client)
    start = datetime.now(UTC) - timedelta(weeks=6)
    for week in range(6):
        at = start + timedelta(weeks=week)
        alpha = client.import_price_list(
            [{"item": "flour", "price": "10", "pack": "10 kg", "sku": "A-1"},
             {"item": "sugar", "price": f"{20 + week}", "pack": "10 kg", "sku": "A-2"}],
            supplier="Alpha", idempotency_key=key(), effective_at=at,
        )
        beta = client.import_price_list(  # sugar moves too: not the same list as last week's
            [{"item": "flour", "price": "12", "pack": "10 kg", "sku": "B-1"},
             {"item": "sugar", "price": f"{30 + week}", "pack": "10 kg", "sku": "B-2"}],
            supplier="Beta", idempotency_key=key(), effective_at=at + timedelta(hours=1),
        )
        if week:  # flour unchanged, sugar dearer: one of each, and nothing to recompute
            for batch in (alpha, beta):
                assert (batch.changed, batch.unchanged, batch.recomputed) == (1, 1, 0)
    assert _chosen(client) == ("Alpha", Decimal("0.001"))
    offers = client.offers("flour")
    alpha_at = offers.loc[offers["supplier"] == "Alpha", "effective_at"].iloc[0]
    assert alpha_at == pd.Timestamp(start + timedelta(weeks=5)).floor("us")
    flour_moves = [e for e in _cost_events(client) if e["ingredient"] == "flour"]
    assert [(e["supplier"], e["new_unit_cost"]) for e in flour_moves] == [("Alpha", "0.001")]
    causes = client.events(types=["recipe.recomputed"])["payload"].map(json.loads)
    assert [c["cause"] for c in causes] == ["recipe.saved", "import.completed"]


def test_lowest_keeps_a_cost_update_that_repeats_its_price(client: MOClient) -> None:
    """The same rule through update_cost: the same price and supplier again is a re-listing."""
    _roux_under_lowest(client)
    start = datetime.now(UTC) - timedelta(weeks=6)
    for week in range(6):
        at = start + timedelta(weeks=week)
        alpha = client.update_cost("flour", "10", per="10 kg", supplier="Alpha",
                                   idempotency_key=key(), effective_at=at)
        client.update_cost("flour", "12", per="10 kg", supplier="Beta", idempotency_key=key(),
                           effective_at=at + timedelta(hours=1))
        assert alpha.cost_id is not None and alpha.changed == (week == 0)
    assert _chosen(client) == ("Alpha", Decimal("0.001"))
    assert [e["supplier"] for e in _cost_events(client)] == ["Alpha"]
    assert len(client.events(types=["recipe.recomputed"])) == 2  # saved, then Alpha's first


def test_policy_input_is_checked_and_nothing_is_written(client: MOClient) -> None:
    client.add_ingredient("flour", unit="g")
    err = error_of(lambda: client.set_cost_policy("flour", "preferred", idempotency_key=key()))
    assert (err.code, err.details["field"]) == (ErrorCode.VALIDATION_ERROR, "supplier")
    err = error_of(lambda: client.set_cost_policy("flour", "cheapest", idempotency_key=key()))
    assert (err.code, err.details["field"]) == (ErrorCode.VALIDATION_ERROR, "policy")
    err = error_of(lambda: client.set_cost_policy("flour", "lowest", supplier="Metro",
                                                  idempotency_key=key()))
    assert err.code is ErrorCode.VALIDATION_ERROR
    err = error_of(lambda: client.set_cost_policy("rye", "lowest", idempotency_key=key()))
    assert err.code is ErrorCode.NOT_FOUND
    assert _row(client)["cost_policy"] == "latest"
    assert client.events(types=["ingredient.cost_policy.set"]).empty


def test_the_new_writes_replay_on_their_key(client: MOClient) -> None:
    client.add_ingredient("lemon", unit="g")
    client.update_cost("lemon", "30", per="10 kg", idempotency_key="c1", supplier="Metro")
    first = client.set_cost_policy("lemon", "lowest", idempotency_key="p1")
    again = client.set_cost_policy("lemon", "lowest", idempotency_key="p1")
    assert again.replayed and not first.replayed and again.policy == first.policy
    saved = client.add_conversion("lemon", "1 each", "120 g", idempotency_key="a1")
    replay = client.add_conversion("lemon", "1 each", "120 g", idempotency_key="a1")
    assert replay.replayed and replay.id == saved.id
    err = error_of(lambda: client.add_conversion("lemon", "1 each", "100 g",
                                                 idempotency_key="a1"))
    assert err.code is ErrorCode.IDEMPOTENCY_CONFLICT
    gone = client.delete_conversion("lemon", "each", idempotency_key="d1")
    assert client.delete_conversion("lemon", "each", idempotency_key="d1").replayed
    assert gone.deleted and client.conversions().empty
    assert len(client.events(types=["ingredient.conversion.saved"])) == 1
    assert len(client.events(types=["ingredient.conversion.deleted"])) == 1
    assert len(client.events(types=["ingredient.cost_policy.set"])) == 1


# ---- conversions --------------------------------------------------------------------------------


def test_conversions_are_listed_replaced_per_pair_and_deleted(client: MOClient) -> None:
    for name in ("lemon", "parsley", "honey"):
        client.add_ingredient(name, unit="g")
    client.add_conversion("lemon", "1 each", "120 g", idempotency_key=key())
    client.add_conversion("parsley", "1 bunch", "60 g", idempotency_key=key())
    client.add_conversion("honey", "1 cup", "340 g", idempotency_key=key())
    replaced = client.add_conversion("lemon", "2 each", "250 g", idempotency_key=key())
    assert replaced.replaced
    frame = client.conversions()
    assert list(zip(frame["ingredient"], frame["from_qty"], frame["to_qty"], strict=True)) == [
        ("honey", "1 cup", "340 g"), ("lemon", "2 each", "250 g"), ("parsley", "1 bunch", "60 g")]
    assert list(client.conversions("lemon")["to_unit"]) == ["g"]
    client.delete_conversion("lemon", "each", idempotency_key=key())
    assert list(client.conversions()["ingredient"]) == ["honey", "parsley"]
    err = error_of(lambda: client.delete_conversion("lemon", "each", idempotency_key=key()))
    assert err.code is ErrorCode.NOT_FOUND
    err = error_of(lambda: client.add_conversion("lemon", "1 kg", "1000 g",
                                                 idempotency_key=key()))
    assert err.code is ErrorCode.VALIDATION_ERROR
    err = error_of(lambda: client.add_conversion("lemon", "abc", "120 g", idempotency_key=key()))
    assert err.code is ErrorCode.VALIDATION_ERROR


def test_a_number_10_can_prices_a_gram_ingredient_by_cost_update(client: MOClient) -> None:
    client.add_ingredient("crushed tomatoes", unit="g")
    err = error_of(lambda: client.update_cost("crushed tomatoes", "30", per="6/#10 CAN",
                                              idempotency_key=key()))
    assert err.code is ErrorCode.UNIT_MISMATCH
    assert "add_conversion('crushed tomatoes', '1 each', '… g')" in err.message
    assert client.cost_history().empty
    client.add_conversion("crushed tomatoes", "1 #10 can", "2.84 kg", idempotency_key=key())
    update = client.update_cost("crushed tomatoes", "30", per="6/#10 CAN", idempotency_key=key())
    exact = Fraction(30) / (6 * 2840)
    assert update.unit_cost == Decimal("0.001760563380")  # 30 / 17040 g to 12 places
    assert abs(Fraction(update.unit_cost) - exact) < Fraction(1, 10**12)


def test_a_number_10_can_prices_a_gram_ingredient_by_price_list(client: MOClient) -> None:
    client.add_ingredient("crushed tomatoes", unit="g")
    err = error_of(lambda: _import(client, "Metro", "30", item="crushed tomatoes",
                                   pack="6/#10 CAN"))
    assert err.code is ErrorCode.VALIDATION_ERROR
    assert "add_conversion('crushed tomatoes', '1 each', '… g')" in err.details["rows"][0]["problem"]
    client.add_conversion("crushed tomatoes", "1 #10 can", "2.84 kg", idempotency_key=key())
    _import(client, "Metro", "30", item="crushed tomatoes", pack="6/#10 CAN")
    assert _row(client, "crushed tomatoes")["unit_cost"] == Decimal("0.00176056338")
    assert client.cost_history()["pack"].iloc[0] == "6/#10 CAN"


def test_lemons_by_the_kilo_and_by_the_each(client: MOClient) -> None:
    client.add_ingredient("lemon", unit="each")
    client.add_conversion("lemon", "1 each", "120 g", idempotency_key=key())
    update = client.update_cost("lemon", "24", per="10 kg", idempotency_key=key())
    assert update.unit_cost == Decimal("0.288")  # 24 / 10000 g × 120 g per lemon


# ---- tenant walls -----------------------------------------------------------------------------


def test_offers_policies_and_conversions_stay_with_their_tenant(
    client: MOClient, other_client: MOClient
) -> None:
    client.add_ingredient("flour", unit="g")
    _import(client, "Metro", "10")
    client.set_cost_policy("flour", "preferred", supplier="Metro", idempotency_key="same")
    client.add_conversion("flour", "1 cup", "120 g", idempotency_key="conv")
    assert other_client.offers().empty and other_client.conversions().empty
    for call in (
        lambda: other_client.offers("flour"),
        lambda: other_client.conversions("flour"),
        lambda: other_client.set_cost_policy("flour", "lowest", idempotency_key="same"),
        lambda: other_client.add_conversion("flour", "1 cup", "1 g", idempotency_key="conv"),
        lambda: other_client.delete_conversion("flour", "cup", idempotency_key="x"),
    ):
        assert error_of(call).code is ErrorCode.NOT_FOUND
    assert _row(client)["cost_policy"] == "preferred" and len(client.conversions()) == 1


# ---- the pure factor --------------------------------------------------------------------------


def test_conversion_factor_goes_both_ways_and_through_the_density() -> None:
    each = Conversion("each", Decimal(1), "g", Decimal(120))
    assert conversion_factor("each", "g", conversions=[each]) == 120
    assert conversion_factor("g", "each", conversions=[each]) == Fraction(1, 120)
    # each → g → ml through a density of 0.9 g per ml
    assert conversion_factor("each", "ml", conversions=[each],
                             density=Decimal("0.9")) == Fraction(400, 3)
    assert conversion_factor("each", "ml", conversions=[each]) is None
    own = Conversion("ml", Decimal("236.5882365"), "g", Decimal(340))  # 1 cup of honey
    assert conversion_factor("ml", "g", conversions=[own], density=Decimal(1)) == (
        Fraction(340) / Fraction("236.5882365"))


# ---- yield words ------------------------------------------------------------------------------


def test_any_word_names_a_yield_and_a_sub_recipe_is_used_by_it(client: MOClient) -> None:
    client.add_ingredient("lemon juice", unit="ml")
    client.update_cost("lemon juice", "5", per="1 l", idempotency_key=key())
    saved = client.save_recipe("lemonade", yield_qty=4, yield_unit="glasses",
                               lines=[{"ingredient": "lemon juice", "qty": 200, "unit": "ml"}])
    assert saved.yield_unit == "glasses"
    client.save_recipe("lunch", yield_qty=1, yield_unit="bowl",
                       lines=[{"recipe": "lemonade", "qty": 1, "unit": "glass"}])
    recipes = client.recipes(exact=True).set_index("name")
    assert recipes.loc["lemonade", "total_cost"] == Decimal("1")
    assert recipes.loc["lunch", "total_cost"] == Decimal("0.25")  # one glass of four
    err = error_of(lambda: client.save_recipe(
        "bad", yield_qty=1, yield_unit="bowl",
        lines=[{"ingredient": "lemon juice", "qty": 1, "unit": "glass"}]))
    assert err.code is ErrorCode.VALIDATION_ERROR  # an ingredient's unit stays one mo knows
    err = error_of(lambda: client.save_recipe("bad", yield_qty=1, yield_unit="5 kg", lines=[]))
    assert err.code is ErrorCode.VALIDATION_ERROR
    err = error_of(lambda: client.update_cost("lemon juice", "5", per="1 glass",
                                              idempotency_key=key()))
    assert err.code is ErrorCode.VALIDATION_ERROR  # cost quantities stay strict


# ---- recipe costs: policies and conversions --------------------------------------------------


def _recipe(client: MOClient, name: str) -> pd.Series:
    frame = client.recipes(exact=True)
    return frame[frame["name"] == name].iloc[0]


def _save(client: MOClient, name: str, *lines: tuple[str, object, str]) -> None:
    client.save_recipe(name, yield_qty=1, yield_unit="portion",
                       lines=[{"ingredient": item, "qty": qty, "unit": unit}
                              for item, qty, unit in lines])


@pytest.mark.parametrize("metro_first", [True, False])
def test_flour_recipes_follow_the_preferred_supplier_in_any_order(
    client: MOClient, metro_first: bool
) -> None:
    client.add_ingredient("flour", unit="g")
    _save(client, "bread", ("flour", 500, "g"))
    _save(client, "pizza", ("flour", 2, "kg"))
    client.set_cost_policy("flour", "preferred", supplier="Metro", idempotency_key=key())
    lists = [("Metro", "10"), ("FreshCo", "8")]
    for supplier, price in lists if metro_first else lists[::-1]:
        _import(client, supplier, price)
    assert _recipe(client, "bread")["total_cost"] == Decimal("0.5")  # 500 g × 10/10 kg
    assert _recipe(client, "pizza")["total_cost"] == Decimal("2")
    assert _row(client)["cost_supplier"] == "Metro"
    _import(client, "FreshCo", "6")  # a newer, cheaper list: the recipes stay on Metro
    assert _recipe(client, "bread")["total_cost"] == Decimal("0.5")
    client.set_cost_policy("flour", "lowest", idempotency_key=key())  # recomputed at once
    assert _recipe(client, "bread")["total_cost"] == Decimal("0.3")


def test_two_lemons_bought_by_the_kilo_cost_two_times_120_g(client: MOClient) -> None:
    client.add_ingredient("lemon", unit="g")
    client.update_cost("lemon", "25", per="10 kg", idempotency_key=key())
    _save(client, "lemonade", ("lemon", 2, "each"))
    row = _recipe(client, "lemonade")  # saved before the conversion exists: incomplete, why
    assert (bool(row["complete"]), row["missing"], row["total_cost"]) == (
        False, "lemon: no each→g conversion", Decimal(0))
    gap = client.recipe_breakdown("lemonade", exact=True).iloc[0]
    assert gap["reason"] == "lemon: no each→g conversion" and gap["cost"] is None
    client.add_conversion("lemon", "1 each", "120 g", idempotency_key=key())
    row = _recipe(client, "lemonade")
    assert bool(row["complete"]) and row["missing"] == ""
    assert row["total_cost"] == Decimal(2 * 120) * Decimal("25") / Decimal(10000)  # 0.6
    leaf = client.recipe_breakdown("lemonade", exact=True).iloc[0]
    assert (leaf["qty"], leaf["unit"], leaf["cost"]) == (Decimal(240), "g", Decimal("0.6"))
    assert pd.isna(leaf["reason"])
    client.delete_conversion("lemon", "each", idempotency_key=key())
    row = _recipe(client, "lemonade")
    assert (bool(row["complete"]), row["missing"]) == (False, "lemon: no each→g conversion")


def test_every_incomplete_recipe_says_per_line_why(client: MOClient) -> None:
    client.add_ingredient("butter", unit="g")
    client.add_ingredient("egg", unit="each")
    client.add_ingredient("milk", unit="ml")
    client.update_cost("egg", "3", per="12 each", idempotency_key=key())
    client.update_cost("milk", "1", per="1 l", idempotency_key=key())
    _save(client, "cake", ("butter", 100, "g"), ("egg", 50, "g"), ("milk", 100, "g"))
    assert _recipe(client, "cake")["missing"] == (
        "butter: no cost; egg: no g→each conversion; milk: no g→ml conversion")
    reasons = client.recipe_breakdown("cake", exact=True).set_index("ingredient")["reason"]
    assert reasons.to_dict() == {"butter": "butter: no cost", "egg": "egg: no g→each conversion",
                                 "milk": "milk: no g→ml conversion"}


def _reasons(client: MOClient, name: str) -> dict[str, tuple[object, str, object, object]]:
    """The breakdown as {item: (qty, unit, cost, reason)}, NaN/None as None."""
    frame = client.recipe_breakdown(name, exact=True)
    return {r["ingredient"]: tuple(None if pd.isna(v) else v
                                   for v in (r["qty"], r["unit"], r["cost"], r["reason"]))
            for r in frame.to_dict("records")}


def test_a_deleted_sub_recipe_line_says_why_until_restored(client: MOClient) -> None:
    client.add_ingredient("flour", unit="g")
    client.add_ingredient("butter", unit="g")
    client.update_cost("flour", "2", per="1 kg", idempotency_key=key())
    client.save_recipe("dough", yield_qty=1, yield_unit="kg", lines=[
        {"ingredient": "flour", "qty": 900, "unit": "g"},
        {"ingredient": "butter", "qty": 100, "unit": "g"}])
    client.save_recipe("pizza", yield_qty=1, yield_unit="portion", lines=[
        {"recipe": "dough", "qty": 500, "unit": "g"},
        {"ingredient": "flour", "qty": 100, "unit": "g"}])
    client.save_recipe("lunch", yield_qty=1, yield_unit="tray",
                       lines=[{"recipe": "pizza", "qty": 2, "unit": "portion"}])
    assert _recipe(client, "lunch")["missing"] == "butter: no cost"  # a usable sub's, as is
    assert _reasons(client, "pizza")["butter"] == (Decimal(50), "g", None, "butter: no cost")
    client.delete_recipe("dough")
    pizza = _recipe(client, "pizza")
    assert (bool(pizza["complete"]), pizza["missing"], pizza["total_cost"]) == (
        False, "dough: deleted", Decimal("0.2"))  # the flour line still counts
    assert _recipe(client, "lunch")["missing"] == "dough: deleted"
    as_of = client.recipes(as_of=datetime.now(UTC)).set_index("name")
    assert as_of.loc["lunch", "missing"] == "dough: deleted"
    assert not client.what_if({"flour": "+10%"}).set_index("recipe").loc["lunch", "complete"]
    assert _reasons(client, "lunch") == {  # the path stops at dough, with why
        "dough": (None, "g", None, "dough: deleted"),
        "flour": (Decimal(200), "g", Decimal("0.4"), None)}
    client.restore_recipe("dough")
    assert _recipe(client, "lunch")["missing"] == "butter: no cost"
    assert "dough" not in _reasons(client, "lunch")
    client.update_cost("butter", "10", per="1 kg", idempotency_key=key())
    lunch = _recipe(client, "lunch")  # 2 × (500 g of dough at 2.8/kg + 100 g of flour)
    assert (bool(lunch["complete"]), lunch["missing"], lunch["total_cost"]) == (
        True, "", Decimal("3.2"))


def test_a_sub_recipe_in_a_unit_its_yield_cannot_take_says_why(client: MOClient) -> None:
    client.add_ingredient("tomato", unit="ml")
    client.update_cost("tomato", "4", per="1 l", idempotency_key=key())
    sauce = [{"ingredient": "tomato", "qty": 1, "unit": "l"}]
    client.save_recipe("sauce", yield_qty=1, yield_unit="l", lines=sauce)
    client.save_recipe("pasta", yield_qty=2, yield_unit="portion",
                       lines=[{"recipe": "sauce", "qty": 250, "unit": "ml"}])
    assert _recipe(client, "pasta")["total_cost"] == Decimal(1)
    client.save_recipe("sauce", yield_qty=4, yield_unit="jar", lines=sauce)  # now by the jar: a count
    pasta = _recipe(client, "pasta")
    assert (bool(pasta["complete"]), pasta["missing"], pasta["total_cost"]) == (
        False, "sauce: no ml→each conversion", Decimal(0))
    assert _reasons(client, "pasta") == {
        "sauce": (None, "each", None, "sauce: no ml→each conversion")}
    as_of = client.recipes(as_of=datetime.now(UTC)).set_index("name")
    assert as_of.loc["pasta", "missing"] == "sauce: no ml→each conversion"
    client.save_recipe("sauce", yield_qty="0.5", yield_unit="l", lines=sauce)  # in ml again
    pasta = _recipe(client, "pasta")
    assert (bool(pasta["complete"]), pasta["missing"], pasta["total_cost"]) == (
        True, "", Decimal(2))
    assert _reasons(client, "pasta") == {"tomato": (Decimal(500), "ml", Decimal(2), None)}


def test_a_count_reaches_a_volume_through_grams_and_the_density(client: MOClient) -> None:
    client.add_ingredient("honey", unit="ml", density="1.4")
    client.update_cost("honey", "7", per="1 l", idempotency_key=key())
    client.add_conversion("honey", "1 each", "21 g", idempotency_key=key())  # one portion pot
    _save(client, "tea", ("honey", 2, "each"))
    row = _recipe(client, "tea")  # 2 × 21 g ÷ 1.4 g/ml = 30 ml at 0.007
    assert bool(row["complete"]) and row["total_cost"] == Decimal("0.21")
    assert client.recipe_breakdown("tea", exact=True).iloc[0]["qty"] == Decimal(30)
