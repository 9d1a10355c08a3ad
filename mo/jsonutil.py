"""JSON for payloads and results: exact decimals travel as strings, times as ISO 8601."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_default, sort_keys=True, separators=(",", ":"))


def loads(value: Any) -> Any:
    """Backends hand JSON back as text (DuckDB) or parsed (PostgreSQL); accept both."""
    return json.loads(value) if isinstance(value, str | bytes) else value
