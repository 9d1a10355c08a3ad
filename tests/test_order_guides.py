"""Order guides as distributors send them (issue #17 items 1-4), imported on both backends.

Each file under tests/data/order_guides/ holds 40+ lines in one distributor layout, including
two lines nobody can cost. The whole file is refused naming exactly those lines (nothing is
written); the file without them imports fully, and unit costs match the ones worked out by
hand below (per natural unit, to the cent).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from mo.domain.context import TenantContext
from mo.errors import ErrorCode, MOError
from mo.services import costs, imports
from mo.services.price_lists import read_price_list
from mo.store import Store

GUIDES = Path(__file__).parent / "data" / "order_guides"
PER = {"lb": Decimal("453.59237"), "kg": Decimal(1000), "gal": Decimal("3785.411784"),
       "l": Decimal(1000), "each": Decimal(1)}

# file -> (columns, options, header line, odd lines: marker -> (column, problem), hand costs)
LAYOUTS = {
    "broadline_pack_size.csv": (
        {"Item Description": "item", "Product #": "sku", "Pack Size": "pack",
         "Case Price": "price", "UOM": "price_per"},
        {},
        1,
        {"15 X 17": ("pack", "dimension"), "20/7.13": ("pack", "no unit")},
        {
            "TOMATO DICED FANCY": ("7.00", "each"),  # 6/#10 CAN, $42.00: six cans
            "TOMATO PASTE": ("8.55", "each"),  # 6/#10Can, $51.30
            "BEANS BLACK": ("6.75", "each"),  # #10 can
            "PEACHES SLICED": ("8.40", "each"),  # No. 10 can
            "FLOUR ALL PURPOSE": ("0.37", "lb"),  # 1/50#, $18.50: 50 lb
            "BEEF BRISKET CHOICE": ("4.89", "lb"),  # $4.89/LB, pack "2/14 LB AVG" for the record
            "CHICKEN BREAST BNLS": ("2.65", "lb"),  # $2.65/lb whatever the pack
            "BEEF GROUND 80/20": ("3.29", "lb"),  # UOM LB
            "CHEESE MOZZ WM LOAF": ("41.15", "lb"),  # 6/5 LB, $1,234.50: 30 lb
            "GLOVES NITRILE LG": ("4.00", "each"),  # 24/1 CS, $96.00
            "FOIL ROLL 18IN": ("45.00", "each"),  # case
            "MILK WHOLE": ("3.99", "gal"),  # 4/1 GAL, $15.96
            "LETTUCE ROMAINE": ("1.60", "each"),  # 24 HEADS, $38.40
            "EGGS LARGE LOOSE": ("0.20", "each"),  # 15 dozen, $36.00
        },
    ),
    "split_pack_size.csv": (
        {"Item": "item", "Sku": "sku", "Pack": "pack_count", "Size": "pack", "Price": "price",
         "Per": "price_per"},
        {},
        1,
        {"15 X 17": ("pack", "dimension"), ",6.5,": ("pack_count", "whole number")},
        {
            "CHEESE MOZZ WM LOAF": ("1.75", "lb"),  # 6 x 5 LB, 52.50: 30 lb
            "TOMATO DICED FANCY": ("7.00", "each"),  # 6 x #10 can, 42.00
            "RICE JASMINE": ("2.20", "kg"),  # 1 x 25 kg, 55.00
            "MILK 2%": ("3.59", "gal"),  # 4 x 1 gal, 14.36
            "CHICKEN WINGS": ("2.35", "lb"),  # 2.35 per LB
            "AVOCADO HASS 48CT": ("1.20", "each"),  # 48 x ea, 57.60
            "WATER SPRING": ("0.80", "l"),  # 24 x 500 ml, 9.60
            "STRAW WRAPPED": ("25.00", "each"),  # 1 x case
        },
    ),
    "titled_quoted.csv": (
        {"Description": "item", "Code": "sku", "Pack": "pack", "Price": "price"},
        {},
        5,
        {"15 X 17": ("pack", "dimension"), "20/7.13": ("pack", "no unit")},
        {
            'TOMATO, DICED "FANCY" IN JUICE': ("6.50", "each"),  # 6/#10 CAN, $39.00
            'CHEESE, PARMESAN "REGGIANO", GRATED': ("7.60", "lb"),  # 4/5 LB, $152.00
            'SAUSAGE, ITALIAN "MILD", BULK': ("3.25", "lb"),  # $3.25/lb
            'PEPPERONI, "CUP & CHAR"': ("5.10", "lb"),  # $5.10 per lb
            'FLOUR, "00", PIZZA': ("0.72", "lb"),  # 1/50#, $36.00
        },
    ),
    "european_semicolon.csv": (
        {"Artikel": "item", "Art.-Nr.": "sku", "Gebinde": "pack", "Preis": "price"},
        {"decimal": ","},
        1,
        {"15 X 17": ("pack", "dimension"), "20/7.13": ("pack", "no unit")},
        {
            "Zucker": ("1.25", "kg"),  # 10 kg, €12,50
            "Parmesan gerieben": ("1234.50", "kg"),  # 1 kg, €1.234,50
            "Butter": ("9.90", "kg"),  # 10 x 250 g, € 24,75
            "Milch 3,5%": ("0.99", "l"),  # 12 x 1 l, 11,88
            "Tomaten gehackt": ("1.24", "kg"),  # 6 x 2,5 kg, 18,60
            "Eier Größe M": ("0.20", "each"),  # 180 each, 36,00
        },
    ),
}


def _odd_lines(path: Path, markers: dict[str, tuple[str, str]]) -> dict[int, tuple[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {n: markers[m] for n, line in enumerate(lines, 1) for m in markers if m in line}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_the_whole_guide_is_refused_naming_exactly_its_odd_lines(
    name: str, store: Store, ctx: TenantContext
) -> None:
    columns, options, _, markers, _ = LAYOUTS[name]
    path = GUIDES / name
    with pytest.raises(MOError) as caught:
        imports.import_price_list(
            store, ctx, path, idempotency_key=f"fail-{name}", supplier="Acme", columns=columns,
            **options,
        )
    assert caught.value.code is ErrorCode.VALIDATION_ERROR
    found = {r["row"]: (r["column"], r["problem"]) for r in caught.value.details["rows"]}
    expected = _odd_lines(path, markers)
    assert sorted(found) == sorted(expected)
    for row, (column, problem) in expected.items():
        assert found[row][0] == column and problem in found[row][1], found[row]
    assert imports.imports_frame(store, ctx).empty  # nothing written
    assert costs.ingredients_frame(store, ctx).empty


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_the_guide_without_them_imports_with_hand_computed_unit_costs(
    name: str, store: Store, ctx: TenantContext, tmp_path: Path
) -> None:
    columns, options, header_row, markers, expected = LAYOUTS[name]
    text = (GUIDES / name).read_text(encoding="utf-8")
    clean = [line for line in text.splitlines(keepends=True) if not any(m in line for m in markers)]
    path = tmp_path / name
    path.write_text("".join(clean), encoding="utf-8", newline="")
    result = imports.import_price_list(
        store, ctx, path, idempotency_key=f"ok-{name}", supplier="Acme", columns=columns, **options
    )
    assert result.status == "completed"
    assert result.header_row == header_row
    assert result.rows == len(clean) - header_row >= 40
    frame = costs.ingredients_frame(store, ctx)
    unit_costs = dict(zip(frame["name"], frame["unit_cost"]))
    for item, (cost, per) in expected.items():
        got = (unit_costs[item] * PER[per]).quantize(Decimal("0.01"))
        assert got == Decimal(cost), (item, got, cost)


def test_a_decimal_comma_without_decimal_is_refused_naming_the_row(
    store: Store, ctx: TenantContext, tmp_path: Path
) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("Artikel;Gebinde;Preis\nZucker;10 kg;€12,50\nSalz;1 kg;€1,00\n", encoding="utf-8")
    columns = {"Artikel": "item", "Gebinde": "pack", "Preis": "price"}
    with pytest.raises(MOError) as caught:
        imports.import_price_list(store, ctx, path, idempotency_key="eu", supplier="X", columns=columns)
    rows = caught.value.details["rows"]
    assert [(r["row"], r["column"]) for r in rows] == [(2, "price"), (3, "price")]
    assert "decimal" in rows[0]["problem"]
    result = imports.import_price_list(
        store, ctx, path, idempotency_key="eu-2", supplier="X", columns=columns, decimal=","
    )
    assert result.created == 2
    frame = costs.ingredients_frame(store, ctx)
    assert dict(zip(frame["name"], frame["unit_cost"]))["Zucker"] * 1000 == Decimal("1.25")


def test_per_unit_prices_keep_the_pack_text_for_the_record() -> None:
    prices = read_price_list(
        [{"item": "Brisket", "price": "$4.89/LB", "pack": "2/14 LB AVG"},
         {"item": "Wings", "price": "2.35", "pack": "4/10 lb", "price_per": "LB"},
         {"item": "Cheese", "price": "52.50", "pack": "5 LB", "pack_count": "6"}]
    )
    assert prices.problems.empty
    packs = prices.staging["packs"].set_index("pack")["pack_qty"].to_dict()
    assert packs == {
        "2/14 LB AVG (price per lb)": "453.592370000000",
        "4/10 lb (price per lb)": "453.592370000000",
        "6 x 5 LB": "13607.771100000000",
    }


@pytest.mark.parametrize(
    ("cell", "per", "problem"),
    [("12,50", "", "decimal"), ("2.65/lb", "KG", "another unit"), ("3.00", "furlong", "price basis")],
)
def test_prices_that_cannot_be_read_say_why(cell: str, per: str, problem: str) -> None:
    prices = read_price_list([{"item": "A", "price": cell, "pack": "1 kg", "price_per": per}])
    assert problem in " ".join(prices.problems["problem"])


def write_guide_workbook(path: Path, *, sheet: str, grid: list[list[str]]) -> Path:
    """An .xlsx order guide: a "Notes" sheet first, then the guide's cells on `sheet`."""
    import pandas as pd

    with pd.ExcelWriter(path) as writer:
        pd.DataFrame([["notes"]]).to_excel(writer, sheet_name="Notes", header=False, index=False)
        pd.DataFrame(grid).to_excel(writer, sheet_name=sheet, header=False, index=False)
    return path


def test_an_xlsx_guide_reads_like_its_csv_and_its_sheet_can_be_chosen(tmp_path: Path) -> None:
    path = write_guide_workbook(tmp_path / "guide.xlsx", sheet="Guide", grid=[
        ["ACME ORDER GUIDE", "", ""], ["Item", "Pack", "Price"],
        ["Tomato", "6/#10 CAN", "$42.00"], ["Cheese", "6/5 LB", "$1,234.50"]])
    prices = read_price_list(path, sheet="Guide")
    assert prices.problems.empty and prices.header_row == 2 and prices.count == 2
    with pytest.raises(MOError) as caught:
        read_price_list(path, sheet="Prices")
    assert caught.value.details["sheets"] == ["Notes", "Guide"]
