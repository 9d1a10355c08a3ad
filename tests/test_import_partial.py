"""on_bad_rows="skip": the good rows of a price list are imported in one transaction, every bad
row is returned and kept with the batch; the default still writes nothing when a row is bad.
Both backends × both clients (a file goes over HTTP as multipart, rows as JSON)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from client_fixtures import error_of, error_tuple, unit_costs

import mo

GUIDE = """\
Item,Code,Pack,Price
Flour,F-1,25 kg,10.00
Sugar,S-1,1 kg,2.50
Carrots,C-1,10 kg,lots
Milk,M-1,1 kg,1.20
Butter,B-1,250 g,2.00
Flour Again,F-1,1 kg,0.50
"""
COLUMNS = {"Item": "item", "Code": "sku", "Pack": "pack", "Price": "price"}
# Row 4: a price that is no number (the file's own check); row 5: Milk is measured in ml and has
# no density, so a pack in kg cannot price it (the database's check); row 7: F-1 again.
REJECTED = [
    {"row": 4, "column": "price", "value": "lots", "problem": "price must be a number"},
    {"row": 5, "column": "pack", "value": "1 kg",
     "problem": "a pack in g cannot price 'Milk', measured in ml: add a conversion: "
                "add_conversion('Milk', '1 g', '… ml')"},
    {"row": 7, "column": "sku", "value": "F-1", "problem": "the same sku as row 2"},
]


@pytest.fixture
def guide(tmp_path: Path) -> Path:
    path = tmp_path / "guide.csv"
    path.write_text(GUIDE)
    return path


@pytest.fixture
def stocked(client: mo.MOClient) -> mo.MOClient:
    client.add_ingredient("Milk", unit="ml")
    return client


def test_skip_imports_the_good_rows_and_keeps_every_bad_one(
    stocked: mo.MOClient, guide: Path
) -> None:
    result = stocked.import_price_list(
        guide, idempotency_key="w1", supplier="Sysco", columns=COLUMNS, on_bad_rows="skip"
    )
    assert (result.status, result.rows, result.created, result.changed) == ("completed", 6, 3, 3)
    assert result.rejected_rows == 3 and list(result.rejected) == REJECTED
    costs = unit_costs(stocked)
    assert costs["Flour"] == Decimal("0.0004")  # 10.00 / 25 000 g
    assert costs["Sugar"] == Decimal("0.0025")  # 2.50 / 1 000 g
    assert costs["Butter"] == Decimal("0.008")  # 2.00 / 250 g
    assert costs["Milk"] is None and "Carrots" not in costs and "Flour Again" not in costs
    kept = stocked.import_rejections(result.batch_id)
    assert kept.to_dict("records") == REJECTED
    assert str(kept["row"].dtype) == "Int64"
    [done] = [json.loads(p) for p in stocked.events(types=["import.completed"])["payload"]]
    assert done["rejected"] == 3 and done["batch_id"] == result.batch_id


def test_the_default_still_writes_nothing_when_a_row_is_bad(
    stocked: mo.MOClient, guide: Path
) -> None:
    events_before = len(stocked.events())
    err = error_of(lambda: stocked.import_price_list(
        guide, idempotency_key="w1", supplier="Sysco", columns=COLUMNS))
    assert err.code.value == "validation_error"
    assert err.details == {"rows": REJECTED, "bad_rows": 3}
    assert stocked.imports().empty and len(stocked.events()) == events_before
    assert set(unit_costs(stocked)) == {"Milk"}


def test_a_skipped_import_replays_and_its_content_is_a_duplicate(
    stocked: mo.MOClient, guide: Path
) -> None:
    first = stocked.import_price_list(
        guide, idempotency_key="w1", supplier="Sysco", columns=COLUMNS, on_bad_rows="skip"
    )
    again = stocked.import_price_list(
        guide, idempotency_key="w1", supplier="Sysco", columns=COLUMNS, on_bad_rows="skip"
    )
    assert again.replayed and again == first.__class__(**{**first.__dict__, "replayed": True})
    other_way = error_of(lambda: stocked.import_price_list(
        guide, idempotency_key="w1", supplier="Sysco", columns=COLUMNS))
    assert other_way.code.value == "idempotency_conflict"  # same key, another request
    duplicate = stocked.import_price_list(
        guide, idempotency_key="w2", supplier="Sysco", columns=COLUMNS, on_bad_rows="skip"
    )
    assert (duplicate.status, duplicate.duplicate_of) == ("duplicate", first.batch_id)
    assert list(stocked.imports()["status"]) == ["completed", "duplicate"]
    assert len(stocked.import_rejections(first.batch_id)) == 3
    assert stocked.import_rejections(duplicate.batch_id).empty


def test_skip_with_no_good_row_is_a_validation_error_and_writes_nothing(
    stocked: mo.MOClient,
) -> None:
    rows = [{"item": "Milk", "price": "1", "pack": "1 kg"}, {"item": "Eggs", "price": "x", "pack": "12 each"}]
    err = error_of(lambda: stocked.import_price_list(
        rows, idempotency_key="k", supplier="Sysco", on_bad_rows="skip"))
    assert err.code.value == "validation_error" and err.details["bad_rows"] == 2
    assert [r["row"] for r in err.details["rows"]] == [2, 3]
    assert err.message.startswith("none of the 2 row(s)")
    assert stocked.imports().empty and set(unit_costs(stocked)) == {"Milk"}


def test_skip_leaves_out_unknown_items_when_nothing_may_be_created(stocked: mo.MOClient) -> None:
    rows = [{"item": "Milk", "price": "1.50", "pack": "1 l"},
            {"item": "Saffron", "price": "9", "pack": "1 g"}]
    result = stocked.import_price_list(
        rows, idempotency_key="k", supplier="Sysco", create_missing=False, on_bad_rows="skip"
    )
    assert (result.created, result.changed, result.rejected_rows) == (0, 1, 1)
    assert list(result.rejected) == [{"row": 3, "column": "item", "value": "Saffron",
                                      "problem": "unknown item (create_missing is off)"}]
    assert unit_costs(stocked) == {"Milk": Decimal("0.0015")}


@pytest.mark.parametrize("value", ["SKIP", "", None, True, ["skip"]])
def test_on_bad_rows_is_fail_or_skip_alike_from_both_clients(
    client: mo.MOClient, twin: mo.MOClient, guide: Path, value: object
) -> None:
    def call(c: mo.MOClient, source: object) -> mo.MOError:
        return error_of(lambda: c.import_price_list(
            source, idempotency_key="k", supplier="Sysco", on_bad_rows=value))  # type: ignore[arg-type]

    for source in (guide, [{"item": "Milk", "price": "1", "pack": "1 l"}]):
        err = call(client, source)
        assert err.code.value == "validation_error" and err.details["field"] == "on_bad_rows"
        assert error_tuple(err) == error_tuple(call(twin, source))
    assert client.imports().empty


def test_rejections_of_an_unknown_or_another_tenants_batch_are_not_found(
    stocked: mo.MOClient, other_client: mo.MOClient, guide: Path
) -> None:
    mine = stocked.import_price_list(
        guide, idempotency_key="w1", supplier="Sysco", columns=COLUMNS, on_bad_rows="skip"
    )
    for client, batch in ((other_client, mine.batch_id), (stocked, mine.batch_id + 10_000)):
        assert error_of(lambda: client.import_rejections(batch)).code.value == "not_found"
    for bad in ("1", 0, -3, 1.0, True, 2**63):
        err = error_of(lambda: stocked.import_rejections(bad))  # type: ignore[arg-type]
        assert (err.code.value, err.details["field"]) == ("validation_error", "batch_id")
