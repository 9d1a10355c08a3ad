"""Per-ingredient conversions: "1 each of lemon is 120 g", saved, listed, deleted, and applied.

One active conversion per ingredient and pair of unit bases; saving another for the same pair
soft-deletes the first (the history stays). Each save or delete emits its event in the same
transaction and recomputes the recipes using the ingredient. The pure arithmetic (which factor
joins two bases) is mo.domain.conversions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Context, Decimal, Inexact
from fractions import Fraction
from typing import Any

import pandas as pd

from mo.domain.context import TenantContext
from mo.domain.conversions import Conversion, conversion_factor, pair_key
from mo.domain.measure import Measure, parse_quantity, unit_family
from mo.domain.names import clean_name, name_key
from mo.domain.results import ConversionRecord, RecomputeResult
from mo.errors import ErrorCode, MOError, not_found, validation_error
from mo.services.events import emit_event
from mo.services.idempotency import run_idempotent
from mo.services.ingredients import find_active
from mo.store.base import Row, Store, Tx

CONVERSION_COLUMNS = ["ingredient", "from_qty", "to_qty", "from_unit", "to_unit", "saved_at"]
_EXACT = Context(prec=250, traps=[Inexact])  # products of ≤ 38-digit amounts never round here
_DIVIDING = Context(prec=28)  # a quotient with no finite expansion: 28 digits, as costs.py


def conversions_of(tx: Tx, ctx: TenantContext, ingredient_id: int) -> list[Conversion]:
    """The ingredient's active conversions."""
    rows = tx.all(
        "conversions.of_ingredient", {"tenant_id": ctx.tenant_id, "ingredient_id": ingredient_id}
    )
    return [
        Conversion(r["from_base"], Decimal(r["from_qty"]), r["to_base"], Decimal(r["to_qty"]))
        for r in rows
    ]


def amount_in(
    measure: Measure,
    *,
    ingredient: str,
    base: str,
    conversions: Sequence[Conversion],
    density: Decimal | None,
) -> Decimal:
    """measure's amount in `base` through the ingredient's conversions (and density).

    Exact when the factor has a finite decimal expansion, else 28 significant digits. Raises
    MOError(unit_mismatch) whose message names the conversion to add.
    """
    factor = conversion_factor(measure.base, base, conversions=conversions, density=density)
    if factor is None:
        raise missing_conversion(measure, ingredient=ingredient, base=base)
    return scaled(measure.qty, factor)


def scaled(qty: Decimal, factor: Fraction) -> Decimal:
    """qty × factor: exact when the product has a finite expansion, else to 28 digits."""
    top = _EXACT.multiply(qty, Decimal(factor.numerator))
    try:
        return _EXACT.divide(top, Decimal(factor.denominator))
    except Inexact:
        return _DIVIDING.divide(top, Decimal(factor.denominator))


def missing_conversion(measure: Measure, *, ingredient: str, base: str) -> MOError:
    """unit_mismatch for `measure` on `ingredient` (measured in `base`), naming the fix."""
    hint = f"add_conversion({ingredient!r}, '1 {measure.base}', '… {base}')"
    message = (
        f"{measure.text!r} ({measure.base}) cannot apply to {ingredient!r}, measured in {base}: "
        f"no {measure.base}→{base} conversion; add a conversion: {hint}"
    )
    return MOError(
        ErrorCode.UNIT_MISMATCH,
        message,
        {"text": measure.text, "from_unit": measure.base, "to_unit": base,
         "ingredient": ingredient, "problem": f"no {measure.base}→{base} conversion",
         "add_conversion": hint},
    )


# ------------------------------------------------------------------------------------ writes


def add_conversion(
    store: Store,
    ctx: TenantContext,
    ingredient: str,
    from_qty: str,
    to_qty: str,
    *,
    idempotency_key: str,
) -> ConversionRecord:
    """Say that `from_qty` of `ingredient` is `to_qty` ("1 each", "120 g"). Replaces the active
    conversion for the same pair of bases. Raises validation_error (quantities, same base),
    not_found (ingredient), idempotency_conflict."""
    name = clean_name(ingredient, field="ingredient")
    first, second = _quantity(from_qty, field="from_qty"), _quantity(to_qty, field="to_qty")
    if first.base == second.base:
        raise validation_error(
            f"a conversion joins two different units: {from_qty!r} and {to_qty!r} are both "
            f"{first.base}",
            field="to_qty",
        )
    request = {"ingredient": name_key(name), "from_qty": first.text, "to_qty": second.text}

    def work(tx: Tx) -> dict[str, Any]:
        return _save(tx, ctx, name, first, second, key=idempotency_key).to_dict()

    outcome = run_idempotent(
        store, ctx, key=idempotency_key, operation="add_conversion", request=request, work=work
    )
    return replace(ConversionRecord.from_dict(outcome.result), replayed=outcome.replayed)


def delete_conversion(
    store: Store, ctx: TenantContext, ingredient: str, unit: str, *, idempotency_key: str
) -> ConversionRecord:
    """Soft-delete the ingredient's conversion between `unit`'s base and the ingredient's own
    (delete_conversion("lemon", "each")), or the one conversion naming `unit`'s base. Raises
    validation_error (unit), not_found (ingredient, conversion), idempotency_conflict."""
    name = clean_name(ingredient, field="ingredient")
    _family, base = unit_family(unit)
    request = {"ingredient": name_key(name), "unit": base}

    def work(tx: Tx) -> dict[str, Any]:
        return _delete(tx, ctx, name, base, key=idempotency_key).to_dict()

    outcome = run_idempotent(
        store, ctx, key=idempotency_key, operation="delete_conversion", request=request, work=work
    )
    return replace(ConversionRecord.from_dict(outcome.result), replayed=outcome.replayed)


def _quantity(text: object, *, field: str) -> Measure:
    if not isinstance(text, str):
        raise validation_error(f"{field} must be text such as '1 each'", field=field)
    try:
        return parse_quantity(text)
    except MOError as err:
        raise MOError(err.code, err.message, {**err.details, "field": field}) from err


def _save(
    tx: Tx, ctx: TenantContext, name: str, first: Measure, second: Measure, *, key: str
) -> ConversionRecord:
    row = find_active(tx, ctx, name)
    params = {"tenant_id": ctx.tenant_id, "ingredient_id": row["id"]}
    pair = pair_key(first.base, second.base)
    retired = tx.all("conversions.retire", {**params, "pair_key": pair})
    conversion_id = tx.scalar(
        "conversions.insert",
        {**params, "pair_key": pair, "from_text": first.text, "from_base": first.base,
         "from_qty": first.qty, "to_text": second.text, "to_base": second.base,
         "to_qty": second.qty},
    )
    record = ConversionRecord(
        id=int(conversion_id), ingredient=row["name"], from_qty=first.text, to_qty=second.text,
        from_unit=first.base, to_unit=second.base, replaced=bool(retired), deleted=False,
        replayed=False,
    )
    _emit(tx, ctx, "ingredient.conversion.saved", row, record, key=key)
    _recompute(tx, ctx, int(row["id"]), cause="ingredient.conversion.saved")
    return record


def _delete(tx: Tx, ctx: TenantContext, name: str, base: str, *, key: str) -> ConversionRecord:
    row = find_active(tx, ctx, name)
    params = {"tenant_id": ctx.tenant_id, "ingredient_id": row["id"]}
    pairs = {pair_key(c.from_base, c.to_base) for c in conversions_of(tx, ctx, int(row["id"]))}
    wanted = pair_key(base, row["base_unit"])
    naming = sorted(p for p in pairs if base in p.split("|"))
    pair = wanted if wanted in pairs else (naming[0] if len(naming) == 1 else None)
    if pair is None:
        raise not_found("conversion", f"{row['name']}: {base}")
    retired = tx.all("conversions.retire", {**params, "pair_key": pair})[0]
    first, second = pair.split("|")
    record = ConversionRecord(
        id=int(retired["id"]), ingredient=row["name"], from_qty=retired["from_text"],
        to_qty=retired["to_text"], from_unit=first, to_unit=second, replaced=False, deleted=True,
        replayed=False,
    )
    _emit(tx, ctx, "ingredient.conversion.deleted", row, record, key=key)
    _recompute(tx, ctx, int(row["id"]), cause="ingredient.conversion.deleted")
    return record


def _emit(
    tx: Tx, ctx: TenantContext, event_type: str, row: Row, record: ConversionRecord, *, key: str
) -> None:
    payload = {
        "ingredient": record.ingredient, "ingredient_id": int(row["id"]),
        "from_qty": record.from_qty, "to_qty": record.to_qty, "conversion_id": record.id,
    }
    emit_event(tx, ctx, event_type, "ingredient", row["id"], payload, idempotency_key=key)


def _recompute(tx: Tx, ctx: TenantContext, ingredient_id: int, *, cause: str) -> RecomputeResult:
    from mo.services.costs import recompute_changed  # costs imports this module

    return recompute_changed(tx, ctx, [ingredient_id], cause=cause)


# ------------------------------------------------------------------------------------- reads


def conversions_frame(
    store: Store, ctx: TenantContext, ingredient: str | None = None
) -> pd.DataFrame:
    """The active conversions (CONVERSION_COLUMNS), of one ingredient or all, by ingredient."""
    from mo.services.costs import typed_frame

    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        ingredient_id = None if ingredient is None else find_active(tx, ctx, ingredient)["id"]
        rows = tx.all(
            "conversions.listed", {"tenant_id": ctx.tenant_id, "ingredient_id": ingredient_id}
        )
    listed = [
        {"ingredient": r["ingredient"], "from_qty": r["from_qty"], "to_qty": r["to_qty"],
         "from_unit": r["from_base"], "to_unit": r["to_base"], "saved_at": r["saved_at"]}
        for r in rows
    ]
    return typed_frame(listed, CONVERSION_COLUMNS, times=("saved_at",))
