"""Exporting a window of a tenant's event log to CSV or JSONL, with a manifest beside it.

Rows stream page by page (keyset on (occurred_at, id)) from one read transaction into a temp
file in the target's folder, hashed as they are written, then os.replace()d into place: a
reader sees the whole export or none of it. Cells are formatted with Arrow compute, column
at a time, so a million events never pass through Python one by one, except for payloads,
which are re-serialised canonically (see event_reads).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from mo.domain.checks import Window, check_window
from mo.domain.context import TenantContext
from mo.domain.results import ExportResult
from mo.errors import validation_error
from mo.services.event_reads import PAGE_ROWS, iter_stored_pages, with_canonical_payloads
from mo.store.base import Store, Tx
from mo.util.files import atomic_file, pick_format, resolve_target

COLUMNS = (
    "event_id", "event_type", "aggregate_type", "aggregate_id", "payload",
    "occurred_at", "idempotency_key", "batch_id", "id",
)
CSV_SCHEMA = pa.schema([(name, pa.int64() if name in ("batch_id", "id") else pa.string()) for name in COLUMNS])
# OWASP CSV injection: a cell starting with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_BYTES = np.frombuffer("".join(FORMULA_STARTS).encode(), dtype=np.uint8)
_END = object()
T = TypeVar("T")


class _Sink(Protocol):
    def write(self, page: pa.Table) -> None: ...
    def close(self) -> None: ...


def export_events(
    store: Store,
    ctx: TenantContext,
    path: str | os.PathLike[str],
    *,
    since: object,
    until: object,
    format: str | None = None,
    types: Iterable[str] | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    chunk_rows: int = PAGE_ROWS,
) -> ExportResult:
    """Write the tenant's events in [since, until), ordered by occurred_at then id, to `path`
    as CSV or JSONL, and a manifest to `<path>.manifest.json`.

    `format` is "csv" or "jsonl"; by default the path's suffix (.csv/.jsonl) decides. CSV cells
    that a spreadsheet would run as a formula get a leading single quote; JSONL values are
    exact. With `base_dir`, a path that resolves (symlinks and .. included) outside it is
    refused. Raises validation_error for a bad window, types, format or path.
    """
    if since is None or until is None:
        missing = [name for name, value in (("since", since), ("until", until)) if value is None]
        raise validation_error("an export needs both since and until", missing=missing)
    window = check_window(since, until, types)
    target = resolve_target(path, base_dir=base_dir)
    chosen = pick_format(target, format)
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise validation_error("chunk_rows must be a positive integer", field="chunk_rows")
    with store.transaction(tenant_id=ctx.tenant_id) as tx, atomic_file(target) as out:
        hashing = _HashingFile(out)
        with closing(_pipelined_pages(tx, ctx, window, chunk_rows)) as pages:
            counts = _write_pages(pages, _SINKS[chosen](hashing))
    manifest_path = target.with_name(target.name + ".manifest.json")
    manifest = build_manifest(ctx, window, fmt=chosen, target=target, counts=counts, sha256=hashing.hexdigest())
    with atomic_file(manifest_path) as out:
        out.write((json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return ExportResult(str(target), sum(counts.values()), hashing.hexdigest(), str(manifest_path))


def _pipelined_pages(tx: Tx, ctx: TenantContext, window: Window, chunk_rows: int) -> Iterator[pa.Table]:
    """Canonical pages, three stages deep: while the caller formats and writes page n, a
    worker makes page n+1's payloads canonical (the one step that holds the GIL throughout)
    and another fetches page n+2 (the database and Arrow release the GIL). With a core to
    spare the stages overlap; measured on two busy cores it saved about a sixth."""
    stored = prefetched(iter_stored_pages(tx, ctx, window, page_rows=chunk_rows))
    return prefetched(_canonical_pages(stored))


def _canonical_pages(pages: Iterator[pa.Table]) -> Iterator[pa.Table]:
    with closing(pages):  # type: ignore[type-var]
        for page in pages:
            yield with_canonical_payloads(page)


def prefetched(items: Iterator[T]) -> Generator[T, None, None]:
    """Yield from `items`, producing the next item on a worker thread while the caller holds
    this one. Closing the generator waits for the worker and closes `items`, so nothing runs
    on the transaction after the caller's block ends."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mo-export") as pool:
        pending = pool.submit(next, items, _END)
        try:
            while (item := pending.result()) is not _END:
                pending = pool.submit(next, items, _END)
                yield item
        finally:
            wait([pending])
            getattr(items, "close", lambda: None)()


def _write_pages(pages: Iterator[pa.Table], sink: _Sink) -> Counter[str]:
    counts: Counter[str] = Counter()
    for page in pages:
        sink.write(page)
        for item in pc.value_counts(page["event_type"]).to_pylist():
            counts[item["values"]] += item["counts"]
    sink.close()
    return counts


def build_manifest(ctx: TenantContext, window: Window, *, fmt: str, target: Path,
                   counts: Counter[str], sha256: str) -> dict[str, Any]:
    """What an export holds and how to check it: window, format, rows, counts, sha256, tenant."""
    return {
        "file": target.name,
        "format": fmt,
        "columns": list(COLUMNS),
        "window": {"since": window.since.isoformat(), "until": window.until.isoformat()},
        "types": None if window.types is None else list(window.types),
        "rows": sum(counts.values()),
        "counts": dict(sorted(counts.items())),
        "sha256": sha256,
        "tenant": ctx.slug,
        "generated_at": datetime.now(timezone.utc).isoformat(),
    }


class _HashingFile(io.RawIOBase):
    """A write-only file that hashes what passes through, so the export is read once."""

    def __init__(self, out: IO[bytes]) -> None:
        super().__init__()
        self._out = out
        self._sha = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._sha.update(data)
        return self._out.write(data)

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


class _CsvSink:
    """RFC 4180 CSV with a header; strings quoted, nulls empty, formula cells neutralised.

    Each page is formatted into memory and written in one call: pyarrow's writer would call
    back into Python for every small block, and each callback waits for the GIL held by the
    canonicalising thread (measured: that alone made threaded exports slower than serial).
    """

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._header = True

    def write(self, page: pa.Table) -> None:
        cells = pa.table([_csv_cells(name, page) for name in COLUMNS], schema=CSV_SCHEMA)
        self._emit(cells)

    def close(self) -> None:
        if self._header:  # no rows at all: the file is the header line
            self._emit(CSV_SCHEMA.empty_table())

    def _emit(self, cells: pa.Table) -> None:
        buffer = pa.BufferOutputStream()
        pacsv.write_csv(cells, buffer, write_options=pacsv.WriteOptions(include_header=self._header))
        self._header = False
        self._out.write(buffer.getvalue())


def _csv_cells(name: str, page: pa.Table) -> pa.ChunkedArray:
    if name == "occurred_at":
        return iso_utc(page[name])
    if CSV_SCHEMA.field(name).type != pa.string():
        return page[name]
    return neutralise_formulas(page[name])


def neutralise_formulas(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Prefix a single quote to cells starting with = + - @ tab or CR (OWASP CSV injection).

    The first byte of each string is read straight from the column's data buffer (every start
    is ASCII, and UTF-8 never uses an ASCII byte inside a character): most columns hold no
    formula at all and pass untouched, where slicing, matching and joining every cell took a
    quarter of a CSV export.
    """
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    risky = _starts_with_formula(values)
    if risky is None:
        return values
    quoted = pc.binary_join_element_wise(pa.scalar("'", values.type), values, pa.scalar("", values.type))
    return pc.if_else(pa.array(risky), quoted, values)


def _starts_with_formula(values: pa.Array) -> np.ndarray | None:
    """A mask of the strings starting with a FORMULA_STARTS byte, or None when none does."""
    if len(values) == 0 or values.buffers()[2] is None:
        return None
    width = np.int64 if pa.types.is_large_string(values.type) else np.int32
    offsets = np.frombuffer(values.buffers()[1], dtype=width, count=len(values) + 1,
                            offset=values.offset * np.dtype(width).itemsize)
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)
    if data.size == 0:
        return None
    starts, filled = offsets[:-1], offsets[1:] > offsets[:-1]
    first = data[np.where(filled, starts, 0)]
    risky = filled & np.isin(first, _FORMULA_BYTES)
    if values.null_count:
        risky &= np.asarray(pc.is_valid(values))
    return risky if risky.any() else None


def iso_utc(instants: pa.ChunkedArray) -> pa.ChunkedArray:
    """ISO 8601 text with six digits of microseconds and a +00:00 offset, such as
    2024-03-01T12:00:00.000000+00:00. Arrow's cast of a naive microsecond timestamp writes
    '2024-03-01 12:00:00.000000' (fixed width, year zero-padded): the space becomes a T. A
    tenth of the time pc.strftime takes, which was a third of an export."""
    text = instants.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us")).cast(pa.string())
    return pc.binary_join_element_wise(pc.utf8_replace_slice(text, start=10, stop=11, replacement="T"), "+00:00", "")


class _JsonlSink:
    """One JSON object per line, keys in COLUMNS order, values exact (nothing neutralised)."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out

    def write(self, page: pa.Table) -> None:
        # A column whose every value is a string needing no escapes (event ids, types, times,
        # payloads once escaped) leaves its quotes to the literal text around it: quoting each
        # value in its own pass cost about a sixth of a JSONL export.
        parts: list[Any] = []
        before = "{"
        for i, name in enumerate(COLUMNS):
            key = ("" if i == 0 else ",") + json.dumps(name) + ":"
            inner, values = _json_values(name, page[name])
            parts += [before + key + ('"' if inner else ""), values]
            before = '"' if inner else ""
        lines = pc.binary_join_element_wise(*parts, before + "}\n", "")
        self._out.write(utf8_bytes(lines))

    def close(self) -> None:
        self._out.flush()


def _json_values(name: str, values: pa.ChunkedArray) -> tuple[bool, pa.Array | pa.ChunkedArray]:
    """A column as JSON: (True, the inside of each value's string literal) when every value is
    a string and none is null, else (False, each value's JSON text)."""
    if name == "payload" and values.null_count == 0:
        # Canonical payload text is ASCII with control characters escaped already, so as a
        # JSON string it needs only backslashes and quotes escaped.
        # Backslashes are rare in canonical text (escapes of non-ASCII or control characters):
        # a byte scan skips that replace for most pages.
        values = values.combine_chunks()
        if _holds_byte(values, 0x5C):
            values = pc.replace_substring(values, "\\", "\\\\")
        return True, pc.replace_substring(values, '"', '\\"')
    if name == "occurred_at" and values.null_count == 0:
        return True, iso_utc(values)
    if pa.types.is_integer(values.type):
        return False, pc.fill_null(values.cast(pa.string()), "null")
    if pa.types.is_timestamp(values.type):
        return False, json_strings(iso_utc(values))
    values = values.combine_chunks()
    if values.null_count == 0 and not pc.any(json_special(values)).as_py():
        return True, values
    return False, json_strings(values)


def json_strings(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Each string as a JSON string literal, null as null. Only strings holding a quote, a
    backslash or a control character go through json.dumps; the rest are just quoted."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    quoted = pc.binary_join_element_wise('"', values, '"', "")
    special = json_special(values)
    if pc.any(special).as_py():
        exact = [json.dumps(text, ensure_ascii=False) for text in values.filter(special).to_pylist()]
        quoted = pc.replace_with_mask(quoted, special, pa.array(exact, pa.string()))
    return pc.fill_null(quoted, "null")


def json_special(values: pa.Array) -> pa.Array:
    """Which strings hold a byte JSON must escape (a quote, a backslash or a control character
    below 0x20). One numpy pass over the data buffer: 5 to 30 times faster than a regex per
    string, which took a fifth of a JSONL export."""
    if len(values) == 0:
        return pa.array([], pa.bool_())
    width = np.int64 if pa.types.is_large_string(values.type) else np.int32
    offsets = np.frombuffer(values.buffers()[1], dtype=width, count=len(values) + 1,
                            offset=values.offset * np.dtype(width).itemsize)
    data = values.buffers()[2]
    body = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]] if data is not None else np.empty(0, np.uint8)
    hits = np.flatnonzero((body < 0x20) | (body == 0x22) | (body == 0x5C))
    found = np.zeros(len(values), dtype=bool)
    if hits.size:
        found[np.searchsorted(offsets - offsets[0], hits, side="right") - 1] = True
    return pa.array(found)


def _holds_byte(values: pa.Array, byte: int) -> bool:
    """Whether any string of `values` holds `byte` (one scan of the data buffer)."""
    data = values.buffers()[2] if len(values) else None
    return data is not None and bool(np.any(np.frombuffer(data, dtype=np.uint8) == byte))


def utf8_bytes(lines: pa.Array | pa.ChunkedArray) -> bytes | memoryview:
    """The concatenated UTF-8 of a string array, straight from its Arrow data buffer."""
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    if len(lines) == 0:
        return b""
    width = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    offsets = np.frombuffer(lines.buffers()[1], dtype=width, count=len(lines) + 1, offset=lines.offset * np.dtype(width).itemsize)
    return memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])]


_SINKS: dict[str, type[_CsvSink] | type[_JsonlSink]] = {"csv": _CsvSink, "jsonl": _JsonlSink}
