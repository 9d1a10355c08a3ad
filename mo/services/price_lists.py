"""Reading and checking a supplier price list, without the database.

A list is read as text (prices never pass through float) from a .csv or .xlsx file, a DataFrame
or a list of row mappings, and mapped onto the canonical columns item, price, pack (required)
and sku, category, unit (optional). Each column is checked once per distinct text, rows being
codes into those texts; what passes becomes the staging tables mo.services.imports loads:
the rows as codes, beside the distinct items, packs, prices and unit costs.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from mo.errors import MOError, not_found, validation_error
from mo.measure import Measure, parse_quantity, parse_unit
from mo.memory import give_back_memory
from mo.names import MAX_NAME_LENGTH, clean_name
from mo.services.costs import read_price, to_scale, unit_cost_of
from mo.services.ingredients import BASE_UNITS_ALLOWED, base_unit_for
from mo.services.source_shape import check_xlsx, checked_csv

CANONICAL = ("item", "price", "pack", "sku", "category", "unit")
REQUIRED = ("item", "price", "pack")
MAX_SKU_LENGTH = 200
PROBLEM_COLUMNS = ["row", "column", "value", "problem"]
_MAX_BLOCK = 2**31 - 1  # pyarrow's largest CSV block

Source = str | os.PathLike[str] | pd.DataFrame | Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class PriceList:
    """A price list read and checked without the database: staging tables of the good rows."""

    staging: dict[
        str, pd.DataFrame
    ]  # price_import_<name> contents: rows, items, packs, prices, costs
    count: int  # data rows, blank rows excepted
    problems: pd.DataFrame  # PROBLEM_COLUMNS columns, one per bad cell
    content_hash: str  # of the canonical content: what makes two lists the same


@dataclass(frozen=True)
class RawSource:
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
    return read_loaded(load_source(source), columns)


def read_loaded(raw: RawSource, columns: Mapping[str, str] | None) -> PriceList:
    """read_price_list for a source load_source has read already (an import hashes it first)."""
    # mo.measure builds its unit table on first use (a few hundred ms of pint): let that happen
    # while pyarrow parses the file, which releases the GIL.
    warm_up = threading.Thread(target=parse_unit, args=("g",), daemon=True)
    warm_up.start()
    sheet = _read_sheet(raw)
    warm_up.join()
    positions = _canonical_columns(sheet.headers, columns)
    encoding, garbled = _encoding_problems(sheet)
    cells = {name: pc.utf8_trim_whitespace(sheet.columns[pos]) for name, pos in positions.items()}
    del sheet  # a 1M-row list: the untrimmed columns are ~100 MB nobody needs any more
    # ... and the CSV parser left ~100 MB more in Arrow's pool: give both back to the system
    # now, before the checks and the database add theirs (peak RSS is a target: 1 GB at 1M rows).
    give_back_memory()
    filled = np.logical_or.reduce(
        [pc.not_equal(c, "").to_numpy(zero_copy_only=False) for c in cells.values()]
    )
    if not filled.any():  # blank rows count for the numbering only
        raise validation_error("the price list has no data rows", rows=[], bad_rows=0)
    if not filled.all():
        cells = {name: column.filter(pa.array(filled)) for name, column in cells.items()}
    row_no = np.flatnonzero(filled) + 2  # spreadsheet numbering: the header is row 1
    # Hashing and dictionary-encoding release the GIL: they run on the other core while the
    # per-text checks run on this one.
    with ThreadPoolExecutor(max_workers=1) as beside:
        content_hash = beside.submit(_content_hash, cells)
        staging, problems = _validated(cells, row_no, np.isin(row_no, garbled), beside)
        return PriceList(staging, len(row_no), pd.concat([encoding, problems]), content_hash.result())


def load_source(source: Source) -> RawSource:
    """A file's bytes, or an in-memory table. Raises not_found (no file), validation_error."""
    if isinstance(source, pd.DataFrame):
        return RawSource(None, "frame", source)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise not_found("file", str(path))
        kind = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}.get(
            path.suffix.lower()
        )
        if kind is None:
            raise validation_error(
                "a price list file is .csv or .xlsx", field="source", value=path.name
            )
        return RawSource(path.read_bytes(), kind)
    if isinstance(source, Sequence) and all(isinstance(row, Mapping) for row in source):
        return RawSource(None, "frame", pd.DataFrame(list(source)))
    raise validation_error(
        "source must be a .csv or .xlsx path, a DataFrame or a list of rows", field="source"
    )


def _read_sheet(raw: RawSource) -> _Sheet:
    if raw.kind == "frame":
        assert raw.frame is not None
        return _from_frame(raw.frame)
    assert raw.data is not None
    if raw.kind == "xlsx":
        check_xlsx(raw.data)  # before openpyxl builds a single cell
        return _from_grid(_read_xlsx(raw.data), mojibake=False)
    data = raw.data.removeprefix(codecs.BOM_UTF8)
    if not data or data.isspace():
        raise validation_error("the price list is empty", rows=[], bad_rows=0)
    data = checked_csv(data)  # before any CSV reader allocates per column or per line
    fast = _fast_csv(data, mojibake=False)  # refuses bad UTF-8 as well as ragged rows
    if fast is not None:
        return fast
    mojibake = not _is_utf8(data)
    if mojibake:  # read on, so the rows holding the bad bytes can be named
        data = data.decode("utf-8", errors="replace").encode("utf-8")
    return _fast_csv(data, mojibake=mojibake) or _from_grid(_read_csv(data), mojibake=mojibake)


def _is_utf8(data: bytes, *, step: int = 1 << 22) -> bool:
    """Whether the bytes decode as UTF-8, checked in slices so no copy of the whole text is made."""
    decoder, view = codecs.getincrementaldecoder("utf-8")(), memoryview(data)
    try:
        for start in range(0, len(data), step):
            decoder.decode(view[start : start + step], final=start + step >= len(data))
    except UnicodeDecodeError:
        return False
    return True


def _fast_csv(data: bytes, *, mojibake: bool) -> _Sheet | None:
    """pyarrow's CSV reader; None for what it refuses (bad UTF-8, ragged rows): pandas reads
    that, or says where it is wrong. Blank lines are kept as rows, as a spreadsheet counts them."""
    end = data.find(b"\n")
    header = next(
        csv.reader([(data if end < 0 else data[:end]).decode(errors="replace").rstrip("\r")]), []
    )
    names = [f"c{i}" for i in range(len(header))]
    options = pacsv.ConvertOptions(
        column_types={n: pa.large_string() for n in names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    # One block: the columns come back as single arrays, not chunks to copy together, and the
    # reader need not look for quoted newlines to split blocks (2.5x faster) — up to 2 GB.
    block = min(len(data) + 1, _MAX_BLOCK)
    reading = pacsv.ReadOptions(column_names=names, block_size=block)
    parsing = pacsv.ParseOptions(newlines_in_values=block == _MAX_BLOCK, ignore_empty_lines=False)
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=reading,
            parse_options=parsing,
            convert_options=options,
        )
    except pa.ArrowInvalid:
        return None
    columns = [_one_array(table.column(n)) for n in names]
    return (
        _Sheet([c[0].as_py() for c in columns], [c.slice(1) for c in columns], mojibake)
        if len(table)
        else None
    )


def _one_array(column: pa.ChunkedArray) -> pa.Array:
    return (
        column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    )  # the former copies nothing


def _read_csv(data: bytes) -> pd.DataFrame:
    try:
        return pd.read_csv(
            io.BytesIO(data),
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            encoding="utf-8",
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise validation_error(f"the CSV cannot be read: {exc}".strip(), field="source") from exc


def _read_xlsx(data: bytes) -> pd.DataFrame:
    try:
        frame = pd.read_excel(io.BytesIO(data), header=None, dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise validation_error(
            f"the .xlsx file cannot be read: {type(exc).__name__}", field="source"
        ) from exc
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
    return _Sheet(
        [str(c) for c in frame.columns],
        [_text_array(frame.iloc[:, p]) for p in range(frame.shape[1])],
        False,
    )


def _text_array(column: pd.Series) -> pa.Array:
    # Numbers handed over in a DataFrame become their shortest text ("12.5"), never binary floats.
    text = column.astype(object).where(column.notna(), "").astype(str)
    return pa.array(text.to_numpy(dtype=object), type=pa.large_string())


def _norm(header: object) -> str:
    return " ".join(str(header).split()).casefold()


def column_mapping(columns: Mapping[str, str] | None) -> dict[str, str]:
    """Supplier header -> canonical column, trimmed and case-folded. Raises validation_error."""
    if columns is not None and not isinstance(columns, Mapping):  # ["a"] has no .items()
        raise validation_error(
            "columns must map the file's column names to mo's",
            field="columns",
            type=type(columns).__name__,
        )
    mapping = {_norm(header): _norm(target) for header, target in (columns or {}).items()}
    wrong = sorted({target for target in mapping.values() if target not in CANONICAL})
    if wrong:
        raise validation_error(
            f"columns can map onto {', '.join(CANONICAL)} only", field="columns", value=wrong
        )
    return mapping


def _canonical_columns(headers: list[str], columns: Mapping[str, str] | None) -> dict[str, int]:
    """Canonical name -> column position. A header mapped explicitly wins over a same-named one."""
    mapping = column_mapping(columns)
    found: dict[str, list[int]] = {}
    for pos, header in enumerate(headers):
        key = _norm(header)
        target = mapping.get(key) or (
            key if key in CANONICAL and key not in mapping.values() else None
        )
        if target:
            found.setdefault(target, []).append(pos)
    missing = [name for name in REQUIRED if name not in found]
    duplicated = {name: [headers[p] for p in pos] for name, pos in found.items() if len(pos) > 1}
    if missing or duplicated:
        raise validation_error(
            "the price list's columns are not usable",
            missing_columns=missing,
            duplicate_columns=duplicated,
            headers=headers[:50],
        )
    return {name: pos[0] for name, pos in found.items()}


def _encoding_problems(sheet: _Sheet) -> tuple[pd.DataFrame, np.ndarray]:
    """Cells whose bytes were not UTF-8 (now holding U+FFFD), and the row numbers holding them."""
    found = [pd.DataFrame(columns=PROBLEM_COLUMNS)]
    for header, column in zip(sheet.headers, sheet.columns) if sheet.mojibake else []:
        bad = np.flatnonzero(pc.match_substring(column, "\ufffd").to_numpy(zero_copy_only=False))
        found.append(
            pd.DataFrame(
                {
                    "row": bad + 2,
                    "column": header,
                    "value": column.take(bad).to_pylist(),
                    "problem": "not valid UTF-8 text",
                },
                columns=PROBLEM_COLUMNS,
            )
        )
    problems = pd.concat(found)
    return problems, problems["row"].to_numpy(dtype=np.int64)


def _content_hash(cells: dict[str, pa.Array]) -> str:
    """sha256 of the canonical content (not the bytes): CSV and XLSX of one list hash alike."""
    digest = hashlib.sha256(json.dumps(sorted(cells)).encode())
    for name in sorted(cells):
        _, offsets, data = cells[name].buffers()
        ends = np.frombuffer(offsets, dtype=np.int64)[cells[name].offset :][: len(cells[name]) + 1]
        digest.update((ends - ends[0]).tobytes())
        digest.update(memoryview(data)[ends[0] : ends[-1]] if data is not None else b"")
    return digest.hexdigest()


# --------------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class _Parsed:
    """A column parsed once per distinct text: per-row codes into per-text values and problems."""

    column: str
    codes: (
        np.ndarray
    )  # per row, into values/problems; -1 (the appended None) where it does not apply
    values: np.ndarray  # object, per distinct text, then None
    problems: np.ndarray  # object: None or a sentence, per distinct text, then None

    @cached_property
    def bad(self) -> np.ndarray:
        """Per row: whether its text has a problem."""
        return np.not_equal(self.problems, None)[self.codes]

    def frame(self, row_no: np.ndarray, shown: pa.Array) -> pd.DataFrame:
        at = np.flatnonzero(self.bad)
        return pd.DataFrame(
            {
                "row": row_no[at],
                "column": self.column,
                "value": shown.take(at).to_pylist(),
                "problem": self.problems[self.codes[at]],
            },
            columns=PROBLEM_COLUMNS,
        )


def _parse_column(
    column: str,
    cells: pa.Array,
    parse: Callable[[str], Any],
    *,
    empty: str | None = None,
    unchanged: Callable[[pa.Array], np.ndarray] | None = None,
) -> _Parsed:
    """Parse each distinct text once. `unchanged` marks, set-wise, the texts `parse` would
    return as they are, so they skip the per-text call (a list holds 100k item names)."""
    encoded = cells.dictionary_encode()
    texts = encoded.dictionary.to_pylist()
    values, problems = (
        np.full(len(texts) + 1, None, dtype=object),
        np.full(len(texts) + 1, None, dtype=object),
    )
    as_is = np.zeros(len(texts), dtype=bool) if unchanged is None else unchanged(encoded.dictionary)
    values[:-1][as_is] = np.asarray(texts, dtype=object)[as_is]
    for i in np.flatnonzero(~as_is).tolist():
        if texts[i]:
            values[i], problems[i] = _attempt(parse, texts[i])
        else:
            problems[i] = empty
    return _Parsed(
        column, encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), values, problems
    )


def _attempt(parse: Callable[[Any], Any], value: Any) -> tuple[Any, str | None]:
    try:
        return parse(value), None
    except MOError as err:
        detail = err.details.get("problem") if isinstance(err.details, dict) else None
        return None, str(detail or err.message)


def _validated(
    cells: dict[str, pa.Array], row_no: np.ndarray, garbled: np.ndarray, beside: Executor
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """(staging tables of the good rows, problems of the bad ones)."""
    blank = pa.array([""] * len(row_no), type=pa.large_string())
    cells = {name: cells.get(name, blank) for name in CANONICAL}
    skus = beside.submit(_sku_check, cells["sku"])  # a hash of every row's sku: the costliest
    item, price, pack, category, unit = checks = [
        _parse_column(
            "item", cells["item"], _clean_item, empty="item name is empty", unchanged=_clean_already
        ),
        _parse_column("price", cells["price"], read_price, empty="price is missing"),
        _parse_column("pack", cells["pack"], _purchase_measure, empty="pack is missing"),
        _parse_column("category", cells["category"], lambda t: clean_name(t, field="category")),
        _parse_column("unit", cells["unit"], base_unit_for),
    ]
    keys, key_texts = _key_codes(item)
    sku = skus.result()
    cost = _pair_costs(price, pack)
    duplicates, repeated = _duplicates(cells, row_no, sku, keys)
    checks += [sku, cost]
    good = ~(garbled | repeated | np.logical_or.reduce([check.bad for check in checks]))
    problems = pd.concat(
        [check.frame(row_no, cells[check.column]) for check in checks] + [duplicates]
    )
    sku_text = pc.if_else(pc.equal(cells["sku"], ""), None, cells["sku"]).filter(pa.array(good))
    rows = pd.DataFrame(
        {
            "row_no": row_no[good],
            "key_code": keys[good],
            "sku": sku_text.to_pandas(),
            "pack_code": pack.codes[good],
            "price_code": price.codes[good],
            "cost_code": cost.codes[good],
        }
    )
    staging = {
        "rows": rows,
        "items": _items(keys, key_texts, item, category, unit, pack, good),
        **_dictionaries(price, pack, cost),
    }
    return staging, problems


def _clean_item(text: str) -> str:
    return clean_name(text, field="item")


def _clean_already(texts: pa.Array) -> np.ndarray:
    """Per (trimmed, non-empty) text: printable ASCII, no double space, not too long. NFKC and
    clean_name leave such a name as it is."""
    fine = pc.and_(
        pc.and_(pc.match_substring_regex(texts, "^[ -~]+$"), pc.invert(pc.match_substring(texts, "  "))),
        pc.less_equal(pc.utf8_length(texts), MAX_NAME_LENGTH),
    )
    return fine.to_numpy(zero_copy_only=False)


def _purchase_measure(text: str) -> Measure:
    measure = pack_measure(text)
    if measure.base not in BASE_UNITS_ALLOWED:
        problem = f"{measure.base!r} is a recipe yield, not a purchase unit (g, ml or each)"
        raise validation_error(problem, text=text, problem=problem)
    return measure


@lru_cache(maxsize=65536)
def pack_measure(text: str) -> Measure:
    """parse_quantity, remembered: lists repeat a handful of pack texts over and over."""
    return parse_quantity(text)


def _key_codes(item: _Parsed) -> tuple[np.ndarray, np.ndarray]:
    """Per row, a code for its item's identity key (-1 without a valid name), and the keys."""
    keys = [None if name is None else name.casefold() for name in item.values[:-1]]
    codes, uniques = pd.factorize(pd.Series(keys, dtype=object))
    return np.append(codes, -1)[item.codes], np.asarray(uniques, dtype=object)


def _sku_check(cells: pa.Array) -> _Parsed:
    encoded = cells.dictionary_encode()
    too_long = pc.greater(pc.utf8_length(encoded.dictionary), MAX_SKU_LENGTH).to_numpy(
        zero_copy_only=False
    )
    problems = np.where(
        np.append(too_long, False), f"sku is longer than {MAX_SKU_LENGTH} characters", None
    )
    return _Parsed(
        "sku",
        encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64),
        np.full(len(problems), None, dtype=object),
        problems.astype(object),
    )


def _pair_costs(price: _Parsed, pack: _Parsed) -> _Parsed:
    """Unit cost (price ÷ pack quantity, in the pack's base unit) once per distinct pair."""
    usable = ~(price.bad | pack.bad)
    width = len(pack.values)
    codes, pairs = pd.factorize(np.where(usable, price.codes * width + pack.codes, -1))
    values, problems = (
        np.full(len(pairs) + 1, None, dtype=object),
        np.full(len(pairs) + 1, None, dtype=object),
    )
    for i, pair in enumerate(pairs.tolist()):
        if pair >= 0:
            measure = pack.values[pair % width]
            values[i], problems[i] = _attempt(
                lambda amount, qty=measure.qty: unit_cost_of(amount, qty),
                price.values[pair // width],
            )
    return _Parsed("price", np.where(usable, codes, -1), values, problems)


def _duplicates(
    cells: dict[str, pa.Array], row_no: np.ndarray, sku: _Parsed, keys: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """A row is identified by its sku, or by its item name when it has none: once per file."""
    has_sku = pc.not_equal(cells["sku"], "").to_numpy(zero_copy_only=False)
    identity = np.where(has_sku, sku.codes, np.where(keys >= 0, keys + len(sku.values), -1))
    repeated = pd.Series(identity).duplicated().to_numpy() & (identity >= 0)
    if not repeated.any():
        return pd.DataFrame(columns=PROBLEM_COLUMNS), repeated
    uniques, first = np.unique(identity, return_index=True)
    at = np.flatnonzero(repeated)
    firsts = row_no[first[np.searchsorted(uniques, identity[at])]]
    column = np.where(has_sku[at], "sku", "item")
    shown = pc.if_else(pa.array(has_sku), cells["sku"], cells["item"]).take(at).to_pylist()
    return pd.DataFrame(
        {
            "row": row_no[at],
            "column": column,
            "value": shown,
            "problem": [f"the same {c} as row {r}" for c, r in zip(column, firsts.tolist())],
        }
    ), repeated


def _items(
    keys: np.ndarray,
    key_texts: np.ndarray,
    item: _Parsed,
    category: _Parsed,
    unit: _Parsed,
    pack: _Parsed,
    good: np.ndarray,
) -> pd.DataFrame:
    """One row per item name: what a new ingredient is made of (its first good row)."""
    at = np.flatnonzero(good)
    rows = at[~pd.Series(keys[at]).duplicated().to_numpy()]
    codes = keys[rows]
    declared, measures = unit.values[unit.codes[rows]], pack.values[pack.codes[rows]]
    units = [u if u is not None else (m.family, m.base) for u, m in zip(declared, measures)]
    return _objects(
        {
            "key_code": codes,
            "item_key": key_texts[codes],
            "item": item.values[item.codes[rows]],
            "category": category.values[category.codes[rows]],
            "new_family": [u[0] for u in units],
            "new_base": [u[1] for u in units],
        }
    )


def _dictionaries(price: _Parsed, pack: _Parsed, cost: _Parsed) -> dict[str, pd.DataFrame]:
    """The distinct prices, packs and unit costs the rows' codes point at; decimals as text."""

    def used(parsed: _Parsed) -> np.ndarray:
        return np.flatnonzero(np.not_equal(parsed.values, None))

    prices, packs, costs = used(price), used(pack), used(cost)
    measures = pack.values[packs]
    return {
        "prices": _objects(
            {"price_code": prices, "price": [format(p, "f") for p in price.values[prices]]}
        ),
        "packs": _objects(
            {
                "pack_code": packs,
                "pack": [m.text for m in measures],
                "family": [m.family for m in measures],
                "base": [m.base for m in measures],
                "pack_qty": [format(to_scale(m.qty), "f") for m in measures],
            }
        ),
        "costs": _objects(
            {"cost_code": costs, "unit_cost": [format(c, "f") for c in cost.values[costs]]}
        ),
    }


def _objects(columns: dict[str, Any]) -> pd.DataFrame:
    # Text stays Python objects: pandas would convert it to Arrow strings, a copy DuckDB undoes.
    return pd.DataFrame(
        {
            name: pd.Series(values, dtype=np.int64 if name.endswith("_code") else object)
            for name, values in columns.items()
        }
    )
