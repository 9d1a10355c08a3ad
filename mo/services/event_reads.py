"""Reading a tenant's event log: windows as DataFrames or Arrow pages, and counts per type.

Payloads leave here as canonical JSON text (sorted keys, compact separators, ASCII), the same
text from DuckDB (which keeps the text as written) and PostgreSQL (whose JSONB reorders keys).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypedDict, Unpack

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mo.domain.checks import Window, check_window, parse_span
from mo.domain.context import TenantContext
from mo.errors import validation_error
from mo.services.paging import FramePage, PageRequest
from mo.store.base import Params, Store, Tx
from mo.util.jsonutil import canonical_json

FRAME_COLUMNS = (
    "id", "event_id", "event_type", "aggregate_type", "aggregate_id",
    "payload", "occurred_at", "idempotency_key", "batch_id",
)
EVENT_SCHEMA = pa.schema([
    ("id", pa.int64()),
    ("event_id", pa.string()),
    ("event_type", pa.string()),
    ("aggregate_type", pa.string()),
    ("aggregate_id", pa.string()),
    ("payload", pa.string()),
    ("occurred_at", pa.timestamp("us", tz="UTC")),
    ("idempotency_key", pa.string()),
    ("batch_id", pa.int64()),
])
# A page as stored: payload_canonical says the payload text needs no re-serialising.
STORED_SCHEMA = EVENT_SCHEMA.append(pa.field("payload_canonical", pa.bool_()))
PAGE_ROWS = 100_000

_MAX_LIMIT = 2**62




def iter_pages(
    tx: Tx, ctx: TenantContext, window: Window, *, page_rows: int = PAGE_ROWS, limit: int | None = None
) -> Iterator[pa.Table]:
    """The window's events as Arrow tables of at most `page_rows` rows (EVENT_SCHEMA), in
    (occurred_at, id) order, payloads canonical. Memory stays bounded by one page."""
    return map(with_canonical_payloads, iter_stored_pages(tx, ctx, window, page_rows=page_rows, limit=limit))


def iter_stored_pages(
    tx: Tx, ctx: TenantContext, window: Window, *, page_rows: int = PAGE_ROWS, limit: int | None = None
) -> Iterator[pa.Table]:
    """As iter_pages, but pages of STORED_SCHEMA, payloads as the backend returns them (not
    all canonical yet): exports canonicalise on another thread while the next page is fetched.

    One query finds where each page ends (event_reads.page_ends); each page then reads and
    sorts only its own rows, in the same snapshot."""
    params = window.params(ctx) | {"after_at": window.since, "after_id": -1}
    remaining = _MAX_LIMIT if limit is None else limit
    ends = [] if remaining <= page_rows else [  # one page (a small limit) needs no bounds
        (row["occurred_at"], row["id"]) for row in tx.all("event_reads.page_ends", params | {"page_rows": page_rows})]
    for upto_at, upto_id in [*ends, (window.until, -1)]:  # the last page: everything before until
        page = fetch_table(tx, "event_reads.window",
                           params | {"limit": min(page_rows, remaining), "upto_at": upto_at, "upto_id": upto_id},
                           schema=STORED_SCHEMA)
        if page.num_rows:
            yield page
            params |= {"after_at": page["occurred_at"][-1].as_py(), "after_id": page["id"][-1].as_py()}
        remaining -= page.num_rows
        if remaining <= 0:
            return


def fetch_table(tx: Tx, query: str, params: Params, *, schema: pa.Schema = EVENT_SCHEMA) -> pa.Table:
    """A query's rows as an Arrow table of `schema` (also when the result is empty)."""
    table = tx.arrow(query, params)
    if table.num_rows == 0:  # PostgreSQL hands back a table without columns
        return schema.empty_table()
    return table.select(list(schema.names)).cast(schema)


def with_canonical_payloads(page: pa.Table) -> pa.Table:
    """A STORED_SCHEMA page as EVENT_SCHEMA, each payload its canonical JSON text: payloads
    marked canonical pass as stored, only the others go through canonical_json."""
    payloads = page["payload"].combine_chunks()
    redo = pc.invert(pc.fill_null(page["payload_canonical"].combine_chunks(), False))
    if pc.any(redo).as_py():
        fresh = [canonical_json(text) for text in payloads.filter(redo).to_pylist()]
        payloads = pc.replace_with_mask(payloads, redo, pa.array(fresh, pa.string()))
    return page.drop_columns(["payload_canonical"]).set_column(EVENT_SCHEMA.get_field_index("payload"), "payload", payloads)


class EventFilter(TypedDict, total=False):
    """Which events a read wants, named once for events_frame and events_page: those in
    [since, until) (datetimes or ISO 8601 text, naive = UTC; None leaves that end open), of
    these types (None: every type), at most `limit` of them (None: all)."""

    since: object
    until: object
    types: Iterable[str] | None
    limit: int | None


def _checked(wanted: EventFilter) -> tuple[Window, int | None]:
    """The filter's window and limit. Raises validation_error for a bad or empty window,
    unknown types or a limit that is not a positive integer."""
    unexpected = sorted(wanted.keys() - EventFilter.__optional_keys__)
    if unexpected:  # as a signature would: a misspelt keyword must not widen the read
        raise TypeError(f"unexpected keyword arguments: {', '.join(unexpected)}")
    window = check_window(wanted.get("since"), wanted.get("until"), wanted.get("types"))
    limit = wanted.get("limit")
    check_limit(limit)
    return window, limit


def events_frame(store: Store, ctx: TenantContext, **wanted: Unpack[EventFilter]) -> pd.DataFrame:
    """The tenant's events the filter wants, ordered by occurred_at then id.

    Columns FRAME_COLUMNS: id int64, event_id/event_type/aggregate_type/aggregate_id/payload/
    idempotency_key str (payload canonical JSON text), occurred_at datetime64[us, UTC],
    batch_id Int64. Raises what _checked raises.
    """
    window, limit = _checked(wanted)
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        pages = list(iter_pages(tx, ctx, window, limit=limit))
    return frame_of(pa.concat_tables(pages) if pages else EVENT_SCHEMA.empty_table())


def check_limit(limit: object) -> None:
    """Raise validation_error unless limit is None or a positive integer."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise validation_error("limit must be a positive integer", field="limit", value=repr(limit)[:40])


def events_page(
    store: Store, ctx: TenantContext, *, page: PageRequest, **wanted: Unpack[EventFilter]
) -> FramePage:
    """One keyset page of events_frame, keyed by (occurred_at, id): at most page.size events
    after page.after, and at most `limit` (the events still wanted from here on; None: all).
    Raises what events_frame raises."""
    window, limit = _checked(wanted)
    size = _MAX_LIMIT if page.size is None else page.size
    want = size if limit is None else min(size, limit)
    follows = limit is None or limit > want  # only then can a next page be owed: look one ahead
    after_at, after_id = page.after if page.after is not None else (window.since, -1)
    params = window.params(ctx) | {
        "after_at": after_at, "after_id": after_id, "upto_at": window.until, "upto_id": -1,
        "limit": want + 1 if follows else want,
    }
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        table = fetch_table(tx, "event_reads.window", params, schema=STORED_SCHEMA)
    after = None
    if table.num_rows > want:
        table = table.slice(0, want)
        after = (table["occurred_at"][-1].as_py(), table["id"][-1].as_py())
    return FramePage(frame_of(with_canonical_payloads(table)), after)


def frame_of(table: pa.Table) -> pd.DataFrame:
    """EVENT_SCHEMA rows as a DataFrame with the documented dtypes."""
    frame = table.to_pandas()
    return frame.astype({
        "id": "int64", "batch_id": "Int64", "occurred_at": "datetime64[us, UTC]",
        **{name: "str" for name in FRAME_COLUMNS if EVENT_SCHEMA.field(name).type == pa.string()},
    })[list(FRAME_COLUMNS)]


def event_counts(store: Store, ctx: TenantContext, *, window: str = "1h") -> pd.DataFrame:
    """Events per type over the last `window` (by the database clock), as columns
    event_type (str) and events (int64), sorted by type. Raises validation_error."""
    span = parse_span(window)
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        rows = tx.all("event_reads.counts_since", {"tenant_id": ctx.tenant_id, "span": span})
    frame = pd.DataFrame(rows, columns=["event_type", "events"])
    return frame.astype({"event_type": "str", "events": "int64"})
