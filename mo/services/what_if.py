"""Costings that write nothing: every recipe as of an instant, and what changed prices would do.

Both run the costing's own compute step (mo.services.recompute.compute_only) over the current
recipe structure inside one transaction and read its work tables back: no recipe_costs row and
no event is written, so the figures are the costing's to the last place (the same exact_div,
yield, density, waste and sub-recipe rules). SQL around it: sql/queries/whatif.sql.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from mo.domain.context import TenantContext
from mo.domain.instants import parse_instant
from mo.domain.measure import parse_quantity
from mo.domain.names import clean_name, name_key
from mo.domain.prices import pack_in_base, read_price, to_scale, unit_cost_of
from mo.domain.results import money
from mo.errors import MOError, validation_error
from mo.services.recipes import FRAME_COLUMNS, missing_text
from mo.services.recompute import compute_only
from mo.services.suggestions import name_not_found
from mo.store.base import Row, Store, Tx

WHAT_IF_COLUMNS = [
    "recipe", "total_cost", "new_total_cost", "change", "food_cost_pct", "new_food_cost_pct",
    "complete",
]
MAX_PRICES = 1000  # a what-if names a few ingredients; more is a mistake, not a question
_PERCENT = re.compile(r"^\s*([+-])\s*(\d{1,6}(?:\.\d{1,12})?)\s*%\s*$")
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PriceChange:
    """One ingredient's change as asked: a percentage of its current cost, or a new price."""

    ingredient: str
    text: str
    percent: Decimal | None = None
    price: Decimal | None = None
    pack: str | None = None


# ------------------------------------------------------------------------------------ as of


def recipes_as_of(store: Store, ctx: TenantContext, *, as_of: object) -> pd.DataFrame:
    """Every active recipe costed with the costs in effect at `as_of`, over its current lines,
    by name, in the columns of recipes_frame (FRAME_COLUMNS): `complete`/`missing` as of then,
    `computed_at` = as_of. Nothing is written. Raises validation_error (field as_of)."""
    instant = parse_instant(as_of, field="as_of")

    def work(tx: Tx) -> tuple[list[Row], list[Row]]:
        costed = compute_only(tx, ctx, as_of=instant)
        return tx.all("whatif.recipe_heads", {"tenant_id": ctx.tenant_id}), costed

    heads, costed = store.atomic(work, tenant_id=ctx.tenant_id)
    return _as_of_frame(heads, {int(row["recipe_id"]): row for row in costed}, instant)


def _as_of_frame(heads: list[Row], costed: dict[int, Row], instant: datetime) -> pd.DataFrame:
    records = []
    for head in heads:
        row = costed.get(int(head["id"]), {})
        names = row.get("names")
        records.append({
            "name": head["name"], "yield_qty": money(head["yield_qty"]),
            "yield_unit": head["yield_unit"], "total_cost": money(row.get("total")),
            "unit_cost": money(row.get("unit_cost")), "menu_price": money(head["menu_price"]),
            "food_cost_pct": money(row.get("food_cost_pct")), "complete": not names,
            "missing": missing_text(names or ()),
            "computed_at": instant,
        })
    frame = pd.DataFrame.from_records(records, columns=FRAME_COLUMNS)
    frame["complete"] = frame["complete"].astype(bool)
    frame["computed_at"] = pd.to_datetime(frame["computed_at"], utc=True).astype(
        "datetime64[us, UTC]")
    return frame


# ----------------------------------------------------------------------------------- what if


def what_if(store: Store, ctx: TenantContext, prices: object) -> pd.DataFrame:
    """Every recipe using an ingredient in `prices` (and every recipe above it), costed now as
    it is and with the asked prices, nothing written (WHAT_IF_COLUMNS).

    `prices` maps an ingredient name (or alias) to "+20%" / "-5%" (of its current unit cost,
    rounded half-even to 12 places) or a new price with its pack ("9.50/kg", "12/6 x 1 kg").
    `change` = new_total_cost − total_cost; `complete` is the new costing's. Order: the biggest
    rise in food-cost % (new_food_cost_pct − food_cost_pct) first, recipes without a food-cost
    % (no menu price, or a missing cost) after them by the biggest change, then by name.

    Raises validation_error (field prices, with ingredient and value) for a mapping that is
    empty or not text → text, a change that reads as neither form, a percentage of an
    ingredient without a current cost or one of −100% or below, or an ingredient named twice;
    not_found (with suggestions) for an unknown ingredient; unit_mismatch for a pack the
    ingredient cannot be bought in.
    """
    changes = [read_change(name, text) for name, text in _checked_prices(prices)]

    def work(tx: Tx) -> tuple[list[Row], list[Row]]:
        overrides = _overrides(tx, ctx, changes)
        ids = sorted(overrides)
        before = compute_only(tx, ctx, ingredient_ids=ids)
        return before, compute_only(tx, ctx, ingredient_ids=ids, overrides=overrides)

    before, after = store.atomic(work, tenant_id=ctx.tenant_id)
    return _what_if_frame(before, after)


def _checked_prices(prices: object) -> list[tuple[str, str]]:
    if not isinstance(prices, Mapping) or not prices:
        raise validation_error("prices must map ingredient names to changes, e.g. "
                               "{'butter': '+20%'}", field="prices")
    if len(prices) > MAX_PRICES:
        raise validation_error(f"at most {MAX_PRICES} prices at once", field="prices",
                               count=len(prices))
    pairs = []
    for name, text in prices.items():
        if not isinstance(name, str) or not isinstance(text, str):
            raise validation_error("each price is ingredient name → change text",
                                   field="prices", ingredient=repr(name)[:100],
                                   value=repr(text)[:100])
        pairs.append((clean_name(name, field="ingredient"), text))
    return pairs


def read_change(ingredient: str, text: str) -> PriceChange:
    """"+20%" / "-5%" or "price/pack" (a bare unit is one of it: "9.50/kg" is per 1 kg).
    Raises validation_error (field prices, ingredient, value)."""
    percent = _PERCENT.match(text)
    if percent:
        sign, amount = percent.groups()
        value = Decimal(amount) if sign == "+" else -Decimal(amount)
        if value <= -_HUNDRED:
            raise _bad_change(ingredient, text, "a cost cannot fall by 100% or more")
        return PriceChange(ingredient=ingredient, text=text, percent=value)
    price_text, slash, pack = text.partition("/")
    if not slash or not pack.strip():
        raise _bad_change(ingredient, text,
                          "expected a percentage ('+20%', '-5%') or a price per pack ('9.50/kg')")
    pack = pack.strip()
    pack = pack if pack[0].isdigit() else f"1 {pack}"
    try:
        price = read_price(price_text)
        parse_quantity(pack)
    except MOError as err:
        raise _bad_change(ingredient, text, err.message) from err
    return PriceChange(ingredient=ingredient, text=text, price=price, pack=pack)


def _bad_change(ingredient: str, text: str, problem: str) -> MOError:
    return validation_error(f"cannot read the change {text[:100]!r} for {ingredient!r}: {problem}",
                            field="prices", ingredient=ingredient, value=text[:100])


def _overrides(tx: Tx, ctx: TenantContext, changes: list[PriceChange]) -> dict[int, Decimal]:
    """ingredient id → the unit cost asked for it, read in one statement."""
    keys = [name_key(change.ingredient, field="ingredient") for change in changes]
    rows = {row["name_key"]: row for row in tx.all(
        "whatif.ingredients", {"tenant_id": ctx.tenant_id, "name_keys": sorted(set(keys))})}
    overrides: dict[int, Decimal] = {}
    for key, change in zip(keys, changes):
        row = rows.get(key)
        if row is None:
            raise name_not_found(tx, ctx, "ingredient", change.ingredient)
        if int(row["id"]) in overrides:
            raise _bad_change(change.ingredient, change.text,
                              f"{row['name']!r} is named twice (a name and an alias?)")
        overrides[int(row["id"])] = _unit_cost(row, change)
    return overrides


def _unit_cost(row: Row, change: PriceChange) -> Decimal:
    if change.percent is None:
        qty = pack_in_base(parse_quantity(str(change.pack)), ingredient=row["name"],
                           base=row["base_unit"], density=row["density"])
        return unit_cost_of(Decimal(str(change.price)), qty)
    if row["unit_cost"] is None:
        raise _bad_change(change.ingredient, change.text,
                          f"{row['name']!r} has no current cost to change by a percentage")
    cost = to_scale(Decimal(row["unit_cost"]) * (_HUNDRED + change.percent) / _HUNDRED)
    if cost == 0:
        raise _bad_change(change.ingredient, change.text, "the cost would round to zero")
    return cost


def _what_if_frame(before: list[Row], after: list[Row]) -> pd.DataFrame:
    old = {int(row["recipe_id"]): row for row in before}
    records = [_what_if_record(old.get(int(row["recipe_id"]), {}), row) for row in after]
    records.sort(key=_rank)
    frame = pd.DataFrame.from_records(
        [{k: v for k, v in record.items() if k in WHAT_IF_COLUMNS} for record in records],
        columns=WHAT_IF_COLUMNS)
    frame["complete"] = frame["complete"].astype(bool)
    return frame


def _what_if_record(old: Row | dict[str, Any], new: Row) -> dict[str, Any]:
    total, new_total = old.get("total"), new["total"]
    pct, new_pct = old.get("food_cost_pct"), new["food_cost_pct"]
    return {
        "recipe": new["name"], "total_cost": money(total), "new_total_cost": money(new_total),
        "change": None if total is None or new_total is None else money(new_total - total),
        "food_cost_pct": money(pct), "new_food_cost_pct": money(new_pct),
        "complete": not new["names"],
        "pct_change": None if pct is None or new_pct is None else new_pct - pct,
    }


def _rank(record: dict[str, Any]) -> tuple[Any, ...]:
    """Biggest food-cost % rise first; then those without one by biggest change; then name."""
    pct_change, change = record["pct_change"], record["change"]
    return (pct_change is None, -(pct_change or 0), change is None, -(change or 0),
            record["recipe"].casefold(), record["recipe"])
