"""Ingredient costs: the price-per-pack chronicle, the current cost, and its frames.

A cost row holds a supplier's price for a pack and the unit cost that follows from it
(price ÷ pack quantity in the ingredient's base unit). The current cost is the offer the
ingredient's cost policy chooses now (cost_offers, migration V017; mo/services/offers.py).
Money is exact: Decimal in Python, DECIMAL(38,12) in the database, and never divided in SQL
(DuckDB's decimal division yields DOUBLE).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from mo.domain.context import TenantContext
from mo.domain.instants import parse_instant
from mo.domain.measure import Measure, parse_quantity
from mo.domain.names import clean_name, name_key
from mo.domain.prices import pack_in_base, read_price, to_scale, unit_cost_of
from mo.domain.results import CostUpdate, RecomputeResult, money
from mo.errors import ErrorCode, MOError, validation_error
from mo.services.conversions import amount_in, conversions_of
from mo.services.idempotency import run_idempotent
from mo.services.ingredients import find_active
from mo.services.offers import chosen_at, chosen_of, chosen_offer_now, emit_if_moved, moved
from mo.services.paging import EVERY_ROW, FramePage, PageRequest, by_name, by_name_params, cut
from mo.store.base import Row, Store, Tx

MAX_NOTE_LENGTH = 1000

HISTORY_COLUMNS = [
    "ingredient",
    "price",
    "pack",
    "unit_cost",
    "unit",
    "effective_at",
    "source",
    "supplier",
    "note",
    "batch_id",
    "cost_id",
]
CURRENT_COLUMNS = [
    "ingredient",
    "ingredient_id",
    "unit_cost",
    "unit",
    "effective_at",
    "source",
    "supplier",
    "batch_id",
    "cost_id",
]
INGREDIENT_COLUMNS = [
    "id",
    "name",
    "unit",
    "category",
    "density",
    "yield_pct",
    "unit_cost",
    "effective_at",
    "cost_policy",
    "preferred_supplier",
    "cost_supplier",
    "cost_note",
    "aliases",
    "deleted",
]


def parse_effective_at(value: datetime | date | str | None) -> datetime | None:
    """An aware UTC datetime from a datetime, a date or ISO 8601 text; naive means UTC.

    None stays None (it means "now", decided by the writing transaction). Raises validation_error
    (field "effective_at") for no time, or one outside mo's window of dates (mo/domain/instants.py).
    """
    return None if value is None else parse_instant(value, field="effective_at")


def iso(value: datetime) -> str:
    """The one text form of a time in events and requests: ISO 8601 in UTC."""
    return value.astimezone(UTC).isoformat()


def decimal_text(value: Decimal | None) -> str | None:
    """A plain decimal string without trailing zeros or exponent ("0.002", "12")."""
    return None if value is None else format(money(value), "f")


def recompute_changed(
    tx: Tx, ctx: TenantContext, ingredient_ids: Sequence[int], *, cause: str
) -> RecomputeResult:
    """Recompute the recipes using these ingredients, inside the caller's transaction."""
    if not ingredient_ids:  # None would mean "every recipe" to recompute_for
        return RecomputeResult(0, 0)
    from mo.services import (
        recompute,
    )  # lazy: a cost update need not load the recipe engine up front

    return recompute.recompute_for(tx, ctx, ingredient_ids=list(ingredient_ids), cause=cause)


# ------------------------------------------------------------------------------- update_cost


def update_cost(
    store: Store,
    ctx: TenantContext,
    ingredient: str,
    price: object,
    *,
    per: str,
    idempotency_key: str,
    effective_at: datetime | str | None = None,
    supplier: str | None = None,
    note: str | None = None,
) -> CostUpdate:
    """Record that `ingredient` costs `price` per `per` (12.00 per "6 x 1 kg") from effective_at.

    effective_at defaults to now; a future one is stored but leaves the current cost alone. The
    cost row is written (cost_id) even when the unit cost equals this supplier's offer in effect
    then: a re-listing keeps the offer fresh (under "lowest", only offers within 30 days of the
    newest compete); only one from the very instant of that offer writes nothing (cost_id None).
    `changed` says whether this supplier's unit cost changed. ingredient.cost.updated is written
    when the chosen offer at effective_at moves (another unit cost or supplier), and recipes are
    recomputed when the chosen offer now moves: a re-listing at the same price does neither.
    Same key again: the original result, replayed=True, nothing written.

    Raises validation_error (price, per, effective_at, supplier, note, key), not_found (ingredient),
    unit_mismatch (per's unit vs the ingredient's), idempotency_conflict (key reused differently).
    """
    fields = _cost_fields(
        ingredient, price, per=per, effective_at=effective_at, supplier=supplier, note=note
    )
    at = fields["at"]
    request = {
        "ingredient": name_key(ingredient, field="ingredient"),
        "price": str(fields["price"]),
        "per": per,
        "effective_at": None if at is None else iso(at),
        "supplier": fields["supplier"],
        "note": fields["note"],
    }

    def work(tx: Tx) -> dict[str, Any]:
        return _apply_cost(tx, ctx, fields, key=idempotency_key).to_dict()

    outcome = run_idempotent(
        store, ctx, key=idempotency_key, operation="update_cost", request=request, work=work
    )
    return replace(CostUpdate.from_dict(outcome.result), replayed=outcome.replayed)


def _cost_fields(
    ingredient: str,
    price: object,
    *,
    per: str,
    effective_at: datetime | str | None,
    supplier: str | None,
    note: str | None,
) -> dict[str, Any]:
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE_LENGTH):
        raise validation_error(
            f"note must be text of at most {MAX_NOTE_LENGTH} characters", field="note"
        )
    return {
        "name": clean_name(ingredient, field="ingredient"),
        "price": read_price(price),
        "measure": parse_quantity(per),
        "at": parse_effective_at(effective_at),
        "supplier": None if supplier is None else clean_name(supplier, field="supplier"),
        "note": (note.strip() or None) if note is not None else None,
    }


def _apply_cost(tx: Tx, ctx: TenantContext, fields: dict[str, Any], *, key: str) -> CostUpdate:
    row = find_active(tx, ctx, fields["name"])
    before = tx.one(
        "offers.before_cost",
        {"tenant_id": ctx.tenant_id, "ingredient_id": row["id"], "at": fields["at"],
         "supplier": fields["supplier"]},
    )
    assert before is not None  # one row, always
    qty = pack_qty_for(tx, ctx, row, fields["measure"])
    cost = unit_cost_of(fields["price"], qty)
    shown = money(cost) or cost  # without trailing zeros (money() is None only for None)
    now = before["now"]
    at = fields["at"] or now
    changed = before["own_unit_cost"] != cost  # this supplier's unit cost
    if not changed and before["own_effective_at"] == at:  # nothing fresher to say
        return CostUpdate(None, row["name"], shown, False, False, 0)
    ingredient_id = int(row["id"])
    chosen_then = chosen_of(before)
    chosen_now = chosen_then if at == now else chosen_offer_now(tx, ctx, ingredient_id, now=now)
    cost_id = _record_cost(tx, ctx, row, fields, qty=qty, cost=cost, at=at, key=key)
    after_then, after_now = chosen_at(tx, ctx, ingredient_id, at=at, now=now)
    # An offer that leaves the chosen one as it was (another supplier under "preferred", a
    # dearer one under "lowest", a re-listing at the same price) is kept, with no cost event;
    # recipes follow the chosen offer now.
    emit_if_moved(
        tx, ctx, row, before=chosen_then, after=after_then, at=at, source="manual", key=key
    )
    moved_now = [ingredient_id] if moved(chosen_now, after_now) else []
    recomputed = recompute_changed(tx, ctx, moved_now, cause="ingredient.cost.updated").recomputed
    return CostUpdate(cost_id, row["name"], shown, changed, False, recomputed)


def pack_qty_for(tx: Tx, ctx: TenantContext, row: Row, measure: Measure) -> Decimal:
    """The pack in the ingredient's base unit: directly, through its density, or through its
    own conversions. Raises unit_mismatch naming the conversion to add."""
    try:
        return pack_in_base(
            measure, ingredient=row["name"], base=row["base_unit"], density=row["density"]
        )
    except MOError as err:
        if err.code is not ErrorCode.UNIT_MISMATCH:
            raise
    return amount_in(
        measure,
        ingredient=row["name"],
        base=row["base_unit"],
        conversions=conversions_of(tx, ctx, int(row["id"])),
        density=row["density"],
    )


def _record_cost(
    tx: Tx,
    ctx: TenantContext,
    row: Row,
    fields: dict[str, Any],
    *,
    qty: Decimal,
    cost: Decimal,
    at: datetime,
    key: str,
) -> int:
    """Insert the cost row, in the caller's transaction."""
    cost_id = tx.scalar(
        "costs.insert",
        {
            "tenant_id": ctx.tenant_id,
            "ingredient_id": row["id"],
            "price": fields["price"],
            "pack": fields["measure"].text,
            "pack_qty": to_scale(qty),
            "unit_cost": cost,
            "effective_at": at,
            "source": "manual",
            "supplier": fields["supplier"],
            "note": fields["note"],
            "idempotency_key": key,
        },
    )
    return int(cost_id)


# ------------------------------------------------------------------------------------ frames


def cost_history(store: Store, ctx: TenantContext, ingredient: str | None = None) -> pd.DataFrame:
    """Every cost row of the tenant's active ingredients (or of one), by effective_at then cost_id.

    Columns: HISTORY_COLUMNS; price and unit_cost are Decimal (object dtype), effective_at is
    datetime64[us, UTC], batch_id is Int64. Raises not_found for an unknown ingredient.
    """
    return cost_history_page(store, ctx, ingredient).frame


def cost_history_page(
    store: Store, ctx: TenantContext, ingredient: str | None = None, *, page: PageRequest = EVERY_ROW
) -> FramePage:
    """One keyset page of cost_history, keyed by (effective_at, cost_id)."""
    params = {"tenant_id": ctx.tenant_id, **page.params("after_at", "after_id")}
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        if ingredient is None:
            rows = tx.all("costs.history", params)
        else:
            row = find_active(tx, ctx, ingredient)
            rows = tx.all("costs.history_of", params | {"ingredient_id": row["id"]})
    rows, after = cut(rows, page, lambda r: (r["effective_at"], r["cost_id"]))
    frame = typed_frame(
        rows,
        HISTORY_COLUMNS,
        decimals=("price", "unit_cost"),
        times=("effective_at",),
        ints=("batch_id", "cost_id"),
    )
    return FramePage(frame, after)


def current_costs_frame(store: Store, ctx: TenantContext) -> pd.DataFrame:
    """The current cost of each active ingredient that has one (CURRENT_COLUMNS), by name."""
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        rows = tx.all("costs.current", {"tenant_id": ctx.tenant_id})
    return typed_frame(
        rows,
        CURRENT_COLUMNS,
        decimals=("unit_cost",),
        times=("effective_at",),
        ints=("ingredient_id", "batch_id", "cost_id"),
    )


def ingredients_frame(
    store: Store, ctx: TenantContext, *, include_deleted: bool = False
) -> pd.DataFrame:
    """The tenant's ingredients with their current unit cost, by name (INGREDIENT_COLUMNS).

    unit_cost/effective_at are empty (None/NaT) without a current cost; aliases is a sorted
    '; '-joined string ("" without aliases); deleted rows only when include_deleted.
    """
    return ingredients_page(store, ctx, include_deleted=include_deleted).frame


def ingredients_page(
    store: Store, ctx: TenantContext, *, include_deleted: bool = False, page: PageRequest = EVERY_ROW
) -> FramePage:
    """One keyset page of ingredients_frame, keyed by (name_key, id)."""
    params = by_name_params(ctx.tenant_id, page, include_deleted=include_deleted)
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        rows = tx.all("costs.ingredients", params)
        rows, after = cut(rows, page, by_name)
        # The aliases of this page's ingredients only: up to its last row's key.
        upto = {"upto_name": rows[-1]["name_key"], "upto_id": rows[-1]["id"]} if rows else None
        aliases = tx.all("costs.aliases", params | upto) if upto else []
    frame = typed_frame(
        [{**r, "cost_note": _cost_note(r)} for r in rows],
        [c for c in INGREDIENT_COLUMNS if c != "aliases"],
        decimals=("density", "yield_pct", "unit_cost"),
        times=("effective_at",),
        ints=("id",),
    )
    joined = _joined_aliases(aliases)
    frame.insert(
        INGREDIENT_COLUMNS.index("aliases"),
        "aliases",
        pd.Series([joined.get(int(i), "") for i in frame["id"]], index=frame.index, dtype=object),
    )
    frame["deleted"] = frame["deleted"].astype(bool)
    return FramePage(frame, after)


def _cost_note(row: Row) -> str | None:
    """Why the cost in use is not the policy's first choice: the preferred supplier has no offer."""
    if not row["cost_fallback"]:
        return None
    return f"{row['preferred_supplier']} has no current offer: the latest offer is used"


def _joined_aliases(rows: list[Row]) -> dict[int, str]:
    grouped: dict[int, list[str]] = {}
    for row in rows:
        grouped.setdefault(int(row["ingredient_id"]), []).append(row["name"])
    return {
        key: "; ".join(sorted(names, key=lambda n: (n.casefold(), n)))
        for key, names in grouped.items()
    }


def typed_frame(
    rows: list[Row],
    columns: list[str],
    *,
    decimals: Sequence[str] = (),
    times: Sequence[str] = (),
    ints: Sequence[str] = (),
) -> pd.DataFrame:
    """Query rows as a DataFrame with the same columns and dtypes on every backend, empty or not."""
    # Rows, not tx.arrow(): PostgreSQL's arrow path infers types from values, so an all-NULL column
    # would come back typed differently from DuckDB's.
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for column in decimals:
        frame[column] = pd.Series(
            [_exact(v) for v in frame[column]], index=frame.index, dtype=object
        )
    for column in times:
        frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[us, UTC]")
    for column in ints:
        frame[column] = frame[column].astype("Int64")
    return frame


def _exact(value: Any) -> Decimal | None:
    if value is None or pd.isna(value):  # a NULL, as pandas may spell it
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))
