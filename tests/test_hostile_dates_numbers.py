"""Issue #14, findings 3 and 7 (numbers): dates outside what mo can read back, numbers that
round to zero or that one backend takes and the other refuses, recipes of absurd length.

Every test runs on DuckDB and PostgreSQL, and through both clients where a route is involved
(the `client` fixture: local and HTTP against a real `mo serve` on a loopback port).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from client_fixtures import error_of

import mo
from mo.client import MOClient
from mo.store import connect_store

# Instants outside 1900-01-01..2200-01-01 UTC, and two that overflow datetime in UTC.
OUT_OF_WINDOW = [
    "1500-01-01",
    "9999-12-31",
    "1899-12-31T23:59:59Z",
    "2200-01-01T00:00:00.000001+00:00",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
]


def _flour(client: MOClient) -> None:
    client.add_ingredient("Flour", unit="g")


# ---- finding 3: one window of dates on every input -------------------------------------------


@pytest.mark.parametrize("when", OUT_OF_WINDOW)
def test_instants_outside_the_window_are_refused_naming_the_field(
    client: MOClient, when: str, tmp_path
) -> None:
    _flour(client)
    calls: dict[str, Callable[[], Any]] = {
        "effective_at": lambda: client.update_cost(
            "flour", "1", per="1 kg", idempotency_key="k1", effective_at=when
        ),
        "since": lambda: client.events(since=when),
        "until": lambda: client.events(until=when),
    }
    for field, call in calls.items():
        err = error_of(call)
        assert (err.code, err.details["field"]) == (mo.ErrorCode.VALIDATION_ERROR, field), when
        assert err.details["earliest"].startswith("1900-01-01")
    rows = [{"item": "Flour", "price": "2", "pack": "1 kg"}]
    err = error_of(lambda: client.import_price_list(
        rows, idempotency_key="p1", supplier="A", effective_at=when))
    assert (err.code, err.details["field"]) == (mo.ErrorCode.VALIDATION_ERROR, "effective_at")
    err = error_of(lambda: client.export_events(
        tmp_path / "out.csv", since="2024-01-01", until=when))
    assert (err.code, err.details["field"]) == (mo.ErrorCode.VALIDATION_ERROR, "until")
    assert client.cost_history().empty and client.imports().empty
    assert not (tmp_path / "out.csv").exists()


def test_the_ends_of_the_window_are_accepted(client: MOClient) -> None:
    _flour(client)
    client.update_cost("flour", "1", per="1 kg", idempotency_key="a", effective_at="1900-01-01")
    client.update_cost(
        "flour", "2", per="1 kg", idempotency_key="b", effective_at="2200-01-01T00:00:00Z"
    )
    history = client.cost_history()
    assert [t.year for t in history["effective_at"]] == [1900, 2200]
    assert client.events(since="1900-01-01", until="2200-01-01").shape[0] >= 3


STORED = {
    "ingredient_costs": "effective_at",
    "import_batches": "effective_at",
    "event_log": "occurred_at",
}


def _store_instants(db_url: str, moments: list[str]) -> None:
    """Move the stored instants of every cost, import and event to `moments` (in turn), with raw
    SQL as another program (or an older mo) could have written them."""
    with connect_store(db_url) as store, store.transaction() as tx:
        for table, column in STORED.items():
            for index, moment in enumerate(moments):
                tx.script(
                    f"UPDATE {table} SET {column} = CAST('{moment}' AS TIMESTAMPTZ) "
                    f"WHERE id % {len(moments)} = {index}"
                )
        tx.script("UPDATE import_batches SET created_at = CAST('9999-12-31 00:00:00+00' AS "
                  "TIMESTAMPTZ)")


def test_reads_survive_instants_stored_outside_the_window(
    client: MOClient, twin: MOClient, db_url: str
) -> None:
    _flour(client)
    client.add_ingredient("Milk", unit="ml")
    client.update_cost("flour", "1", per="1 kg", idempotency_key="a")
    client.update_cost("milk", "1", per="1 l", idempotency_key="b")
    client.import_price_list(
        [{"item": "Flour", "price": "2", "pack": "1 kg"}], idempotency_key="p", supplier="A"
    )
    _store_instants(db_url, ["1500-01-01 00:00:00+00", "9999-12-31 00:00:00+00"])
    reads: dict[str, Callable[[MOClient], pd.DataFrame]] = {
        "cost_history": lambda c: c.cost_history(),
        "imports": lambda c: c.imports(),
        "ingredients": lambda c: c.ingredients(),
        "events": lambda c: c.events(),
    }
    for name, read in reads.items():
        frame, reference = read(client), read(twin)
        pd.testing.assert_frame_equal(frame, reference, obj=name)
    years = {t.year for t in client.cost_history()["effective_at"]}
    assert years == {1500, 9999}
    assert {t.year for t in client.events()["occurred_at"]} == {1500, 9999}
    assert client.imports()["created_at"].iloc[0].year == 9999
    assert str(client.events()["occurred_at"].dtype) == "datetime64[us, UTC]"
    # The current cost of flour is the 1500 row or the later one; either way a date reads back.
    assert client.ingredients()["effective_at"].notna().all()
    # And the ingredient can still be updated.
    assert client.update_cost("flour", "3", per="1 kg", idempotency_key="c").changed


# ---- finding 7: numbers -----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["density", "yield_pct"])
@pytest.mark.parametrize("value", ["1e-13", "0.0000000000004", 1e-13, "5e-13"])
def test_amounts_that_round_to_zero_are_refused(client: MOClient, field: str, value: Any) -> None:
    err = error_of(lambda: client.add_ingredient("Oil", unit="ml", **{field: value}))
    assert (err.code, err.details["field"]) == (mo.ErrorCode.VALIDATION_ERROR, field)
    assert err.details["smallest"] == "0.000000000001"
    assert client.ingredients().empty


@pytest.mark.parametrize("field", ["density", "yield_pct"])
def test_a_tiny_amount_is_kept_at_the_stored_scale_and_stays_updatable(
    client: MOClient, field: str
) -> None:
    client.add_ingredient("Oil", unit="ml", **{field: "6e-13"})
    assert client.ingredients(exact=True).loc[0, field] == Decimal("1E-12")
    client.update_cost("oil", "1", per="1 l", idempotency_key="a")
    # 1 kg of oil at 1e-12 g/ml is 1e15 ml: 5000 a kilo is 5e-12 a millilitre.
    client.update_cost("oil", "5000", per="1 kg" if field == "density" else "1 l",
                       idempotency_key="b")


HUGE_OR_TINY = ["1e-999999", "1e999999", "1" + "0" * 45, "0." + "0" * 40 + "1",
                "1." + "1" * 45]


@pytest.mark.parametrize("value", HUGE_OR_TINY)
def test_every_decimal_input_has_the_same_bounds_on_both_backends(
    client: MOClient, value: str
) -> None:
    _flour(client)
    calls: dict[str, Callable[[], Any]] = {
        "density": lambda: client.add_ingredient("Oil", unit="ml", density=value),
        "yield_pct": lambda: client.add_ingredient("Oil", unit="ml", yield_pct=value),
        "price": lambda: client.update_cost("flour", value, per="1 kg", idempotency_key="k"),
        "qty": lambda: client.save_recipe(
            "Bread", yield_qty=1, yield_unit="loaf",
            lines=[{"ingredient": "flour", "qty": value, "unit": "g"}]),
        "yield_qty": lambda: client.save_recipe(
            "Bread", yield_qty=value, yield_unit="loaf",
            lines=[{"ingredient": "flour", "qty": 1, "unit": "g"}]),
    }
    for field, call in calls.items():
        err = error_of(call)
        assert (err.code, err.details["field"]) == (mo.ErrorCode.VALIDATION_ERROR, field), value
    assert len(client.ingredients()) == 1 and client.recipes().empty
    assert client.cost_history().empty


# ---- finding 7: lines per recipe -----------------------------------------------------------------


def _lines(count: int) -> list[dict[str, Any]]:
    return [{"ingredient": "flour", "qty": 1, "unit": "g"}] * count


def test_a_recipe_longer_than_the_default_cap_is_refused(client: MOClient) -> None:
    _flour(client)
    err = error_of(lambda: client.save_recipe("Bread", yield_qty=1, yield_unit="loaf",
                                              lines=_lines(501)))
    assert (err.code, err.details["field"], err.details["max_lines"], err.details["count"]) == (
        mo.ErrorCode.VALIDATION_ERROR, "lines", 500, 501)
    assert client.recipes().empty
    assert client.save_recipe("Bread", yield_qty=1, yield_unit="loaf", lines=_lines(500)).lines == 500


def test_the_line_cap_is_a_setting_for_saves_and_imports(
    client: MOClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MO_MAX_RECIPE_LINES", "3")  # the HTTP server runs in this process
    _flour(client)
    err = error_of(lambda: client.save_recipe("Bread", yield_qty=1, yield_unit="loaf",
                                              lines=_lines(4)))
    assert (err.details["field"], err.details["max_lines"]) == ("lines", 3)
    client.save_recipe("Bread", yield_qty=1, yield_unit="loaf", lines=_lines(3))
    rows = [{"recipe": name, "yield_qty": "1", "yield_unit": "loaf", "kind": "ingredient",
             "item": "flour", "qty": "1", "unit": "g"} for name in ["A"] * 3 + ["B"] * 5]
    err = error_of(lambda: client.import_recipes(pd.DataFrame(rows), idempotency_key="r"))
    assert err.code is mo.ErrorCode.VALIDATION_ERROR
    assert [(r["row"], r["column"], r["value"]) for r in err.details["rows"]] == [(8, "recipe", "B")]
    assert list(client.recipes()["name"]) == ["Bread"]
