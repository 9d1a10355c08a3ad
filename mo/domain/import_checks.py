"""An import's checks that need no database: its options, and what it refuses about a source
before reading it.

The services run them, and HttpClient runs them too for what the server cannot judge (a file
that is not on the caller's disk, a source that cannot be sent), so both clients raise the same
first error for the same call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from mo.domain.checks import check_key
from mo.domain.instants import parse_instant
from mo.domain.measure import parse_unit
from mo.domain.names import clean_name
from mo.domain.price_list_options import PriceListOptions
from mo.errors import MOError, not_found, validation_error

CANONICAL = ("item", "price", "pack", "sku", "category", "unit", "pack_count", "price_per")
DECIMAL_MARKS = (".", ",")
WHOLE_PACK = ("cs", "case", "pack", "pk")  # a price basis meaning the whole pack
MAX_SHEET_NAME = 31  # Excel's own limit
ON_BAD_ROWS = ("fail", "skip")
PRICE_LIST_KINDS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}
RECIPE_SUFFIXES = (".csv", ".xlsx")


# ---- options -------------------------------------------------------------------------------------


def check_import_options(
    *, idempotency_key: object, options: PriceListOptions
) -> tuple[str, datetime | None]:
    """The import's options checked in the import's order, before its source is read: the
    supplier's clean name and the effective time (None: the writing transaction's clock)."""
    create_missing, on_bad_rows = options.create_missing, options.on_bad_rows
    check_key(idempotency_key)  # type: ignore[arg-type]
    if not isinstance(create_missing, bool):  # [] or "no" would otherwise read as False or True
        raise validation_error(
            "create_missing must be true or false",
            field="create_missing",
            value=repr(create_missing)[:100],
        )
    if not isinstance(on_bad_rows, str) or on_bad_rows not in ON_BAD_ROWS:
        raise validation_error(
            'on_bad_rows is "fail" (nothing is imported) or "skip" (the good rows are)',
            field="on_bad_rows",
            value=repr(on_bad_rows)[:100],
        )
    if options.decimal is not None:
        checked_decimal(options.decimal)
    checked_sheet(options.sheet)
    checked_price_per(options.price_per)
    supplier_name = clean_name(options.supplier, field="supplier")
    at = options.effective_at
    at = None if at is None else parse_instant(at, field="effective_at")  # type: ignore[arg-type]
    column_mapping(options.columns)  # type: ignore[arg-type]
    return supplier_name, at


def norm_header(header: object) -> str:
    """A column header as compared: white space folded, case-folded."""
    return " ".join(str(header).split()).casefold()


def column_mapping(columns: Mapping[str, str] | None) -> dict[str, str]:
    """Supplier header -> canonical column, trimmed and case-folded. Raises validation_error."""
    if columns is not None and not isinstance(columns, Mapping):  # ["a"] has no .items()
        raise validation_error(
            "columns must map the file's column names to mo's",
            field="columns",
            type=type(columns).__name__,
        )
    mapping = {norm_header(header): norm_header(target) for header, target in (columns or {}).items()}
    wrong = sorted({target for target in mapping.values() if target not in CANONICAL})
    if wrong:
        raise validation_error(
            f"columns can map onto {', '.join(CANONICAL)} only", field="columns", value=wrong
        )
    return mapping


def checked_decimal(decimal: object) -> str:
    if decimal not in DECIMAL_MARKS:
        raise validation_error(
            'decimal is "." or ","', field="decimal", value=repr(decimal)[:100]
        )
    return str(decimal)


def checked_price_per(price_per: object) -> str | None:
    """A unit the prices are per (lb, kg, ea, ...), or the whole pack (CS/case); blank: the pack."""
    if price_per is None or (isinstance(price_per, str) and not price_per.strip()):
        return None
    text = clean_name(price_per, field="price_per")
    if text.casefold() not in WHOLE_PACK:
        try:
            parse_unit(text.casefold())
        except MOError:
            raise validation_error(
                "price_per is a unit (lb, kg, ea, …) or CS/case for the whole pack",
                field="price_per",
                value=text[:100],
            ) from None
    return text


def checked_sheet(sheet: object) -> str | int | None:
    """An .xlsx sheet by name, or by position from 0."""
    if sheet is None:
        return None
    if isinstance(sheet, int) and not isinstance(sheet, bool) and 0 <= sheet < 10_000:
        return sheet
    if isinstance(sheet, str) and sheet.strip() and len(sheet) <= MAX_SHEET_NAME:
        return clean_name(sheet, field="sheet")
    raise validation_error(
        "sheet is a sheet's name or its position from 0", field="sheet", value=repr(sheet)[:100]
    )


# ---- sources -------------------------------------------------------------------------------------


def is_rows(source: object) -> bool:
    """A list of row mappings, which both imports take as well as a DataFrame (text and bytes
    are sequences too, of no mappings: an empty one is no list of rows)."""
    return (
        isinstance(source, Sequence)
        and not isinstance(source, str | bytes)
        and all(isinstance(row, Mapping) for row in source)
    )


def price_list_kind(path: Path) -> str:
    """"csv" or "xlsx" for a price-list file. Raises not_found (no file), validation_error."""
    if not path.is_file():
        raise not_found("file", str(path))
    kind = PRICE_LIST_KINDS.get(path.suffix.lower())
    if kind is None:
        raise validation_error("a price list file is .csv or .xlsx", field="source", value=path.name)
    return kind


def not_a_price_list_source() -> MOError:
    return validation_error(
        "source must be a .csv or .xlsx path, a DataFrame or a list of rows", field="source"
    )


def check_recipe_file(path: Path) -> None:
    """Refuses a recipe file by its suffix, then by its absence (validation_error). Errors name
    the file, never its folder: over HTTP that is a scratch folder on the server."""
    if path.suffix.lower() not in RECIPE_SUFFIXES:
        raise validation_error(
            "recipes import from a .csv or .xlsx file, or a DataFrame",
            field="source",
            value=path.name,
        )
    if not path.is_file():
        raise validation_error("the import file does not exist", field="source", value=path.name)


def not_a_recipe_source() -> MOError:
    return validation_error(
        "recipes import from a .csv or .xlsx path, a DataFrame or a list of rows", field="source"
    )
