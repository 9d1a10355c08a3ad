"""What a cost update would record, worked out without writing: for a form's "are you sure?".

The rules the update_cost service uses (mo.domain.prices: price parsing, the pack in the
ingredient's base unit, the division), so the preview and the stored cost cannot disagree. Pure: no database, so
it serves LocalClient and HttpClient users alike. The service still decides what is written.
"""

from __future__ import annotations

from decimal import Decimal

from mo.domain.measure import parse_quantity
from mo.domain.prices import pack_in_base, read_price, unit_cost_of


def quote_unit_cost(
    price: object, *, per: str, ingredient: str, unit: str, density: Decimal | None = None
) -> Decimal:
    """The unit cost (per `unit`, the ingredient's base unit) that `price` per `per` makes.

    Raises what update_cost raises for the same input: validation_error (price, per),
    unit_mismatch (per's unit against the ingredient's).
    """
    qty = pack_in_base(parse_quantity(per), ingredient=ingredient, base=unit, density=density)
    return unit_cost_of(read_price(price), qty)
