"""Notebook parameters: the strings papermill hands over, checked and turned into values.

A notebook's `parameters` cell holds plain defaults; the validation cell right after it passes
each one through a parser here. Every parser takes the raw value and a keyword-only ``name``
(the parameter's name, which every error repeats), and raises ``MOError(validation_error)``
with details ``{"field": name, "value": <what was given>, "expected": <what would do>}``.

Why accept non-strings: papermill's CLI coerces ``-p`` values (``007`` → 7, ``4.50`` → 4.5,
``True`` → True), YAML parameters arrive typed, and `mo run` passes plain strings. So a parser
takes whatever arrived and converts it, and ``text`` turns a coerced number back into a str.
(Leading zeros are lost before mo sees them: use ``papermill -r`` or `mo run`, which passes
every value as a raw string.)
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from mo import (  # the public surface only: notebooks' rules apply here too
    ErrorCode,
    MOError,
    project_dir,
)

TRUE_WORDS = frozenset({"true", "yes", "y", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "off", "0"})


def _shown(value: Any) -> Any:
    # Details must stay JSON-ready and short: a bad value can be anything a caller typed.
    if value is None or isinstance(value, bool | int | str):
        return value if not isinstance(value, str) else value[:200]
    return repr(value)[:200]


def invalid(message: str, **details: Any) -> MOError:
    """A validation_error with these details."""
    return MOError(ErrorCode.VALIDATION_ERROR, message, details)


def bad(name: str, value: Any, expected: str) -> MOError:
    """The validation_error for parameter `name`: says what was given and what would do."""
    return invalid(
        f"parameter {name}: expected {expected}, got {_shown(value)!r}",
        field=name,
        value=_shown(value),
        expected=expected,
    )


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any, *, name: str, required: bool = True, default: str | None = None) -> str | None:
    """A stripped, non-empty str; a number papermill coerced comes back as its text.

    A blank value gives `default` when not required (None unless given).
    Raises validation_error for a blank required value or a non-scalar.
    """
    if _is_blank(value):
        if required and default is None:
            raise bad(name, value, "a non-empty text")
        return default
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise bad(name, value, "a text")
    return str(value).strip()


def boolean(value: Any, *, name: str) -> bool:
    """true/false, yes/no, on/off, 1/0 (any case), or a real bool.

    Raises validation_error for anything else, including blank: a flag must be explicit.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    word = str(value).strip().lower() if isinstance(value, str) else None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise bad(name, value, "true or false")


def decimal(
    value: Any, *, name: str, minimum: Decimal | int | None = None, positive: bool = False
) -> Decimal:
    """An exact, finite Decimal from a str, int, float (via its repr) or Decimal.

    positive=True refuses zero and below; minimum refuses values below it.
    Raises validation_error for anything else.
    """
    if isinstance(value, bool) or _is_blank(value):
        raise bad(name, value, "a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise bad(name, value, "a finite number")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise bad(name, value, "a number such as 12.50") from None
    if not number.is_finite():
        raise bad(name, value, "a finite number")
    if positive and number <= 0:
        raise bad(name, value, "a number above 0")
    if minimum is not None and number < minimum:
        raise bad(name, value, f"a number of at least {minimum}")
    return number


def iso_date(value: Any, *, name: str) -> date:
    """A calendar date from YYYY-MM-DD (or a date); papermill's int 20240301 is accepted too.

    Raises validation_error for anything else (a datetime string is refused: say the day).
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value, name=name)
    try:
        return date.fromisoformat(raw)  # type: ignore[arg-type]
    except ValueError:
        raise bad(name, value, "an ISO date YYYY-MM-DD") from None


def iso_datetime(value: Any, *, name: str) -> datetime:
    """A timezone-aware instant from an ISO date or date-time; naive values are taken as UTC.

    A bare date means its midnight (UTC). Raises validation_error for anything else.
    """
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raw = text(value, name=name)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))  # type: ignore[union-attr]
    except ValueError:
        raise bad(
            name, value, "an ISO date or date-time, e.g. 2024-03-01 or 2024-03-01T06:00Z"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def integer(value: Any, *, name: str, minimum: int | None = None) -> int:
    """A whole number (text, int, or a float/Decimal without fraction), at least `minimum`.

    Raises validation_error for anything else.
    """
    number = decimal(value, name=name)
    if number != number.to_integral_value():
        raise bad(name, value, "a whole number")
    if minimum is not None and number < minimum:
        raise bad(name, value, f"a whole number of at least {minimum}")
    return int(number)


def today() -> date:
    """Today's date in UTC (the day a run's derived idempotency key belongs to)."""
    return datetime.now(UTC).date()


def optional_datetime(value: Any, *, name: str) -> datetime | None:
    """iso_datetime, or None for a blank value."""
    return None if _is_blank(value) else iso_datetime(value, name=name)


def time_window(
    since: Any, until: Any, *, names: tuple[str, str] = ("since", "until")
) -> tuple[datetime, datetime]:
    """The half-open window [since, until) as aware datetimes.

    Raises validation_error naming the bad bound, or both when until is not after since.
    """
    start = iso_datetime(since, name=names[0])
    end = iso_datetime(until, name=names[1])
    if end <= start:
        raise invalid(
            f"parameter {names[1]} must be after {names[0]} "
            f"(the window is [{names[0]}, {names[1]}))",
            field=names[1],
            value=end.isoformat(),
            expected=f"after {start.isoformat()}",
            since=start.isoformat(),
            until=end.isoformat(),
        )
    return start, end


def str_list(value: Any, *, name: str) -> tuple[str, ...]:
    """ "a, b" → ("a", "b"); a list or tuple of scalars as well; blank → ().

    Raises validation_error for a non-scalar item.
    """
    if _is_blank(value):
        return ()
    items: Iterable[Any] = (
        value.split(",")
        if isinstance(value, str)
        else (value if isinstance(value, list | tuple) else [value])
    )
    cleaned = [text(item, name=name, required=False) for item in items]
    return tuple(item for item in cleaned if item)


def choice(value: Any, *, name: str, choices: Iterable[str]) -> str:
    """One of `choices` (case-insensitive, returned as listed). Raises validation_error."""
    options = list(choices)
    raw = text(value, name=name) or ""
    for option in options:
        if option.lower() == raw.lower():
            return option
    raise bad(name, value, "one of " + ", ".join(options))


def mapping(value: Any, *, name: str) -> dict[str, str] | None:
    """A str → str mapping from a dict or a JSON object text; blank → None.

    Raises validation_error for other JSON, malformed JSON or non-text keys/values.
    """
    if _is_blank(value):
        return None
    parsed = value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            raise bad(name, value, 'a JSON object such as {"Case Price": "price"}') from None
    if not isinstance(parsed, Mapping) or not all(isinstance(v, str) for v in parsed.values()):
        raise bad(name, value, "a mapping of column names to column names")
    return {str(k): v for k, v in parsed.items()}


def project_path(value: Any, *, name: str) -> Path:
    """A path from a parameter: absolute as given, relative against project_dir().

    Raises validation_error when blank.
    """
    path = Path(text(value, name=name)).expanduser()  # type: ignore[arg-type]
    return path if path.is_absolute() else project_dir() / path


def existing_file(value: Any, *, name: str) -> Path:
    """project_path() of a file that exists. Raises validation_error when blank or missing."""
    path = project_path(value, name=name)
    if not path.is_file():
        raise bad(name, value, f"an existing file (looked for {path})")
    return path


def directory(value: Any, *, name: str, create: bool = True) -> Path:
    """project_path() of a directory; created (with parents) when create=True.

    Raises validation_error when blank, when it names a file, or when it cannot be created.
    """
    path = project_path(value, name=name)
    if path.exists() and not path.is_dir():
        raise bad(name, value, "a directory, not a file")
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise bad(name, value, f"a directory mo can create ({err.strerror})") from err
    return path


def derived_key(prefix: str, *parts: Any, file: Path | None = None) -> str:
    """A stable idempotency key from a run's inputs: `prefix` + sha256 of parts (and file bytes).

    Why: a scheduled notebook re-run with the same inputs must replay, not write again. Callers
    include the effective date (or today's) among the parts, so the same inputs on another day
    are a new request. Raises validation_error when `file` cannot be read.
    """
    digest = hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode())
    if file is not None:
        try:
            digest.update(file.read_bytes())
        except OSError as err:
            raise bad("path", str(file), f"a readable file ({err.strerror})") from err
    return f"{prefix}-{digest.hexdigest()[:32]}"
