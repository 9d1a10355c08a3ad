"""Tx.load: a DataFrame bulk-loaded arrives cell for cell, on both backends."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from mo.store import Store

_TABLE = {
    "duckdb": "CREATE TEMP TABLE mo_load_probe (n BIGINT, t VARCHAR, d DECIMAL(38, 12), b BOOLEAN)",
    "postgres": "CREATE TEMP TABLE mo_load_probe (n BIGINT, t TEXT, d NUMERIC(38, 12), b BOOLEAN)"
                " ON COMMIT DROP",
}


def _round_trip(store: Store, frame: pd.DataFrame) -> list[dict]:
    with store.transaction() as tx:
        tx.script(_TABLE[store.dialect])
        assert tx.load("mo_load_probe", frame) == len(frame)
        rows = tx.all("testing.load_probe")
        tx.script("DROP TABLE mo_load_probe")
    return rows


def test_text_keeps_empty_apart_from_missing_and_survives_csv_syntax(store: Store) -> None:
    texts = ["plain", "", None, 'a "quoted", comma', "two\nlines", "trailing \\", "ünïcode €"]
    frame = pd.DataFrame({
        "n": pd.Series(range(len(texts)), dtype="int64"),
        "t": pd.Series(texts, dtype=object),
        "d": pd.Series(["1.5", "0.000000000001", None, "12345678901234567890.123", "0", "7", "2"],
                       dtype=object),
        "b": pd.Series([True, False, None, True, False, True, False], dtype=object),
    })
    rows = _round_trip(store, frame)
    assert [r["t"] for r in rows] == texts
    assert [r["d"] for r in rows] == [Decimal("1.5"), Decimal("0.000000000001"), None,
                                      Decimal("12345678901234567890.123"), 0, 7, 2]
    assert [r["b"] for r in rows] == [True, False, None, True, False, True, False]


def test_a_column_mixing_text_and_numbers_still_loads(store: Store) -> None:
    frame = pd.DataFrame({"n": pd.Series([1, 2], dtype="int64"), "t": pd.Series(["x", 5], dtype=object)})
    assert [r["t"] for r in _round_trip(store, frame)] == ["x", "5"]


def test_a_large_frame_arrives_whole_across_copy_chunks(store: Store) -> None:
    size = 250_001  # more than two of PostgresStore's 100k-row COPY chunks
    frame = pd.DataFrame({"n": pd.Series(range(size), dtype="int64"),
                          "t": pd.Series([f"sku-{i}" if i % 3 else "" for i in range(size)], dtype=object)})
    rows = _round_trip(store, frame)
    assert len(rows) == size and rows[-1] == {"n": size - 1, "t": f"sku-{size - 1}", "d": None, "b": None}
    assert sum(r["t"] == "" for r in rows) == len(range(0, size, 3))
