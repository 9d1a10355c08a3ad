"""Ingredients: one normalised identity per name, aliases in the same namespace, soft delete."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mo.domain.context import TenantContext
from mo.domain.measure import unit_family
from mo.domain.names import clean_name, name_key
from mo.domain.prices import positive_decimal
from mo.domain.results import IngredientRecord, money
from mo.errors import ErrorCode, MOError, not_found, validation_error
from mo.services.events import emit_event, ingredient_created_payload
from mo.services.recompute import recompute_for
from mo.services.suggestions import name_not_found
from mo.store.base import Row, Store, Tx

BASE_UNITS_ALLOWED = {"g": "mass", "ml": "volume", "each": "count"}


def base_unit_for(unit: object) -> tuple[str, str]:
    """(family, base unit) for an ingredient's unit: g, ml or each (kg etc. name their family)."""
    if not isinstance(unit, str) or not unit.strip():
        raise validation_error("unit is required: g, ml or each", field="unit")
    family, base = unit_family(unit.strip())
    if base not in BASE_UNITS_ALLOWED:
        raise validation_error("an ingredient's unit is g, ml or each", field="unit", value=unit)
    return family, base


def add_ingredient(
    store: Store,
    ctx: TenantContext,
    name: str,
    *,
    unit: str,
    category: str | None = None,
    density: object = None,
    yield_pct: object = None,
) -> IngredientRecord:
    """Create an ingredient. conflict when the name is an active name or alias already."""
    fields = _ingredient_fields(name, unit=unit, category=category, density=density, yield_pct=yield_pct)

    def work(tx: Tx) -> IngredientRecord:
        _ensure_free(tx, ctx, fields["name_key"], fields["name"])
        ingredient_id = insert_ingredient(tx, ctx, fields)
        emit_event(tx, ctx, "ingredient.created", "ingredient", ingredient_id,
                   ingredient_created_payload(name=fields["name"], unit=fields["base_unit"],
                                              category=category))
        return get_record(tx, ctx, ingredient_id)

    return store.atomic(work, tenant_id=ctx.tenant_id)


def _ingredient_fields(name: str, *, unit: str, category: str | None, density: object,
                       yield_pct: object) -> dict[str, Any]:
    family, base = base_unit_for(unit)
    return {
        "name": clean_name(name), "name_key": name_key(name), "family": family, "base_unit": base,
        "category": clean_name(category, field="category") if category else None,
        "density": None if density is None else positive_decimal(density, field="density", maximum=Decimal(100)),
        "yield_pct": Decimal(100) if yield_pct is None
        else positive_decimal(yield_pct, field="yield_pct", maximum=Decimal(100)),
    }


def insert_ingredient(tx: Tx, ctx: TenantContext, fields: dict[str, Any]) -> int:
    row = tx.one("ingredients.insert", {"tenant_id": ctx.tenant_id, **fields})
    assert row is not None
    tx.run("ingredients.insert_name", {"tenant_id": ctx.tenant_id, "ingredient_id": row["id"],
                                       "name": fields["name"], "name_key": fields["name_key"],
                                       "is_alias": False})
    return int(row["id"])


def _ensure_free(tx: Tx, ctx: TenantContext, key: str, shown: str) -> None:
    taken = tx.one("ingredients.active_name", {"tenant_id": ctx.tenant_id, "name_key": key})
    if taken is not None:
        raise MOError(ErrorCode.CONFLICT, f"{shown!r} is already an active ingredient name or alias",
                      {"name": shown, "ingredient": taken["ingredient_name"]})


def find_active(tx: Tx, ctx: TenantContext, name: object) -> Row:
    """The active ingredient a name or alias refers to; not_found otherwise."""
    row = tx.one("ingredients.by_name", {"tenant_id": ctx.tenant_id, "name_key": name_key(name, field="ingredient")})
    if row is None:
        raise name_not_found(tx, ctx, "ingredient", name)
    return row


def get_record(tx: Tx, ctx: TenantContext, ingredient_id: int) -> IngredientRecord:
    row = tx.one("ingredients.by_id", {"tenant_id": ctx.tenant_id, "id": ingredient_id})
    if row is None:
        raise not_found("ingredient", ingredient_id)
    aliases = tx.all("ingredients.aliases_of", {"tenant_id": ctx.tenant_id, "ingredient_id": ingredient_id})
    return IngredientRecord(
        id=int(row["id"]), name=row["name"], unit=row["base_unit"], family=row["family"],
        category=row["category"], density=money(row["density"]), yield_pct=money(row["yield_pct"]),
        aliases=tuple(a["name"] for a in aliases), deleted=row["deleted_at"] is not None,
    )


def add_alias(store: Store, ctx: TenantContext, ingredient: str, alias: str) -> IngredientRecord:
    """Make `alias` another name of an active ingredient; conflict when the alias is taken."""
    shown, key = clean_name(alias, field="alias"), name_key(alias, field="alias")

    def work(tx: Tx) -> IngredientRecord:
        row = find_active(tx, ctx, ingredient)
        _ensure_free(tx, ctx, key, shown)
        tx.run("ingredients.insert_name", {"tenant_id": ctx.tenant_id, "ingredient_id": row["id"],
                                           "name": shown, "name_key": key, "is_alias": True})
        emit_event(tx, ctx, "ingredient.alias_added", "ingredient", row["id"], {"name": row["name"], "alias": shown})
        return get_record(tx, ctx, int(row["id"]))

    return _translating_conflicts(store, ctx, work, shown)


def delete_ingredient(store: Store, ctx: TenantContext, name: str) -> IngredientRecord:
    """Soft-delete an ingredient with its names; the recipes that use it, directly or through
    sub-recipes, are recomputed in the same transaction and become incomplete."""

    def work(tx: Tx) -> IngredientRecord:
        row = find_active(tx, ctx, name)
        params = {"tenant_id": ctx.tenant_id, "id": row["id"]}
        tx.run("ingredients.soft_delete", params)
        tx.run("ingredients.soft_delete_names", params)
        emit_event(tx, ctx, "ingredient.deleted", "ingredient", row["id"], {"name": row["name"]})
        recompute_for(tx, ctx, ingredient_ids=[int(row["id"])], cause="ingredient.deleted")
        return get_record(tx, ctx, int(row["id"]))

    return store.atomic(work, tenant_id=ctx.tenant_id)


def restore_ingredient(store: Store, ctx: TenantContext, name: str) -> IngredientRecord:
    """Bring back the latest deleted ingredient of that name; conflict when the name is active."""
    key = name_key(name, field="ingredient")

    def work(tx: Tx) -> IngredientRecord:
        row = tx.one("ingredients.latest_deleted", {"tenant_id": ctx.tenant_id, "name_key": key})
        if row is None:
            raise not_found("deleted ingredient", clean_name(name))
        for name_row in tx.all("ingredients.names_deleted_with", {"tenant_id": ctx.tenant_id, "id": row["id"],
                                                                 "deleted_at": row["deleted_at"]}):
            _ensure_free(tx, ctx, name_row["name_key"], name_row["name"])
        params = {"tenant_id": ctx.tenant_id, "id": row["id"], "deleted_at": row["deleted_at"]}
        tx.run("ingredients.restore_names", params)
        tx.run("ingredients.restore", params)
        emit_event(tx, ctx, "ingredient.restored", "ingredient", row["id"], {"name": row["name"]})
        recompute_for(tx, ctx, ingredient_ids=[int(row["id"])], cause="ingredient.restored")
        return get_record(tx, ctx, int(row["id"]))

    return _translating_conflicts(store, ctx, work, clean_name(name))


def _translating_conflicts(store: Store, ctx: TenantContext, work: Any, shown: str) -> IngredientRecord:
    try:
        return store.atomic(work, tenant_id=ctx.tenant_id)
    except MOError as err:
        if err.code is ErrorCode.CONFLICT and "name" not in err.details:
            # The unique index caught a concurrent writer the pre-check could not see.
            raise MOError(ErrorCode.CONFLICT, f"{shown!r} is already an active ingredient name or alias",
                          {"name": shown}) from err
        raise
