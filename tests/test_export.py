"""export_events on both backends: CSV and JSONL contents, injection safety, manifest, paths."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from eventlog_support import emit, event_ids, set_occurred_at
from reliability_support import examples

from mo.errors import ErrorCode, MOError
from mo.services.event_reads import events_frame
from mo.services.export import COLUMNS, export_events

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
WINDOW = {"since": T0, "until": T0 + timedelta(hours=1)}
# Values a spreadsheet would run as formulas, and lookalikes it would not.
FORMULAS = ["=cmd()", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]
HARMLESS = ["a=b", "plain", " =lead-space"]


def place(store, ctx, count: int, *, step_seconds: int = 1) -> list[int]:
    """Move the tenant's last `count` events into the window, `step_seconds` apart."""
    ids = event_ids(store, ctx)[-count:]
    for n, event_id in enumerate(ids):
        set_occurred_at(store, event_id, T0 + timedelta(seconds=n * step_seconds))
    return ids


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        return list(reader)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def outdir(tmp_path) -> Path:
    """A folder holding nothing but what the test exports (the DuckDB file lives in tmp_path)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def tricky(store, ctx) -> list[int]:
    """Events whose text fields hold formulas, quotes, newlines, control characters and UTF-8."""
    values = FORMULAS + HARMLESS + ['say "hi"\\', "line\nbreak", "bell\x01", "café ✓"]
    for n, value in enumerate(values):
        emit(store, ctx, "ingredient.alias_added", aggregate_id=value,
             payload={"alias": value, "n": n}, idempotency_key=value, batch_id=n)
    return place(store, ctx, len(values))


def test_csv_holds_the_window_in_order_with_every_column(store, ctx, tmp_path):
    for n in range(4):
        emit(store, ctx, aggregate_id=str(n), payload={"n": n}, batch_id=n if n % 2 else None)
    ids = place(store, ctx, 4, step_seconds=0)  # all at T0: order falls back to id
    set_occurred_at(store, ids[3], T0 + timedelta(hours=1))  # at `until`: excluded
    result = export_events(store, ctx, tmp_path / "events.csv", **WINDOW)
    rows = read_csv(tmp_path / "events.csv")
    frame = events_frame(store, ctx, **WINDOW)
    assert result.rows == len(rows) == 3
    assert [int(r["id"]) for r in rows] == ids[:3] == frame["id"].tolist()
    assert [r["event_id"] for r in rows] == frame["event_id"].tolist()
    assert [r["payload"] for r in rows] == frame["payload"].tolist()
    assert [r["batch_id"] for r in rows] == ["", "1", ""]
    assert {r["occurred_at"] for r in rows} == {"2024-03-01T12:00:00.000000+00:00"}
    assert result.path == str(tmp_path / "events.csv")


def test_csv_neutralises_formula_cells(store, ctx, tmp_path, tricky):
    export_events(store, ctx, tmp_path / "events.csv", **WINDOW)
    rows = read_csv(tmp_path / "events.csv")
    by_n = {json.loads(r["payload"])["n"]: r for r in rows}
    for n, value in enumerate(FORMULAS):
        assert by_n[n]["aggregate_id"] == "'" + value
        assert by_n[n]["idempotency_key"] == "'" + value
    for n, value in enumerate(HARMLESS, start=len(FORMULAS)):
        assert by_n[n]["aggregate_id"] == value
    # The payload cell is JSON text starting with "{": the formula inside stays as written.
    assert json.loads(by_n[0]["payload"])["alias"] == "=cmd()"
    assert not any(r["payload"].startswith("'") for r in rows)


def test_jsonl_round_trips_exactly(store, ctx, tmp_path, tricky):
    export_events(store, ctx, tmp_path / "events.jsonl", **WINDOW)
    lines = read_jsonl(tmp_path / "events.jsonl")
    frame = events_frame(store, ctx, **WINDOW)
    assert len(lines) == len(frame) == len(tricky)
    for line, (_, row) in zip(lines, frame.iterrows()):
        assert list(line) == list(COLUMNS)
        assert line["payload"] == row["payload"]  # the canonical text itself
        assert line["aggregate_id"] == line["idempotency_key"] == json.loads(row["payload"])["alias"]
        assert (line["id"], line["event_id"], line["batch_id"]) == (row["id"], row["event_id"], row["batch_id"])
        assert datetime.fromisoformat(line["occurred_at"]) == row["occurred_at"].to_pydatetime()
    assert lines[0]["aggregate_id"] == "=cmd()"  # nothing neutralised in JSONL


def test_nulls_stay_null_in_jsonl(store, ctx, tmp_path):
    emit(store, ctx)
    place(store, ctx, 1)
    export_events(store, ctx, tmp_path / "e.jsonl", **WINDOW)
    (line,) = read_jsonl(tmp_path / "e.jsonl")
    assert line["idempotency_key"] is None and line["batch_id"] is None


def test_manifest_describes_and_checks_the_export(store, ctx, tmp_path):
    for event_type in ("ingredient.created", "ingredient.created", "ingredient.deleted"):
        emit(store, ctx, event_type)
    place(store, ctx, 3)
    result = export_events(store, ctx, tmp_path / "out.jsonl", since="2024-03-01T12:00:00",
                           until="2024-03-01T13:00:00Z")
    assert result.manifest_path == str(tmp_path / "out.jsonl.manifest.json")
    manifest = json.loads(Path(result.manifest_path).read_text())
    digest = hashlib.sha256((tmp_path / "out.jsonl").read_bytes()).hexdigest()
    assert result.sha256 == manifest["sha256"] == digest
    assert manifest["rows"] == result.rows == 3
    assert manifest["counts"] == {"ingredient.created": 2, "ingredient.deleted": 1}
    assert manifest["window"] == {"since": "2024-03-01T12:00:00+00:00", "until": "2024-03-01T13:00:00+00:00"}
    assert (manifest["format"], manifest["tenant"], manifest["file"]) == ("jsonl", "acme", "out.jsonl")
    assert manifest["columns"] == list(COLUMNS) and manifest["types"] is None
    generated = datetime.fromisoformat(manifest["generated_at"])
    assert abs(datetime.now(timezone.utc) - generated) < timedelta(minutes=5)


def test_types_filter_reaches_rows_and_manifest(store, ctx, tmp_path):
    emit(store, ctx, "ingredient.created")
    emit(store, ctx, "ingredient.deleted")
    place(store, ctx, 2)
    result = export_events(store, ctx, tmp_path / "d.csv", types=["ingredient.deleted"], **WINDOW)
    assert [r["event_type"] for r in read_csv(tmp_path / "d.csv")] == ["ingredient.deleted"]
    manifest = json.loads(Path(result.manifest_path).read_text())
    assert manifest["types"] == ["ingredient.deleted"] and manifest["counts"] == {"ingredient.deleted": 1}


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_small_chunks_write_the_same_bytes(store, ctx, tmp_path, suffix):
    for n in range(7):
        emit(store, ctx, aggregate_id=str(n), payload={"n": n})
    ids = place(store, ctx, 7)
    for event_id in ids[2:5]:  # a run of equal times across chunk edges
        set_occurred_at(store, event_id, T0 + timedelta(seconds=2))
    whole = export_events(store, ctx, tmp_path / f"whole.{suffix}", **WINDOW)
    chunked = export_events(store, ctx, tmp_path / f"chunked.{suffix}", chunk_rows=2, **WINDOW)
    assert chunked.rows == whole.rows == 7
    assert (tmp_path / f"chunked.{suffix}").read_bytes() == (tmp_path / f"whole.{suffix}").read_bytes()


def test_empty_window_gives_a_header_only_csv_and_an_empty_jsonl(store, ctx, tmp_path):
    csv_result = export_events(store, ctx, tmp_path / "none.csv", **WINDOW)
    jsonl_result = export_events(store, ctx, tmp_path / "none.jsonl", **WINDOW)
    assert csv_result.rows == jsonl_result.rows == 0
    assert (tmp_path / "none.csv").read_text() == ",".join(f'"{c}"' for c in COLUMNS) + "\n"
    assert (tmp_path / "none.jsonl").read_bytes() == b""


def test_format_comes_from_the_argument_or_the_suffix(store, ctx, tmp_path):
    export_events(store, ctx, tmp_path / "events.txt", format="jsonl", **WINDOW)
    export_events(store, ctx, tmp_path / "EVENTS.CSV", **WINDOW)
    assert (tmp_path / "EVENTS.CSV").read_text().startswith('"event_id"')
    for path, fmt in ((tmp_path / "events.txt", None), (tmp_path / "e.csv", "xlsx")):
        with pytest.raises(MOError) as caught:
            export_events(store, ctx, path, format=fmt, **WINDOW)
        assert caught.value.code is ErrorCode.VALIDATION_ERROR and caught.value.details["field"] == "format"


def test_an_export_replaces_the_old_file_and_leaves_no_temp_files(store, ctx, outdir):
    target = outdir / "events.csv"
    target.write_text("stale")
    export_events(store, ctx, target, since=T0 - timedelta(days=365 * 10), until=datetime.now(timezone.utc) + timedelta(hours=1))
    assert "tenant.created" in target.read_text()
    assert sorted(p.name for p in outdir.iterdir()) == ["events.csv", "events.csv.manifest.json"]


def test_paths_outside_base_dir_are_refused(store, ctx, tmp_path):
    base = tmp_path / "exports"
    base.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    os.symlink(outside, base / "link")
    for path in (base / ".." / "escape.csv", base / "link" / "escape.csv", outside / "e.csv", base):
        with pytest.raises(MOError) as caught:
            export_events(store, ctx, path, base_dir=base, **WINDOW)
        assert caught.value.code is ErrorCode.VALIDATION_ERROR, path
    assert list(outside.iterdir()) == []
    inside = export_events(store, ctx, base / "sub" / ".." / "ok.csv", base_dir=base, **WINDOW)
    assert inside.path == str((base / "ok.csv").resolve())


@pytest.mark.parametrize(
    "kwargs",
    [{"since": None, "until": T0}, {"since": T0, "until": T0}, {"since": T0, "until": "later"},
     {"since": T0, "until": T0 + timedelta(1), "types": ["nope"]}],
)
def test_bad_windows_and_types_are_refused_before_any_file_is_written(store, ctx, outdir, kwargs):
    with pytest.raises(MOError) as caught:
        export_events(store, ctx, outdir / "x.csv", **kwargs)
    assert caught.value.code is ErrorCode.VALIDATION_ERROR
    assert list(outdir.iterdir()) == []


def test_a_missing_folder_is_refused(store, ctx, tmp_path):
    with pytest.raises(MOError) as caught:
        export_events(store, ctx, tmp_path / "no" / "such" / "x.csv", **WINDOW)
    assert caught.value.code is ErrorCode.VALIDATION_ERROR and caught.value.details["field"] == "path"


def test_iso_utc_writes_what_isoformat_writes_with_microseconds():
    import pyarrow as pa

    from mo.services.export import iso_utc

    instants = [datetime(1, 1, 2, tzinfo=timezone.utc), datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc),
                datetime(2024, 3, 1, 12, 0, 5, 7, tzinfo=timezone.utc),
                datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc), None]
    text = iso_utc(pa.chunked_array([pa.array(instants, pa.timestamp("us", tz="UTC"))])).to_pylist()
    assert text == [None if t is None else t.isoformat(timespec="microseconds") for t in instants]


def test_json_special_finds_exactly_the_strings_json_must_escape():
    import pyarrow as pa
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from mo.services.export import json_special

    @settings(max_examples=examples(fast=60, fuzz=300), deadline=None)
    @given(values=st.lists(st.none() | st.text(max_size=6), max_size=8), large=st.booleans(), cut=st.integers(0, 2))
    def check(values, large, cut):
        array = pa.array(values, pa.large_string() if large else pa.string()).slice(cut)
        expected = [v is not None and json.dumps(v, ensure_ascii=False) != f'"{v}"' for v in values[cut:]]
        assert json_special(array).to_pylist() == expected

    check()
