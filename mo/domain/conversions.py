"""Per-ingredient conversions between unit bases, exact.

A conversion says ``from_qty`` of ``from_base`` is ``to_qty`` of ``to_base`` for one
ingredient ("1 each = 120 g" is ``Conversion("each", 1, "g", 120)``). It is used both ways,
and chained through other bases (each → g → ml with a count conversion and a density). The
density of an ingredient is the mass↔volume conversion ``1 ml = density g`` unless the
ingredient has its own g↔ml conversion, which wins.

``conversion_factor`` answers how many ``target`` base units one ``source`` base unit is, as an
exact ``Fraction`` (a numerator/denominator pair); no float and no rounding is involved.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

__all__ = ["Conversion", "conversion_factor", "pair_key"]


@dataclass(frozen=True)
class Conversion:
    """``from_qty`` of ``from_base`` equals ``to_qty`` of ``to_base`` (both above zero)."""

    from_base: str
    from_qty: Decimal
    to_base: str
    to_qty: Decimal


def pair_key(first: str, second: str) -> str:
    """The key of a pair of bases, whatever their order: ``pair_key("g", "each") == "each|g"``."""
    return "|".join(sorted((first, second)))


def conversion_factor(
    source: str,
    target: str,
    *,
    conversions: Iterable[Conversion],
    density: Decimal | None = None,
) -> Fraction | None:
    """How many ``target`` base units one ``source`` base unit is, exactly; None when no chain
    of conversions (and the density, as g↔ml) joins the two. The shortest chain is used."""
    if source == target:
        return Fraction(1)
    edges = _edges(conversions, density=density)
    found: dict[str, Fraction] = {source: Fraction(1)}
    queue = deque([source])
    while queue:
        base = queue.popleft()
        for neighbour, factor in edges.get(base, {}).items():
            if neighbour in found:
                continue
            found[neighbour] = found[base] * factor
            if neighbour == target:
                return found[neighbour]
            queue.append(neighbour)
    return None


def _edges(
    conversions: Iterable[Conversion], *, density: Decimal | None
) -> dict[str, dict[str, Fraction]]:
    """base -> {other base: how many of the other one unit of base is}, both directions."""
    edges: dict[str, dict[str, Fraction]] = {}

    def add(a: str, a_qty: Decimal, b: str, b_qty: Decimal) -> None:
        ratio = Fraction(b_qty) / Fraction(a_qty)
        edges.setdefault(a, {})[b] = ratio
        edges.setdefault(b, {})[a] = 1 / ratio

    if density is not None and density > 0:
        add("ml", Decimal(1), "g", density)
    for conversion in conversions:  # after the density: an own g↔ml conversion replaces it
        add(conversion.from_base, conversion.from_qty, conversion.to_base, conversion.to_qty)
    return edges
