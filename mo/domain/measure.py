"""Quantities as written on price lists and recipes, parsed into exact base-unit amounts.

``parse_quantity("6 x 1 kg")`` gives ``Measure(qty=Decimal("6000"), family="mass", base="g")``.
Everything is exact ``Decimal``; no float is ever involved.

Families and their base units:

* mass — base ``g``: mg, g, kg, oz, lb (also ``lbs``, ``#``: ``5#``, ``1/50#``, ``50 #``).
  ``oz`` is always the avoirdupois (weight) ounce; a fluid ounce must be written ``fl oz``.
* volume — base ``ml``: ml, cl, dl, l (``ltr``, ``litre``, ``liter``) and the **US customary**
  volumes tsp, tbsp, cup, fl oz (``floz``, ``fl. oz``), pt, qt, gal — never imperial ones
  (1 gal = 231 in³ = 3785.411784 ml, 1 cup = 236.5882365 ml).
* count — base ``each`` for each/ea/pc/pcs/piece/ct/count/unit, and dozen/doz/dz = 12 each.
  The recipe-yield words portion, serving, batch, slice, loaf, tray, pizza and cake (singular
  or plural) are each their own count base, e.g. ``"2 loaves"`` → 2 ``loaf``; they do not
  convert to ``each`` nor to each other.

Notations: ``500g``, ``2.5 kg``, ``.5 l``, a bare unit (``kg`` = 1 kg, ``dozen`` = 12 each),
packs ``6 x 1 kg``, ``6x1kg``, ``2 x 6 x 330 ml`` (also ``×`` or ``*``), slash packs
``12/500ml`` = 12 x 500 ml and ``1/50#`` = 1 x 50 lb, and a leading container word
(case, bag, box, pack, pk, carton, sack, crate, optionally followed by ``of``):
``bag 25 kg``, ``case 6 x 1 l``, and with a bare count ``case of 24`` = 24 each. A count before
``x`` may stand before any of these: ``6 x 5 lb``, ``2 x 6/5 lb``, ``6 x case of 24``.

As distributors write them: a can size is a can, never pounds — ``#10 can``, ``#10``,
``No. 10 can``, ``6/#10 CAN``, ``6/#10Can`` are 1, 1, 1, 6, 6 each (``#`` *after* a number
stays pounds: ``5#``, ``1/50#``). A container word alone is one count (``case``, ``cs``, ``ctn``,
``carton``, ``box``, ``bx``, ``bag``, ``tub``, ``jar``, ``btl``, ``bottle``, ``can``, ``pail``,
``pack``, ``pk``, ``bunch``, ``bu``, ``bushel``, ``head``, ``sack``, ``crate``; ``tray`` and
``loaf`` keep their recipe-yield base), ``24 cans`` or ``24/1 CS`` is 24 each, and one after a
size is only a label: ``25 kg bag``, ``6/5 LB CS``.

Matching is case-insensitive and whitespace-tolerant; decimals use ``.``. Pack counts (every
factor before the last) must be whole numbers. Rejected with a ``validation_error`` whose
message and details quote the text: empty text, a number without a unit (``"24"`` is
ambiguous), zero, negative, NaN/inf, a decimal comma (``0,5``), scientific notation,
amounts over 10^12 base units, unknown units and other garbage (``abc``, ``6 x``, ``kg kg``),
numbers with no unit at all (``20/7.13``; ``15 x 17`` is a dimension, not a quantity),
and slash forms that read as a kitchen fraction (``1/2 cup``, ``3/4 lb``: numerator smaller
than a denominator of 2, 3, 4, 8 or 16), because ``1/2`` could equally be "one 2-cup pack".
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal, Inexact, localcontext
from fractions import Fraction
from typing import Literal, NamedTuple

import pint

from mo.errors import ErrorCode, MOError, validation_error

__all__ = [
    "BASE_UNITS",
    "COUNT_BASE",
    "YIELD_UNITS",
    "Family",
    "Measure",
    "convert",
    "parse_quantity",
    "parse_unit",
    "parse_yield_unit",
    "unit_family",
]

Family = Literal["mass", "volume", "count"]

BASE_UNITS: dict[str, str] = {"mass": "g", "volume": "ml"}
COUNT_BASE = "each"
YIELD_UNITS: frozenset[str] = frozenset(
    {"portion", "serving", "batch", "slice", "loaf", "tray", "pizza", "cake"}
)

# A container alone is one of it, counted in each: what a distributor sells by the case or the
# head. "tray" and "loaf" are not here: they stay recipe-yield bases (see YIELD_UNITS).
CONTAINER_WORDS: frozenset[str] = frozenset(
    {
        *("case", "cases", "cs", "ctn", "ctns", "carton", "cartons", "box", "boxes", "bx"),
        *("bag", "bags", "tub", "tubs", "jar", "jars", "btl", "btls", "bottle", "bottles"),
        *("can", "cans", "pail", "pails", "pack", "packs", "pk", "pks", "bunch", "bunches"),
        *("bu", "bushel", "bushels", "head", "heads", "sack", "sacks", "crate", "crates"),
    }
)

MAX_QTY = Decimal(10) ** 12  # largest accepted amount, in base units
_MAX_TEXT = 100  # longest accepted (whitespace-collapsed) text; bounds the digits we multiply
_EXACT_PREC = 250  # enough digits for any product of a ≤100-char text, so parsing never rounds


@dataclass(frozen=True)
class Measure:
    """An amount in its family's base unit, plus the text it was read from."""

    qty: Decimal
    family: Family
    base: str
    text: str


class _Unit(NamedTuple):
    family: Family
    base: str
    factor: Decimal  # how many base units one of this unit is


# Canonical unit -> pint unit name. Names are pint's explicit ones (avoirdupois, US liquid) so
# a change of pint's defaults cannot silently swap in another ounce or gallon.
_PINT_NAMES: dict[str, tuple[Family, str]] = {
    "mg": ("mass", "milligram"),
    "g": ("mass", "gram"),
    "kg": ("mass", "kilogram"),
    "oz": ("mass", "avoirdupois_ounce"),
    "lb": ("mass", "avoirdupois_pound"),
    "ml": ("volume", "milliliter"),
    "cl": ("volume", "centiliter"),
    "dl": ("volume", "deciliter"),
    "l": ("volume", "liter"),
    "tsp": ("volume", "teaspoon"),
    "tbsp": ("volume", "tablespoon"),
    "cup": ("volume", "cup"),
    "floz": ("volume", "US_fluid_ounce"),
    "pt": ("volume", "liquid_pint"),
    "qt": ("volume", "US_liquid_quart"),
    "gal": ("volume", "US_liquid_gallon"),
}

# Spelling (lower-case, spaces and dots removed) -> canonical unit.
_ALIASES: dict[str, str] = {
    **dict.fromkeys(["mg", "milligram", "milligrams"], "mg"),
    **dict.fromkeys(["g", "gram", "grams", "gramme", "grammes"], "g"),
    **dict.fromkeys(["kg", "kgs", "kilo", "kilos", "kilogram", "kilograms"], "kg"),
    **dict.fromkeys(["oz", "ounce", "ounces"], "oz"),
    **dict.fromkeys(["lb", "lbs", "#", "pound", "pounds"], "lb"),
    **dict.fromkeys(["ml", "milliliter", "milliliters", "millilitre", "millilitres"], "ml"),
    **dict.fromkeys(["cl", "centiliter", "centiliters", "centilitre", "centilitres"], "cl"),
    **dict.fromkeys(["dl", "deciliter", "deciliters", "decilitre", "decilitres"], "dl"),
    **dict.fromkeys(["l", "ltr", "ltrs", "liter", "liters", "litre", "litres"], "l"),
    **dict.fromkeys(["tsp", "tsps", "teaspoon", "teaspoons"], "tsp"),
    **dict.fromkeys(["tbsp", "tbsps", "tablespoon", "tablespoons"], "tbsp"),
    **dict.fromkeys(["cup", "cups"], "cup"),
    **dict.fromkeys(["floz", "fluidounce", "fluidounces"], "floz"),
    **dict.fromkeys(["pt", "pint", "pints"], "pt"),
    **dict.fromkeys(["qt", "quart", "quarts"], "qt"),
    **dict.fromkeys(["gal", "gals", "gallon", "gallons"], "gal"),
    **dict.fromkeys(
        ["each", "ea", "pc", "pcs", "piece", "pieces", "ct", "count", "unit", "units"], "each"
    ),
    **dict.fromkeys(["dozen", "dozens", "doz", "dz"], "dozen"),
    **dict.fromkeys(CONTAINER_WORDS, "each"),
    **{word: word for word in YIELD_UNITS},
    **{word + "s": word for word in YIELD_UNITS - {"batch", "loaf"}},
    "batches": "batch",
    "loaves": "loaf",
}

_NUM = r"\d+(?:\.\d+)?|\.\d+"
_TERM_RE = re.compile(rf"(?P<num>{_NUM})?\s*(?P<unit>[a-z#][a-z#.\s]*)?")
_INT_RE = re.compile(r"\d+")
_SLASH_RE = re.compile(r"(?P<count>\d+)\s*/\s*(?P<rest>.+)")
_SLASH_DENOM_RE = re.compile(r"(?P<denom>\d+)(?![\d.])")
_CONTAINER_RE = re.compile(
    r"(?:case|bag|box|pack|pk|carton|sack|crate)(?![a-z])\s*(?:of(?![a-z])\s*)?(?P<rest>.*)"
)
# "x" between a pack's numbers, never inside a word ("box", "6 boxes").
_SEP_RE = re.compile(r"\s*(?<![a-z])x(?![a-z])\s*")
_LEAD_COUNT_RE = re.compile(r"(?P<count>\d+)\s*x(?![a-z])\s*(?P<rest>.+)")
# A can by its size: "#10 can", "#2.5", "no. 10 can", "#10can". The number names the size, so
# the amount is one can; "5#" (a number before "#") is five pounds and never matches here.
_CAN_SIZE_RE = re.compile(r"(?:#|no\.?)\s*(?:\d+(?:\.\d+)?)\s*(?:cans?|cn)?")
_COUNTED_CANS_RE = re.compile(r"(?P<count>\d+)\s+(?P<can>(?:#|no\.?).*)")
_YIELD_WORD_RE = re.compile(r"[a-z][a-z-]{0,39}")
_LABEL_RE = re.compile(
    rf"(?P<size>.*?[a-z#.])\s*(?:{'|'.join(sorted(CONTAINER_WORDS, key=len, reverse=True))})"
)
_DIMENSION_RE = re.compile(rf"(?:{_NUM})(?:\s*x\s*(?:{_NUM}))+")
_NONFINITE_RE = re.compile(r"(?<![a-z])(?:nan|inf|infinity)(?![a-z])")
# A minus sign before a number; not a hyphen inside a token ("1e-3", "5-6"), which the grammar
# refuses as unreadable rather than calling it negative.
_NEGATIVE_RE = re.compile(r"(?<![\d.a-z])-\s*[\d.]")
_FRACTION_DENOMINATORS = frozenset({2, 3, 4, 8, 16})


# ---------------------------------------------------------------------------- factor table


# Factors come from pint, using a Fraction registry so every factor is an exact rational
# (pint's Decimal registry is not exact: it gives 946.35294599…9 ml for a quart). Each
# Fraction is turned into a Decimal with Inexact trapped, so a factor that would need rounding
# fails loudly instead. No hand table; tests/test_measure.py checks every factor against the
# NIST Handbook 44 definitions.
@functools.cache
def _units() -> dict[str, _Unit]:
    """The canonical unit table, built from pint once, on first use."""
    ureg = _registry()
    table = {
        name: _Unit(family, BASE_UNITS[family], _pint_factor(ureg, pint_name, family))
        for name, (family, pint_name) in _PINT_NAMES.items()
    }
    table["each"] = _Unit("count", COUNT_BASE, Decimal(1))
    table["dozen"] = _Unit("count", COUNT_BASE, Decimal(12))
    table.update({word: _Unit("count", word, Decimal(1)) for word in YIELD_UNITS})
    return table


def _registry() -> pint.UnitRegistry:
    """pint's registry, from pint's on-disk cache of its parsed definitions when it can keep one:
    0.03 s instead of the 0.3 s of parsing them, which every process's first import paid. The
    cache is pint's own, keyed by the definitions' content; where it cannot be written or read
    (a read-only home, a torn file), the definitions are parsed as before."""
    try:
        return pint.UnitRegistry(non_int_type=Fraction, cache_folder=":auto:")
    except Exception:  # noqa: BLE001 - flexcache raises OSError, pickle errors...: none matter here
        return pint.UnitRegistry(non_int_type=Fraction)


def _pint_factor(ureg: pint.UnitRegistry, pint_name: str, family: Family) -> Decimal:
    magnitude = ureg.Quantity(Fraction(1), pint_name).to(BASE_UNITS[family]).magnitude
    return _exact_decimal(Fraction(magnitude))


def _exact_decimal(value: Fraction) -> Decimal:
    """``value`` as a Decimal; raises decimal.Inexact if it has no finite decimal expansion."""
    with localcontext() as ctx:
        ctx.prec = _EXACT_PREC
        ctx.traps[Inexact] = True
        return _tidy(Decimal(value.numerator) / Decimal(value.denominator))


def _tidy(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent form (1000, not 1E+3)."""
    with localcontext() as ctx:
        ctx.prec = _EXACT_PREC
        value = value.normalize()
        return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def _lookup(unit: str) -> _Unit | None:
    canonical = _ALIASES.get(re.sub(r"[\s.]", "", unit.lower()))
    return None if canonical is None else _units()[canonical]


# ----------------------------------------------------------------------------- public API


def parse_quantity(text: str) -> Measure:
    """Parse a quantity such as ``"6 x 1 kg"``, ``"12/500ml"`` or ``"case of 24"``.

    Raises MOError(validation_error) quoting ``text`` (details ``{"text", "problem"}``) when
    the text is empty, has no unit, is zero, negative, non-finite, over 10^12 base units,
    or otherwise cannot be read.
    """
    clean = _precheck(text)
    if _DIMENSION_RE.fullmatch(clean):
        raise _bad(text, "no unit: numbers joined by 'x' read as a dimension, not a quantity")
    factors, unit = _parse_body(text, clean)
    qty = _total(text, factors, unit.factor)
    return Measure(qty=qty, family=unit.family, base=unit.base, text=text)


def parse_unit(unit: str) -> Measure:
    """A bare unit as a Measure of one of it: ``"kg"`` → ``Measure(1000, "mass", "g", "kg")``.

    Raises MOError(validation_error) quoting ``unit`` if it is not a known unit name
    (including when it carries an amount, e.g. ``"5 kg"``: use parse_quantity for that).
    """
    found = _require_unit(unit)
    return Measure(qty=found.factor, family=found.family, base=found.base, text=unit)


def parse_yield_unit(unit: str) -> Measure:
    """A unit as kitchens write a recipe's yield: a known unit (``parse_unit``), or any other
    word naming a count of that thing — ``"glass"``, ``"bowls"``, ``"cookies"`` are one
    ``glass``, ``bowl``, ``cookie`` (a plural's ``s``/``es`` dropped), each its own count base.

    Raises MOError(validation_error) quoting ``unit`` for what is not one word of letters
    (``"5 kg"``, ``"#"``, an empty text).
    """
    if not isinstance(unit, str) or _lookup(unit) is not None:
        return parse_unit(unit)
    word = unit.strip().lower()
    if not _YIELD_WORD_RE.fullmatch(word):
        return parse_unit(unit)  # raises, with parse_unit's message
    base = _singular(word)
    return Measure(qty=Decimal(1), family="count", base=base, text=unit)


def _singular(word: str) -> str:
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def unit_family(unit: str) -> tuple[Family, str]:
    """``(family, base)`` of a unit name: ``"kg"`` → ``("mass", "g")``; ``"loaves"`` → count/loaf.

    Raises MOError(validation_error) quoting ``unit`` if it is not a known unit name.
    """
    found = _require_unit(unit)
    return found.family, found.base


def convert(
    qty: Decimal,
    *,
    from_: Measure | str,
    to_base: str,
    density: Decimal | None = None,
) -> Decimal:
    """Convert ``qty``, expressed in ``from_``'s base unit, into the base unit ``to_base``.

    ``from_`` is a Measure (its base is used) or a base-unit name ("g", "ml", "each",
    "portion", ...). Mass and volume convert only through ``density`` in grams per ml;
    a count base converts only to itself. Multiplying by a density is exact; dividing by
    one (mass → volume) is rounded to the current decimal context (28 digits by default).

    Raises MOError(unit_mismatch) naming both units when the conversion is impossible
    (different families, mass↔volume without density, two different count bases), and
    MOError(validation_error) for a non-finite ``qty``, a non-positive or non-finite
    ``density``, or a ``from_``/``to_base`` that is not a base unit.
    """
    source = from_ if isinstance(from_, Measure) else _require_base(from_)
    target = _require_base(to_base)
    _require_finite(qty)
    if source.base == target.base:
        return qty
    if {source.family, target.family} == {"mass", "volume"}:
        return _via_density(qty, source, target, density)
    same_family = source.family == target.family
    problem = "different count units" if same_family else "different families"
    raise _mismatch(source, target, problem)


# ------------------------------------------------------------------------ parsing helpers


def _bad(text: object, problem: str) -> MOError:
    message = f"cannot parse quantity {text!r}: {problem}"
    return validation_error(message, text=text, problem=problem)


def _precheck(text: str) -> str:
    """Lower-case, collapse whitespace, and reject what no grammar rule could accept."""
    if not isinstance(text, str):
        raise _bad(text, "quantity must be a string")
    clean = " ".join(text.lower().split()).replace("×", "x").replace("*", "x")
    problem = (
        "empty" if not clean
        else f"longer than {_MAX_TEXT} characters" if len(clean) > _MAX_TEXT
        else "not a finite number" if _NONFINITE_RE.search(clean)
        else "negative amount" if _NEGATIVE_RE.search(clean)
        else "decimal comma: use '.' for decimals" if re.search(r"\d,\d", clean)
        else None
    )
    if problem:
        raise _bad(text, problem)
    return clean


def _parse_body(text: str, clean: str) -> tuple[list[Decimal], _Unit]:
    """Numbers to multiply and the unit, for an optional container word then a pack."""
    lead = _LEAD_COUNT_RE.fullmatch(clean)
    if lead and not _DIMENSION_RE.fullmatch(clean):  # "6 x 5 lb", "2 x 6/5 lb", "6 x #10 can"
        factors, unit = _parse_body(text, lead["rest"].strip())
        return [_pack_count(text, lead["count"]), *factors], unit
    container = _CONTAINER_RE.fullmatch(clean)
    if container and not container["rest"].strip() and not clean.endswith("of"):
        container = None  # a bare "case": one of it, read below as a count unit
    if container:
        clean = container["rest"].strip()
        if not clean:
            raise _bad(text, "container word without contents")
        if _INT_RE.fullmatch(clean):  # "case of 24": a bare count inside a container
            return [Decimal(clean)], _units()["each"]
    slash = _SLASH_RE.fullmatch(clean)
    if slash:
        _reject_fraction(text, slash)
        factors, unit = _parse_pack(text, slash["rest"])
        return [Decimal(slash["count"]), *factors], unit
    return _parse_pack(text, clean)


def _reject_fraction(text: str, slash: re.Match[str]) -> None:
    """Refuse "1/2 cup"-like text: a kitchen fraction, not a pack of 2-cup units."""
    denom = _SLASH_DENOM_RE.match(slash["rest"])
    if denom is None:
        return
    count, size = int(slash["count"]), int(denom["denom"])
    if count < size and size in _FRACTION_DENOMINATORS:
        hint = f"write '{count} x {size} …' for a pack"
        raise _bad(text, f"ambiguous: '{count}/{size}' may be a fraction; {hint}")


def _parse_pack(text: str, body: str) -> tuple[list[Decimal], _Unit]:
    """``"2 x 6 x 330 ml"`` → ([2, 6, 330], ml)."""
    *counts, last = _SEP_RE.split(body)
    amount, unit = _parse_term(text, last)
    return [*(_pack_count(text, count) for count in counts), amount], unit


def _pack_count(text: str, count: str) -> Decimal:
    if not count:
        raise _bad(text, "missing pack count before 'x'")
    if not _INT_RE.fullmatch(count):
        raise _bad(text, f"pack count {count!r} is not a whole number")
    return Decimal(count)


def _parse_term(text: str, term: str) -> tuple[Decimal, _Unit]:
    """``"500 ml"``, ``"500ml"`` or a bare ``"ml"`` (amount 1) → (amount, unit); also a can by
    its size (``"#10 can"`` → one each) and a size labelled by its container (``"5 lb bag"``)."""
    term = term.strip()
    if _CAN_SIZE_RE.fullmatch(term):
        return Decimal(1), _units()["each"]
    counted = _COUNTED_CANS_RE.fullmatch(term)
    if counted and _CAN_SIZE_RE.fullmatch(counted["can"]):  # "1 #10 can": cans, counted
        return Decimal(counted["count"]), _units()["each"]
    label = _LABEL_RE.fullmatch(term)
    if label and _lookup(label["size"].lstrip("0123456789. ")) is not None:
        term = label["size"]
    match = _TERM_RE.fullmatch(term) if term else None
    if not term:
        raise _bad(text, "missing amount and unit")
    if match is None:
        raise _bad(text, f"cannot read {term!r} as an amount and a unit")
    if match["unit"] is None:
        raise _bad(text, "no unit")
    unit = _lookup(match["unit"])
    if unit is None:
        raise _bad(text, f"unknown unit {match['unit'].strip()!r}")
    return (Decimal(match["num"]) if match["num"] else Decimal(1)), unit


def _total(text: str, factors: list[Decimal], unit_factor: Decimal) -> Decimal:
    """Exact product of the pack numbers and the unit factor, checked for range."""
    with localcontext() as ctx:
        ctx.prec = _EXACT_PREC
        ctx.traps[Inexact] = True
        qty = unit_factor
        for factor in factors:
            qty *= factor
    if qty <= 0:
        raise _bad(text, "amount must be greater than zero")
    if qty > MAX_QTY:
        raise _bad(text, f"amount exceeds {MAX_QTY:,.0f} base units")
    return _tidy(qty)


def _require_unit(unit: str) -> _Unit:
    found = _lookup(unit) if isinstance(unit, str) else None
    if found is not None:
        return found
    has_amount = isinstance(unit, str) and re.search(r"\d", unit)
    problem = "not a bare unit: use parse_quantity" if has_amount else "unknown unit"
    raise validation_error(f"unknown unit {unit!r}: {problem}", text=unit, problem=problem)


# ---------------------------------------------------------------------- conversion helpers


def _require_base(name: str) -> _Unit:
    """The unit for a base-unit name; any other unit name is a validation_error."""
    found = _require_unit(name)
    if found.factor != 1:  # g, ml, each and the yield words (or a spelling of one) have factor 1
        problem = f"not a base unit: use {found.base!r}"
        raise validation_error(f"{name!r} is {problem}", text=name, problem=problem)
    return found


def _is_finite_decimal(value: object) -> bool:
    """True for a finite Decimal or int (never float or bool: they would lose exactness)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        return False
    return Decimal(value).is_finite()


def _require_finite(qty: Decimal) -> None:
    if not _is_finite_decimal(qty):
        problem = "amount must be a finite Decimal"
        raise validation_error(f"cannot convert {qty!r}: {problem}", qty=str(qty), problem=problem)


def _via_density(
    qty: Decimal, source: Measure | _Unit, target: _Unit, density: Decimal | None
) -> Decimal:
    """Mass ↔ volume through ``density`` (grams per ml)."""
    if density is None:
        raise _mismatch(source, target, "mass and volume convert only with a density (g per ml)")
    if not (_is_finite_decimal(density) and density > 0):
        raise validation_error(
            f"density {density!r} must be a finite Decimal greater than zero (g per ml)",
            density=str(density), problem="bad density",
        )
    return _tidy(qty * density if source.family == "volume" else qty / Decimal(density))


def _mismatch(source: Measure | _Unit, target: _Unit, problem: str) -> MOError:
    details = {
        "from_unit": source.base,
        "to_unit": target.base,
        "from_family": source.family,
        "to_family": target.family,
        "problem": problem,
    }
    if isinstance(source, Measure):
        details["text"] = source.text
    message = f"cannot convert {source.base!r} to {target.base!r}: {problem}"
    return MOError(ErrorCode.UNIT_MISMATCH, message, details)
