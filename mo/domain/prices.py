"""Prices and unit costs, exactly: the rules a cost update, an import, a what-if and a form's
preview share (so a preview and the stored cost cannot disagree). Pure: no database.

Money is Decimal; every stored amount has the 12 places of the DECIMAL(38,12) columns.
"""

from __future__ import annotations

from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)

from mo.domain.decimals import DecimalOutOfBounds, decimal_from
from mo.domain.measure import Measure, convert
from mo.errors import ErrorCode, MOError, validation_error

PLACES = Decimal("1E-12")  # the scale of every DECIMAL(38,12) amount: its smallest step
MAX_PRICE = Decimal(10) ** 15
MAX_UNIT_COST = Decimal(10) ** 26  # DECIMAL(38,12) holds amounts below this
_DIVISION_PREC = 28  # a quotient carries 28 significant digits before it is rounded to 12 places
_WIDE_PREC = 60  # quantizing any bounded number (a 28-digit quotient too) to 12 places fits
# Contexts passed explicitly, not entered with localcontext() per call: a price list costs ~50k
# (price, pack) pairs, and entering and leaving two contexts each was most of that time. Their
# other settings are decimal's defaults (half-even rounding; invalid operations, division by
# zero and overflow trapped).
_DIVIDING = Context(prec=_DIVISION_PREC, rounding=ROUND_HALF_EVEN,
                    traps=[InvalidOperation, DivisionByZero, Overflow])
_QUANTIZING = Context(prec=_WIDE_PREC, rounding=ROUND_HALF_EVEN,
                      traps=[InvalidOperation, DivisionByZero, Overflow])
_CURRENCY = "$£€"


def positive_decimal(
    value: object, *, field: str, maximum: Decimal | None = None, exact_places: bool = False
) -> Decimal:
    """An exact, finite, positive Decimal from a number or numeric text (floats via their repr),
    rounded half-even to the 12 places every amount is stored with (exact_places: refused when
    it has more places, as a price is).

    Raises validation_error naming `field`, also for a value that rounds to zero there (it would
    be stored as 0 and break every later costing of it): details name the smallest accepted value.
    """
    try:
        number = decimal_from(value)
    except DecimalOutOfBounds as err:
        raise validation_error(f"{field} {err}", field=field, value=str(value)[:100]) from None
    except (InvalidOperation, ValueError):
        raise validation_error(f"{field} must be a number", field=field, value=str(value)[:100]) from None
    if isinstance(value, bool) or not number.is_finite() or number <= 0:
        raise validation_error(f"{field} must be a finite number above zero", field=field, value=str(value)[:100])
    if maximum is not None and number > maximum:
        raise validation_error(f"{field} must be at most {maximum}", field=field, value=str(value)[:100])
    if exact_places and number.normalize(_QUANTIZING).as_tuple().exponent < -12:  # type: ignore[operator]
        raise validation_error(f"{field} has more than 12 decimal places", field=field,
                               value=str(value)[:100])
    scaled = number.quantize(PLACES, rounding=ROUND_HALF_EVEN, context=_QUANTIZING)
    if scaled == 0:
        raise validation_error(f"{field} rounds to zero at 12 decimal places; the smallest accepted "
                               f"value is {PLACES:f}", field=field, value=str(value)[:100],
                               smallest=f"{PLACES:f}")
    return number if scaled == number else scaled  # "1.5" stays 1.5: request texts stay stable


def read_price(value: object) -> Decimal:
    """An exact price from text or a number: finite, above zero, at most 10^15 and 12 places.

    A leading currency sign ($, £, €) is allowed. Raises validation_error (field "price").
    """
    text = value.strip().lstrip(_CURRENCY).strip() if isinstance(value, str) else value
    if isinstance(text, str) and "," in text:
        raise validation_error(
            "price must use '.' for decimals and no thousands separators",
            field="price",
            value=value[:100],
        )
    return positive_decimal(text, field="price", maximum=MAX_PRICE, exact_places=True)


def unit_cost_of(price: Decimal, qty: Decimal) -> Decimal:
    """price ÷ qty, divided with 28 digits then rounded half-even to 12 places.

    Raises validation_error when the result rounds to zero (it would read as "free") or is too
    large to store (a big price for a minute pack).
    """
    cost = to_scale(_DIVIDING.divide(price, qty))
    if cost == 0:
        raise validation_error(
            "unit cost rounds to zero at 12 decimal places", field="price", value=str(price)
        )
    if cost >= MAX_UNIT_COST:
        raise validation_error(
            f"unit cost must be below {MAX_UNIT_COST:.0e} per base unit (is the pack that small?)",
            field="price",
            value=str(price),
        )
    return cost


def to_scale(value: Decimal) -> Decimal:
    """value rounded half-even to the 12 places the DECIMAL(38,12) columns keep."""
    return value.quantize(PLACES, rounding=ROUND_HALF_EVEN, context=_QUANTIZING)


def pack_in_base(
    measure: Measure, *, ingredient: str, base: str, density: Decimal | None
) -> Decimal:
    """The pack quantity in the ingredient's base unit (mass<->volume only via its density).

    Raises MOError(unit_mismatch) naming the pack's unit and the ingredient's unit.
    """
    try:
        with localcontext() as context:
            context.prec = _DIVISION_PREC
            return convert(measure.qty, from_=measure, to_base=base, density=density)
    except MOError as err:
        if err.code is not ErrorCode.UNIT_MISMATCH:
            raise
        message = (
            f"a price per {measure.text!r} ({measure.base}, {measure.family}) cannot apply to "
            f"{ingredient!r}, measured in {base}: {err.details.get('problem')}"
        )
        raise MOError(
            ErrorCode.UNIT_MISMATCH, message, {**err.details, "ingredient": ingredient}
        ) from err
