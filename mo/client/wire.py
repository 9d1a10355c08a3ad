"""What HttpClient sends: JSON bodies, path segments, query values, uploads — and the argument
checks that must run before sending because a URL or header cannot carry the caller's value.

Those checks call the services' own pure validators (or raise their exact error), in the
services' order, so a bad argument gives the same MOError over HTTP as in-process.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from mo.domain.checks import check_key, check_window, parse_span
from mo.domain.import_checks import is_rows
from mo.errors import validation_error


def _wire_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exactly as the caller wrote it: "12.00" stays "12.00"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    # Anything else as its text: the services read numbers and names from str(value) anyway.
    return str(value)


def dumps(value: Any) -> str:
    """JSON of a request: what the caller passed, with decimals and times as exact text."""
    return json.dumps(value, default=_wire_default)


def segment(name: str) -> str:
    """A name as one URL path segment. Dots are escaped too, or '..' would be resolved away."""
    return quote(name, safe="").replace(".", "%2E")


def query_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def idempotency_header(key: object) -> dict[str, bytes]:
    """The Idempotency-Key header, or none when the caller gave no key (the server answers 400
    with the service's own "idempotency_key is required"). A key that cannot be a header value
    is refused here with the error the service gives; non-ASCII keys travel as UTF-8."""
    if key is None or key == "":
        return {}
    return {"Idempotency-Key": check_key(key).encode()}


# ---- sources: files, DataFrames, rows ---------------------------------------------------------


def source_body(source: Any) -> dict[str, Any]:
    """The JSON form of a source that is not a file: a DataFrame as header + rows (keeping
    column order, duplicate headers and empty frames), anything else as given (the service
    judges it, exactly as it would in-process)."""
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        header = [str(c) for c in source.columns]
        rows = [[_cell(v) for v in row] for row in source.itertuples(index=False, name=None)]
        return {"header": header, "rows": rows}
    if isinstance(source, Sequence) and not isinstance(source, str | bytes):
        return {"rows": [dict(r) if isinstance(r, Mapping) else r for r in source]}
    return {"rows": source}


def _cell(value: Any) -> Any:
    # JSON-native cells pass as they are; others as the text pandas' astype(str) would make.
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value if isinstance(value, str | int | float | bool) else str(value)


def frame_from_body(header: Any, rows: Any) -> Any:
    """The server's side of source_body: always a DataFrame, never the rows as sent.

    Over HTTP a source is rows of objects, or `header` + rows of arrays: nothing else, so no
    remote caller's text can reach a service that would read it as a path on the server.
    Raises validation_error naming `rows` or `header` (the value is not echoed).
    """
    import pandas as pd

    if header is None:
        if not (isinstance(rows, list) and all(isinstance(row, dict) for row in rows)):
            raise validation_error(
                "rows must be a list of row objects (or, with header, a list of arrays)",
                field="rows",
                type=json_type(rows),
            )
        return pd.DataFrame(rows)
    if not isinstance(header, list) or not all(isinstance(name, str) for name in header):
        raise validation_error("header must be a list of column names (text)", field="header")
    if not isinstance(rows, list) or not all(
        isinstance(row, list) and len(row) == len(header) for row in rows
    ):
        raise validation_error(
            "each row must be a list of as many cells as header has names", field="rows"
        )
    return pd.DataFrame(rows, columns=pd.Index(header, dtype=object)).infer_objects()


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type (what a caller sent, without echoing it)."""
    if isinstance(value, list):
        return "array"
    names = {dict: "object", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def is_table(source: Any) -> bool:
    """A source that travels as JSON: a DataFrame, or a sequence of row mappings."""
    import pandas as pd

    return isinstance(source, pd.DataFrame) or is_rows(source)


def is_path(source: Any) -> bool:
    return isinstance(source, str | os.PathLike)


# ---- event window arguments ----------------------------------------------------------------------


def _query_safe_time(value: Any) -> bool:
    return value is None or isinstance(value, str | datetime | date)


def events_query(since: Any, until: Any, types: Any, limit: Any) -> dict[str, Any]:
    """Query parameters for events(); raises the service's error for values a URL would change.

    A URL turns 5 into "5" and a lone string into a one-item list, so such values are judged
    here with mo.domain.checks.check_window, in the order events_frame judges them.
    """
    listed = _types_list(types)
    unsafe_window = not (_query_safe_time(since) and _query_safe_time(until)) or (
        types is not None and not listed
    )
    unsafe_limit = limit is not None and (isinstance(limit, bool) or not isinstance(limit, int))
    if unsafe_window or unsafe_limit:
        check_window(since, until, types if listed is None else listed)
    if unsafe_limit:
        raise validation_error(
            "limit must be a positive integer", field="limit", value=repr(limit)[:40]
        )
    return {"since": since, "until": until, "types": listed, "limit": limit}


def _types_list(types: Any) -> list[str] | None:
    """types as a list of strings, or None when absent or not expressible in a query string."""
    if types is None or isinstance(types, str) or not isinstance(types, Iterable):
        return None
    listed = list(types)
    return listed if listed and all(isinstance(t, str) for t in listed) else None


def window_text(window: Any) -> str:
    """event_counts' window, which must be text; anything else gets the service's error."""
    if not isinstance(window, str):
        parse_span(window)  # raises validation_error, as event_counts would
    return str(window)
