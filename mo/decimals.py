"""Numbers from what people type: the one reader every amount goes through."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def decimal_from(value: object) -> Decimal:
    """The exact Decimal of a number or numeric text (floats through their repr, text trimmed).

    Raises InvalidOperation for text that is no number, and for digit-group underscores
    ("1_000"), which Python's Decimal reads but no spreadsheet or person means as a number.
    Other scripts' decimal digits ("١٢") are read as the number they write.
    """
    if isinstance(value, Decimal):
        return value
    text = str(value).strip()
    if "_" in text:
        raise InvalidOperation(f"underscore in {text[:100]!r}")
    return Decimal(text)
