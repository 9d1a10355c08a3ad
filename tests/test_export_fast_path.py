"""The export fast path: payloads marked canonical (payload_canonical) pass as stored.

A wrong mark would change exported bytes, so on both backends every writer path writes events
and the export must be byte for byte what it is with every payload re-serialised, and what a
plain Python reference writer makes of the rows; every marked payload must already be canonical.
"""

from __future__ import annotations

import json
import string
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from eventlog_support import emit, raw

from mo.client.local import LocalClient
from mo.services import event_reads, export
from mo.services.export import COLUMNS, FORMULA_STARTS, export_events
from mo.util.jsonutil import canonical_json, dumps, loads

WINDOW = {"since": datetime(2000, 1, 1, tzinfo=timezone.utc),
          "until": datetime.now(timezone.utc) + timedelta(days=1)}
PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))
# Names a price list may carry: plain, every printable ASCII character, UTF-8, a literal \u.
ITEMS = ["Flour", "Sugar " + PRINTABLE.replace(",", ""), 'Say "hi" \\ back', "Crème fraîche ✓",
         "Tab\\u0009 not an escape", "Emoji 😀", "=SUM(A1)"]


def every_writer(client: LocalClient) -> None:
    """Events from each writer: emit_event (services), the import's SQL, the recompute's SQL."""
    client.add_ingredient("Butter", unit="g", category="Dairy ü")
    client.add_ingredient("Salt", unit="g", category=PRINTABLE)
    client.add_alias("butter", "Beurre")
    prices = pd.DataFrame({"item": ITEMS, "price": ["1.50", "2", "3.333", "4", "5.10", "6", "7"],
                           "pack": ["1 kg", "6 x 1 kg", "500 g", "1 kg", "bag 25 kg", "1 kg", "1 kg"],
                           "unit": ["g"] * len(ITEMS), "category": ["é", None, "x", "\\", '"', PRINTABLE, "y"]})
    client.import_price_list(prices, idempotency_key="list-1", supplier="Süd & Co")
    client.import_price_list(prices.assign(price=["9", "8", "7", "6", "5", "4", "3"]),
                             idempotency_key="list-2", supplier=PRINTABLE)
    client.update_cost("butter", "12.50", per="1 kg", idempotency_key="cost-1", supplier="Mill", note="é")
    client.save_recipe("Dough é", yield_qty=2, yield_unit="each",
                       lines=[{"ingredient": "flour", "qty": 1, "unit": "kg"},
                              {"ingredient": "butter", "qty": 250, "unit": "g"}])
    client.save_recipe("Plain dough", yield_qty=1, yield_unit="each",
                       lines=[{"ingredient": "salt", "qty": 5, "unit": "g"}])
    client.recompute()
    client.update_cost("salt", "0.70", per="1 kg", idempotency_key="cost-2")
    client.import_recipes(pd.DataFrame({"recipe": ["Imported"], "yield_qty": ["1"], "yield_unit": ["each"],
                                        "kind": ["ingredient"], "item": ["flour"], "qty": ["10"], "unit": ["g"]}),
                          idempotency_key="recipes-1")
    client.delete_ingredient("salt")
    client.restore_ingredient("salt")


def odd_payloads(store, ctx) -> None:
    """Payloads dumps() writes but does not write canonically, and ones it does."""
    emit(store, ctx, "ingredient.alias_added", payload={10: "ten", 9: "nine"})  # int keys sort as ints
    emit(store, ctx, "ingredient.alias_added", payload={2: "a", True: "b"})  # a bool key beside an int
    emit(store, ctx, "ingredient.alias_added",
         payload={"z": [1.5, 1e-05, {"b": None, "a": "é\x01\x1f\x7f"}], "a": 10**20,
                  "d": Decimal("1.500"), "t": datetime(2024, 3, 1, tzinfo=timezone.utc)})
    for start in FORMULA_STARTS:
        emit(store, ctx, "ingredient.alias_added", aggregate_id=start + "x", payload={"alias": start + "x"},
             idempotency_key=start + "k")


@pytest.fixture
def written(store, ctx) -> None:
    every_writer(LocalClient.bound(store, ctx))
    odd_payloads(store, ctx)


def stored_rows(store, ctx) -> list[tuple]:
    return raw(store, "SELECT event_type, CAST(payload AS VARCHAR), payload_canonical FROM event_log"
                      " WHERE tenant_id = %s ORDER BY id", (ctx.tenant_id,))


def test_every_payload_marked_canonical_is_canonical(store, ctx, written):
    rows = stored_rows(store, ctx)
    assert {row[0] for row in rows} >= {"ingredient.created", "ingredient.cost.updated", "recipe.recomputed",
                                        "import.completed", "recipes.imported", "recipe.saved"}
    for event_type, text, marked in rows:
        if marked:
            assert canonical_json(text) == text, (event_type, text)
    marked_types = {row[0] for row in rows if row[2]}
    if store.dialect == "postgres":
        assert marked_types == set()  # JSONB keeps no text as written
    else:  # the fast path is taken, by emit_event and by the import's SQL alike
        assert {"ingredient.created", "ingredient.cost.updated", "import.completed"} <= marked_types
        # UTF-8 and odd keys are written but not marked
        assert any(not marked and event_type == "ingredient.cost.updated" for event_type, _, marked in rows)
        assert any(not marked and "10" in text for _, text, marked in rows)


@pytest.mark.parametrize("backend", ["duckdb"])  # PostgreSQL (JSONB) marks no payload
@pytest.mark.parametrize("event_type", ["ingredient.created", "ingredient.cost.updated",
                                        "recipe.recomputed"])
def test_sql_built_payloads_mark_exactly_the_canonical_ones(store, ctx, written, event_type):
    """On DuckDB the import's and the recompute's statements mark a payload iff it is canonical
    (its strings are printable ASCII, a backslash before a u included)."""
    rows = raw(store, "SELECT CAST(payload AS VARCHAR), payload_canonical FROM event_log WHERE tenant_id = %s"
                      " AND event_type = %s AND (batch_id IS NOT NULL OR event_type = 'recipe.recomputed')",
               (ctx.tenant_id, event_type))
    assert len(rows) > 2 and any(marked for _, marked in rows) and not all(marked for _, marked in rows)
    for text, marked in rows:
        assert marked == (canonical_json(text) == text), text


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_fast_path_exports_the_same_bytes_as_re_serialising_everything(store, ctx, written, tmp_path,
                                                                      monkeypatch, suffix):
    fast = export_events(store, ctx, tmp_path / f"fast{suffix}", **WINDOW)
    small = export_events(store, ctx, tmp_path / f"small{suffix}", chunk_rows=3, **WINDOW)
    original = event_reads.with_canonical_payloads

    def nothing_marked(page: pa.Table) -> pa.Table:
        index = page.schema.get_field_index("payload_canonical")
        return original(page.set_column(index, "payload_canonical", pa.array([False] * page.num_rows)))

    monkeypatch.setattr(export, "with_canonical_payloads", nothing_marked)
    slow = export_events(store, ctx, tmp_path / f"slow{suffix}", **WINDOW)
    assert fast.rows == slow.rows == small.rows > 20
    data = (tmp_path / f"fast{suffix}").read_bytes()
    assert data == (tmp_path / f"slow{suffix}").read_bytes() == (tmp_path / f"small{suffix}").read_bytes()
    assert data == reference_export(store, ctx, suffix)


def reference_export(store, ctx, suffix: str) -> bytes:
    """The export as a plain Python writer makes it from the stored rows: payloads dumps(loads()),
    times isoformat() with six digits, CSV as pyarrow writes it (strings quoted, quotes doubled,
    nulls empty, formula cells prefixed with '), JSONL as json.dumps with compact separators."""
    rows = raw(store, "SELECT CAST(event_id AS VARCHAR), event_type, aggregate_type, aggregate_id,"
                      " CAST(payload AS VARCHAR), occurred_at, idempotency_key, batch_id, id FROM event_log"
                      " WHERE tenant_id = %s ORDER BY occurred_at, id", (ctx.tenant_id,))
    records = []
    for row in rows:
        record = dict(zip(COLUMNS, row))
        record["payload"] = dumps(loads(record["payload"]))
        record["occurred_at"] = record["occurred_at"].astimezone(timezone.utc).isoformat(timespec="microseconds")
        records.append(record)
    if suffix == ".jsonl":
        lines = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records]
        return "".join(lines).encode()
    lines = [",".join(f'"{name}"' for name in COLUMNS) + "\n"]
    for r in records:
        lines.append(",".join(csv_cell(name, r[name]) for name in COLUMNS) + "\n")
    return "".join(lines).encode()


def csv_cell(name: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if name != "occurred_at" and text.startswith(FORMULA_STARTS):
        text = "'" + text
    return '"' + text.replace('"', '""') + '"'


def test_every_printable_ascii_character_escapes_alike_in_duckdb_and_python(tmp_path: Path):
    """What the import statements rely on: json_object writes printable ASCII as json.dumps does."""
    import duckdb

    with duckdb.connect(str(tmp_path / "probe.duckdb")) as con:
        for char in PRINTABLE + string.ascii_letters:
            text = con.execute("SELECT CAST(json_object('k', $c) AS VARCHAR)", {"c": char * 2}).fetchone()[0]
            assert text == dumps({"k": char * 2}), char
