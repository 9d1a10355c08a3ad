"""Tables handed over in memory (a DataFrame, a list of row mappings) may hold text that is not
Unicode at all: a lone surrogate, which JSON's "\\ud800" decodes to. No database can store it,
and pandas, Arrow and hashlib all fail on it with a bare UnicodeEncodeError. Readers catch that
error and ask this module which cells hold one, so the caller gets a validation_error naming
them instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pandas as pd

from mo.errors import MOError, validation_error

MAX_REPORTED = 20
PROBLEM = "not valid Unicode (a lone surrogate)"


def not_unicode(source: object) -> MOError:
    """validation_error listing (up to MAX_REPORTED) cells of `source` that are not valid
    Unicode: rows numbered as in a file (the header is row 1), column names as given."""
    cells = list(_bad_cells(source))
    rows = [
        {"row": row, "column": _printable(column), "value": _printable(value), "problem": PROBLEM}
        for row, column, value in cells[:MAX_REPORTED]
    ]
    return validation_error(
        f"{len({r for r, _, _ in cells}) or 1} rows hold text that is {PROBLEM}",
        rows=rows,
        bad_rows=len({r for r, _, _ in cells}),
    )


def _bad_cells(source: object) -> Iterator[tuple[int, object, object]]:
    if isinstance(source, pd.DataFrame):
        for column in source.columns:
            if not _is_unicode(column):
                yield 1, column, column
        for position, record in enumerate(source.itertuples(index=False, name=None)):
            for column, value in zip(source.columns, record):
                if not _is_unicode(value):
                    yield position + 2, column, value
    elif isinstance(source, Sequence):
        for position, record in enumerate(source):
            items = record.items() if isinstance(record, Mapping) else ()
            for column, value in items:
                if not _is_unicode(column) or not _is_unicode(value):
                    yield position + 2, column, value


def _is_unicode(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(value: object) -> object:
    """The value with each lone surrogate written as \\udXXX, so the error itself encodes."""
    if isinstance(value, str):
        return value[:100].encode("utf-8", "backslashreplace").decode()
    return value
