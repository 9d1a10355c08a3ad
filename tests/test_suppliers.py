"""Saved supplier formats (save_supplier / suppliers / delete_supplier), an import that passes
only the file and the supplier, and an item renamed by its supplier under the same sku.
Both backends × both clients."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from client_fixtures import error_of, error_tuple

import mo
from mo.domain.context import TenantContext
from mo.services import imports
from mo.store.base import Store

METRO = """\
Description,Product Code,Pack Size,Case Price,Dept
CHEESE MOZZARELLA WHOLE MILK LOAF,100234,6 x 2.5 kg,45.00,Dairy
FLOUR ALL PURPOSE,100777,25 kg,18.75,Dry
"""
METRO_RENAMED = METRO.replace("CHEESE MOZZARELLA WHOLE MILK LOAF", "CHEESE MOZZ WM LOAF").replace(
    "45.00", "48.00"
)
COLUMNS = {"Description": "item", "Product Code": "sku", "Pack Size": "pack",
           "Case Price": "price", "Dept": "category"}


@pytest.fixture
def metro(tmp_path: Path) -> Path:
    path = tmp_path / "metro_w1.csv"
    path.write_text(METRO)
    return path


def _unit_costs(client: mo.MOClient) -> dict[str, Decimal | None]:
    frame = client.ingredients(exact=True)
    return dict(zip(frame["name"], frame["unit_cost"], strict=True))


def test_a_saved_format_lets_the_import_pass_only_the_file_and_the_supplier(
    client: mo.MOClient, metro: Path
) -> None:
    saved = client.save_supplier("Metro", columns=COLUMNS)
    assert (saved.supplier, saved.columns, saved.decimal, saved.price_per, saved.sheet) == (
        "Metro", COLUMNS, ".", None, None)
    listed = client.suppliers()
    assert list(listed.columns) == ["supplier", "columns", "decimal", "price_per", "sheet", "saved_at"]
    assert listed[["supplier", "columns", "decimal"]].to_dict("records") == [
        {"supplier": "Metro", "columns": COLUMNS, "decimal": "."}]
    result = client.import_price_list(metro, idempotency_key="w1", supplier="metro")
    assert (result.status, result.created, result.changed) == ("completed", 2, 2)
    costs = _unit_costs(client)
    assert costs["CHEESE MOZZARELLA WHOLE MILK LOAF"] == Decimal("0.003")  # 45.00 / 15 000 g
    assert costs["FLOUR ALL PURPOSE"] == Decimal("0.00075")  # 18.75 / 25 000 g
    [event] = client.events(types=["supplier.saved"])["payload"]
    assert json.loads(event) == {"supplier": "Metro", "columns": COLUMNS, "decimal": ".",
                                 "price_per": None, "sheet": None}


def test_columns_given_win_over_the_saved_ones(client: mo.MOClient, metro: Path) -> None:
    client.save_supplier("Metro", columns={"Nope": "item", "Pack Size": "pack", "Case Price": "price"})
    err = error_of(lambda: client.import_price_list(metro, idempotency_key="a", supplier="Metro"))
    assert err.code.value == "validation_error" and err.details["missing_columns"] == ["item"]
    result = client.import_price_list(metro, idempotency_key="b", supplier="Metro", columns=COLUMNS)
    assert result.created == 2


def test_saving_again_replaces_deleting_forgets_and_the_name_is_free_again(
    client: mo.MOClient, metro: Path
) -> None:
    client.save_supplier("Metro", columns={"Item": "item"})
    client.save_supplier("METRO ", columns=COLUMNS, price_per="CS", sheet=0)
    [row] = client.suppliers().to_dict("records")
    assert (row["supplier"], row["columns"], row["price_per"], row["sheet"]) == (
        "METRO", COLUMNS, "CS", 0)
    deleted = client.delete_supplier("metro")
    assert deleted.columns == COLUMNS and client.suppliers().empty
    assert error_of(lambda: client.delete_supplier("Metro")).code.value == "not_found"
    err = error_of(lambda: client.import_price_list(metro, idempotency_key="a", supplier="Metro"))
    assert err.details["missing_columns"] == ["item", "price", "pack"]  # no format any more
    client.save_supplier("Metro", columns=COLUMNS)
    assert list(client.suppliers()["supplier"]) == ["Metro"]
    assert len(client.events(types=["supplier.saved"])) == 3
    assert len(client.events(types=["supplier.deleted"])) == 1


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"decimal": ";"}, "decimal"),
        ({"decimal": None}, "decimal"),
        ({"columns": {"Price": "cost"}}, "columns"),
        ({"columns": ["item"]}, "columns"),
        ({"columns": {"Price": 1}}, "columns"),
        ({"price_per": "furlong"}, "price_per"),
        ({"sheet": -1}, "sheet"),
        ({"sheet": True}, "sheet"),
        ({"sheet": "x" * 40}, "sheet"),
    ],
)
def test_a_bad_format_is_refused_alike_and_nothing_is_written(
    client: mo.MOClient, twin: mo.MOClient, options: dict[str, object], field: str
) -> None:
    err = error_of(lambda: client.save_supplier("Metro", **options))  # type: ignore[arg-type]
    assert err.code.value == "validation_error" and err.details["field"] == field
    assert error_tuple(err) == error_tuple(error_of(
        lambda: twin.save_supplier("Metro", **options)))  # type: ignore[arg-type]
    assert client.suppliers().empty and client.events(types=["supplier.saved"]).empty


def test_a_format_belongs_to_its_tenant(
    client: mo.MOClient, other_client: mo.MOClient, metro: Path
) -> None:
    client.save_supplier("Metro", columns=COLUMNS)
    assert other_client.suppliers().empty
    assert error_of(lambda: other_client.delete_supplier("Metro")).code.value == "not_found"
    err = error_of(lambda: other_client.import_price_list(metro, idempotency_key="a", supplier="Metro"))
    assert err.details["missing_columns"] == ["item", "price", "pack"]
    assert len(client.suppliers()) == 1


def test_a_renamed_item_keeps_its_ingredient_through_its_sku(
    client: mo.MOClient, metro: Path, tmp_path: Path
) -> None:
    client.save_supplier("Metro", columns=COLUMNS)
    client.import_price_list(metro, idempotency_key="w1", supplier="Metro")
    renamed = tmp_path / "metro_w2.csv"
    renamed.write_text(METRO_RENAMED)
    week2 = client.import_price_list(renamed, idempotency_key="w2", supplier="Metro")
    assert (week2.created, week2.changed, week2.unchanged) == (0, 1, 1)
    costs = _unit_costs(client)
    assert set(costs) == {"CHEESE MOZZARELLA WHOLE MILK LOAF", "FLOUR ALL PURPOSE"}
    assert costs["CHEESE MOZZARELLA WHOLE MILK LOAF"] == Decimal("0.0032")  # 48.00 / 15 000 g


def test_the_suppliers_new_text_is_its_description(store: Store, ctx: TenantContext) -> None:
    rows = [{"item": "CHEESE MOZZARELLA WHOLE MILK LOAF", "sku": "100234", "price": "45",
             "pack": "6 x 2.5 kg"}]
    imports.import_price_list(store, ctx, rows, idempotency_key="w1", supplier="Metro")
    rows[0]["item"] = "CHEESE MOZZ WM LOAF"
    imports.import_price_list(store, ctx, rows, idempotency_key="w2", supplier="Metro")
    [item] = imports.supplier_items_frame(store, ctx).to_dict("records")
    assert (item["sku"], item["ingredient"], item["description"]) == (
        "100234", "CHEESE MOZZARELLA WHOLE MILK LOAF", "CHEESE MOZZ WM LOAF")
