"""Tests for mo.domain.measure: factors against NIST Handbook 44, notations, conversion, errors."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_support import examples

from mo.domain.measure import (
    BASE_UNITS,
    Measure,
    convert,
    parse_quantity,
    parse_unit,
    unit_family,
)
from mo.errors import ErrorCode, MOError

# --- Independent reference: NIST Handbook 44, Appendix C (exact definitions) ------------------
# Written as Fractions from the definitions, not copied from mo.domain.measure or pint.
G_PER_KG = Fraction(1000)
LB_G = Fraction("0.45359237") * G_PER_KG  # international avoirdupois pound = 0.45359237 kg
OZ_G = LB_G / 16  # avoirdupois ounce = 1/16 lb
INCH_CM = Fraction("2.54")  # international inch = 2.54 cm
CUBIC_INCH_ML = INCH_CM**3  # 1 ml = 1 cm³, so 1 in³ = 16.387064 ml
GAL_ML = 231 * CUBIC_INCH_ML  # US gallon = 231 in³
QT_ML = GAL_ML / 4
PT_ML = QT_ML / 2
CUP_ML = PT_ML / 2  # US cup = 1/2 liquid pint = 8 fl oz
FLOZ_ML = GAL_ML / 128  # US fluid ounce = 1/128 gal
TBSP_ML = FLOZ_ML / 2  # tablespoon = 1/2 fl oz
TSP_ML = TBSP_ML / 3  # teaspoon = 1/3 tablespoon
L_ML = Fraction(1000)  # litre = 1 dm³ = 1000 cm³

REFERENCE: dict[str, tuple[str, str, Fraction]] = {
    "mg": ("mass", "g", Fraction(1, 1000)),
    "g": ("mass", "g", Fraction(1)),
    "kg": ("mass", "g", G_PER_KG),
    "oz": ("mass", "g", OZ_G),
    "lb": ("mass", "g", LB_G),
    "ml": ("volume", "ml", Fraction(1)),
    "cl": ("volume", "ml", L_ML / 100),
    "dl": ("volume", "ml", L_ML / 10),
    "l": ("volume", "ml", L_ML),
    "tsp": ("volume", "ml", TSP_ML),
    "tbsp": ("volume", "ml", TBSP_ML),
    "cup": ("volume", "ml", CUP_ML),
    "fl oz": ("volume", "ml", FLOZ_ML),
    "pt": ("volume", "ml", PT_ML),
    "qt": ("volume", "ml", QT_ML),
    "gal": ("volume", "ml", GAL_ML),
}

# The decimal values the brief demands, as literals.
LITERALS: dict[str, str] = {
    "lb": "453.59237",
    "oz": "28.349523125",
    "gal": "3785.411784",
    "cup": "236.5882365",
    "fl oz": "29.5735295625",
    "pt": "473.176473",
    "qt": "946.352946",
    "tbsp": "14.78676478125",
    "tsp": "4.92892159375",
    "l": "1000",
    "dl": "100",
    "cl": "10",
    "kg": "1000",
    "mg": "0.001",
}


def ref(unit: str) -> Fraction:
    return REFERENCE[unit][2]


def assert_validation_error(text: object) -> MOError:
    with pytest.raises(MOError) as caught:
        parse_quantity(text)  # type: ignore[arg-type]
    err = caught.value
    assert err.code is ErrorCode.VALIDATION_ERROR
    assert err.details["text"] == text
    assert err.details["problem"]
    assert repr(text) in err.message
    return err


# --- factors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", sorted(LITERALS))
def test_literal_values_match_nist_definitions(unit: str) -> None:
    assert Fraction(LITERALS[unit]) == ref(unit)


@pytest.mark.parametrize("unit", sorted(REFERENCE))
def test_factor_is_exact_nist_value(unit: str) -> None:
    family, base, factor = REFERENCE[unit]
    measure = parse_quantity(f"1 {unit}")
    assert isinstance(measure.qty, Decimal)
    assert Fraction(measure.qty) == factor
    assert (measure.family, measure.base) == (family, base)


@pytest.mark.parametrize("unit", sorted(LITERALS))
def test_factor_equals_literal_decimal(unit: str) -> None:
    assert parse_unit(unit).qty == Decimal(LITERALS[unit])


def test_factors_have_no_exponent_form() -> None:
    assert str(parse_unit("kg").qty) == "1000"
    assert str(parse_unit("lb").qty) == "453.59237"


def test_parse_unit_is_quantity_one() -> None:
    assert parse_unit("kg") == Measure(qty=Decimal(1000), family="mass", base="g", text="kg")
    dozen = Measure(qty=Decimal(12), family="count", base="each", text="dozen")
    assert parse_unit("dozen") == dozen
    loaves = Measure(qty=Decimal(1), family="count", base="loaf", text="Loaves")
    assert parse_unit("Loaves") == loaves


@pytest.mark.parametrize("text", ["5 kg", "abc", "", "kg kg"])
def test_parse_unit_rejects_non_units(text: str) -> None:
    with pytest.raises(MOError) as caught:
        parse_unit(text)
    assert caught.value.code is ErrorCode.VALIDATION_ERROR
    assert caught.value.details["text"] == text
    assert repr(text) in caught.value.message


def test_base_units() -> None:
    assert BASE_UNITS == {"mass": "g", "volume": "ml"}


def test_measure_is_frozen() -> None:
    measure = parse_quantity("1 kg")
    with pytest.raises(dataclasses.FrozenInstanceError):
        measure.qty = Decimal(2)  # type: ignore[misc]


# --- notations ---------------------------------------------------------------------------------

NOTATIONS: list[tuple[str, Fraction, str, str]] = [
    # mass
    ("500g", Fraction(500), "mass", "g"),
    ("2.5 kg", Fraction(2500), "mass", "g"),
    (".5 kg", Fraction(500), "mass", "g"),
    ("kg", G_PER_KG, "mass", "g"),
    ("250 mg", Fraction(1, 4), "mass", "g"),
    ("3 lbs", 3 * LB_G, "mass", "g"),
    ("3 LB", 3 * LB_G, "mass", "g"),
    ("5#", 5 * LB_G, "mass", "g"),
    ("50 #", 50 * LB_G, "mass", "g"),
    ("1/50#", 50 * LB_G, "mass", "g"),
    ("16 oz", LB_G, "mass", "g"),
    # volume
    ("2 L", 2 * L_ML, "volume", "ml"),
    ("1 ltr", L_ML, "volume", "ml"),
    ("1 litre", L_ML, "volume", "ml"),
    ("1 liter", L_ML, "volume", "ml"),
    ("75 cl", 750 * Fraction(1), "volume", "ml"),
    ("3 dl", Fraction(300), "volume", "ml"),
    ("2 fl oz", 2 * FLOZ_ML, "volume", "ml"),
    ("2 floz", 2 * FLOZ_ML, "volume", "ml"),
    ("2 fl. oz", 2 * FLOZ_ML, "volume", "ml"),
    ("2 FL OZ", 2 * FLOZ_ML, "volume", "ml"),
    ("3 tsp", 3 * TSP_ML, "volume", "ml"),
    ("1 tbsp", 3 * TSP_ML, "volume", "ml"),
    ("2 cups", 2 * CUP_ML, "volume", "ml"),
    ("8 fl oz", CUP_ML, "volume", "ml"),
    ("2 pt", QT_ML, "volume", "ml"),
    ("4 qt", GAL_ML, "volume", "ml"),
    ("1 gal", GAL_ML, "volume", "ml"),
    # packs
    ("6 x 1 kg", Fraction(6000), "mass", "g"),
    ("6x1kg", Fraction(6000), "mass", "g"),
    ("6X1KG", Fraction(6000), "mass", "g"),
    ("  6   x  1   kg  ", Fraction(6000), "mass", "g"),
    ("6 × 1 kg", Fraction(6000), "mass", "g"),
    ("6*1kg", Fraction(6000), "mass", "g"),
    ("2 x 6 x 330 ml", Fraction(3960), "volume", "ml"),
    ("12/500ml", Fraction(6000), "volume", "ml"),
    ("12 / 500 ml", Fraction(6000), "volume", "ml"),
    ("4/5 lb", 20 * LB_G, "mass", "g"),
    ("4 x 1 gal", 4 * GAL_ML, "volume", "ml"),
    ("bag 25 kg", Fraction(25000), "mass", "g"),
    ("case 6 x 1 l", Fraction(6000), "volume", "ml"),
    ("Case of 6 x 1 L", Fraction(6000), "volume", "ml"),
    ("case 12/500ml", Fraction(6000), "volume", "ml"),
    ("case of 24", Fraction(24), "count", "each"),
    ("box of 12", Fraction(12), "count", "each"),
    # counts
    ("24 ct", Fraction(24), "count", "each"),
    ("1 doz", Fraction(12), "count", "each"),
    ("2 dz", Fraction(24), "count", "each"),
    ("dozen", Fraction(12), "count", "each"),
    ("2 x dozen", Fraction(24), "count", "each"),
    ("3 each", Fraction(3), "count", "each"),
    ("3 ea", Fraction(3), "count", "each"),
    ("3 pc", Fraction(3), "count", "each"),
    ("3 pcs", Fraction(3), "count", "each"),
    ("3 pieces", Fraction(3), "count", "each"),
    ("3 count", Fraction(3), "count", "each"),
    ("3 units", Fraction(3), "count", "each"),
    # recipe yield words: each its own base, singular
    ("4 portions", Fraction(4), "count", "portion"),
    ("1 Portion", Fraction(1), "count", "portion"),
    ("10 servings", Fraction(10), "count", "serving"),
    ("2 batches", Fraction(2), "count", "batch"),
    ("batch", Fraction(1), "count", "batch"),
    ("8 slices", Fraction(8), "count", "slice"),
    ("2 loaves", Fraction(2), "count", "loaf"),
    ("1 loaf", Fraction(1), "count", "loaf"),
    ("3 trays", Fraction(3), "count", "tray"),
    ("2 pizzas", Fraction(2), "count", "pizza"),
    ("1 cake", Fraction(1), "count", "cake"),
    # range edge: exactly 10^12 base units is allowed
    ("1000000000 kg", Fraction(10**12), "mass", "g"),
]


@pytest.mark.parametrize(("text", "qty", "family", "base"), NOTATIONS)
def test_notation(text: str, qty: Fraction, family: str, base: str) -> None:
    measure = parse_quantity(text)
    assert isinstance(measure.qty, Decimal)
    assert Fraction(measure.qty) == qty
    assert (measure.family, measure.base) == (family, base)
    assert measure.text == text


# --- rejected text -----------------------------------------------------------------------------

REJECTED: list[tuple[str, str]] = [
    ("", "empty"),
    ("   ", "empty"),
    ("abc", "unknown unit"),
    ("6 x", "missing"),
    ("kg kg", "unknown unit"),
    ("24", "no unit"),
    ("6 x 24", "no unit"),
    ("0 kg", "greater than zero"),
    ("0.000 kg", "greater than zero"),
    ("0 x 1 kg", "greater than zero"),
    ("case of 0", "greater than zero"),
    ("-1 kg", "negative"),
    ("6 x -1 kg", "negative"),
    ("nan", "finite"),
    ("NaN kg", "finite"),
    ("inf kg", "finite"),
    ("Infinity g", "finite"),
    ("1e3 g", "cannot read"),
    ("1e-20 g", "cannot read"),  # an exponent's minus is no negative amount
    ("5-6 kg", "cannot read"),  # nor is a range's hyphen
    ("1000000001 kg", "exceeds"),
    ("2000 x 1000 x 1000 kg", "exceeds"),
    ("0,5 kg", "comma"),
    ("1.5 x 2 kg", "whole number"),
    ("x 1 kg", "missing pack count"),
    ("case of", "container"),
    ("1/2 cup", "ambiguous"),
    ("3/4 lb", "ambiguous"),
    ("1/4 tsp", "ambiguous"),
    ("2 kg eggs", "unknown unit"),
    ("1 furlong", "unknown unit"),
    ("9" * 150 + " g", "longer than"),
]


@pytest.mark.parametrize(("text", "problem"), REJECTED)
def test_rejected_text_is_validation_error_quoting_text(text: str, problem: str) -> None:
    err = assert_validation_error(text)
    assert problem in err.details["problem"]


@pytest.mark.parametrize("value", [None, 5, Decimal("5")])
def test_non_string_is_validation_error(value: object) -> None:
    assert_validation_error(value)


def test_error_serialises_with_text() -> None:
    err = assert_validation_error("abc")
    body = err.to_dict()
    assert body["error"]["code"] == "validation_error"
    assert body["error"]["details"]["text"] == "abc"
    assert err.http_status == 422


# --- unit_family -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("kg", ("mass", "g")),
        ("#", ("mass", "g")),
        ("fl oz", ("volume", "ml")),
        ("L", ("volume", "ml")),
        ("dozen", ("count", "each")),
        ("pcs", ("count", "each")),
        ("loaves", ("count", "loaf")),
        ("servings", ("count", "serving")),
    ],
)
def test_unit_family(unit: str, expected: tuple[str, str]) -> None:
    assert unit_family(unit) == expected


def test_unit_family_unknown() -> None:
    with pytest.raises(MOError) as caught:
        unit_family("furlong")
    assert caught.value.code is ErrorCode.VALIDATION_ERROR
    assert caught.value.details["text"] == "furlong"


# --- convert -----------------------------------------------------------------------------------


def test_convert_same_base_is_identity() -> None:
    pack = parse_quantity("6 x 1 kg")
    assert convert(pack.qty, from_=pack, to_base="g") == Decimal("6000")
    assert convert(Decimal("3"), from_="portion", to_base="portion") == Decimal(3)
    assert convert(Decimal("2"), from_="each", to_base="each") == Decimal(2)


def test_convert_volume_to_mass_with_density() -> None:
    oil = parse_quantity("1 l")
    assert convert(oil.qty, from_=oil, to_base="g", density=Decimal("0.92")) == Decimal("920")


def test_convert_mass_to_volume_with_density() -> None:
    assert convert(Decimal(500), from_="g", to_base="ml", density=Decimal("1.25")) == Decimal(400)
    assert str(convert(Decimal(500), from_="g", to_base="ml", density=Decimal("1.25"))) == "400"


def test_convert_cup_of_flour_exactly() -> None:
    cup = parse_quantity("1 cup")
    grams = convert(cup.qty, from_=cup, to_base="g", density=Decimal("0.5"))
    assert Fraction(grams) == CUP_ML / 2


@pytest.mark.parametrize(("from_", "to_base"), [("ml", "g"), ("g", "ml")])
def test_convert_mass_volume_without_density_is_unit_mismatch(from_: str, to_base: str) -> None:
    with pytest.raises(MOError) as caught:
        convert(Decimal(1), from_=from_, to_base=to_base)
    err = caught.value
    assert err.code is ErrorCode.UNIT_MISMATCH
    assert err.details["from_unit"] == from_
    assert err.details["to_unit"] == to_base
    assert "density" in err.details["problem"]
    assert repr(from_) in err.message and repr(to_base) in err.message


def test_unit_mismatch_names_measure_text() -> None:
    milk = parse_quantity("12/500ml")
    with pytest.raises(MOError) as caught:
        convert(milk.qty, from_=milk, to_base="g")
    assert caught.value.details == {
        "from_unit": "ml",
        "to_unit": "g",
        "from_family": "volume",
        "to_family": "mass",
        "problem": caught.value.details["problem"],
        "text": "12/500ml",
    }


@pytest.mark.parametrize(
    ("from_", "to_base"),
    [
        ("portion", "batch"),
        ("each", "portion"),
        ("loaf", "slice"),
        ("each", "g"),
        ("g", "each"),
        ("ml", "serving"),
    ],
)
def test_count_conversions_are_unit_mismatch(from_: str, to_base: str) -> None:
    for density in (None, Decimal(1)):  # a density never makes counts convertible
        with pytest.raises(MOError) as caught:
            convert(Decimal(1), from_=from_, to_base=to_base, density=density)
        assert caught.value.code is ErrorCode.UNIT_MISMATCH
        assert caught.value.details["from_unit"] == from_
        assert caught.value.details["to_unit"] == to_base


@pytest.mark.parametrize(
    "density", [Decimal(0), Decimal(-1), Decimal("NaN"), Decimal("Infinity"), 0.9, True]
)
def test_bad_density_is_validation_error(density: object) -> None:
    with pytest.raises(MOError) as caught:
        convert(Decimal(1), from_="ml", to_base="g", density=density)  # type: ignore[arg-type]
    assert caught.value.code is ErrorCode.VALIDATION_ERROR


@pytest.mark.parametrize(
    ("from_", "to_base"), [("kg", "g"), ("g", "kg"), ("ml", "dozen"), ("g", "furlong")]
)
def test_non_base_units_in_convert_are_validation_error(from_: str, to_base: str) -> None:
    with pytest.raises(MOError) as caught:
        convert(Decimal(1), from_=from_, to_base=to_base)
    assert caught.value.code is ErrorCode.VALIDATION_ERROR


@pytest.mark.parametrize("qty", [Decimal("NaN"), Decimal("Infinity"), 1.5])
def test_non_finite_qty_is_validation_error(qty: object) -> None:
    with pytest.raises(MOError) as caught:
        convert(qty, from_="g", to_base="g")  # type: ignore[arg-type]
    assert caught.value.code is ErrorCode.VALIDATION_ERROR


# --- properties --------------------------------------------------------------------------------

PACK_UNITS = sorted(REFERENCE) + ["lbs", "#", "ltr", "floz", "each", "dozen", "portions"]


def factor(unit: str) -> Fraction:
    extra = {
        "lbs": LB_G,
        "#": LB_G,
        "ltr": L_ML,
        "floz": FLOZ_ML,
        "each": Fraction(1),
        "dozen": Fraction(12),
        "portions": Fraction(1),
    }
    return REFERENCE[unit][2] if unit in REFERENCE else extra[unit]


@settings(max_examples=examples(fast=50, fuzz=200), deadline=None)
@given(
    a=st.integers(min_value=1, max_value=1000),
    b=st.integers(min_value=1, max_value=1000),
    unit=st.sampled_from(PACK_UNITS),
    spaced=st.booleans(),
)
def test_pack_is_product_of_counts_and_factor(a: int, b: int, unit: str, spaced: bool) -> None:
    text = f"{a} x {b} {unit}" if spaced else f"{a}x{b}{unit}"
    assert Fraction(parse_quantity(text).qty) == a * b * factor(unit)


@settings(max_examples=examples(fast=25, fuzz=100), deadline=None)
@given(
    a=st.integers(min_value=1, max_value=50),
    b=st.integers(min_value=17, max_value=5000),
    unit=st.sampled_from(["ml", "kg", "#", "lb", "l"]),
)
def test_slash_pack_equals_x_pack(a: int, b: int, unit: str) -> None:
    assert parse_quantity(f"{a}/{b}{unit}").qty == parse_quantity(f"{a} x {b} {unit}").qty


@settings(max_examples=examples(fast=25, fuzz=100), deadline=None)
@given(
    grams=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**6), places=3),
    density=st.decimals(min_value=Decimal("0.5"), max_value=Decimal("2"), places=2),
)
def test_volume_to_mass_is_exact_product(grams: Decimal, density: Decimal) -> None:
    assert convert(grams, from_="ml", to_base="g", density=density) == grams * density


def test_units_come_from_pint_with_or_without_its_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """pint's definitions cache is an optimisation: a home it cannot write to changes nothing."""
    import pint

    from mo.domain import measure
    cached = measure._registry()
    real = pint.UnitRegistry

    def no_cache(*args: object, **kwargs: object) -> pint.UnitRegistry:
        if kwargs.get("cache_folder"):
            raise PermissionError("read-only home")
        return real(*args, **kwargs)

    monkeypatch.setattr(pint, "UnitRegistry", no_cache)
    parsed = measure._registry()
    for name in ("avoirdupois_ounce", "US_liquid_quart", "teaspoon"):
        assert cached.Quantity(1, name).to("gram" if "ounce" in name else "milliliter").magnitude \
            == parsed.Quantity(1, name).to("gram" if "ounce" in name else "milliliter").magnitude
