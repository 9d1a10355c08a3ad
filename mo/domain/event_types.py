"""The registry of event types: every event mo writes has one of these (a test reads the SQL
for the types it inserts). Here, in the domain layer, so that pure checks (mo.domain.checks,
which HttpClient uses) read it without loading the services."""

from __future__ import annotations

EVENT_TYPES: frozenset[str] = frozenset(
    {
        "tenant.created",
        "api_key.created",
        "ingredient.created",
        "ingredient.alias_added",
        "ingredient.deleted",
        "ingredient.restored",
        "ingredient.cost.updated",
        "ingredient.cost_policy.set",
        "ingredient.conversion.saved",
        "ingredient.conversion.deleted",
        "import.completed",
        "supplier.saved",
        "supplier.deleted",
        "recipe.saved",
        "recipe.deleted",
        "recipe.restored",
        "recipes.imported",
        "recipe.recomputed",
    }
)
