"""Recipes many tests start from, saved through the service (one definition each)."""

from __future__ import annotations

from mo.domain.context import TenantContext
from mo.domain.results import RecipeRecord
from mo.services import recipes
from mo.store import Store


def save_dough(store: Store, ctx: TenantContext) -> RecipeRecord:
    """Dough: 1 kg of flour makes 1 kg (the ingredient "Flour" must exist)."""
    return recipes.save_recipe(
        store,
        ctx,
        "Dough",
        yield_qty=1,
        yield_unit="kg",
        lines=[{"ingredient": "flour", "qty": 1, "unit": "kg"}],
    )


def save_bread(store: Store, ctx: TenantContext) -> RecipeRecord:
    """Bread: 500 g of flour makes one (the ingredient "Flour" must exist)."""
    return recipes.save_recipe(
        store,
        ctx,
        "Bread",
        yield_qty="1",
        yield_unit="each",
        lines=[{"ingredient": "Flour", "qty": "500", "unit": "g"}],
    )
