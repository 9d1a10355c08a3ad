"""A recipe as given, checked before any database work: its head (name, yield, menu price) and
its lines (item, quantity, unit, waste), with amounts exact at the 12 places DECIMAL(38,12) keeps
and quantities in their unit family's base unit. Raises validation_error naming the field and
line; nothing here reads the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from typing import Any

from mo.domain.decimals import DecimalOutOfBounds, decimal_from
from mo.domain.measure import MAX_QTY, Measure, parse_unit, parse_yield_unit
from mo.domain.names import clean_name
from mo.errors import MOError, validation_error
from mo.settings import max_recipe_lines

PLACES = Decimal("1E-12")  # the scale of every DECIMAL(38,12) column
MAX_PRICE = Decimal(10) ** 15
LINE_KEYS = frozenset({"ingredient", "recipe", "qty", "unit", "waste_pct"})


# ----------------------------------------------------------------------- numbers and units


def exact_number(
    value: object,
    *,
    field: str,
    maximum: Decimal | None = None,
    allow_zero: bool = False,
    **where: Any,
) -> Decimal:
    """A finite Decimal above zero (or >= 0) from a number or numeric text, rounded half-even to
    12 places. Floats go through their repr. Raises validation_error naming `field` and `where`."""
    problem = None
    try:
        number = decimal_from(value)
    except DecimalOutOfBounds as err:
        number, problem = Decimal(0), str(err)
    except (InvalidOperation, ValueError):
        number, problem = Decimal(0), "must be a number"
    if problem is None and (isinstance(value, bool) or not number.is_finite()):
        problem = "must be a finite number"
    elif problem is None and (number < 0 or (number == 0 and not allow_zero)):
        problem = "must be at least zero" if allow_zero else "must be above zero"
    elif problem is None and maximum is not None and number > maximum:
        problem = f"must be at most {maximum}"
    if problem is None:
        number = to_scale(number)
        if number == 0 and not allow_zero:
            problem = "rounds to zero at 12 decimal places"
    if problem is not None:
        raise validation_error(f"{field} {problem}", field=field, value=str(value)[:100], **where)
    return number


def to_scale(value: Decimal) -> Decimal:
    """value rounded half-even to the 12 places DECIMAL(38,12) keeps."""
    with localcontext() as context:
        context.prec = 60  # enough for any amount up to 10^26 at 12 places
        return value.quantize(PLACES, rounding=ROUND_HALF_EVEN)


def read_unit(unit: object, *, field: str, counted: bool = False, **where: Any) -> Measure:
    """parse_unit (counted: parse_yield_unit, any word a count of that thing), with the error
    naming the field (and line) it came from."""
    parse = parse_yield_unit if counted else parse_unit
    try:
        return parse(unit.strip() if isinstance(unit, str) else unit)  # type: ignore[arg-type]
    except MOError as err:
        raise validation_error(
            f"{field}: {err.message}", field=field, value=str(unit)[:100], **where
        ) from err


def in_base(qty: Decimal, measure: Measure, *, field: str, **where: Any) -> Decimal:
    """qty of measure's unit in its base unit (exact, then 12 places); refuses 0 and > 10^12."""
    with localcontext() as context:
        context.prec = 60
        base = to_scale(qty * measure.qty)
    if base == 0 or base > MAX_QTY:
        raise validation_error(
            f"{field} must be above zero and at most {MAX_QTY:,.0f} base units",
            field=field,
            value=str(qty),
            **where,
        )
    return base


# -------------------------------------------------------------------------------- checked input


@dataclass(frozen=True)
class RecipeHead:
    """A recipe's own fields, checked."""

    name: str
    key: str
    yield_qty: Decimal
    yield_unit: str
    yield_family: str
    yield_base: str
    yield_base_qty: Decimal
    menu_price: Decimal | None


@dataclass(frozen=True)
class LineInput:
    """One line, checked for shape and numbers (items and units are resolved later)."""

    index: int
    kind: str  # "ingredient" | "recipe"
    item: str
    qty: Decimal
    unit: str
    family: str
    base_unit: str
    qty_base: Decimal
    waste_pct: Decimal


def check_head(
    name: object, *, yield_qty: object, yield_unit: object, menu_price: object
) -> RecipeHead:
    """A recipe's name, yield and menu price, checked. Raises validation_error."""
    shown = clean_name(name, field="recipe")
    qty = exact_number(yield_qty, field="yield_qty", maximum=MAX_QTY)
    unit = read_unit(yield_unit, field="yield_unit", counted=True)
    price = (
        None
        if menu_price is None
        else exact_number(menu_price, field="menu_price", maximum=MAX_PRICE)
    )
    return RecipeHead(
        shown,
        shown.casefold(),
        qty,
        str(yield_unit).strip(),
        unit.family,
        unit.base,
        in_base(qty, unit, field="yield_qty"),
        price,
    )


def check_line_count(count: int) -> None:
    """Refuse a recipe of more lines than MO_MAX_RECIPE_LINES allows (validation_error, field
    "lines", details count and max_lines): saving and costing grow with the lines."""
    cap = max_recipe_lines()
    if count > cap:
        raise validation_error(
            f"a recipe has at most {cap} lines (MO_MAX_RECIPE_LINES); this one has {count}",
            field="lines", count=count, max_lines=cap,
        )


def check_line(index: int, line: object) -> LineInput:
    """One line dict, checked. Raises validation_error with details {"line": index, "field"}."""
    if not isinstance(line, Mapping):
        raise validation_error(f"line {index} must be a mapping", line=index, field="line")
    unknown = sorted(set(line) - LINE_KEYS)
    kinds = [k for k in ("ingredient", "recipe") if line.get(k) is not None]
    if unknown:
        raise validation_error(
            f"line {index} has unknown keys {unknown}", line=index, field=unknown[0]
        )
    if len(kinds) != 1:
        raise validation_error(
            f"line {index} needs exactly one of 'ingredient' or 'recipe'",
            line=index,
            field="ingredient",
        )
    kind = kinds[0]
    qty = exact_number(line.get("qty"), field="qty", maximum=MAX_QTY, line=index)
    # A sub-recipe is used by the word its yield is counted in ("2 glass"); an ingredient's
    # unit stays one mo knows.
    measure = read_unit(line.get("unit"), field="unit", counted=kind == "recipe", line=index)
    waste = _waste(line.get("waste_pct"), kind=kind, index=index)
    return LineInput(
        index,
        kind,
        clean_name(line[kind], field=kind),
        qty,
        str(line["unit"]).strip(),
        measure.family,
        measure.base,
        in_base(qty, measure, field="qty", line=index),
        waste,
    )


def _waste(value: object, *, kind: str, index: int) -> Decimal:
    if value is None:
        return Decimal(0)
    waste = exact_number(value, field="waste_pct", allow_zero=True, line=index)
    if waste >= 100:
        raise validation_error(
            "waste_pct must be below 100", field="waste_pct", value=str(value), line=index
        )
    if kind == "recipe" and waste != 0:
        raise validation_error(
            "waste_pct applies to ingredient lines only",
            field="waste_pct",
            value=str(value),
            line=index,
        )
    return waste
