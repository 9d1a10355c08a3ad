"""DataFrames that look the same from both clients, and their JSON form on the wire.

Every read method has one declared column schema: an ordered list of (column, kind). Both
clients pass a service's frame through `conform`, so LocalClient and HttpClient hand back the
same columns in the same order with the same dtypes. The server sends `encode(frame)` and
HttpClient rebuilds it with `decode`; the kind of every column travels with it, so even a column
the schema does not declare yet comes back with the dtype the local client would give it.

Kinds and their dtypes:

    int       Int64 (nullable)             wire: number | null
    float     float64                      wire: number | "inf" | "-inf" | null (NaN)
    decimal   float64 (NaN for missing);   wire: exact string | null
              exact=True: object holding Decimal/None
    str       str (pandas' default; NaN)   wire: string | null
    bool      boolean (nullable)           wire: true | false | null
    datetime  datetime64[us, UTC]          wire: ISO 8601 | null
    date      object holding date/None     wire: YYYY-MM-DD | null
    json      object holding JSON values   wire: the value (tuples arrive as lists)

Decimal columns (money, quantities, percentages) are float64 by default so that describe(),
sum(), plot(), groupby().mean() and vectorised maths work as on any number: pandas 3.1 with
pyarrow 26 cannot do all of these on an Arrow decimal dtype (describe() raises on every one;
s * 2 and s / 3 overflow the decimal precision). float(Decimal) is the nearest double, so both
clients give bit-identical floats. The exact values stay one keyword away: exact=True keeps
them as Decimal, as stored; the wire always carries the exact text, and every total the API
promises is summed exactly in the services, never from these floats.

Times are microseconds, the resolution both databases store: datetime64[us] also holds any year
a database may hold (1 to 9999), where nanoseconds end in 1677 and 2262, so a row stored before
mo refused such dates (or by another program) cannot break a read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import pandas as pd

from mo.errors import ErrorCode, MOError
from mo.util.jsonutil import dumps, loads

Kind = Literal["int", "float", "decimal", "str", "bool", "datetime", "date", "json"]
Schema = tuple[tuple[str, Kind], ...]
KINDS: tuple[Kind, ...] = ("int", "float", "decimal", "str", "bool", "datetime", "date", "json")

# The dtype of a decimal column when the caller did not ask for exact values.
NUMBER_DTYPE = "float64"

DTYPES: dict[Kind, Any] = {
    "int": "Int64",
    "float": "float64",
    "decimal": object,
    "str": "str",
    "bool": "boolean",
    "datetime": "datetime64[us, UTC]",
    "date": object,
    "json": object,
}


def is_missing(value: Any) -> bool:
    """None, pd.NA, NaT and float NaN all mean "no value"."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return isinstance(value, np.datetime64) and np.isnat(value)


# ---- from any value to the kind's Python value (used on both sides of the wire) ----------------


def _to_int(value: Any) -> int:
    return int(value)


def _to_float(value: Any) -> float:
    return float(value)


def _to_decimal(value: Any) -> Decimal:
    # Floats go through their repr so 0.1 stays 0.1 rather than its binary expansion.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _to_json(value: Any) -> Any:
    # One JSON round trip: the local client then holds exactly what the HTTP client decodes.
    return loads(dumps(value))


_PYTHON: dict[Kind, Callable[[Any], Any]] = {
    "int": _to_int,
    "float": _to_float,
    "decimal": _to_decimal,
    "str": str,
    "bool": _to_bool,
    "date": _to_date,
    "json": _to_json,
}


def column(values: Iterable[Any], kind: Kind) -> pd.Series:
    """A Series of the kind's dtype from any values of that kind (missing values → NA)."""
    items = list(values)
    if kind == "datetime":
        stamps = pd.to_datetime(
            [None if is_missing(v) else v for v in items], utc=True, format="ISO8601"
        )
        return pd.Series(stamps, dtype=DTYPES[kind])
    convert = _PYTHON[kind]
    cleaned = [None if is_missing(v) else convert(v) for v in items]
    if kind == "float":
        return pd.Series([np.nan if v is None else v for v in cleaned], dtype="float64")
    if kind in ("decimal", "date", "json"):
        series = pd.Series(np.empty(len(cleaned), dtype=object), dtype=object)
        series[:] = cleaned  # assigning keeps None (pd.Series(list) may turn it into NaN)
        return series
    return pd.Series(pd.array(cleaned, dtype=DTYPES[kind]))


# ---- kinds of undeclared columns --------------------------------------------------------------


def infer_kind(series: pd.Series) -> Kind:
    """The kind a column not named in a schema is given, from its dtype or its values."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if dtype != object and pd.api.types.is_string_dtype(dtype):
        return "str"
    return _kind_of_values([v for v in series.tolist() if not is_missing(v)])


def _kind_of_values(values: Sequence[Any]) -> Kind:
    if not values:
        return "str"
    checks: tuple[tuple[Kind, Callable[[Any], bool]], ...] = (
        ("bool", lambda v: isinstance(v, bool | np.bool_)),
        ("int", lambda v: isinstance(v, int | np.integer) and not isinstance(v, bool)),
        ("decimal", lambda v: isinstance(v, Decimal | int) and not isinstance(v, bool)),
        ("float", lambda v: isinstance(v, float | int) and not isinstance(v, bool)),
        ("str", lambda v: isinstance(v, str)),
        ("datetime", lambda v: isinstance(v, datetime)),
        ("date", lambda v: isinstance(v, date)),
    )
    for kind, check in checks:
        if all(check(v) for v in values):
            return kind
    return "json"


# ---- conforming a frame to a schema -------------------------------------------------------------


def column_kinds(frame: pd.DataFrame, schema: Schema, *, read: str) -> list[tuple[str, Kind]]:
    """Declared columns in declared order, then any others with inferred kinds.

    Raises internal_error when a non-empty frame lacks a declared column: the read broke its
    contract and both clients should say so rather than hand back a different table.
    """
    declared = dict(schema)
    missing = [name for name in declared if name not in frame.columns]
    if missing and len(frame):
        raise MOError(
            ErrorCode.INTERNAL_ERROR,
            f"{read} returned a table without {', '.join(missing)}",
            {"read": read, "missing": missing},
        )
    extras = [(str(c), infer_kind(frame[c])) for c in frame.columns if c not in declared]
    return list(schema) + extras


def conform(
    frame: pd.DataFrame, schema: Schema, *, read: str, exact: bool = False
) -> pd.DataFrame:
    """The frame with the schema's columns, order and dtypes, on a fresh RangeIndex.

    Decimal columns are float64 numbers, or Decimal objects when `exact`."""
    frame = _flatten_index(frame)
    kinds = column_kinds(frame, schema, read=read)
    data = {
        name: _conformed(
            frame[name] if name in frame.columns else pd.Series([], dtype=object),
            kind,
            exact=exact,
        )
        for name, kind in kinds
    }
    return (
        pd.DataFrame(data, index=pd.RangeIndex(len(frame)))
        if data
        else pd.DataFrame(index=pd.RangeIndex(0))
    )


def _flatten_index(frame: pd.DataFrame) -> pd.DataFrame:
    # A meaningful index (say, event type) becomes a column: JSON has no index to carry it.
    if isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
        return frame
    return frame.reset_index()


def _conformed(series: pd.Series, kind: Kind, *, exact: bool) -> pd.Series:
    if str(series.dtype) == str(pd.api.types.pandas_dtype(DTYPES[kind])) and kind not in (
        "decimal",
        "date",
        "json",
    ):
        return series.reset_index(drop=True)
    exact_column = column(series.tolist(), kind)
    return exact_column if exact or kind != "decimal" else numbers(exact_column)


def numbers(decimals: pd.Series) -> pd.Series:
    """A decimal column as float64: each value the double nearest its Decimal, NaN for none."""
    values = [np.nan if is_missing(v) else float(_to_decimal(v)) for v in decimals.tolist()]
    return pd.Series(values, dtype=NUMBER_DTYPE)


# ---- the wire -------------------------------------------------------------------------------------


def _wire_value(value: Any, kind: Kind) -> Any:
    if is_missing(value):
        return None
    if kind == "int":
        return int(value)
    if kind == "float":
        return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if kind == "bool":
        return bool(value)
    if kind in ("datetime", "date"):
        return value.isoformat()
    if kind == "json":
        return value
    return str(value)


def encode(frame: pd.DataFrame, schema: Schema, *, read: str) -> dict[str, Any]:
    """A conformed frame as JSON: {"columns": [{"name", "kind"}], "data": [[column values]]}."""
    conformed = conform(frame, schema, read=read, exact=True)
    kinds = column_kinds(conformed, schema, read=read)
    return {
        "columns": [{"name": name, "kind": kind} for name, kind in kinds],
        "data": [[_wire_value(v, kind) for v in conformed[name].tolist()] for name, kind in kinds],
    }


def decode(body: Mapping[str, Any], *, exact: bool = False) -> pd.DataFrame:
    """The frame `encode` described, with the dtypes its column kinds name (decimal columns
    as `conform` gives them: float64, or Decimal when `exact`)."""
    columns = body.get("columns") or []
    data = body.get("data") or []
    if len(columns) != len(data) or any(c.get("kind") not in KINDS for c in columns):
        raise MOError(ErrorCode.INTERNAL_ERROR, "malformed table in response", {"columns": columns})
    length = len(data[0]) if data else 0
    series = {
        c["name"]: _decoded(values, c["kind"], exact=exact) for c, values in zip(columns, data)
    }
    return (
        pd.DataFrame(series, index=pd.RangeIndex(length))
        if series
        else pd.DataFrame(index=pd.RangeIndex(0))
    )


def _decoded(values: Sequence[Any], kind: Kind, *, exact: bool) -> pd.Series:
    exact_column = column(values, kind)
    return exact_column if exact or kind != "decimal" else numbers(exact_column)


# ---- one schema per read method ---------------------------------------------------------------
# The contract of every table a client returns. Columns a service adds beyond these still reach
# both clients alike (kind inferred and sent along), but belong here once they are meant to stay.

READ_SCHEMAS: dict[str, Schema] = {
    "ingredients": (
        ("id", "int"),
        ("name", "str"),
        ("unit", "str"),
        ("category", "str"),
        ("density", "decimal"),
        ("yield_pct", "decimal"),
        ("unit_cost", "decimal"),
        ("effective_at", "datetime"),
        ("cost_policy", "str"),
        ("preferred_supplier", "str"),
        ("cost_supplier", "str"),
        ("cost_note", "str"),
        ("aliases", "str"),
        ("deleted", "bool"),
    ),
    "cost_history": (
        ("ingredient", "str"),
        ("price", "decimal"),
        ("pack", "str"),
        ("unit_cost", "decimal"),
        ("unit", "str"),
        ("effective_at", "datetime"),
        ("source", "str"),
        ("supplier", "str"),
        ("note", "str"),
        ("batch_id", "int"),
        ("cost_id", "int"),
    ),
    "imports": (
        ("batch_id", "int"),
        ("kind", "str"),
        ("supplier", "str"),
        ("status", "str"),
        ("rows", "int"),
        ("created", "int"),
        ("changed", "int"),
        ("unchanged", "int"),
        ("recomputed", "int"),
        ("duplicate_of", "int"),
        ("effective_at", "datetime"),
        ("created_at", "datetime"),
        ("idempotency_key", "str"),
    ),
    "import_rejections": (
        ("row", "int"),
        ("column", "str"),
        ("value", "str"),
        ("problem", "str"),
    ),
    "offers": (
        ("ingredient", "str"),
        ("supplier", "str"),
        ("sku", "str"),
        ("pack", "str"),
        ("price", "decimal"),
        ("unit_cost", "decimal"),
        ("unit", "str"),
        ("effective_at", "datetime"),
        ("chosen", "bool"),
        ("source", "str"),
    ),
    "conversions": (
        ("ingredient", "str"),
        ("from_qty", "str"),
        ("to_qty", "str"),
        ("from_unit", "str"),
        ("to_unit", "str"),
        ("saved_at", "datetime"),
    ),
    "suppliers": (
        ("supplier", "str"),
        ("columns", "json"),
        ("decimal", "str"),
        ("price_per", "str"),
        ("sheet", "json"),
        ("saved_at", "datetime"),
    ),
    "recipes": (
        ("name", "str"),
        ("yield_qty", "decimal"),
        ("yield_unit", "str"),
        ("total_cost", "decimal"),
        ("unit_cost", "decimal"),
        ("menu_price", "decimal"),
        ("food_cost_pct", "decimal"),
        ("complete", "bool"),
        ("missing", "str"),
        ("computed_at", "datetime"),
    ),
    "recipe_history": (
        ("at", "datetime"),
        ("total_cost", "decimal"),
        ("unit_cost", "decimal"),
        ("food_cost_pct", "decimal"),
        ("complete", "bool"),
        ("cause", "str"),
    ),
    "price_changes": (
        ("ingredient", "str"),
        ("supplier", "str"),
        ("old_unit_cost", "decimal"),
        ("new_unit_cost", "decimal"),
        ("change_pct", "decimal"),
        ("effective_at", "datetime"),
        ("source", "str"),
        ("batch_id", "int"),
    ),
    "explain_change": (
        ("ingredient", "str"),
        ("path", "str"),
        ("qty", "decimal"),
        ("unit", "str"),
        ("old_unit_cost", "decimal"),
        ("new_unit_cost", "decimal"),
        ("contribution", "decimal"),
        ("missing_cost", "bool"),
    ),
    "what_if": (
        ("recipe", "str"),
        ("total_cost", "decimal"),
        ("new_total_cost", "decimal"),
        ("change", "decimal"),
        ("food_cost_pct", "decimal"),
        ("new_food_cost_pct", "decimal"),
        ("complete", "bool"),
    ),
    "recipe_breakdown": (
        ("ingredient", "str"),
        ("qty", "decimal"),
        ("unit", "str"),
        ("cost", "decimal"),
        ("reason", "str"),
    ),
    "events": (
        ("id", "int"),
        ("event_id", "str"),
        ("event_type", "str"),
        ("aggregate_type", "str"),
        ("aggregate_id", "str"),
        ("payload", "str"),
        ("occurred_at", "datetime"),
        ("idempotency_key", "str"),
        ("batch_id", "int"),
    ),
    "event_counts": (("event_type", "str"), ("events", "int")),
    "sanity": (("check", "str"), ("ok", "bool"), ("detail", "str")),
}
