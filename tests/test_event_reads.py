"""events_frame and event_counts on both backends: windows, order, filters, canonical payloads."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from eventlog_support import emit, event_ids, raw, set_occurred_at
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_support import examples

from mo.errors import ErrorCode, MOError
from mo.services.event_reads import (
    canonical_json,
    check_window,
    event_counts,
    events_frame,
    events_page,
    iter_pages,
)
from mo.services.paging import PageRequest
from mo.util.jsonutil import dumps

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def timeline(store, ctx) -> list[int]:
    """Five ingredient events at T0, T0+10s, T0+10s (a tie), T0+20s and T0+30s; their ids."""
    for n in range(5):
        emit(store, ctx, aggregate_id=str(n), payload={"n": n})
    ids = event_ids(store, ctx)[-5:]
    for event_id, seconds in zip(ids, (0, 10, 10, 20, 30)):
        set_occurred_at(store, event_id, T0 + timedelta(seconds=seconds))
    return ids


def test_frame_has_the_documented_columns_and_dtypes(store, ctx):
    emit(store, ctx, payload={"name": "flour"}, idempotency_key="k1", batch_id=7)
    frame = events_frame(store, ctx)
    assert list(frame.columns) == ["id", "event_id", "event_type", "aggregate_type", "aggregate_id",
                                   "payload", "occurred_at", "idempotency_key", "batch_id"]
    assert frame["id"].dtype == "int64"
    assert frame["batch_id"].dtype == "Int64"
    assert str(frame["occurred_at"].dtype) == "datetime64[us, UTC]"
    for name in ("event_id", "event_type", "aggregate_type", "aggregate_id", "payload", "idempotency_key"):
        assert pd.api.types.is_string_dtype(frame[name]), name
    last = frame.iloc[-1]
    assert (last["event_type"], last["idempotency_key"], last["batch_id"]) == ("ingredient.created", "k1", 7)
    assert pd.isna(frame.iloc[0]["batch_id"])  # tenant.created carries no batch


def test_payload_is_the_same_canonical_text_on_every_backend(store, ctx):
    payload = {"zeta": 1, "alpha": {"y": [3, 1.5, None], "b": "café \"q\"\n"}, "mid": True}
    emit(store, ctx, payload=payload)
    text = events_frame(store, ctx, types=["ingredient.created"])["payload"].iloc[0]
    assert text == dumps(payload)
    assert text == '{"alpha":{"b":"caf\\u00e9 \\"q\\"\\n","y":[3,1.5,null]},"mid":true,"zeta":1}'


def test_window_is_half_open_and_ordered_by_time_then_id(store, ctx, timeline):
    frame = events_frame(store, ctx, since=T0 + timedelta(seconds=10), until=T0 + timedelta(seconds=30))
    assert frame["id"].tolist() == timeline[1:4]  # since included, until excluded, tie by id
    assert frame["occurred_at"].tolist() == [pd.Timestamp(T0 + timedelta(seconds=s)) for s in (10, 10, 20)]


def test_open_ends_and_iso_text_bounds(store, ctx, timeline):
    assert events_frame(store, ctx, until=T0)["id"].tolist() == []
    assert events_frame(store, ctx, since="2024-03-01T12:00:20")["id"].tolist()[:2] == timeline[3:5]
    # naive text is UTC; an offset is honoured: 14:00:10+02:00 is 12:00:10Z
    naive = events_frame(store, ctx, since="2024-03-01 12:00:10", until="2024-03-01T12:00:20")
    offset = events_frame(store, ctx, since="2024-03-01T14:00:10+02:00", until=T0 + timedelta(seconds=20))
    assert naive["id"].tolist() == offset["id"].tolist() == timeline[1:3]


def test_types_filter_and_limit(store, ctx, timeline):
    emit(store, ctx, "ingredient.deleted", aggregate_id="0")
    deleted = events_frame(store, ctx, types=["ingredient.deleted"])
    assert deleted["event_type"].tolist() == ["ingredient.deleted"]
    both = events_frame(store, ctx, types=["ingredient.deleted", "tenant.created"])
    assert sorted(both["event_type"]) == ["ingredient.deleted", "tenant.created"]
    assert events_frame(store, ctx, since=T0, limit=2)["id"].tolist() == timeline[:2]


@pytest.mark.parametrize("read", [events_frame, lambda s, c, **kw: events_page(s, c, page=PageRequest(), **kw)])
def test_a_misspelt_filter_is_refused_not_ignored(store, ctx, timeline, read):
    with pytest.raises(TypeError, match="typs"):
        read(store, ctx, since=T0, typs=["ingredient.deleted"])


def test_pages_keep_order_across_ties(store, ctx, timeline):
    window = check_window(T0, T0 + timedelta(minutes=1))
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        pages = list(iter_pages(tx, ctx, window, page_rows=2))
    assert [p.num_rows for p in pages] == [2, 2, 1]
    assert [i for p in pages for i in p["id"].to_pylist()] == timeline


@pytest.mark.parametrize("page_rows", [1, 2, 3, 4, 7])
def test_bounded_pages_cover_the_window_once_whatever_the_page_size_and_limit(store, ctx, page_rows):
    """Pages end at every page_rows-th key; ties in occurred_at fall on both sides of a bound,
    and other types and other times interleave."""
    for n in range(9):
        emit(store, ctx, "ingredient.created" if n % 3 else "ingredient.deleted", aggregate_id=str(n), payload={"n": n})
    ids = event_ids(store, ctx)[-9:]
    for event_id, seconds in zip(ids, (0, 5, 5, 5, 5, 10, 10, 20, 90)):
        set_occurred_at(store, event_id, T0 + timedelta(seconds=seconds))
    window = check_window(T0, T0 + timedelta(minutes=1))
    typed = check_window(T0, T0 + timedelta(minutes=1), ["ingredient.created"])
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        whole = [i for p in iter_pages(tx, ctx, window) for i in p["id"].to_pylist()]
        paged = [p for p in iter_pages(tx, ctx, window, page_rows=page_rows)]
        created = [i for p in iter_pages(tx, ctx, typed, page_rows=page_rows) for i in p["id"].to_pylist()]
        limited = {limit: [i for p in iter_pages(tx, ctx, window, page_rows=page_rows, limit=limit)
                           for i in p["id"].to_pylist()] for limit in (1, 3, 5, 8, 20)}
    assert whole == ids[:8]  # the last one is outside the window
    assert [i for p in paged for i in p["id"].to_pylist()] == whole
    assert all(p.num_rows <= page_rows for p in paged)
    assert created == [i for n, i in enumerate(ids[:8]) if n % 3]
    assert limited == {limit: whole[:limit] for limit in (1, 3, 5, 8, 20)}


def test_tenants_see_only_their_own_events(store, ctx, other_ctx):
    emit(store, other_ctx, payload={"secret": True})
    mine = events_frame(store, ctx)
    assert mine["event_type"].tolist() == ["tenant.created"]
    assert "secret" not in "".join(mine["payload"])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"since": "2024-01-02", "until": "2024-01-01"}, None),
        ({"since": "2024-01-01", "until": "2024-01-01"}, None),
        ({"since": "yesterday"}, "since"),
        ({"until": 12}, "until"),
        ({"types": ["ingredient.exploded"]}, "types"),
        ({"types": "ingredient.created"}, "types"),
        ({"types": []}, "types"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_arguments_are_validation_errors(store, ctx, kwargs, field):
    with pytest.raises(MOError) as caught:
        events_frame(store, ctx, **kwargs)
    assert caught.value.code is ErrorCode.VALIDATION_ERROR
    if field is None:  # an empty or inverted window names both ends
        assert {"since", "until"} <= set(caught.value.details)
    else:
        assert caught.value.details["field"] == field


def test_event_counts_cover_only_the_last_window(store, ctx):
    for _ in range(3):
        emit(store, ctx)
    emit(store, ctx, "ingredient.deleted")
    ids = event_ids(store, ctx)
    now = datetime.now(timezone.utc)
    set_occurred_at(store, ids[-2], now - timedelta(hours=2))  # one ingredient.created
    set_occurred_at(store, ids[-1], now - timedelta(days=2))  # the ingredient.deleted

    def counts(window: str) -> dict[str, int]:
        frame = event_counts(store, ctx, window=window)
        assert list(frame.columns) == ["event_type", "events"] and frame["events"].dtype == "int64"
        return dict(zip(frame["event_type"], frame["events"]))

    assert counts("1h") == counts("15m") == {"ingredient.created": 2, "tenant.created": 1}
    assert counts("24h") == {"ingredient.created": 3, "tenant.created": 1}
    assert counts("7d") == {"ingredient.created": 3, "ingredient.deleted": 1, "tenant.created": 1}


@pytest.mark.parametrize("window", ["1y", "", "0h", "h", "-1h", 5, None])
def test_event_counts_refuse_bad_windows(store, ctx, window):
    with pytest.raises(MOError) as caught:
        event_counts(store, ctx, window=window)
    assert caught.value.code is ErrorCode.VALIDATION_ERROR and caught.value.details["field"] == "window"


@pytest.mark.parametrize(
    "text",
    ['{"b": 1, "a": 2}', '{"a":{"d":[1.5,1e-05,-0]},"c":"\\u00e9\\u0001"}', ' [1, "x"] ',
     '{"n": 10000000000000000000001}', '"plain"'],
)
def test_canonical_json_is_jsonutil_dumps_of_loads(text):
    from mo.util.jsonutil import loads

    assert canonical_json(text) == dumps(loads(text))


def test_canonical_json_refuses_text_that_is_not_json():
    with pytest.raises(ValueError):
        canonical_json('{"a": 1} trailing')


def test_payload_text_written_by_sql_is_made_canonical(store, ctx):
    """Set-based writers build payloads in SQL (json_object keeps argument order, JSONB its own);
    one that does not set payload_canonical leaves the column's default, false."""
    raw(store, "INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload)"
               " VALUES (%s, 'ingredient.created', 'ingredient', '1', CAST(%s AS JSON))",
        (ctx.tenant_id, '{"b": 1,  "a": [2, 1.50, "\\u00e9"]}'))
    assert events_frame(store, ctx)["payload"].iloc[-1] == '{"a":[2,1.5,"\\u00e9"],"b":1}'


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=examples(fast=60, fuzz=300), deadline=None)
@given(value=JSON_VALUES, indent=st.sampled_from([None, 1]), ascii_only=st.booleans())
def test_canonical_json_agrees_with_dumps_whatever_the_formatting(value, indent, ascii_only):
    # The fast codec uses CPython's C scanner and encoder directly; pin it to the public API.
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    assert canonical_json(text) == dumps(value)
