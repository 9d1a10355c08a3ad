"""JSON for payloads and results: exact decimals travel as strings, times as ISO 8601."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from json.scanner import c_make_scanner  # type: ignore[attr-defined]
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


def _canonical_codec() -> Callable[[str], str]:
    """mo.util.jsonutil.dumps(loads(text)) for JSON text, as fast as CPython allows.

    json.dumps/loads rebuild their encoder and rescan whitespace on every call: half the cost
    on a million small payloads. The C scanner and encoder, built once with dumps's settings,
    skip that. Decoded JSON holds no Decimal or datetime, so dumps's default hook is never
    needed. A probe at import falls back to the public API if the C parts are missing or
    disagree (tests pin the result to dumps itself).
    """
    decoder = json.JSONDecoder()
    encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"))

    def portable(text: str) -> str:
        return encoder.encode(decoder.decode(text))

    if c_make_scanner is None or c_make_encoder is None:
        return portable
    scan = c_make_scanner(decoder)
    emit = c_make_encoder(None, None, encode_basestring_ascii, None, ":", ",", True, False, True)

    def fast(text: str) -> str:
        try:
            value, end = scan(text, 0)
        except StopIteration:  # leading whitespace, or not JSON: let the decoder say which
            return portable(text)
        return "".join(emit(value, 0)) if end == len(text) else portable(text)

    probe = '{"b": [1.5, 1e-05, -0, "\\u00e9\\n", null, true], "a": {"d": 10000000000000000000001, "c": ""}}'
    try:
        return fast if fast(probe) == portable(probe) else portable
    except Exception:  # a CPython whose private codec changed shape: stay on the public API
        return portable


canonical_json = _canonical_codec()
