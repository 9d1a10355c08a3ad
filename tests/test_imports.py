"""Price-list imports: validation of every row up front, all-or-nothing, idempotency, duplicate
content, header mapping, CSV/XLSX/DataFrame sources, matching by sku, name and alias, events."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from recipe_support import save_bread

from mo.domain import prices
from mo.domain.context import TenantContext
from mo.errors import MOError
from mo.services import costs, imports
from mo.services import ingredients as ing
from mo.store import Store
from mo.util.jsonutil import loads

DATA = Path(__file__).parent / "data"
SUPPLIER_COLUMNS = {
    "Description": "item",
    "case price": "price",
    "Pack Size": "pack",
    "PRODUCT CODE": "sku",
}


def _error(call, *args, **kwargs) -> MOError:
    with pytest.raises(MOError) as caught:
        call(*args, **kwargs)
    return caught.value


def _refused(
    store: Store, ctx: TenantContext, source: Any, *, supplier: str = "M", **options: Any
) -> MOError:
    """The error of an import under key "k" that must fail."""
    return _error(
        imports.import_price_list, store, ctx, source, idempotency_key="k", supplier=supplier,
        **options,
    )


def _events(store: Store, ctx: TenantContext) -> list[dict[str, Any]]:
    with store.transaction() as tx:
        rows = tx.all("testing.events", {"tenant_id": ctx.tenant_id})
    return [{**r, "payload": loads(r["payload"])} for r in rows]


def _event_counts(store: Store, ctx: TenantContext) -> Counter:
    return Counter(e["event_type"] for e in _events(store, ctx))


def _snapshot(store: Store, ctx: TenantContext) -> dict[str, int]:
    """How many rows each table the import writes holds for the tenant."""
    with store.transaction() as tx:
        names = tx.all("testing.ingredient_names", {"tenant_id": ctx.tenant_id})
    return {
        "ingredients": len(costs.ingredients_frame(store, ctx, include_deleted=True)),
        "names": len(names),
        "costs": len(costs.cost_history(store, ctx)),
        "batches": len(imports.imports_frame(store, ctx)),
        "supplier_items": len(imports.supplier_items_frame(store, ctx)),
        "events": len(_events(store, ctx)),
    }


def _unit_costs(store: Store, ctx: TenantContext) -> dict[str, Decimal]:
    frame = costs.ingredients_frame(store, ctx)
    return dict(zip(frame["name"], frame["unit_cost"]))


def _frame(
    *rows: tuple[str, ...], columns: tuple[str, ...] = ("item", "price", "pack", "sku")
) -> pd.DataFrame:
    return pd.DataFrame([dict(zip(columns, row)) for row in rows], columns=list(columns))


def _csv(tmp_path: Path, text: str, *, name: str = "list.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# ------------------------------------------------------------------------------- happy paths


def test_a_price_list_creates_ingredients_costs_skus_and_events(
    store: Store, ctx: TenantContext
) -> None:
    result = imports.import_price_list(
        store,
        ctx,
        DATA / "price_list_supplier.csv",
        idempotency_key="k1",
        supplier="Bakers Supply",
        columns=SUPPLIER_COLUMNS,
    )
    assert (result.status, result.rows, result.created, result.changed, result.unchanged) == (
        "completed",
        4,
        4,
        4,
        0,
    )
    assert not result.replayed and result.duplicate_of is None
    assert _unit_costs(store, ctx) == {
        "Caster Sugar": Decimal("0.0035"),
        "Free Range Eggs": Decimal("0.3"),
        "Plain Flour": Decimal("0.0008"),
        "Whole Milk": Decimal("0.001"),
    }
    frame = costs.ingredients_frame(store, ctx)
    assert list(frame["unit"]) == ["g", "each", "g", "ml"] and list(frame["category"])[:2] == [
        "Dry goods",
        "Dairy",
    ]
    history = costs.cost_history(store, ctx)
    assert set(history["source"]) == {"import"} and set(history["batch_id"]) == {result.batch_id}
    assert set(history["supplier"]) == {"Bakers Supply"}
    assert list(imports.supplier_items_frame(store, ctx)["sku"]) == ["E-30", "F-25", "M-02", "S-01"]
    assert _event_counts(store, ctx) == Counter(
        {
            "tenant.created": 1,
            "ingredient.created": 4,
            "ingredient.cost.updated": 4,
            "import.completed": 1,
        }
    )
    done = next(e["payload"] for e in _events(store, ctx) if e["event_type"] == "import.completed")
    assert done == {
        "batch_id": result.batch_id,
        "supplier": "Bakers Supply",
        "rows": 4,
        "created": 4,
        "changed": 4,
        "unchanged": 0,
        "rejected": 0,
    }
    flour = next(
        e["payload"] for e in _events(store, ctx) if e["payload"].get("ingredient") == "Plain Flour"
    )
    assert (flour["old_unit_cost"], flour["new_unit_cost"], flour["source"]) == (
        None,
        "0.0008",
        "import",
    )


def test_headers_match_trimmed_and_case_insensitive_and_mapping_wins(
    store: Store, ctx: TenantContext
) -> None:
    """The file also has a 'Price' (unit price) column: the explicit 'Case Price' mapping wins."""
    imports.import_price_list(
        store,
        ctx,
        DATA / "price_list_supplier.csv",
        idempotency_key="k",
        supplier="Bakers",
        columns=SUPPLIER_COLUMNS,
    )
    assert costs.cost_history(store, ctx, "plain flour")["price"][0] == Decimal(20)


def test_an_xlsx_price_list_imports_like_its_csv(
    store: Store, ctx: TenantContext, tmp_path: Path
) -> None:
    path = tmp_path / "list.xlsx"
    pd.DataFrame(
        {"Item": ["Flour", "Butter"], "Price": [12.5, 4], "Pack": ["6 x 1 kg", "250 g"]}
    ).to_excel(path, index=False)
    result = imports.import_price_list(store, ctx, path, idempotency_key="k", supplier="Bakers")
    assert (result.created, result.changed) == (2, 2)
    assert _unit_costs(store, ctx) == {
        "Butter": Decimal("0.016"),
        "Flour": Decimal("0.002083333333"),
    }
    assert costs.cost_history(store, ctx, "flour")["price"][0] == Decimal("12.5")


def test_a_list_of_rows_and_a_bom_csv_are_sources_too(
    store: Store, ctx: TenantContext, tmp_path: Path
) -> None:
    rows = [
        {"item": "Salt", "price": 1.5, "pack": "1 kg"},
        {"item": "Yeast", "price": "2", "pack": "500 g"},
    ]
    assert (
        imports.import_price_list(store, ctx, rows, idempotency_key="a", supplier="S").created == 2
    )
    path = _csv(tmp_path, "Item,Price,Pack\nRye,3.00,1 kg\n", encoding="utf-8-sig")
    assert (
        imports.import_price_list(store, ctx, str(path), idempotency_key="b", supplier="S").created
        == 1
    )
    assert _unit_costs(store, ctx) == {
        "Rye": Decimal("0.003"),
        "Salt": Decimal("0.0015"),
        "Yeast": Decimal("0.004"),
    }


def test_names_and_aliases_match_existing_ingredients(store: Store, ctx: TenantContext) -> None:
    ing.add_ingredient(store, ctx, "Egg", unit="each")
    ing.add_alias(store, ctx, "egg", "Free Range Eggs")
    ing.add_ingredient(store, ctx, "Milk", unit="ml", density="1.03")
    frame = _frame(("free  range EGGS", "9.00", "case of 30", ""), (" milk ", "2.06", "2 kg", ""))
    result = imports.import_price_list(store, ctx, frame, idempotency_key="k", supplier="Dairy Co")
    assert (result.created, result.changed) == (0, 2)
    # 2 kg of milk at 1.03 g/ml is 1941.75 ml: the mass pack is priced in the ingredient's ml.
    assert _unit_costs(store, ctx) == {"Egg": Decimal("0.3"), "Milk": Decimal("0.0010609")}
    assert costs.cost_history(store, ctx, "milk")["pack"][0] == "2 kg"


def test_a_known_sku_matches_its_ingredient_whatever_the_name(
    store: Store, ctx: TenantContext
) -> None:
    imports.import_price_list(
        store,
        ctx,
        _frame(("Plain Flour", "20", "25 kg", "F-25")),
        idempotency_key="a",
        supplier="Mill",
    )
    result = imports.import_price_list(
        store,
        ctx,
        _frame(("Flour T55 sack", "22", "25 kg", "F-25")),
        idempotency_key="b",
        supplier="Mill",
    )
    assert (result.created, result.changed) == (0, 1)
    assert _unit_costs(store, ctx) == {"Plain Flour": Decimal("0.00088")}
    # The same sku from another supplier is another product: matched by its name instead.
    other = imports.import_price_list(
        store,
        ctx,
        _frame(("Rye Flour", "30", "25 kg", "F-25")),
        idempotency_key="c",
        supplier="Other Mill",
    )
    assert other.created == 1 and len(imports.supplier_items_frame(store, ctx)) == 2


def test_the_lowest_unit_cost_wins_when_rows_share_an_ingredient(
    store: Store, ctx: TenantContext
) -> None:
    ing.add_ingredient(store, ctx, "Flour", unit="g")
    ing.add_alias(store, ctx, "flour", "Plain Flour")
    frame = _frame(
        ("Flour", "1.00", "1 kg", "F-1"),
        ("Plain Flour", "20.00", "25 kg", "F-25"),
        ("flour", "9.00", "10 kg", "F-10"),
    )
    result = imports.import_price_list(store, ctx, frame, idempotency_key="k", supplier="Mill")
    assert (result.rows, result.created, result.changed, result.unchanged) == (3, 0, 1, 0)
    history = costs.cost_history(store, ctx)
    assert history[["pack", "unit_cost"]].values.tolist() == [["25 kg", Decimal("0.0008")]]
    assert _event_counts(store, ctx)["ingredient.cost.updated"] == 1


def test_unchanged_costs_are_counted_and_written_fresh_without_events(
    store: Store, ctx: TenantContext
) -> None:
    """Sugar re-listed at the same unit cost: its row is written with the batch's time (the
    offer stays fresh) and counted unchanged; only Flour's change and the new Salt get events."""
    first = _frame(("Flour", "1.00", "1 kg", ""), ("Sugar", "2.00", "1 kg", ""))
    imports.import_price_list(store, ctx, first, idempotency_key="a", supplier="Mill")
    second = _frame(
        ("Sugar", "4.00", "2 kg", ""), ("Flour", "1.10", "1 kg", ""), ("Salt", "1", "1 kg", "")
    )
    result = imports.import_price_list(store, ctx, second, idempotency_key="b", supplier="Mill")
    assert (result.created, result.changed, result.unchanged) == (1, 2, 1)
    history = costs.cost_history(store, ctx)
    written = history.loc[history["batch_id"] == result.batch_id]
    assert sorted(written["ingredient"]) == ["Flour", "Salt", "Sugar"] and len(history) == 5
    assert _event_counts(store, ctx)["ingredient.cost.updated"] == 4  # 2 first, Flour, Salt
    batch = imports.imports_frame(store, ctx).iloc[-1]
    assert (batch["created"], batch["changed"], batch["unchanged"], batch["status"]) == (
        1,
        2,
        1,
        "completed",
    )


def test_a_future_dated_list_is_stored_but_not_current(store: Store, ctx: TenantContext) -> None:
    imports.import_price_list(
        store, ctx, _frame(("Flour", "1", "1 kg", "")), idempotency_key="a", supplier="M"
    )
    later = datetime.now(UTC) + timedelta(days=7)
    result = imports.import_price_list(
        store,
        ctx,
        _frame(("Flour", "2", "1 kg", "")),
        idempotency_key="b",
        supplier="M",
        effective_at=later,
    )
    assert (result.changed, result.recomputed) == (1, 0)
    assert _unit_costs(store, ctx) == {"Flour": Decimal("0.001")}
    assert costs.cost_history(store, ctx)["effective_at"].iloc[-1] == later
    assert imports.imports_frame(store, ctx)["effective_at"].iloc[-1] == later


# ------------------------------------------------------------------------ idempotency, duplicates


def test_a_replay_returns_the_result_and_writes_nothing(store: Store, ctx: TenantContext) -> None:
    frame = _frame(("Flour", "1", "1 kg", "F"))
    first = imports.import_price_list(store, ctx, frame, idempotency_key="k", supplier="Mill")
    before = _snapshot(store, ctx)
    again = imports.import_price_list(store, ctx, frame, idempotency_key="k", supplier="Mill")
    assert again.replayed and again.batch_id == first.batch_id and again.changed == first.changed
    assert _snapshot(store, ctx) == before


def test_the_same_key_with_another_file_is_an_idempotency_conflict(
    store: Store, ctx: TenantContext
) -> None:
    imports.import_price_list(
        store, ctx, _frame(("Flour", "1", "1 kg", "")), idempotency_key="k", supplier="M"
    )
    before = _snapshot(store, ctx)
    err = _refused(store, ctx, _frame(("Flour", "2", "1 kg", "")))
    assert err.code.value == "idempotency_conflict" and _snapshot(store, ctx) == before


def test_the_same_content_under_a_new_key_is_a_duplicate_batch(
    store: Store, ctx: TenantContext, tmp_path: Path
) -> None:
    first = imports.import_price_list(
        store,
        ctx,
        DATA / "price_list_supplier.csv",
        idempotency_key="a",
        supplier="Bakers",
        columns=SUPPLIER_COLUMNS,
    )
    before = _snapshot(store, ctx)
    copy = _csv(tmp_path, (DATA / "price_list_supplier.csv").read_text(), name="copy.csv")
    dup = imports.import_price_list(
        store, ctx, copy, idempotency_key="b", supplier=" BAKERS ", columns=SUPPLIER_COLUMNS
    )
    assert (dup.status, dup.duplicate_of, dup.changed, dup.created, dup.rows) == (
        "duplicate",
        first.batch_id,
        0,
        0,
        4,
    )
    assert _snapshot(store, ctx) == before | {"batches": before["batches"] + 1}
    assert imports.import_price_list(
        store, ctx, copy, idempotency_key="b", supplier="Bakers", columns=SUPPLIER_COLUMNS
    ).replayed  # the replay record was stored
    batches = imports.imports_frame(store, ctx)
    assert list(batches.columns) == imports.BATCH_COLUMNS
    assert (
        list(batches["status"]) == ["completed", "duplicate"]
        and batches["duplicate_of"][1] == first.batch_id
    )


def test_an_old_list_sent_again_after_a_newer_one_is_a_change(
    store: Store, ctx: TenantContext
) -> None:
    old, new = _frame(("Flour", "1", "1 kg", "")), _frame(("Flour", "2", "1 kg", ""))
    imports.import_price_list(store, ctx, old, idempotency_key="a", supplier="M")
    imports.import_price_list(store, ctx, new, idempotency_key="b", supplier="M")
    again = imports.import_price_list(store, ctx, old, idempotency_key="c", supplier="M")
    assert (again.status, again.changed) == ("completed", 1)
    assert _unit_costs(store, ctx) == {"Flour": Decimal("0.001")}


# ----------------------------------------------------------------------------------- bad input


def test_every_bad_row_is_reported_at_once_and_nothing_is_written(
    store: Store, ctx: TenantContext
) -> None:
    ing.add_ingredient(store, ctx, "Egg", unit="each")
    ing.add_ingredient(store, ctx, "Milk", unit="ml")
    before = _snapshot(store, ctx)
    err = _refused(store, ctx, DATA / "price_list_bad.csv", supplier="Mill")
    assert err.code.value == "validation_error"
    found = {(r["row"], r["column"]) for r in err.details["rows"]}
    assert found == {
        (3, "item"),
        (4, "price"),
        (5, "price"),
        (6, "price"),
        (7, "price"),
        (8, "price"),
        (9, "pack"),
        (10, "pack"),
        (11, "pack"),
        (12, "pack"),
        (13, "sku"),
        (15, "item"),
        (16, "unit"),
        (17, "pack"),
        (18, "pack"),
    }
    assert err.details["bad_rows"] == 15
    by_row = {r["row"]: r for r in err.details["rows"]}
    assert (
        by_row[13]["problem"] == "the same sku as row 2"
        and by_row[15]["problem"] == "the same item as row 14"
    )
    assert (
        by_row[4]["value"] == "abc"
        and "Egg" in by_row[11]["problem"]
        and "each" in by_row[11]["problem"]
    )
    assert [r["row"] for r in err.details["rows"]] == sorted(r["row"] for r in err.details["rows"])
    assert _snapshot(store, ctx) == before
    # The key was not consumed by the failure.
    good = _frame(("Flour", "20", "25 kg", "F-25"))
    assert (
        imports.import_price_list(store, ctx, good, idempotency_key="k", supplier="Mill").changed
        == 1
    )


def test_create_missing_off_reports_unknown_items(store: Store, ctx: TenantContext) -> None:
    ing.add_ingredient(store, ctx, "Flour", unit="g")
    before = _snapshot(store, ctx)
    frame = _frame(
        ("Flour", "1", "1 kg", ""), ("Saffron", "10", "1 g", ""), ("Vanilla", "5", "2 each", "")
    )
    err = _refused(store, ctx, frame, create_missing=False)
    assert [(r["row"], r["column"], r["value"]) for r in err.details["rows"]] == [
        (3, "item", "Saffron"),
        (4, "item", "Vanilla"),
    ]
    assert _snapshot(store, ctx) == before
    ok = imports.import_price_list(
        store, ctx, frame.iloc[:1], idempotency_key="k2", supplier="M", create_missing=False
    )
    assert (ok.created, ok.changed) == (0, 1)


def test_many_bad_rows_are_all_counted_but_listed_up_to_a_cap(
    store: Store, ctx: TenantContext
) -> None:
    frame = _frame(*[(f"Item {i}", "free", "1 kg", "") for i in range(1500)])
    err = _refused(store, ctx, frame)
    assert err.details["bad_rows"] == 1500 and len(err.details["rows"]) == imports.MAX_LISTED


@pytest.mark.parametrize(
    ("text", "detail", "expected"),
    [
        ("item,price\nFlour,1\n", "missing_columns", ["pack"]),
        (
            "Item,Price,Pack,price\nFlour,1,1 kg,2\n",
            "duplicate_columns",
            {"price": ["Price", "price"]},
        ),
    ],
)
def test_missing_and_duplicated_columns_are_refused(
    store: Store, ctx: TenantContext, tmp_path: Path, text: str, detail: str, expected: Any
) -> None:
    err = _refused(store, ctx, _csv(tmp_path, text))
    assert err.code.value == "validation_error" and err.details[detail] == expected
    assert imports.imports_frame(store, ctx).empty


@pytest.mark.parametrize("text", ["", "item,price,pack\n", "item,price,pack\n,,\n\n"])
def test_an_empty_price_list_is_refused(
    store: Store, ctx: TenantContext, tmp_path: Path, text: str
) -> None:
    err = _refused(store, ctx, _csv(tmp_path, text))
    assert err.code.value == "validation_error" and imports.imports_frame(store, ctx).empty


def test_undecodable_bytes_name_their_rows(
    store: Store, ctx: TenantContext, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        "item,price,pack\nFlour,1,1 kg\nCrème fraîche,3,200 ml\n\nBrie,4,1 kg\nPâté,2,100 g\n",
        encoding="latin-1",
    )
    err = _refused(store, ctx, path)
    assert [(r["row"], r["column"], r["problem"]) for r in err.details["rows"]] == [
        (3, "item", "not valid UTF-8 text"),
        (6, "item", "not valid UTF-8 text"),
    ]
    assert err.details["bad_rows"] == 2 and costs.ingredients_frame(store, ctx).empty


def test_blank_rows_keep_the_spreadsheet_numbering(
    store: Store, ctx: TenantContext, tmp_path: Path
) -> None:
    path = _csv(tmp_path, "item,price,pack\nFlour,1,1 kg\n\n,,\nSugar,x,1 kg\n")
    err = _refused(store, ctx, path)
    assert [r["row"] for r in err.details["rows"]] == [5]


def test_failed_imports_emit_no_events(store: Store, ctx: TenantContext) -> None:
    before = _event_counts(store, ctx)
    _refused(store, ctx, _frame(("Flour", "1", "1 kg", ""), ("Sugar", "-2", "1 kg", "")))
    assert _event_counts(store, ctx) == before


def test_tenants_do_not_see_each_other_s_imports(
    store: Store, ctx: TenantContext, other_ctx: TenantContext
) -> None:
    frame = _frame(("Flour", "1", "1 kg", "F"))
    imports.import_price_list(store, ctx, frame, idempotency_key="k", supplier="M")
    assert (
        imports.imports_frame(store, other_ctx).empty
        and costs.ingredients_frame(store, other_ctx).empty
    )
    assert imports.supplier_items_frame(store, other_ctx).empty
    theirs = imports.import_price_list(store, other_ctx, frame, idempotency_key="k", supplier="M")
    assert not theirs.replayed and theirs.status == "completed" and theirs.created == 1


def test_progress_bar_is_optional(
    store: Store, ctx: TenantContext, capsys: pytest.CaptureFixture[str]
) -> None:
    imports.import_price_list(
        store,
        ctx,
        _frame(("Flour", "1", "1 kg", "")),
        idempotency_key="k",
        supplier="M",
        progress=True,
    )
    assert "price list" in capsys.readouterr().err


def test_an_import_recomputes_the_recipes_of_changed_ingredients(
    store: Store, ctx: TenantContext
) -> None:
    from mo.services import recipes

    ing.add_ingredient(store, ctx, "Flour", unit="g")
    save_bread(store, ctx)
    result = imports.import_price_list(
        store,
        ctx,
        _frame(("Flour", "2.00", "1 kg", ""), ("Salt", "1", "1 kg", "")),
        idempotency_key="k",
        supplier="M",
    )
    assert (result.changed, result.recomputed) == (2, 1)
    assert imports.imports_frame(store, ctx)["recomputed"].tolist() == [1]
    assert recipes.recipes_frame(store, ctx)["total_cost"].tolist() == [Decimal(1)]


def test_a_large_list_imports_set_based_and_reimports_cleanly(
    store: Store, ctx: TenantContext, tmp_path: Path
) -> None:
    """12k rows (past the statistics refresh threshold), 3k items, a sku per row."""
    n, items = 12_000, 3_000
    frame = pd.DataFrame(
        {
            "sku": [f"S{i:05d}" for i in range(n)],
            "item": [f"item {i % items:04d}" for i in range(n)],
            "price": [f"{1 + i % 97}.{i % 100:02d}" for i in range(n)],
            "pack": [("1 kg", "6 x 1 kg", "500 g")[i % 3] for i in range(n)],
        }
    )
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    first = imports.import_price_list(store, ctx, path, idempotency_key="a", supplier="Big")
    assert (first.rows, first.created, first.changed) == (n, items, items)
    assert len(imports.supplier_items_frame(store, ctx)) == n
    # The cheapest row per item wins: compare with the same choice made in pandas.
    price = frame["price"].map(Decimal)
    grams = frame["pack"].map({"1 kg": 1000, "6 x 1 kg": 6000, "500 g": 500})
    expected = (price / grams).groupby(frame["item"]).min().map(prices.to_scale)
    assert _unit_costs(store, ctx) == expected.to_dict()
    frame.loc[frame.index % 2 == 0, "price"] = "1000.00"  # dearer rows: no item gets cheaper
    frame.to_csv(path, index=False)
    again = imports.import_price_list(store, ctx, path, idempotency_key="b", supplier="Big")
    assert (again.created, again.changed + again.unchanged) == (0, items)
    assert _event_counts(store, ctx)["ingredient.cost.updated"] == items + again.changed


def test_quoted_commas_and_newlines_stay_inside_their_cell(
    store: Store, ctx: TenantContext, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        'item,price,pack\r\n"Flour, plain",1.00,1 kg\r\n"Sugar\r\ncaster",2.00,1 kg\r\n'
        "Salt,x,1 kg\r\n",
    )
    err = _refused(store, ctx, path)
    assert [(r["row"], r["value"]) for r in err.details["rows"]] == [
        (4, "x")
    ]  # the header is row 1
    ok = _csv(
        tmp_path,
        'item,price,pack\n"Flour, plain",1.00,1 kg\n"Sugar\ncaster",2.00,1 kg\n',
        name="ok.csv",
    )
    imports.import_price_list(store, ctx, ok, idempotency_key="k", supplier="M")
    assert sorted(costs.ingredients_frame(store, ctx)["name"]) == ["Flour, plain", "Sugar caster"]


def test_concurrent_imports_of_the_same_new_items_create_each_once(
    store: Store, ctx: TenantContext
) -> None:
    """Three suppliers' lists name the same 300 new items at once: one creates, the rest match."""
    frame = _frame(*[(f"Item {i}", "1.00", "1 kg", "") for i in range(300)])
    barrier, results, errors = threading.Barrier(3), [], []

    def run(n: int) -> None:
        barrier.wait()
        try:
            results.append(
                imports.import_price_list(
                    store,
                    ctx,
                    frame.assign(price=f"{n + 1}.00"),
                    idempotency_key=f"k{n}",
                    supplier=f"Supplier {n}",
                )
            )
        except MOError as err:
            errors.append(err)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sum(r.created for r in results) == 300
    assert len(costs.ingredients_frame(store, ctx)) == 300
    assert _event_counts(store, ctx)["ingredient.created"] == 300
