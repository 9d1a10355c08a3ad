"""Ingredient identity: one normalised name per ingredient, aliases share the namespace,
uniqueness among active rows only, soft delete and restore."""

from __future__ import annotations

import pytest

from mo.domain.context import TenantContext
from mo.errors import MOError
from mo.services import ingredients as ing
from mo.store import Store
from mo.store.base import Tx


def _code(call, *args, **kwargs) -> tuple[str, dict]:
    with pytest.raises(MOError) as caught:
        call(*args, **kwargs)
    return caught.value.code.value, caught.value.details


def test_names_are_normalised_to_one_identity(store: Store, ctx: TenantContext) -> None:
    egg = ing.add_ingredient(store, ctx, "  Free   Range Egg ", unit="each")
    assert egg.name == "Free Range Egg" and egg.unit == "each" and egg.family == "count"
    assert _code(ing.add_ingredient, store, ctx, "free range EGG", unit="each") == (
        "conflict", {"name": "free range EGG", "ingredient": "Free Range Egg"})


def test_aliases_share_the_namespace(store: Store, ctx: TenantContext) -> None:
    ing.add_ingredient(store, ctx, "Egg", unit="each")
    assert ing.add_alias(store, ctx, "egg", "Eggs").aliases == ("Eggs",)
    ing.add_ingredient(store, ctx, "Flour", unit="g")
    assert _code(ing.add_ingredient, store, ctx, " eggs ", unit="each")[0] == "conflict"
    assert _code(ing.add_alias, store, ctx, "flour", "EGGS")[0] == "conflict"
    assert _code(ing.add_alias, store, ctx, "butter", "beurre") == ("not_found", {"kind": "ingredient", "name": "butter", "suggestions": []})


def test_second_active_row_is_a_conflict_not_a_driver_error(store: Store, ctx: TenantContext) -> None:
    """The unique index itself refuses a duplicate a pre-check did not see (a racing writer)."""
    ing.add_ingredient(store, ctx, "Salt", unit="g")
    fields = {"name": "SALT", "name_key": "salt", "family": "mass", "base_unit": "g",
              "category": None, "density": None, "yield_pct": 100}
    with pytest.raises(MOError) as caught:
        store.atomic(lambda tx: ing.insert_ingredient(tx, ctx, fields), tenant_id=ctx.tenant_id)
    assert caught.value.code.value == "conflict"
    assert caught.value.__cause__ is not None  # the driver error is kept as the cause


def test_many_soft_deleted_duplicates_are_allowed(store: Store, ctx: TenantContext) -> None:
    for _ in range(3):
        ing.add_ingredient(store, ctx, "Basil", unit="g")
        ing.delete_ingredient(store, ctx, "basil")
    with store.transaction() as tx:
        rows = tx.all("testing.ingredients", {"tenant_id": ctx.tenant_id})
    assert len(rows) == 3 and all(r["deleted_at"] is not None for r in rows)
    assert _code(ing.delete_ingredient, store, ctx, "basil")[0] == "not_found"


def test_delete_then_recreate_inside_one_transaction(store: Store, ctx: TenantContext) -> None:
    first = ing.add_ingredient(store, ctx, "Thyme", unit="g")
    fields = {"name": "Thyme", "name_key": "thyme", "family": "mass", "base_unit": "g",
              "category": None, "density": None, "yield_pct": 100}

    def work(tx: Tx) -> int:
        params = {"tenant_id": ctx.tenant_id, "id": first.id}
        tx.run("ingredients.soft_delete", params)
        tx.run("ingredients.soft_delete_names", params)
        return ing.insert_ingredient(tx, ctx, fields)

    second_id = store.atomic(work, tenant_id=ctx.tenant_id)
    assert second_id != first.id
    with store.transaction() as tx:
        assert ing.find_active(tx, ctx, "thyme")["id"] == second_id


def test_restore_brings_back_names_and_refuses_an_active_name(store: Store, ctx: TenantContext) -> None:
    ing.add_ingredient(store, ctx, "Cream", unit="ml", density="1.01", category="dairy")
    ing.add_alias(store, ctx, "cream", "Double Cream")
    deleted = ing.delete_ingredient(store, ctx, "double cream")
    assert deleted.deleted
    restored = ing.restore_ingredient(store, ctx, "Cream")
    assert not restored.deleted and restored.aliases == ("Double Cream",)
    ing.delete_ingredient(store, ctx, "cream")
    ing.add_ingredient(store, ctx, "Double Cream", unit="ml")
    assert _code(ing.restore_ingredient, store, ctx, "cream")[0] == "conflict"


def test_soft_delete_emits_ingredient_deleted(store: Store, ctx: TenantContext) -> None:
    created = ing.add_ingredient(store, ctx, "Leek", unit="g", yield_pct=60)
    ing.delete_ingredient(store, ctx, "leek")
    with store.transaction() as tx:
        events = tx.all("testing.events", {"tenant_id": ctx.tenant_id})
    assert [(e["event_type"], e["aggregate_id"]) for e in events[-2:]] == [
        ("ingredient.created", str(created.id)), ("ingredient.deleted", str(created.id))]


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"unit": "furlong"}, "text"),
    ({"unit": "kg", "density": "-1"}, "density"),
    ({"unit": "g", "yield_pct": "0"}, "yield_pct"),
    ({"unit": "g", "yield_pct": "120"}, "yield_pct"),
    ({"unit": "g", "density": float("nan")}, "density"),
])
def test_bad_ingredient_fields_are_validation_errors(store: Store, ctx: TenantContext, kwargs: dict, field: str) -> None:
    code, details = _code(ing.add_ingredient, store, ctx, "Thing", **kwargs)
    assert code == "validation_error" and field in (details.get("field"), *details)
    with store.transaction() as tx:
        assert tx.all("testing.ingredients", {"tenant_id": ctx.tenant_id}) == []


def test_tenants_do_not_see_each_other(store: Store, ctx: TenantContext, other_ctx: TenantContext) -> None:
    ing.add_ingredient(store, ctx, "Saffron", unit="g")
    assert _code(ing.delete_ingredient, store, other_ctx, "saffron")[0] == "not_found"
    assert ing.add_ingredient(store, other_ctx, "Saffron", unit="g").name == "Saffron"


def test_deleting_and_restoring_an_ingredient_recosts_its_recipes(store: Store, ctx: TenantContext) -> None:
    from decimal import Decimal

    from mo.services import costs, recipes

    ing.add_ingredient(store, ctx, "Rice", unit="g")
    costs.update_cost(store, ctx, "rice", "2.00", per="kg", idempotency_key="rice-1")
    recipes.save_recipe(store, ctx, "Rice Bowl", yield_qty=1, yield_unit="portion",
                        lines=[{"ingredient": "rice", "qty": 250, "unit": "g"}])

    def bowl():
        return recipes.recipes_frame(store, ctx).set_index("name").loc["Rice Bowl"]

    assert bool(bowl()["complete"]) and bowl()["total_cost"] == Decimal("0.5")
    ing.delete_ingredient(store, ctx, "rice")
    assert not bool(bowl()["complete"]) and bowl()["missing"] == "Rice: deleted"
    ing.restore_ingredient(store, ctx, "rice")
    assert bool(bowl()["complete"]) and bowl()["total_cost"] == Decimal("0.5")
