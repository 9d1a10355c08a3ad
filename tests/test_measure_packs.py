"""Packs as distributors write them (issue #17 item 1): cans, container words, spelled-out units.

The reference factors are written here from their definitions (NIST Handbook 44), not taken
from mo.domain.measure, so the property test is an independent parse of a pack's number and unit.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mo.domain.measure import parse_quantity
from mo.errors import ErrorCode, MOError

LB_G = Fraction("453.59237")
OZ_G = LB_G / 16
GAL_ML = 231 * Fraction("2.54") ** 3

PACKS: list[tuple[str, Fraction, str]] = [
    # container sizes are cans, counted: never pounds
    ("#10 can", Fraction(1), "each"),
    ("#10", Fraction(1), "each"),
    ("No. 10 can", Fraction(1), "each"),
    ("6/#10 CAN", Fraction(6), "each"),
    ("6/#10Can", Fraction(6), "each"),
    ("#5 can", Fraction(1), "each"),
    ("#2.5 can", Fraction(1), "each"),
    ("6 x #10 can", Fraction(6), "each"),
    # "#" after a number stays pounds
    ("1/50#", 50 * LB_G, "g"),
    ("5#", 5 * LB_G, "g"),
    # container words alone are one count
    *((word, Fraction(1), "each") for word in (
        "case", "cs", "CS", "ctn", "carton", "box", "bx", "bag", "tub", "jar", "btl", "bottle",
        "can", "pail", "pack", "pk", "bunch", "bu", "bushel", "head",
    )),
    ("24 cans", Fraction(24), "each"),
    ("24/1 CS", Fraction(24), "each"),
    ("12 boxes", Fraction(12), "each"),
    # a container word with a size keeps the size
    ("bag 25 kg", Fraction(25000), "g"),
    ("25 kg bag", Fraction(25000), "g"),
    ("10 LB BAG", 10 * LB_G, "g"),
    ("6/5 LB CS", 30 * LB_G, "g"),
    # plural and spelled-out units
    ("5 lbs", 5 * LB_G, "g"),
    ("5 pounds", 5 * LB_G, "g"),
    ("12 ounces", 12 * OZ_G, "g"),
    ("2 kgs", Fraction(2000), "g"),
    ("2 kilograms", Fraction(2000), "g"),
    ("500 grams", Fraction(500), "g"),
    ("2 liters", Fraction(2000), "ml"),
    ("2 litres", Fraction(2000), "ml"),
    ("4 gallons", 4 * GAL_ML, "ml"),
    *((f"3 {word}", Fraction(3), "each") for word in ("each", "ea", "pcs", "pieces", "count")),
    # a count before any pack: what a split Pack/Size pair is combined into
    ("6 x 5 LB", 30 * LB_G, "g"),
    ("2 x 6/5 lb", 60 * LB_G, "g"),
    ("6 x case of 24", Fraction(144), "each"),
]


@pytest.mark.parametrize(("text", "qty", "base"), PACKS)
def test_distributor_pack(text: str, qty: Fraction, base: str) -> None:
    measure = parse_quantity(text)
    assert (Fraction(measure.qty), measure.base) == (qty, base)
    assert measure.text == text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("20/7.13", "no unit"),
        ("15 X 17", "dimension"),
        ("15 x 17", "dimension"),
        ("6 x 24", "no unit"),
        ("case of", "container"),
        ("1/10# avg", "unknown unit"),
    ],
)
def test_sizes_nobody_can_cost_stay_refused_with_their_reason(text: str, problem: str) -> None:
    with pytest.raises(MOError) as caught:
        parse_quantity(text)
    assert caught.value.code is ErrorCode.VALIDATION_ERROR
    assert problem in caught.value.details["problem"]


# --- property: what mo accepts equals an independent reading of number × unit ------------------

# spelling -> (base, base units per one)
UNITS: dict[str, tuple[str, Fraction]] = {
    **dict.fromkeys(["g", "gram", "grams"], ("g", Fraction(1))),
    **dict.fromkeys(["kg", "kgs", "kilogram", "kilograms"], ("g", Fraction(1000))),
    **dict.fromkeys(["lb", "lbs", "pound", "pounds", "#"], ("g", LB_G)),
    **dict.fromkeys(["oz", "ounce", "ounces"], ("g", OZ_G)),
    **dict.fromkeys(["ml"], ("ml", Fraction(1))),
    **dict.fromkeys(["l", "liter", "liters", "litre", "litres"], ("ml", Fraction(1000))),
    **dict.fromkeys(["gal", "gallon", "gallons"], ("ml", GAL_ML)),
    **dict.fromkeys(["each", "ea", "pcs", "pieces", "count", "ct"], ("each", Fraction(1))),
    **dict.fromkeys(["case", "cs", "box", "bag", "can", "jar", "pk", "head"], ("each", Fraction(1))),
}
LABELS = ["", " bag", " CS", " case", " box"]


@st.composite
def packs(draw: st.DrawFn) -> tuple[str, Fraction, str]:
    counts = draw(st.lists(st.integers(1, 48), max_size=2))
    seps = [draw(st.sampled_from([" x ", "x", " X ", "/", " / "])) for _ in counts]
    if sum(sep.strip() == "/" for sep in seps) > 1:  # one slash at most: "2 x 6/5 lb"
        seps = [" x "] * len(seps)
    kind = draw(st.sampled_from(["amount", "can"]))
    if kind == "can":
        size = draw(st.sampled_from(["#10", "#2.5", "No. 10", "#5"]))
        last, qty, base = size + draw(st.sampled_from([" can", "can", " CAN", ""])), Fraction(1), "each"
    else:
        amount = draw(st.decimals(Decimal("0.25"), Decimal(500), places=2))
        spelling = draw(st.sampled_from(sorted(UNITS)))
        base, factor = UNITS[spelling]
        gap = "" if spelling == "#" else draw(st.sampled_from(["", " "]))
        label = draw(st.sampled_from(LABELS)) if base != "each" else ""
        last, qty = f"{amount}{gap}{spelling}{label}", Fraction(amount) * factor
    if last[0].isalpha() and seps and seps[-1] == "x":  # "6xNo. 10" is no pack anyone writes
        seps[-1] = " x "
    text = "".join(f"{c}{s}" for c, s in zip(counts, seps)) + last
    for count in counts:
        qty *= count
    return draw(st.sampled_from([text, text.upper()])), qty, base


@given(packs())
def test_accepted_pack_equals_an_independent_reading(case: tuple[str, Fraction, str]) -> None:
    text, qty, base = case
    try:
        measure = parse_quantity(text)
    except MOError as err:  # refused only as a kitchen fraction ("1/2 lb") or too big
        assert any(p in err.details["problem"] for p in ("ambiguous", "exceeds", "greater than"))
        return
    assert (Fraction(measure.qty), measure.base) == (qty, base)
