"""Supplier price lists in: one file, validated whole, imported all-or-nothing and set-based.

The file is read as text (prices never pass through float), mapped onto the canonical columns
item, price, pack (required) and sku, category, unit (optional), and checked column by column:
each distinct text is parsed once and rows are handled as codes into those texts. The rows that
pass are bulk-loaded into temporary tables — the rows as codes, beside small tables of the
distinct items, packs, prices and unit costs — then matched, created and costed with joins in
one transaction with the batch row, the events and the idempotency record. No statement runs
once per row.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from tqdm.auto import tqdm

from mo.context import TenantContext
from mo.errors import MOError, not_found, validation_error
from mo.events import EVENT_TYPES, emit_event
from mo.idempotency import check_key, replay, request_hash
from mo.measure import Measure, parse_quantity
from mo.names import MAX_NAME_LENGTH, clean_name, name_key
from mo.results import ImportResult
from mo.services.costs import (decimal_text, idempotent, iso, pack_in_base, parse_effective_at, read_price,
                               recompute_changed, to_scale, typed_frame, unit_cost_of)
from mo.services.ingredients import BASE_UNITS_ALLOWED, base_unit_for
from mo.store.base import Row, Store, Tx

OPERATION = "import_price_list"
CANONICAL = ("item", "price", "pack", "sku", "category", "unit")
REQUIRED = ("item", "price", "pack")
MAX_LISTED = 1000  # bad rows listed in an error (all of them are counted)
MAX_SKU_LENGTH = 200
ANALYZE_FROM_ROWS = 10_000  # a list this long changes table sizes enough to refresh statistics
BATCH_COLUMNS = ["batch_id", "kind", "supplier", "status", "rows", "created", "changed", "unchanged",
                 "recomputed", "duplicate_of", "effective_at", "created_at", "idempotency_key"]
SUPPLIER_ITEM_COLUMNS = ["supplier_key", "sku", "ingredient", "ingredient_id"]
_PROBLEM = ["row", "column", "value", "problem"]
_MAX_BLOCK = 2**31 - 1  # pyarrow's largest CSV block
_CREATE_STAGING = ("rows", "items", "packs", "prices", "costs", "match", "new", "conv", "chosen")
assert {"ingredient.created", "ingredient.cost.updated", "import.completed"} <= EVENT_TYPES  # SQL emits them

Source = str | os.PathLike[str] | pd.DataFrame | Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class PriceList:
    """A price list read and checked without the database: staging tables of the good rows."""

    staging: dict[str, pd.DataFrame]  # price_import_<name> contents: rows, items, packs, prices, costs
    count: int  # data rows, blank rows excepted
    problems: pd.DataFrame  # _PROBLEM columns, one per bad cell
    content_hash: str  # of the canonical content: what makes two lists the same


@dataclass(frozen=True)
class _Plan:
    ctx: TenantContext
    prices: PriceList
    supplier: str
    key: str
    at: datetime | None
    create_missing: bool
    step: Callable[[str], None]

    @property
    def supplier_key(self) -> str:
        return name_key(self.supplier)


# ---------------------------------------------------------------------------------- the import


def import_price_list(
    store: Store,
    ctx: TenantContext,
    source: Source,
    *,
    idempotency_key: str,
    supplier: str,
    effective_at: datetime | str | None = None,
    columns: Mapping[str, str] | None = None,
    create_missing: bool = True,
    progress: bool = False,
) -> ImportResult:
    """Import a supplier's price list (.csv/.xlsx path, DataFrame or list of row mappings).

    Every row is checked before anything is written; all bad rows are reported together as a
    validation_error with details {"rows": [{"row", "column", "value", "problem"}, …] (first
    1000, spreadsheet numbering: the header is row 1), "bad_rows": n}. Missing or duplicated
    columns are a validation_error with "missing_columns" / "duplicate_columns". Rows match an
    ingredient by (supplier, sku), else by name or alias; unknown items are created (shaped by
    their first row), or are bad rows when create_missing=False. A row's identity is its sku,
    else its item name: the same one twice is a bad row. Several rows for one ingredient: the
    lowest unit cost wins. The same key again replays the result (replayed=True) without
    parsing the file; the same content as the supplier's latest completed list under a new key
    is recorded as a "duplicate" batch and changes nothing.

    Raises validation_error, not_found (no such file), idempotency_conflict.
    """
    check_key(idempotency_key)
    request = {"supplier": name_key(clean_name(supplier, field="supplier")), "columns": _mapping(columns),
               "effective_at": _iso_or_none(parse_effective_at(effective_at)), "create_missing": bool(create_missing)}
    raw = _load_source(source)
    if raw.data is not None:  # a file: its bytes identify the request, so a replay skips the parsing
        request["content_hash"] = "sha256:" + hashlib.sha256(raw.data).hexdigest()
        stored = _stored_result(store, ctx, idempotency_key, request)
        if stored is not None:
            return stored
    with tqdm(total=5, desc="price list", unit="step", disable=not progress) as bar:
        prices = _read_price_list(raw, columns)
        del raw  # the file's bytes: no longer needed while the database works
        pa.default_memory_pool().release_unused()  # the parser's scratch memory, back to the OS
        bar.update()
        request.setdefault("content_hash", prices.content_hash)
        plan = _Plan(ctx, prices, clean_name(supplier, field="supplier"), idempotency_key,
                     parse_effective_at(effective_at), bool(create_missing), _stepper(bar))
        outcome = idempotent(store, ctx, key=idempotency_key, operation=OPERATION, request=request,
                             work=lambda tx: _import(tx, plan).to_dict())
    return replace(ImportResult.from_dict(outcome.result), replayed=outcome.replayed)


def _iso_or_none(at: datetime | None) -> str | None:
    return None if at is None else iso(at)


def _stored_result(store: Store, ctx: TenantContext, key: str, request: dict[str, Any]) -> ImportResult | None:
    """The finished import stored under `key`, if any; idempotency_conflict if it was another request."""
    fingerprint = request_hash({"operation": OPERATION, **request})  # as run_idempotent computes it
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        stored = replay(tx, ctx, key=key, operation=OPERATION, fingerprint=fingerprint)
    return None if stored is None else replace(ImportResult.from_dict(stored), replayed=True)


def _stepper(bar: Any) -> Callable[[str], None]:
    def step(name: str) -> None:
        bar.set_postfix_str(name, refresh=False)
        bar.update()
    return step


def _import(tx: Tx, plan: _Plan) -> ImportResult:
    now = tx.scalar("costs.now")
    at = plan.at or now
    duplicate_of = _duplicate_of(tx, plan)
    if duplicate_of is not None:
        batch_id = _insert_batch(tx, plan, at, status="duplicate", duplicate_of=duplicate_of)
        return ImportResult(batch_id, "duplicate", plan.prices.count, 0, 0, 0, 0, False, duplicate_of)
    _stage(tx, plan)
    _refuse_bad_rows(tx, plan, _convert_units(tx, plan))
    plan.step("checked")
    batch_id = _insert_batch(tx, plan, at, status="completed", duplicate_of=None)
    _create_missing(tx, plan, batch_id)
    _map_skus(tx, plan)
    counts = _write_costs(tx, plan, batch_id, at)
    if plan.prices.count >= ANALYZE_FROM_ROWS:
        tx.run("imports.analyze_written")
    plan.step("written")
    changed_now = [r["ingredient_id"] for r in tx.all("imports.changed_ids")] if at <= now else []
    recomputed = recompute_changed(tx, plan.ctx, changed_now, cause="import.completed").recomputed
    result = ImportResult(batch_id, "completed", plan.prices.count, counts["created"], counts["changed"],
                          counts["unchanged"], recomputed, False, None)
    _finish_batch(tx, plan, result)
    plan.step("recomputed")
    return result


def _duplicate_of(tx: Tx, plan: _Plan) -> int | None:
    latest = tx.one("imports.latest_completed", {"tenant_id": plan.ctx.tenant_id, "supplier_key": plan.supplier_key})
    same = latest is not None and latest["content_hash"] == plan.prices.content_hash
    return int(latest["id"]) if same else None  # type: ignore[index]


def _insert_batch(tx: Tx, plan: _Plan, at: datetime, *, status: str, duplicate_of: int | None) -> int:
    return int(tx.scalar("imports.insert_batch", {
        "tenant_id": plan.ctx.tenant_id, "idempotency_key": plan.key, "supplier": plan.supplier,
        "supplier_key": plan.supplier_key, "content_hash": plan.prices.content_hash, "status": status,
        "rows": plan.prices.count, "duplicate_of": duplicate_of, "effective_at": at}))


def _finish_batch(tx: Tx, plan: _Plan, result: ImportResult) -> None:
    tx.run("imports.finish_batch", {"tenant_id": plan.ctx.tenant_id, "id": result.batch_id,
                                    "created": result.created, "changed": result.changed,
                                    "unchanged": result.unchanged, "recomputed": result.recomputed})
    emit_event(tx, plan.ctx, "import.completed", "import_batch", result.batch_id, {
        "batch_id": result.batch_id, "supplier": plan.supplier, "rows": result.rows, "created": result.created,
        "changed": result.changed, "unchanged": result.unchanged}, idempotency_key=plan.key,
        batch_id=result.batch_id)


def _stage(tx: Tx, plan: _Plan) -> None:
    """Load the good rows into the staging tables and match each to an ingredient, if any."""
    for name in _CREATE_STAGING:
        tx.run(f"imports.create_{name}")
    for name, frame in plan.prices.staging.items():
        if len(frame):
            tx.load(f"price_import_{name}", frame)
    tx.run("imports.analyze")
    tx.run("imports.match", {"tenant_id": plan.ctx.tenant_id, "supplier_key": plan.supplier_key})
    tx.run("imports.analyze")


def _convert_units(tx: Tx, plan: _Plan) -> pd.DataFrame:
    """Cost packs in the other one of mass and volume than their ingredient, via its density.

    Done once per distinct (price, pack, ingredient). Returns what cannot be costed (a unit
    cost rounding to zero) as problems, listed at its first row but counted for every row.
    """
    converted, problems = [], []
    for row in tx.all("imports.to_convert", {"tenant_id": plan.ctx.tenant_id}):
        qty = pack_in_base(_measure(row["pack"]), ingredient=row["name"], base=row["base_unit"],
                           density=row["density"])
        try:
            cost = unit_cost_of(row["price"], qty)
        except MOError as err:
            problems += [(row["row_no"], "price", decimal_text(row["price"]), err.message)] * int(row["rows"])
            continue
        converted.append((row["price_code"], row["pack_code"], row["ingredient_id"], format(to_scale(qty), "f"),
                          format(cost, "f")))
    if converted:
        columns = ["price_code", "pack_code", "ingredient_id", "pack_qty", "unit_cost"]
        tx.load("price_import_conv", pd.DataFrame(converted, columns=columns))
    return pd.DataFrame(problems, columns=_PROBLEM)


def _refuse_bad_rows(tx: Tx, plan: _Plan, found: pd.DataFrame) -> None:
    """Raise one validation_error listing the file's bad rows and those the database reveals."""
    params = {"tenant_id": plan.ctx.tenant_id, "create_missing": plan.create_missing, "limit": MAX_LISTED}
    clashes = tx.all("imports.unit_clashes", params)
    unknown = [] if plan.create_missing else tx.all("imports.unknown_items", params)
    extra = sum(int(rows[0]["total"]) for rows in (clashes, unknown) if rows)
    listed = pd.concat([plan.prices.problems, found, _clash_problems(clashes), _unknown_problems(unknown)])
    bad_rows = plan.prices.problems["row"].nunique() + len(found) + extra
    if bad_rows:
        raise _bad_rows_error(listed, bad_rows)


def _clash_problems(rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame([(r["row_no"], "pack", r["pack"],
                          f"a pack in {r['base']} cannot price {r['ingredient']!r}, measured in {r['unit']}")
                         for r in rows], columns=_PROBLEM)


def _unknown_problems(rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame([(r["row_no"], "item", r["item"], "unknown item (create_missing is off)") for r in rows],
                        columns=_PROBLEM)


def _bad_rows_error(problems: pd.DataFrame, bad_rows: int) -> MOError:
    listed = problems.drop_duplicates().sort_values(["row"], kind="stable").head(MAX_LISTED)
    rows = [{"row": int(r.row), "column": r.column, "value": None if r.value is None else str(r.value)[:100],
             "problem": r.problem} for r in listed.itertuples(index=False)]
    return validation_error(f"{bad_rows} row(s) of the price list cannot be imported; nothing was imported",
                            rows=rows, bad_rows=int(bad_rows))


def _create_missing(tx: Tx, plan: _Plan, batch_id: int) -> None:
    params = {"tenant_id": plan.ctx.tenant_id}
    tx.run("imports.create_ingredients", params)
    tx.run("imports.link_created", params)
    tx.run("imports.analyze")
    tx.run("imports.name_created", params)
    tx.run("imports.created_events", {**params, "idempotency_key": plan.key, "batch_id": batch_id})


def _map_skus(tx: Tx, plan: _Plan) -> None:
    params = {"tenant_id": plan.ctx.tenant_id, "supplier_key": plan.supplier_key}
    tx.run("imports.add_supplier_items", params)
    tx.run("imports.remap_supplier_items", params)


def _write_costs(tx: Tx, plan: _Plan, batch_id: int, at: datetime) -> Row:
    params = {"tenant_id": plan.ctx.tenant_id, "at": at, "supplier": plan.supplier, "batch_id": batch_id}
    tx.run("imports.choose_costs", {"tenant_id": plan.ctx.tenant_id, "at": at})
    tx.run("imports.insert_costs", params)
    tx.run("imports.cost_events", {**params, "effective_at": iso(at), "idempotency_key": plan.key})
    counts = tx.one("imports.counts")
    assert counts is not None
    return {name: int(value) for name, value in counts.items()}


# ------------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class _Raw:
    """A source as handed over: a file's bytes, or a table already in memory."""

    data: bytes | None
    kind: str  # "csv", "xlsx" or "frame"
    frame: pd.DataFrame | None = None


@dataclass(frozen=True)
class _Sheet:
    """A source as text: header texts and each column's cells ("" when empty)."""

    headers: list[str]
    columns: list[pa.Array]  # large_string
    mojibake: bool  # bad UTF-8 bytes were replaced by U+FFFD


def read_price_list(source: Source, *, columns: Mapping[str, str] | None = None) -> PriceList:
    """Read and check a price list without the database (see import_price_list for the rules).

    Raises validation_error for an unreadable or empty source and missing/duplicated columns,
    not_found for a missing file; bad rows are returned in PriceList.problems, not raised.
    """
    return _read_price_list(_load_source(source), columns)


def _read_price_list(raw: _Raw, columns: Mapping[str, str] | None) -> PriceList:
    sheet = _read_sheet(raw)
    positions = _canonical_columns(sheet.headers, columns)
    encoding, garbled = _encoding_problems(sheet)
    cells = {name: pc.utf8_trim_whitespace(sheet.columns[pos]) for name, pos in positions.items()}
    del sheet  # a 1M-row list: the untrimmed columns are ~100 MB nobody needs any more
    filled = np.logical_or.reduce([pc.not_equal(c, "").to_numpy(zero_copy_only=False) for c in cells.values()])
    if not filled.any():  # blank rows count for the numbering only
        raise validation_error("the price list has no data rows", rows=[], bad_rows=0)
    if not filled.all():
        cells = {name: column.filter(pa.array(filled)) for name, column in cells.items()}
    row_no = np.flatnonzero(filled) + 2  # spreadsheet numbering: the header is row 1
    staging, problems = _validated(cells, row_no, np.isin(row_no, garbled))
    return PriceList(staging, len(row_no), pd.concat([encoding, problems]), _content_hash(cells))


def _load_source(source: Source) -> _Raw:
    if isinstance(source, pd.DataFrame):
        return _Raw(None, "frame", source)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise not_found("file", str(path))
        kind = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}.get(path.suffix.lower())
        if kind is None:
            raise validation_error("a price list file is .csv or .xlsx", field="source", value=path.name)
        return _Raw(path.read_bytes(), kind)
    if isinstance(source, Sequence) and all(isinstance(row, Mapping) for row in source):
        return _Raw(None, "frame", pd.DataFrame(list(source)))
    raise validation_error("source must be a .csv or .xlsx path, a DataFrame or a list of rows", field="source")


def _read_sheet(raw: _Raw) -> _Sheet:
    if raw.kind == "frame":
        assert raw.frame is not None
        return _from_frame(raw.frame)
    assert raw.data is not None
    if raw.kind == "xlsx":
        return _from_grid(_read_xlsx(raw.data), mojibake=False)
    data = raw.data.removeprefix(codecs.BOM_UTF8)
    mojibake = not _is_utf8(data)
    if mojibake:  # read on, so the rows holding the bad bytes can be named
        data = data.decode("utf-8", errors="replace").encode("utf-8")
    if not data or data.isspace():
        raise validation_error("the price list is empty", rows=[], bad_rows=0)
    return _fast_csv(data, mojibake) or _from_grid(_read_csv(data), mojibake=mojibake)


def _is_utf8(data: bytes, *, step: int = 1 << 22) -> bool:
    """Whether the bytes decode as UTF-8, checked in slices so no copy of the whole text is made."""
    decoder, view = codecs.getincrementaldecoder("utf-8")(), memoryview(data)
    try:
        for start in range(0, len(data), step):
            decoder.decode(view[start: start + step], final=start + step >= len(data))
    except UnicodeDecodeError:
        return False
    return True


def _fast_csv(data: bytes, mojibake: bool) -> _Sheet | None:
    """pyarrow's CSV reader, when it reads rows exactly as a spreadsheet numbers them."""
    if _has_blank_line(data):
        return None  # it skips blank lines, which would shift the row numbers
    end = data.find(b"\n")
    header = next(csv.reader([(data if end < 0 else data[:end]).decode().rstrip("\r")]), [])
    names = [f"c{i}" for i in range(len(header))]
    options = pacsv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    # One block: the columns come back as single arrays, not chunks to copy together, and the
    # reader need not look for quoted newlines to split blocks (2.5x faster) — up to 2 GB.
    block = min(len(data) + 1, _MAX_BLOCK)
    reading = pacsv.ReadOptions(column_names=names, block_size=block)
    parsing = pacsv.ParseOptions(newlines_in_values=block == _MAX_BLOCK)
    try:
        table = pacsv.read_csv(pa.BufferReader(data), read_options=reading, parse_options=parsing,
                               convert_options=options)
    except pa.ArrowInvalid:
        return None  # ragged rows and the like: pandas reads them or says where they are
    columns = [_one_array(table.column(n)) for n in names]
    return _Sheet([c[0].as_py() for c in columns], [c.slice(1) for c in columns], mojibake) if len(table) else None


def _has_blank_line(data: bytes) -> bool:
    end = len(data)
    while end and data[end - 1] in b"\r\n":  # trailing newlines are no blank rows
        end -= 1
    crlf = b"\r" in data and data.find(b"\n\r\n", 0, end) >= 0
    return data.startswith((b"\n", b"\r\n")) or data.find(b"\n\n", 0, end) >= 0 or crlf


def _one_array(column: pa.ChunkedArray) -> pa.Array:
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()  # the former copies nothing


def _read_csv(data: bytes) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(data), header=None, dtype=str, keep_default_na=False,
                           skip_blank_lines=False, encoding="utf-8")
    except (pd.errors.ParserError, ValueError) as exc:
        raise validation_error(f"the CSV cannot be read: {exc}".strip(), field="source") from exc


def _read_xlsx(data: bytes) -> pd.DataFrame:
    try:
        frame = pd.read_excel(io.BytesIO(data), header=None, dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise validation_error(f"the .xlsx file cannot be read: {type(exc).__name__}", field="source") from exc
    if frame.empty:
        raise validation_error("the price list is empty", rows=[], bad_rows=0)
    return frame.fillna("")


def _from_grid(frame: pd.DataFrame, *, mojibake: bool) -> _Sheet:
    """A header-less grid (first row = headers) as a _Sheet."""
    columns = [_text_array(frame.iloc[:, pos]) for pos in range(frame.shape[1])]
    return _Sheet([c[0].as_py() for c in columns], [c.slice(1) for c in columns], mojibake)


def _from_frame(frame: pd.DataFrame) -> _Sheet:
    if frame.columns.empty:
        raise validation_error("the price list is empty", rows=[], bad_rows=0)
    return _Sheet([str(c) for c in frame.columns], [_text_array(frame.iloc[:, p]) for p in range(frame.shape[1])],
                  False)


def _text_array(column: pd.Series) -> pa.Array:
    # Numbers handed over in a DataFrame become their shortest text ("12.5"), never binary floats.
    text = column.astype(object).where(column.notna(), "").astype(str)
    return pa.array(text.to_numpy(dtype=object), type=pa.large_string())


def _norm(header: object) -> str:
    return " ".join(str(header).split()).casefold()


def _mapping(columns: Mapping[str, str] | None) -> dict[str, str]:
    mapping = {_norm(header): _norm(target) for header, target in (columns or {}).items()}
    wrong = sorted({target for target in mapping.values() if target not in CANONICAL})
    if wrong:
        raise validation_error(f"columns can map onto {', '.join(CANONICAL)} only", field="columns", value=wrong)
    return mapping


def _canonical_columns(headers: list[str], columns: Mapping[str, str] | None) -> dict[str, int]:
    """Canonical name -> column position. A header mapped explicitly wins over a same-named one."""
    mapping = _mapping(columns)
    found: dict[str, list[int]] = {}
    for pos, header in enumerate(headers):
        key = _norm(header)
        target = mapping.get(key) or (key if key in CANONICAL and key not in mapping.values() else None)
        if target:
            found.setdefault(target, []).append(pos)
    missing = [name for name in REQUIRED if name not in found]
    duplicated = {name: [headers[p] for p in pos] for name, pos in found.items() if len(pos) > 1}
    if missing or duplicated:
        raise validation_error("the price list's columns are not usable", missing_columns=missing,
                               duplicate_columns=duplicated, headers=headers[:50])
    return {name: pos[0] for name, pos in found.items()}


def _encoding_problems(sheet: _Sheet) -> tuple[pd.DataFrame, np.ndarray]:
    """Cells whose bytes were not UTF-8 (now holding U+FFFD), and the row numbers holding them."""
    found = [pd.DataFrame(columns=_PROBLEM)]
    for header, column in zip(sheet.headers, sheet.columns) if sheet.mojibake else []:
        bad = np.flatnonzero(pc.match_substring(column, "\ufffd").to_numpy(zero_copy_only=False))
        found.append(pd.DataFrame({"row": bad + 2, "column": header, "value": column.take(bad).to_pylist(),
                                   "problem": "not valid UTF-8 text"}, columns=_PROBLEM))
    problems = pd.concat(found)
    return problems, problems["row"].to_numpy(dtype=np.int64)


def _content_hash(cells: dict[str, pa.Array]) -> str:
    """sha256 of the canonical content (not the bytes): CSV and XLSX of one list hash alike."""
    digest = hashlib.sha256(json.dumps(sorted(cells)).encode())
    for name in sorted(cells):
        _, offsets, data = cells[name].buffers()
        ends = np.frombuffer(offsets, dtype=np.int64)[cells[name].offset:][: len(cells[name]) + 1]
        digest.update((ends - ends[0]).tobytes())
        digest.update(memoryview(data)[ends[0]: ends[-1]] if data is not None else b"")
    return digest.hexdigest()


# --------------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class _Parsed:
    """A column parsed once per distinct text: per-row codes into per-text values and problems."""

    column: str
    codes: np.ndarray  # per row, into values/problems; -1 (the appended None) where it does not apply
    values: np.ndarray  # object, per distinct text, then None
    problems: np.ndarray  # object: None or a sentence, per distinct text, then None

    def bad(self) -> np.ndarray:
        return np.not_equal(self.problems, None)[self.codes]

    def frame(self, row_no: np.ndarray, shown: pa.Array) -> pd.DataFrame:
        at = np.flatnonzero(self.bad())
        return pd.DataFrame({"row": row_no[at], "column": self.column, "value": shown.take(at).to_pylist(),
                             "problem": self.problems[self.codes[at]]}, columns=_PROBLEM)


def _parse_column(column: str, cells: pa.Array, parse: Callable[[str], Any], *,
                  empty: str | None = None) -> _Parsed:
    encoded = cells.dictionary_encode()
    texts = encoded.dictionary.to_pylist()
    values, problems = np.full(len(texts) + 1, None, dtype=object), np.full(len(texts) + 1, None, dtype=object)
    for i, text in enumerate(texts):
        if text:
            values[i], problems[i] = _attempt(parse, text)
        else:
            problems[i] = empty
    return _Parsed(column, encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), values, problems)


def _attempt(parse: Callable[[Any], Any], value: Any) -> tuple[Any, str | None]:
    try:
        return parse(value), None
    except MOError as err:
        detail = err.details.get("problem") if isinstance(err.details, dict) else None
        return None, str(detail or err.message)


def _validated(cells: dict[str, pa.Array], row_no: np.ndarray,
               garbled: np.ndarray) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """(staging tables of the good rows, problems of the bad ones)."""
    blank = pa.array([""] * len(row_no), type=pa.large_string())
    cells = {name: cells.get(name, blank) for name in CANONICAL}
    item, price, pack, category, unit = checks = [
        _parse_column("item", cells["item"], _clean_item, empty="item name is empty"),
        _parse_column("price", cells["price"], read_price, empty="price is missing"),
        _parse_column("pack", cells["pack"], _purchase_measure, empty="pack is missing"),
        _parse_column("category", cells["category"], lambda t: clean_name(t, field="category")),
        _parse_column("unit", cells["unit"], base_unit_for)]
    keys, key_texts = _key_codes(item)
    sku = _sku_check(cells["sku"])
    cost = _pair_costs(price, pack)
    duplicates, repeated = _duplicates(cells, row_no, sku, keys)
    checks += [sku, cost]
    good = ~(garbled | repeated | np.logical_or.reduce([check.bad() for check in checks]))
    problems = pd.concat([check.frame(row_no, cells[check.column]) for check in checks] + [duplicates])
    rows = pd.DataFrame({"row_no": row_no[good], "key_code": keys[good],
                         "sku": pc.if_else(pc.equal(cells["sku"], ""), None, cells["sku"]).filter(pa.array(good)).to_pandas(),
                         "pack_code": pack.codes[good], "price_code": price.codes[good], "cost_code": cost.codes[good]})
    staging = {"rows": rows, "items": _items(keys, key_texts, item, category, unit, pack, good),
               **_dictionaries(price, pack, cost)}
    return staging, problems


def _clean_item(text: str) -> str:
    if text.isascii() and text.isprintable() and "  " not in text and len(text) <= MAX_NAME_LENGTH:
        return text  # already clean (and trimmed): skip NFKC for the common case
    return clean_name(text, field="item")


def _purchase_measure(text: str) -> Measure:
    measure = _measure(text)
    if measure.base not in BASE_UNITS_ALLOWED:
        problem = f"{measure.base!r} is a recipe yield, not a purchase unit (g, ml or each)"
        raise validation_error(problem, text=text, problem=problem)
    return measure


@lru_cache(maxsize=65536)
def _measure(text: str) -> Measure:
    return parse_quantity(text)


def _key_codes(item: _Parsed) -> tuple[np.ndarray, np.ndarray]:
    """Per row, a code for its item's identity key (-1 without a valid name), and the keys."""
    keys = [None if name is None else name.casefold() for name in item.values[:-1]]
    codes, uniques = pd.factorize(pd.Series(keys, dtype=object))
    return np.append(codes, -1)[item.codes], np.asarray(uniques, dtype=object)


def _sku_check(cells: pa.Array) -> _Parsed:
    encoded = cells.dictionary_encode()
    too_long = pc.greater(pc.utf8_length(encoded.dictionary), MAX_SKU_LENGTH).to_numpy(zero_copy_only=False)
    problems = np.where(np.append(too_long, False), f"sku is longer than {MAX_SKU_LENGTH} characters", None)
    return _Parsed("sku", encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64),
                   np.full(len(problems), None, dtype=object), problems.astype(object))


def _pair_costs(price: _Parsed, pack: _Parsed) -> _Parsed:
    """Unit cost (price ÷ pack quantity, in the pack's base unit) once per distinct pair."""
    usable = ~(price.bad() | pack.bad())
    width = len(pack.values)
    codes, pairs = pd.factorize(np.where(usable, price.codes * width + pack.codes, -1))
    values, problems = np.full(len(pairs) + 1, None, dtype=object), np.full(len(pairs) + 1, None, dtype=object)
    for i, pair in enumerate(pairs.tolist()):
        if pair >= 0:
            measure = pack.values[pair % width]
            values[i], problems[i] = _attempt(lambda amount: unit_cost_of(amount, measure.qty),
                                              price.values[pair // width])
    return _Parsed("price", np.where(usable, codes, -1), values, problems)


def _duplicates(cells: dict[str, pa.Array], row_no: np.ndarray, sku: _Parsed,
                keys: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """A row is identified by its sku, or by its item name when it has none: once per file."""
    has_sku = pc.not_equal(cells["sku"], "").to_numpy(zero_copy_only=False)
    identity = np.where(has_sku, sku.codes, np.where(keys >= 0, keys + len(sku.values), -1))
    repeated = pd.Series(identity).duplicated().to_numpy() & (identity >= 0)
    if not repeated.any():
        return pd.DataFrame(columns=_PROBLEM), repeated
    uniques, first = np.unique(identity, return_index=True)
    at = np.flatnonzero(repeated)
    firsts = row_no[first[np.searchsorted(uniques, identity[at])]]
    column = np.where(has_sku[at], "sku", "item")
    shown = pc.if_else(pa.array(has_sku), cells["sku"], cells["item"]).take(at).to_pylist()
    return pd.DataFrame({"row": row_no[at], "column": column, "value": shown,
                         "problem": [f"the same {c} as row {r}" for c, r in zip(column, firsts.tolist())]}), repeated


def _items(keys: np.ndarray, key_texts: np.ndarray, item: _Parsed, category: _Parsed, unit: _Parsed,
           pack: _Parsed, good: np.ndarray) -> pd.DataFrame:
    """One row per item name: what a new ingredient is made of (its first good row)."""
    at = np.flatnonzero(good)
    rows = at[~pd.Series(keys[at]).duplicated().to_numpy()]
    codes = keys[rows]
    declared, measures = unit.values[unit.codes[rows]], pack.values[pack.codes[rows]]
    units = [u if u is not None else (m.family, m.base) for u, m in zip(declared, measures)]
    return _objects({"key_code": codes, "item_key": key_texts[codes], "item": item.values[item.codes[rows]],
                     "category": category.values[category.codes[rows]], "new_family": [u[0] for u in units],
                     "new_base": [u[1] for u in units]})


def _dictionaries(price: _Parsed, pack: _Parsed, cost: _Parsed) -> dict[str, pd.DataFrame]:
    """The distinct prices, packs and unit costs the rows' codes point at; decimals as exact text."""
    def used(parsed: _Parsed) -> np.ndarray:
        return np.flatnonzero(np.not_equal(parsed.values, None))

    prices, packs, costs = used(price), used(pack), used(cost)
    measures = pack.values[packs]
    return {
        "prices": _objects({"price_code": prices, "price": [format(p, "f") for p in price.values[prices]]}),
        "packs": _objects({"pack_code": packs, "pack": [m.text for m in measures],
                           "family": [m.family for m in measures], "base": [m.base for m in measures],
                           "pack_qty": [format(to_scale(m.qty), "f") for m in measures]}),
        "costs": _objects({"cost_code": costs, "unit_cost": [format(c, "f") for c in cost.values[costs]]}),
    }


def _objects(columns: dict[str, Any]) -> pd.DataFrame:
    # Text stays Python objects: pandas would convert it to Arrow strings, a copy DuckDB undoes.
    return pd.DataFrame({name: pd.Series(values, dtype=np.int64 if name.endswith("_code") else object)
                         for name, values in columns.items()})


# ------------------------------------------------------------------------------------- frames


def imports_frame(store: Store, ctx: TenantContext) -> pd.DataFrame:
    """Every import batch of the tenant, oldest first (BATCH_COLUMNS)."""
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        rows = tx.all("imports.batches", {"tenant_id": ctx.tenant_id})
    return typed_frame(rows, BATCH_COLUMNS, times=("effective_at", "created_at"),
                       ints=("batch_id", "rows", "created", "changed", "unchanged", "recomputed", "duplicate_of"))


def supplier_items_frame(store: Store, ctx: TenantContext) -> pd.DataFrame:
    """Which active ingredient each supplier's sku maps to (SUPPLIER_ITEM_COLUMNS)."""
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        rows = tx.all("imports.supplier_items", {"tenant_id": ctx.tenant_id})
    return typed_frame(rows, SUPPLIER_ITEM_COLUMNS, ints=("ingredient_id",))
