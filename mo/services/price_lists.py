"""Reading and checking a supplier price list, without the database.

A list is read as text (prices never pass through float) from a .csv or .xlsx file, a DataFrame
or a list of row mappings, and mapped onto the canonical columns item, price, pack (required)
and sku, category, unit, pack_count, price_per (optional). Each column is checked once per
distinct text, rows being codes into those texts; what passes becomes the staging tables
mo.services.imports loads: the rows as codes, beside the distinct items, packs, prices and
unit costs.

Files as distributors send them: the header is the first of the first 30 lines naming every
required column (title and address lines above it are skipped; PriceList.header_row says
which), a CSV's separator is ",", ";" or a tab (whichever makes that line a header), and
unnamed columns past the header's last name (Excel's trailing commas) are ignored when empty.
Prices may carry $, € or £ and thousands separators; a decimal comma only with decimal=",".
A price may be for a unit rather than the pack ("2.65/lb", or a price_per column): the unit
cost then comes from it and the pack text is kept for the record, as "<pack> (price per lb)".
With pack_count, the priced pack is "<pack_count> x <pack>".
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from mo.domain.import_checks import (
    CANONICAL,
    DECIMAL_MARKS,
    column_mapping,
    is_rows,
    norm_header,
    not_a_price_list_source,
    price_list_kind,
)
from mo.domain.measure import CONTAINER_WORDS, Measure, parse_quantity, parse_unit
from mo.domain.names import MAX_NAME_LENGTH, clean_name
from mo.domain.prices import read_price, to_scale, unit_cost_of
from mo.errors import MOError, validation_error
from mo.services.ingredients import BASE_UNITS_ALLOWED, base_unit_for
from mo.services.source_shape import check_header_width, check_xlsx, checked_csv
from mo.util.memory import give_back_memory

REQUIRED = ("item", "price", "pack")
HEADER_SEARCH_LINES = 30  # the header is looked for among this many first lines
_SEPARATORS = (",", ";", "\t")
_PRICED_PER_RE = re.compile(r"(?P<pack>.*?)\s*\(price per (?P<unit>[^()]+)\)")
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
    header_row: int = 1  # the line (record) of the file holding the header, from 1


@dataclass(frozen=True)
class RawSource:
    """A source as handed over: a file's bytes, or a table already in memory."""

    data: bytes | None
    kind: str  # "csv", "xlsx" or "frame"
    frame: pd.DataFrame | None = None


@dataclass(frozen=True)
class ReadOptions:
    """How a supplier's file reads, beyond its columns. The defaults are mo's historic reading."""

    decimal: str = "."  # "," for lists writing 12,50
    sheet: str | int | None = None  # an .xlsx sheet's name or 0-based position; None = the first
    # What every price is for when the list has no price_per column (a supplier quoting per lb);
    # None: the pack, unless a price cell says otherwise ("2.65/lb").
    price_per: str | None = None


@dataclass(frozen=True)
class _Sheet:
    """A source as text: header texts and each column's cells ("" when empty)."""

    headers: list[str]
    columns: list[pa.Array]  # large_string
    mojibake: bool  # bad UTF-8 bytes were replaced by U+FFFD
    header_row: int = 1  # 1-based line of the header in the file
    width: int | None = None  # columns the header line itself has; more are overflow


def read_price_list(
    source: Source,
    *,
    columns: Mapping[str, str] | None = None,
    decimal: str = ".",
    sheet: str | int | None = None,
) -> PriceList:
    """Read and check a price list without the database (see import_price_list for the rules).

    Raises validation_error for an unreadable or empty source, missing/duplicated columns, a
    bad `decimal` or an unknown `sheet`; not_found for a missing file. Bad rows are returned in
    PriceList.problems, not raised.
    """
    return read_loaded(load_source(source), columns, options=read_options(decimal=decimal, sheet=sheet))


def read_options(
    *, decimal: str = ".", sheet: str | int | None = None, price_per: str | None = None
) -> ReadOptions:
    """Checked ReadOptions. Raises validation_error naming the field."""
    if decimal not in DECIMAL_MARKS:
        raise validation_error("decimal must be '.' or ','", field="decimal", value=str(decimal)[:20])
    if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, str | int)):
        raise validation_error("sheet must be a sheet's name or position", field="sheet")
    if price_per is not None and not isinstance(price_per, str):
        raise validation_error("price_per must be a unit or CS/case", field="price_per")
    return ReadOptions(decimal=decimal, sheet=sheet, price_per=price_per)


def read_loaded(
    raw: RawSource, columns: Mapping[str, str] | None, *, options: ReadOptions = ReadOptions()
) -> PriceList:
    """read_price_list for a source load_source has read already (an import hashes it first)."""
    # mo.domain.measure builds its unit table on first use (a few hundred ms of pint): let that happen
    # while pyarrow parses the file, which releases the GIL.
    warm_up = threading.Thread(target=parse_unit, args=("g",), daemon=True)
    warm_up.start()
    sheet = _read_sheet(raw, column_mapping(columns), options)
    warm_up.join()
    positions = _canonical_columns(sheet.headers, columns)
    encoding, garbled = _encoding_problems(sheet)
    overflow, spilled = _overflow_problems(sheet)
    cells = {name: pc.utf8_trim_whitespace(sheet.columns[pos]) for name, pos in positions.items()}
    header_row = sheet.header_row
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
    row_no = np.flatnonzero(filled) + 1 + header_row  # the file's own line numbers
    unusable = np.isin(row_no, np.concatenate([garbled, spilled]) + header_row - 1)
    encoding, overflow = (
        frame.assign(row=frame["row"] + header_row - 1) for frame in (encoding, overflow)
    )
    # Hashing and dictionary-encoding release the GIL: they run on the other core while the
    # per-text checks run on this one.
    with ThreadPoolExecutor(max_workers=1) as beside:
        content_hash = beside.submit(_content_hash, cells, options)
        staging, problems = _validated(cells, row_no, unusable, beside, options)
        return PriceList(
            staging,
            len(row_no),
            pd.concat([encoding, overflow, problems]),
            content_hash.result(),
            header_row,
        )


def load_source(source: Source) -> RawSource:
    """A file's bytes, or an in-memory table. Raises not_found (no file), validation_error."""
    if isinstance(source, pd.DataFrame):
        return RawSource(None, "frame", source)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        kind = price_list_kind(path)
        return RawSource(path.read_bytes(), kind)
    if is_rows(source):
        return RawSource(None, "frame", pd.DataFrame(list(source)))
    raise not_a_price_list_source()


def _read_sheet(raw: RawSource, mapping: dict[str, str], options: ReadOptions) -> _Sheet:
    if raw.kind == "frame":
        assert raw.frame is not None
        return _from_frame(raw.frame)
    assert raw.data is not None
    if raw.kind == "xlsx":
        check_xlsx(raw.data, sheet=options.sheet)  # before openpyxl builds a single cell
        grid = _read_xlsx(raw.data, options.sheet)
        top = [[str(cell) for cell in row] for row in grid.head(HEADER_SEARCH_LINES).itertuples(index=False)]
        at = next((i for i, cells in enumerate(top) if _is_header(cells, mapping)), 0)
        return _from_grid(grid.iloc[at:], mojibake=False, header_row=at + 1)
    data = raw.data.removeprefix(codecs.BOM_UTF8)
    if not data or data.isspace():
        raise validation_error("the price list is empty", rows=[], bad_rows=0)
    data = checked_csv(data)  # before any CSV reader allocates per column or per line
    offset, at, sep = _find_csv_header(data, mapping)
    if offset:
        data = data[offset:]
        check_header_width(data[: data.find(b"\n")], delimiter=sep)
    return _csv_sheet(data, sep, header_row=at + 1)


def _csv_sheet(data: bytes, sep: str, *, header_row: int) -> _Sheet:
    fast = _fast_csv(data, sep, mojibake=False)  # refuses bad UTF-8 as well as ragged rows
    if fast is None:
        mojibake = not _is_utf8(data)
        if mojibake:  # read on, so the rows holding the bad bytes can be named
            data = data.decode("utf-8", errors="replace").encode("utf-8")
        fast = _fast_csv(data, sep, mojibake=mojibake) or _from_grid(
            *_read_csv(data, sep), mojibake=mojibake
        )
    return replace(fast, header_row=header_row)


def _find_csv_header(data: bytes, mapping: dict[str, str]) -> tuple[int, int, str]:
    """(byte offset, 0-based line, separator) of the header: the first of the first lines that
    names every required column, read with the first separator that makes it one. Without such
    a line, the first line with ",": today's reading, and its missing-columns error."""
    start = 0
    for at in range(HEADER_SEARCH_LINES):
        end = data.find(b"\n", start)
        line = (data[start:] if end < 0 else data[start:end]).decode(errors="replace").rstrip("\r")
        for sep in _SEPARATORS:
            if sep in line and _is_header(_split_line(line, sep), mapping):
                return start, at, sep
        if end < 0:
            break
        start = end + 1
    return 0, 0, ","


def _split_line(line: str, sep: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=sep), [])
    except csv.Error:
        return []


def _is_header(cells: Sequence[str], mapping: dict[str, str]) -> bool:
    """Whether these cells name every required column, as _canonical_columns resolves them."""
    named = {
        mapping.get(key) or (key if key in CANONICAL and key not in mapping.values() else None)
        for key in map(norm_header, cells)
    }
    return set(REQUIRED) <= named


def _is_utf8(data: bytes, *, step: int = 1 << 22) -> bool:
    """Whether the bytes decode as UTF-8, checked in slices so no copy of the whole text is made."""
    decoder, view = codecs.getincrementaldecoder("utf-8")(), memoryview(data)
    try:
        for start in range(0, len(data), step):
            decoder.decode(view[start : start + step], final=start + step >= len(data))
    except UnicodeDecodeError:
        return False
    return True


def _fast_csv(data: bytes, sep: str, *, mojibake: bool) -> _Sheet | None:
    """pyarrow's CSV reader; None for what it refuses (bad UTF-8, ragged rows): pandas reads
    that, or says where it is wrong. Blank lines are kept as rows, as a spreadsheet counts them."""
    end = data.find(b"\n")
    header = next(
        csv.reader(
            [(data if end < 0 else data[:end]).decode(errors="replace").rstrip("\r")],
            delimiter=sep,
        ),
        [],
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
    parsing = pacsv.ParseOptions(
        delimiter=sep, newlines_in_values=block == _MAX_BLOCK, ignore_empty_lines=False
    )
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


def _read_csv(data: bytes, sep: str) -> tuple[pd.DataFrame, int | None]:
    """The grid, and the header line's width when rows run past it (Excel's trailing commas):
    those rows are read whole, into unnamed columns, so what they hold there can be judged."""
    try:
        try:
            return _pandas_csv(data, sep, None), None
        except pd.errors.ParserError:  # rows with more cells than the header
            width, header_width = _widths(data, sep)
            return _pandas_csv(data, sep, width), header_width
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        raise validation_error(f"the CSV cannot be read: {exc}".strip(), field="source") from exc


def _widths(data: bytes, sep: str) -> tuple[int, int]:
    """(cells of the widest row, cells of the header row)."""
    rows = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=sep)
    header = len(next(rows, []))
    return max((len(row) for row in rows), default=header), header


def _pandas_csv(data: bytes, sep: str, width: int | None) -> pd.DataFrame:
    return pd.read_csv(
        io.BytesIO(data),
        header=None,
        names=None if width is None else list(range(width)),
        sep=sep,
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=False,
        encoding="utf-8",
    )


def _read_xlsx(data: bytes, sheet: str | int | None) -> pd.DataFrame:
    try:
        frame = pd.read_excel(
            io.BytesIO(data), sheet_name=0 if sheet is None else sheet, header=None, dtype=str,
            engine="openpyxl",
        )
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise validation_error(
            f"the .xlsx file cannot be read: {type(exc).__name__}", field="source"
        ) from exc
    if frame.empty:
        raise validation_error("the price list is empty", rows=[], bad_rows=0)
    return frame.fillna("")


def _from_grid(
    frame: pd.DataFrame, width: int | None = None, *, mojibake: bool, header_row: int = 1
) -> _Sheet:
    """A header-less grid (first row = headers) as a _Sheet."""
    columns = [_text_array(frame.iloc[:, pos]) for pos in range(frame.shape[1])]
    return _Sheet(
        [c[0].as_py() for c in columns],
        [c.slice(1) for c in columns],
        mojibake,
        header_row,
        width,
    )


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


def _canonical_columns(headers: list[str], columns: Mapping[str, str] | None) -> dict[str, int]:
    """Canonical name -> column position. A header mapped explicitly wins over a same-named one."""
    mapping = column_mapping(columns)
    found: dict[str, list[int]] = {}
    for pos, header in enumerate(headers):
        key = norm_header(header)
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


def _overflow_problems(sheet: _Sheet) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows holding text past the header's last column (a comma left unquoted shifts a row),
    and their row numbers. Empty cells there are Excel's trailing commas: nothing to say."""
    width = len(sheet.headers) if sheet.width is None else sheet.width
    found = [pd.DataFrame(columns=PROBLEM_COLUMNS)]
    for column in sheet.columns[width:]:
        bad = np.flatnonzero(
            pc.not_equal(pc.utf8_trim_whitespace(column), "").to_numpy(zero_copy_only=False)
        )
        found.append(
            pd.DataFrame(
                {
                    "row": bad + 2,
                    "column": "",
                    "value": column.take(bad).to_pylist(),
                    "problem": "a cell past the header's last column (an unquoted comma?)",
                },
                columns=PROBLEM_COLUMNS,
            )
        )
    problems = pd.concat(found)
    return problems, problems["row"].to_numpy(dtype=np.int64)


def _content_hash(cells: dict[str, pa.Array], options: ReadOptions) -> str:
    """sha256 of the canonical content (not the bytes): CSV and XLSX of one list hash alike.
    A decimal comma changes what the same text means, so it is part of the content."""
    digest = hashlib.sha256(json.dumps(sorted(cells)).encode())
    if options.decimal != ".":  # only then: the hashes of lists imported before stay the same
        digest.update(f"decimal={options.decimal}".encode())
    if options.price_per is not None:  # likewise: the same cells mean other prices
        digest.update(f"price_per={options.price_per}".encode())
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
    cells: dict[str, pa.Array],
    row_no: np.ndarray,
    garbled: np.ndarray,
    beside: Executor,
    options: ReadOptions = ReadOptions(),
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """(staging tables of the good rows, problems of the bad ones)."""
    blank = pa.array([""] * len(row_no), type=pa.large_string())
    if options.price_per is not None and "price_per" not in cells:
        cells = {**cells, "price_per": pa.array([options.price_per] * len(row_no),
                                                type=pa.large_string())}
    cells = {name: cells.get(name, blank) for name in CANONICAL}
    skus = beside.submit(_sku_check, cells["sku"])  # a hash of every row's sku: the costliest
    item, price, pack_count, price_per, category, unit = checks = [
        _parse_column(
            "item", cells["item"], _clean_item, empty="item name is empty", unchanged=_clean_already
        ),
        _parse_column(
            "price", cells["price"], lambda t: read_price_cell(t, decimal=options.decimal),
            empty="price is missing",
        ),
        _parse_column("pack_count", cells["pack_count"], read_pack_count),
        _parse_column("price_per", cells["price_per"], read_price_basis),
        _parse_column("category", cells["category"], lambda t: clean_name(t, field="category")),
        _parse_column("unit", cells["unit"], base_unit_for),
    ]
    read_pack = _purchase_measure if options.decimal == "." else _comma_pack
    pack_text = _parse_column("pack", cells["pack"], read_pack, empty="pack is missing")
    basis, conflicts = _row_basis(price, price_per, row_no, cells)
    split = np.not_equal(pack_count.values, None).any() or pack_count.bad.any()
    # Only a list with split packs or per-unit prices needs the combined packs: others keep
    # the pack column's own values, as fast as before.
    pack = _priced_packs(pack_text, pack_count, basis, cells["pack"]) if split or basis.table else pack_text
    keys, key_texts = _key_codes(item)
    sku = skus.result()
    cost = _pair_costs(price, pack)
    duplicates, repeated = _duplicates(cells, row_no, sku, keys)
    checks += [pack, sku, cost]
    bad = np.logical_or.reduce([check.bad for check in checks])
    good = ~(garbled | repeated | bad | np.isin(row_no, conflicts["row"].to_numpy(dtype=np.int64)))
    problems = pd.concat(
        [check.frame(row_no, cells[check.column]) for check in checks] + [duplicates, conflicts]
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


def _comma_pack(text: str) -> Measure:
    """A pack of a list written with decimal commas ("6 x 2,5 kg"), kept as "6 x 2.5 kg"."""
    return _purchase_measure(re.sub(r"(\d),(\d)", r"\1.\2", text))


def _purchase_measure(text: str) -> Measure:
    measure = pack_measure(text)
    if measure.base in _BOUGHT_AS_EACH:  # "2 loaves" bought: two of them; in a recipe, a yield
        return Measure(qty=measure.qty, family="count", base="each", text=text)
    if measure.base not in BASE_UNITS_ALLOWED:
        problem = f"{measure.base!r} is a recipe yield, not a purchase unit (g, ml or each)"
        raise validation_error(problem, text=text, problem=problem)
    return measure


@lru_cache(maxsize=65536)
def pack_measure(text: str) -> Measure:
    """parse_quantity, remembered: lists repeat a handful of pack texts over and over. Also
    reads back the priced pack of a per-unit price, "40 LB CS (price per lb)": one lb."""
    per = _PRICED_PER_RE.fullmatch(text)
    if per is not None:
        unit = parse_unit(per["unit"].strip())
        return Measure(qty=unit.qty, family=unit.family, base=unit.base, text=text)
    return parse_quantity(text)


_BOUGHT_AS_EACH = frozenset({"loaf", "tray"})  # yield words that are also what one buys
_BASIS_RE = re.compile(r"(?P<amount>.*?[\d.,])\s*(?:/|\bper\b)\s*(?P<unit>[^\d/]+)", re.IGNORECASE)
_WHOLE_PACK = CONTAINER_WORDS | {"pack", "pkg", "unit price"}
_THOUSANDS = {".": re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d*)?"), ",": re.compile(r"\d{1,3}(?:[.\s\u00a0\u202f]\d{3})+(?:,\d*)?")}
_CURRENCY_MARKS = "$€£"


@dataclass(frozen=True)
class PriceCell:
    """A price as written: the amount, and the unit it is for (None: the whole pack)."""

    amount: Decimal
    per: Measure | None


def read_price_cell(text: str, *, decimal: str = ".") -> PriceCell:
    """ "$1,234.50" → 1234.50 for the pack; "2.65/lb" or "2.65 per kg" → 2.65 per unit; with
    decimal=",", "€12,50" → 12.50. Raises validation_error; a decimal comma without
    decimal="," is refused (never read as 1250)."""
    basis = _BASIS_RE.fullmatch(text.strip()) if "/" in text or "per" in text.lower() else None
    amount = _amount(basis["amount"] if basis else text, decimal)
    return PriceCell(amount, read_price_basis(basis["unit"]) if basis else None)


def _amount(text: str, decimal: str) -> Decimal:
    number = text.strip().strip(_CURRENCY_MARKS).strip()
    if decimal == "." and "," in number:
        if not _THOUSANDS["."].fullmatch(number):
            raise _price_problem(text, "decimal comma or misplaced ',': give decimal=',' for 12,50")
        number = number.replace(",", "")
    elif decimal == ",":
        if re.search(r"[.\s\u00a0\u202f]", number) and not _THOUSANDS[","].fullmatch(number):
            raise _price_problem(text, "'.' in a price of a list read with decimal=','")
        number = re.sub(r"[.\s\u00a0\u202f]", "", number).replace(",", ".")
    return read_price(number)


def _price_problem(text: str, problem: str) -> MOError:
    return validation_error(problem, field="price", value=text[:100], problem=problem)


def read_price_basis(text: str) -> Measure | None:
    """What a price is for: "LB", "kg", "EA" → one of that unit; "CS", "case", "" → the whole
    pack (None). Raises validation_error for anything else."""
    key = " ".join(text.lower().replace(".", " ").split())
    key = key.removeprefix("per ").strip()
    if not key or key in _WHOLE_PACK:
        return None
    try:
        unit = parse_unit(key)
    except MOError:
        unit = None
    if unit is None or unit.base not in BASE_UNITS_ALLOWED:
        problem = f"unknown price basis {text.strip()[:40]!r}: a unit (lb, kg, ea) or the case"
        raise validation_error(problem, field="price_per", value=text[:100], problem=problem)
    return Measure(qty=unit.qty, family=unit.family, base=unit.base, text=key)


def read_pack_count(text: str) -> int:
    """Packs per case: a whole number from 1. Raises validation_error."""
    number = text.strip()
    number = number[:-2] if re.fullmatch(r"\d+\.0", number) else number  # 6.0 from a sheet
    if not re.fullmatch(r"\d{1,6}", number) or int(number) < 1:
        problem = "pack count must be a whole number of packs, at least 1"
        raise validation_error(problem, field="pack_count", value=text[:100], problem=problem)
    return int(number)


def _row_basis(
    price: _Parsed, price_per: _Parsed, row_no: np.ndarray, cells: dict[str, pa.Array]
) -> tuple[_Basis, pd.DataFrame]:
    """Per row, a code into the distinct price bases (-1: the whole pack), and the rows whose
    price cell and price_per column name two different ones."""
    measures: dict[tuple[str, Decimal], int] = {}
    table: list[Measure] = []

    def code(measure: Measure | None) -> int:
        if measure is None:
            return -1
        key = (measure.base, measure.qty)
        if key not in measures:
            measures[key] = len(table)
            table.append(measure)
        return measures[key]

    in_cell = np.array([code(v.per if v is not None else None) for v in price.values], dtype=np.int64)
    in_column = np.array([code(v) for v in price_per.values], dtype=np.int64)
    cell, column = in_cell[price.codes], in_column[price_per.codes]
    clash = np.flatnonzero((cell >= 0) & (column >= 0) & (cell != column))
    conflicts = pd.DataFrame(
        {
            "row": row_no[clash],
            "column": "price_per",
            "value": cells["price_per"].take(clash).to_pylist(),
            "problem": "the price cell names another unit than price_per",
        },
        columns=PROBLEM_COLUMNS,
    )
    return _Basis(np.where(cell >= 0, cell, column), table), conflicts


@dataclass(frozen=True)
class _Basis:
    codes: np.ndarray  # per row, into table; -1 for the whole pack
    table: list[Measure]


def _priced_packs(pack: _Parsed, count: _Parsed, basis: _Basis, shown: pa.Array) -> _Parsed:
    """What each row's price buys, once per distinct (pack_count, pack, basis): pack_count x
    pack, or one unit of a per-unit price (the pack then only kept in the record's text)."""
    width_pack, width_basis = len(pack.values) + 1, len(basis.table) + 1
    key = (count.codes * width_pack + pack.codes) * width_basis + basis.codes + 1
    codes, uniques = pd.factorize(key)
    texts = shown.dictionary_encode().dictionary.to_pylist()  # same order as pack's texts
    values = np.full(len(uniques) + 1, None, dtype=object)
    problems = np.full(len(uniques) + 1, None, dtype=object)
    for i, combo in enumerate(uniques.tolist()):
        rest, basis_code = divmod(combo, width_basis)
        count_code, pack_code = divmod(rest, width_pack)
        per = basis.table[basis_code - 1] if basis_code else None
        if count.problems[count_code] is None:  # else the row is reported under pack_count
            values[i], problems[i] = _priced_pack(pack, pack_code, texts[pack_code], count.values[count_code], per)
    return _Parsed("pack", codes.astype(np.int64), values, problems)


def _priced_pack(
    pack: _Parsed, pack_code: int, text: str, count: int | None, per: Measure | None
) -> tuple[Measure | None, str | None]:
    value = pack.values[pack_code]
    text = text if value is None else value.text  # the text as read: "2,5 kg" now "2.5 kg"
    label = f"{count} x {text}" if count is not None and text else text
    if per is not None:  # catch-weight: one unit is priced; the pack stays for the record
        return pack_measure(f"{label} (price per {per.text})".strip()), None
    if pack.problems[pack_code] is not None or count is None:
        return pack.values[pack_code], pack.problems[pack_code]
    return _attempt(_purchase_measure, label)


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
    usable = ~(price.bad | pack.bad) & np.not_equal(pack.values, None)[pack.codes]
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
                lambda cell, qty=measure.qty: unit_cost_of(cell.amount, qty),
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
            {"price_code": prices, "price": [format(p.amount, "f") for p in price.values[prices]]}
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
