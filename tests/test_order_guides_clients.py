"""Issue #17's "Done when", end to end: order guides import in one call from a saved supplier
format, on DuckDB and PostgreSQL, through LocalClient and HttpClient.

The layouts, their odd lines and their hand-computed unit costs are those of
test_order_guides.py (which checks the service alone). Here each layout's format is saved once
(save_supplier), then the file is imported with nothing but the path, the supplier and a key:
with on_bad_rows="skip" the good rows land and the odd lines come back (and stay readable via
import_rejections) with their reasons; with the default "fail" nothing is written.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from client_fixtures import api_keys, api_server, client, connect_as, error_of, mode  # noqa: F401
from test_order_guides import GUIDES, LAYOUTS, PER, _odd_lines

from mo.client import MOClient
from mo.errors import ErrorCode

SUPPLIER = "Acme Foods"


def _costs(client: MOClient) -> dict[str, tuple[Decimal, str]]:
    frame = client.ingredients(exact=True)
    rows = zip(frame["name"], frame["unit_cost"], frame["unit"], strict=True)
    return {name: (cost, unit) for name, cost, unit in rows}


def _check_costs(client: MOClient, expected: dict[str, tuple[str, str]]) -> None:
    costs = _costs(client)
    for item, (cost, per) in expected.items():
        unit_cost, _ = costs[item]
        assert isinstance(unit_cost, Decimal), (item, type(unit_cost))
        got = (unit_cost * PER[per]).quantize(Decimal("0.01"))
        assert got == Decimal(cost), (item, got, cost)


def _save_format(client: MOClient, name: str) -> None:
    columns, options, *_ = LAYOUTS[name]
    client.save_supplier(SUPPLIER, columns=columns, **options)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_a_guide_refused_by_default_writes_nothing_and_names_its_odd_lines(
    name: str, client: MOClient
) -> None:
    _save_format(client, name)
    path = GUIDES / name
    err = error_of(lambda: client.import_price_list(path, supplier=SUPPLIER, idempotency_key="w1"))
    assert err.code is ErrorCode.VALIDATION_ERROR
    expected = _odd_lines(path, LAYOUTS[name][3])
    found = {r["row"]: (r["column"], r["problem"]) for r in err.details["rows"]}
    assert sorted(found) == sorted(expected)
    for row, (column, problem) in expected.items():
        assert found[row][0] == column and problem in found[row][1], found[row]
    assert client.imports().empty and client.ingredients().empty  # nothing written


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_a_guide_skipping_its_odd_lines_imports_the_rest_to_the_cent(
    name: str, client: MOClient
) -> None:
    _save_format(client, name)
    _, _, header_row, markers, expected = LAYOUTS[name]
    path = GUIDES / name
    result = client.import_price_list(
        path, supplier=SUPPLIER, idempotency_key="w1", on_bad_rows="skip"
    )
    odd = _odd_lines(path, markers)
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert (result.status, result.header_row) == ("completed", header_row)
    assert result.rows == lines - header_row  # every line read; the odd ones not imported
    assert result.created == result.rows - len(odd) >= 40
    assert result.rejected_rows == len(odd)
    returned = {r["row"]: (r["column"], r["problem"]) for r in result.rejected}
    kept = client.import_rejections(result.batch_id)
    assert sorted(kept["row"]) == sorted(returned) == sorted(odd)
    reasons = zip(kept["column"], kept["problem"], strict=True)
    assert dict(zip(kept["row"], reasons, strict=True)) == returned
    for row, (column, problem) in odd.items():
        assert returned[row][0] == column and problem in returned[row][1], returned[row]
    _check_costs(client, expected)
    again = client.import_price_list(
        path, supplier=SUPPLIER, idempotency_key="w1", on_bad_rows="skip"
    )
    assert again.replayed and again.batch_id == result.batch_id


def test_a_saved_sheet_and_price_basis_read_an_xlsx_guide(client: MOClient, tmp_path: Path) -> None:
    path = tmp_path / "guide.xlsx"
    grid = pd.DataFrame([["BUTCHER CO. WEEKLY", "", ""], ["Cut", "Pack", "Price"],
                         ["Brisket", "2/14 LB AVG", "4.89"], ["Wings", "4/10 lb", "$2.35"]])
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame([["notes"]]).to_excel(writer, sheet_name="Notes", header=False, index=False)
        grid.to_excel(writer, sheet_name="Prices", header=False, index=False)
    client.save_supplier(
        "Butcher Co", columns={"Cut": "item", "Pack": "pack", "Price": "price"},
        price_per="LB", sheet="Prices",
    )
    result = client.import_price_list(path, supplier="Butcher Co", idempotency_key="b1")
    assert (result.rows, result.header_row) == (2, 2)
    _check_costs(client, {"Brisket": ("4.89", "lb"), "Wings": ("2.35", "lb")})


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "list.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_six_number_ten_cans_are_six_cans(client: MOClient, tmp_path: Path) -> None:
    path = _write(tmp_path, "item,pack,price\nTomato,6/#10 CAN,$42.00\n")
    client.import_price_list(path, supplier="Sysco", idempotency_key="k")
    assert _costs(client)["Tomato"] == (Decimal("7"), "each")


def test_a_per_pound_price_is_that_price_whatever_the_pack(
    client: MOClient, tmp_path: Path
) -> None:
    path = _write(tmp_path, "item,pack,price\nChicken,4/10 LB AVG,2.65/lb\nBeef,case,2.65/lb\n")
    client.import_price_list(path, supplier="Sysco", idempotency_key="k")
    _check_costs(client, {"Chicken": ("2.65", "lb"), "Beef": ("2.65", "lb")})


def test_a_pack_count_of_six_with_a_five_pound_size_is_thirty_pounds(
    client: MOClient, tmp_path: Path
) -> None:
    path = _write(tmp_path, "Item,Pack,Size,Price\nCheese,6,5 LB,52.50\n")
    client.save_supplier(
        "Split", columns={"Item": "item", "Pack": "pack_count", "Size": "pack", "Price": "price"}
    )
    client.import_price_list(path, supplier="Split", idempotency_key="k")
    _check_costs(client, {"Cheese": ("1.75", "lb")})


def test_a_decimal_comma_reads_only_when_the_format_says_so(
    client: MOClient, tmp_path: Path
) -> None:
    path = _write(tmp_path, "Artikel;Gebinde;Preis\nSalz;1 kg;2\nZucker;10 kg;€12,50\n")
    columns = {"Artikel": "item", "Gebinde": "pack", "Preis": "price"}
    client.save_supplier("Euro", columns=columns)
    err = error_of(lambda: client.import_price_list(path, supplier="Euro", idempotency_key="k1"))
    assert err.code is ErrorCode.VALIDATION_ERROR
    [row] = err.details["rows"]
    assert (row["row"], row["column"], row["value"]) == (3, "price", "€12,50")
    assert "decimal" in row["problem"]
    assert client.imports().empty
    client.save_supplier("Euro", columns=columns, decimal=",")
    client.import_price_list(path, supplier="Euro", idempotency_key="k2")
    _check_costs(client, {"Zucker": ("1.25", "kg"), "Salz": ("2.00", "kg")})
