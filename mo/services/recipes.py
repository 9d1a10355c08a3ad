"""Recipes: a yield and lines of ingredients or sub-recipes, upserted by normalised name.

Saving checks every line (numbers, units, items, cycles), replaces the lines, then recomputes the
recipe and everything using it in the same transaction. Costs are read from recipe_costs, which
only mo.services.recompute writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mo.domain.context import TenantContext
from mo.domain.names import clean_name, name_key
from mo.domain.results import RecipeImportResult, RecipeRecord, money
from mo.errors import ErrorCode, MOError, not_found, validation_error
from mo.services.events import emit_event
from mo.services.ingredients import find_active
from mo.services.paging import EVERY_ROW, FramePage, PageRequest, by_name, by_name_params, cut
from mo.services.recipe_graph import claim_and_bound, refuse_cycles
from mo.services.recipe_input import (
    LineInput,
    RecipeHead,
    check_head,
    check_line,
    check_line_count,
)
from mo.services.recompute import MAX_DEPTH, recompute_for
from mo.services.suggestions import name_not_found
from mo.store.base import Row, Store, Tx, transaction_conflict

FRAME_COLUMNS = [
    "name",
    "yield_qty",
    "yield_unit",
    "total_cost",
    "unit_cost",
    "menu_price",
    "food_cost_pct",
    "complete",
    "missing",
    "computed_at",
]
BREAKDOWN_COLUMNS = ["ingredient", "qty", "unit", "cost", "reason"]


# -------------------------------------------------------------------------------- save / delete


def save_recipe(
    store: Store,
    ctx: TenantContext,
    name: str,
    *,
    yield_qty: object,
    yield_unit: str,
    lines: Sequence[Mapping[str, Any]],
    menu_price: object = None,
) -> RecipeRecord:
    """Create or replace (by normalised name) a recipe and its lines, then recompute it and
    every recipe using it, in one transaction; emits recipe.saved.

    Raises validation_error (bad name, yield, menu price or line; details name the line index
    and field), not_found (unknown ingredient or recipe), unit_mismatch (a line's unit cannot
    measure its item: count vs mass/volume, or not the sub-recipe's yield unit), cycle_detected
    (details {"path": [names…]}, self-reference included).
    """
    head = check_head(name, yield_qty=yield_qty, yield_unit=yield_unit, menu_price=menu_price)
    if not isinstance(lines, Sequence) or isinstance(lines, str) or not lines:
        raise validation_error("a recipe needs at least one line", field="lines")
    check_line_count(len(lines))
    checked = [check_line(i, line) for i, line in enumerate(lines)]

    def work(tx: Tx) -> RecipeRecord:
        existing = tx.one("recipes.by_key", {"tenant_id": ctx.tenant_id, "name_key": head.key})
        resolved = [_resolve(tx, ctx, head, line) for line in checked]
        if existing is not None:
            refuse_cycles(tx, ctx, int(existing["id"]), head.name, [r[0] for r in resolved if r[1]])
        recipe_id = _write_recipe(tx, ctx, head, existing)
        _write_lines(tx, ctx, recipe_id, checked, resolved)
        claim_and_bound(tx, ctx, [recipe_id])
        tx.run("recipes.set_shares", {"tenant_id": ctx.tenant_id, "recipe_id": recipe_id})
        emit_event(
            tx,
            ctx,
            "recipe.saved",
            "recipe",
            recipe_id,
            {
                "name": head.name,
                "yield_qty": head.yield_qty,
                "yield_unit": head.yield_unit,
                "menu_price": head.menu_price,
                "lines": len(checked),
                "created": existing is None,
            },
        )
        recompute_for(tx, ctx, recipe_ids=[recipe_id], cause="recipe.saved")
        return get_record(tx, ctx, recipe_id)

    return store.atomic(work, tenant_id=ctx.tenant_id)


def _resolve(
    tx: Tx, ctx: TenantContext, head: RecipeHead, line: LineInput
) -> tuple[int, bool, str]:
    """(item id, is a sub-recipe, item name) for a line; raises not_found/unit_mismatch/cycle."""
    if line.kind == "ingredient":
        # Any unit is saved: a line the ingredient's conversions cannot reach (yet) is costed
        # as missing, with the conversion it needs (recompute).
        row = find_active(tx, ctx, line.item)
        return int(row["id"]), False, row["name"]
    if line.item.casefold() == head.key:
        raise MOError(
            ErrorCode.CYCLE_DETECTED,
            f"recipe {head.name!r} cannot use itself",
            {"path": [head.name, head.name], "line": line.index},
        )
    sub = tx.one("recipes.by_key", {"tenant_id": ctx.tenant_id, "name_key": line.item.casefold()})
    if sub is None:
        raise not_found("recipe", line.item)
    if line.base_unit != sub["yield_base"]:
        raise _mismatch(line, sub["name"], sub["yield_base"], sub["yield_family"])
    return int(sub["id"]), True, sub["name"]


def _mismatch(line: LineInput, item: str, base: str, family: str) -> MOError:
    return MOError(
        ErrorCode.UNIT_MISMATCH,
        f"line {line.index}: {line.unit!r} ({line.family}) cannot measure {item!r}, "
        f"measured in {base} ({family})",
        {
            "line": line.index,
            "field": "unit",
            "item": item,
            "unit": line.unit,
            "from_unit": line.base_unit,
            "to_unit": base,
            "from_family": line.family,
            "to_family": family,
        },
    )


def _write_recipe(tx: Tx, ctx: TenantContext, head: RecipeHead, existing: Row | None) -> int:
    params = {
        "tenant_id": ctx.tenant_id,
        "name": head.name,
        "name_key": head.key,
        "yield_qty": head.yield_qty,
        "yield_unit": head.yield_unit,
        "yield_family": head.yield_family,
        "yield_base": head.yield_base,
        "yield_base_qty": head.yield_base_qty,
        "menu_price": head.menu_price,
    }
    if existing is not None:
        tx.run("recipes.update", {**params, "id": existing["id"]})
        tx.run("recipes.delete_lines", {"tenant_id": ctx.tenant_id, "recipe_id": existing["id"]})
        return int(existing["id"])
    try:
        row = tx.one("recipes.insert", params)
    except MOError as err:
        if err.code is ErrorCode.CONFLICT:  # a concurrent save created it: retry as an update
            raise transaction_conflict(err) from err
        raise
    assert row is not None
    return int(row["id"])


def _write_lines(
    tx: Tx,
    ctx: TenantContext,
    recipe_id: int,
    lines: Sequence[LineInput],
    resolved: Sequence[tuple[int, bool, str]],
) -> None:
    for line, (item_id, is_recipe, _) in zip(lines, resolved, strict=True):
        tx.run(
            "recipes.insert_line",
            {
                "tenant_id": ctx.tenant_id,
                "recipe_id": recipe_id,
                "position": line.index,
                "ingredient_id": None if is_recipe else item_id,
                "sub_recipe_id": item_id if is_recipe else None,
                "qty": line.qty,
                "unit": line.unit,
                "family": line.family,
                "base_unit": line.base_unit,
                "qty_base": line.qty_base,
                "waste_pct": line.waste_pct,
            },
        )


def get_record(tx: Tx, ctx: TenantContext, recipe_id: int) -> RecipeRecord:
    row = tx.one("recipes.by_id", {"tenant_id": ctx.tenant_id, "id": recipe_id})
    if row is None:
        raise not_found("recipe", recipe_id)
    return RecipeRecord(
        id=int(row["id"]),
        name=row["name"],
        yield_qty=money(row["yield_qty"]),  # type: ignore[arg-type]
        yield_unit=row["yield_unit"],
        menu_price=money(row["menu_price"]),
        lines=int(row["lines"]),
        deleted=row["deleted_at"] is not None,
    )


def delete_recipe(store: Store, ctx: TenantContext, name: str) -> RecipeRecord:
    """Soft-delete an active recipe; recipes using it become incomplete (it is listed as missing)
    and are recomputed. Emits recipe.deleted. Raises not_found."""
    key = name_key(name, field="recipe")

    def work(tx: Tx) -> RecipeRecord:
        row = tx.one("recipes.by_key", {"tenant_id": ctx.tenant_id, "name_key": key})
        if row is None:
            raise name_not_found(tx, ctx, "recipe", name)
        tx.run("recipes.soft_delete", {"tenant_id": ctx.tenant_id, "id": row["id"]})
        emit_event(tx, ctx, "recipe.deleted", "recipe", row["id"], {"name": row["name"]})
        recompute_for(tx, ctx, recipe_ids=[int(row["id"])], cause="recipe.deleted")
        return get_record(tx, ctx, int(row["id"]))

    return store.atomic(work, tenant_id=ctx.tenant_id)


def restore_recipe(store: Store, ctx: TenantContext, name: str) -> RecipeRecord:
    """Bring back the latest deleted recipe of that name and recompute it and its users.

    Emits recipe.restored. Raises not_found (no deleted recipe of that name), conflict (the name
    is active again), cycle_detected (its lines would now close a cycle).
    """
    key = name_key(name, field="recipe")

    def work(tx: Tx) -> RecipeRecord:
        params = {"tenant_id": ctx.tenant_id, "name_key": key}
        row = tx.one("recipes.latest_deleted", params)
        if row is None:
            raise not_found("deleted recipe", clean_name(name, field="recipe"))
        if tx.one("recipes.by_key", params) is not None:
            raise MOError(
                ErrorCode.CONFLICT,
                f"{row['name']!r} is already an active recipe",
                {"name": row["name"]},
            )
        subs = tx.all("recipes.sub_lines_of", {"tenant_id": ctx.tenant_id, "recipe_id": row["id"]})
        refuse_cycles(tx, ctx, int(row["id"]), row["name"], [int(s["id"]) for s in subs])
        tx.run("recipes.restore", {"tenant_id": ctx.tenant_id, "id": row["id"]})
        claim_and_bound(tx, ctx, [int(row["id"])])
        emit_event(tx, ctx, "recipe.restored", "recipe", row["id"], {"name": row["name"]})
        recompute_for(tx, ctx, recipe_ids=[int(row["id"])], cause="recipe.restored")
        return get_record(tx, ctx, int(row["id"]))

    try:
        return store.atomic(work, tenant_id=ctx.tenant_id)
    except MOError as err:
        if (
            err.code is ErrorCode.CONFLICT and "name" not in err.details
        ):  # a concurrent save won the name
            raise MOError(
                ErrorCode.CONFLICT,
                f"{clean_name(name)!r} is already an active recipe",
                {"name": clean_name(name)},
            ) from err
        raise


# ----------------------------------------------------------------------------------- import


def import_recipes(
    store: Store, ctx: TenantContext, source: str | Path | pd.DataFrame, *, idempotency_key: str
) -> RecipeImportResult:
    """Import recipes in long format, all or nothing: see mo.services.recipe_import."""
    from mo.services.recipe_import import import_recipes as run_import

    return run_import(store, ctx, source, idempotency_key=idempotency_key)


# ----------------------------------------------------------------------------------- read models


def recipes_frame(
    store: Store, ctx: TenantContext, *, include_deleted: bool = False
) -> pd.DataFrame:
    """Every recipe with its current cost, by name (FRAME_COLUMNS).

    Amounts are Decimal (object columns; None when unset); complete is bool; missing is the
    sorted '; '-joined list of missing items ('' when complete); computed_at is datetime64[us, UTC].
    """
    return recipes_page(store, ctx, include_deleted=include_deleted).frame


def recipes_page(
    store: Store, ctx: TenantContext, *, include_deleted: bool = False, page: PageRequest = EVERY_ROW
) -> FramePage:
    """One keyset page of recipes_frame, keyed by (name_key, id)."""
    params = by_name_params(ctx.tenant_id, page, include_deleted=include_deleted)
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        rows = tx.all("recipes.frame", params)
    rows, after = cut(rows, page, by_name)
    frame = pd.DataFrame.from_records(rows, columns=FRAME_COLUMNS)
    for column in ("yield_qty", "total_cost", "unit_cost", "menu_price", "food_cost_pct"):
        frame[column] = pd.Series(
            [money(v) for v in frame[column]], index=frame.index, dtype=object
        )
    frame["complete"] = (
        frame["complete"].map(lambda v: bool(v) if v is not None else False).astype(bool)
    )
    frame["missing"] = frame["missing"].map(joined_missing).astype(object)
    frame["computed_at"] = pd.to_datetime(frame["computed_at"], utc=True).astype(
        "datetime64[us, UTC]"
    )
    return FramePage(frame, after)


def joined_missing(value: Any) -> str:
    """The stored JSON list of missing items as one sorted '; '-joined string."""
    from mo.util.jsonutil import loads

    # A recipe without a stored cost has NULL here, which a DuckDB frame holds as NaN.
    return missing_text(loads(value) if isinstance(value, str | bytes | list) else [])


def missing_text(items: Iterable[str]) -> str:
    """Missing items as one sorted '; '-joined string ('' for none)."""
    return "; ".join(sorted(items, key=lambda n: (n.casefold(), n)))


def recipe_breakdown(store: Store, ctx: TenantContext, name: str) -> pd.DataFrame:
    """The leaf ingredients of a recipe for its whole yield: one row per ingredient, quantities
    in the ingredient's base unit summed over every sub-recipe path and level (BREAKDOWN_COLUMNS).

    qty and cost are Decimal, None when a line lacks a conversion or a current cost; reason
    then says which (`lemon: no each→g conversion`, `butter: no cost`), else None.
    Raises not_found for an unknown recipe.
    """
    key = name_key(name, field="recipe")
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        row = tx.one("recipes.by_key", {"tenant_id": ctx.tenant_id, "name_key": key})
        if row is None:
            raise name_not_found(tx, ctx, "recipe", name)
        rows = tx.all(
            "recipes.breakdown",
            {"tenant_id": ctx.tenant_id, "recipe_id": row["id"], "max_depth": MAX_DEPTH},
        )
    frame = pd.DataFrame(rows, columns=BREAKDOWN_COLUMNS)
    for column in ("qty", "cost"):
        frame[column] = pd.Series(
            [money(v) for v in frame[column]], index=frame.index, dtype=object
        )
    return frame
