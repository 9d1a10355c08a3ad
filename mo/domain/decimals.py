"""Numbers from what people type: the one reader every amount goes through."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# Bounds on any number mo reads, before any field's own limits apply. Every amount is stored as
# DECIMAL(38,12) — 26 digits before the point, 12 after — so a number needing more significant
# digits, or an exponent beyond what 38 digits reach, means nothing mo can keep. Without one rule
# here the backends disagreed: DuckDB rounded 1e-999999 to 0 where PostgreSQL refused it.
MAX_DIGITS = 40
MAX_ADJUSTED_EXPONENT = 38  # 10^38 and above, or below 10^-38: no DECIMAL(38, s) holds it


class DecimalOutOfBounds(ValueError):
    """A number too long or too far from 1 for any amount mo stores; str() says which."""


def decimal_from(value: object) -> Decimal:
    """The exact Decimal of a number or numeric text (floats through their repr, text trimmed).

    Raises InvalidOperation for text that is no number, and for digit-group underscores
    ("1_000"), which Python's Decimal reads but no spreadsheet or person means as a number.
    Raises DecimalOutOfBounds (a ValueError) for a finite number with more than MAX_DIGITS
    significant digits or an adjusted exponent beyond ±MAX_ADJUSTED_EXPONENT.
    Other scripts' decimal digits ("١٢") are read as the number they write.
    """
    if isinstance(value, Decimal):
        number = value
    else:
        text = str(value).strip()
        if "_" in text:
            raise InvalidOperation(f"underscore in {text[:100]!r}")
        number = Decimal(text)
    return within_bounds(number)


def within_bounds(number: Decimal) -> Decimal:
    """number itself when finite and inside the bounds above (or not finite: callers judge that).

    Raises DecimalOutOfBounds.
    """
    if not number.is_finite() or number.is_zero():
        return number
    if abs(number.adjusted()) > MAX_ADJUSTED_EXPONENT:
        raise DecimalOutOfBounds(
            f"must lie between 1e-{MAX_ADJUSTED_EXPONENT} and 1e{MAX_ADJUSTED_EXPONENT} in size"
        )
    digits = number.as_tuple().digits
    significant = len(digits) - (len(digits) - len(bytes(digits).rstrip(b"\0")))
    if significant > MAX_DIGITS:
        raise DecimalOutOfBounds(f"has more than {MAX_DIGITS} significant digits")
    return number
