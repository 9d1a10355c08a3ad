"""Deterministic benchmark data: a recipe graph of a given depth and a large price list."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261126
UNITS = ("g", "ml", "each")
PACKS = {"g": ("1 kg", "6 x 1 kg", "500 g", "bag 25 kg"), "ml": ("1 l", "6 x 1 l", "12/500ml"), "each": ("dozen", "case of 24", "each")}


@dataclass(frozen=True)
class RecipeBook:
    ingredients: pd.DataFrame  # name, unit
    costs: pd.DataFrame        # item, price, pack, unit  (a canonical price list)
    lines: pd.DataFrame        # the long recipe format import_recipes takes


def ingredient_names(count: int) -> list[str]:
    return [f"ingredient {i:06d}" for i in range(count)]


def recipe_book(*, recipes: int, lines_per_recipe: int = 8, depth: int = 5,
                ingredients: int = 5_000, seed: int = SEED) -> RecipeBook:
    """`recipes` recipes in `depth` levels; each above level 0 uses 1–2 recipes one level down."""
    rng = np.random.default_rng(seed)
    names = ingredient_names(ingredients)
    units = rng.choice(UNITS, size=ingredients)
    ingredient_frame = pd.DataFrame({"name": names, "unit": units})
    costs = pd.DataFrame({
        "item": names,
        "price": [f"{p:.2f}" for p in rng.uniform(0.5, 80, size=ingredients)],
        "pack": [PACKS[u][i % len(PACKS[u])] for i, u in enumerate(units)],
        "unit": units,
    })
    level_of = np.sort(rng.integers(0, depth, size=recipes))
    level_of[: max(1, recipes // (depth * 4))] = 0
    recipe_names = np.array([f"recipe {i:07d}" for i in range(recipes)])
    return RecipeBook(ingredient_frame, costs, _lines(rng, recipe_names, level_of, names, units, lines_per_recipe))


def _lines(rng: np.random.Generator, recipe_names: np.ndarray, level_of: np.ndarray, names: list[str],
           units: np.ndarray, per_recipe: int) -> pd.DataFrame:
    n = len(recipe_names)
    by_level = {lvl: np.flatnonzero(level_of == lvl) for lvl in np.unique(level_of)}
    subs = np.where(level_of > 0, rng.integers(1, 3, size=n), 0)
    owner = np.repeat(np.arange(n), per_recipe)
    slot = np.tile(np.arange(per_recipe), n)
    is_sub = slot < subs[owner]
    item_idx = rng.integers(0, len(names), size=len(owner))
    lower = np.array([rng.choice(by_level[max(level_of[o] - 1, 0)]) if s else 0
                      for o, s in zip(owner[is_sub], is_sub[is_sub])], dtype=np.int64)
    item = np.array(names, dtype=object)[item_idx]
    item[is_sub] = recipe_names[lower]
    ing_unit = units[item_idx]
    qty = np.round(rng.uniform(1, 400, size=len(owner)), 1)
    qty[is_sub] = np.round(rng.uniform(0.1, 2, size=int(is_sub.sum())), 2)
    unit = np.where(is_sub, "batch", ing_unit)
    return pd.DataFrame({
        "recipe": recipe_names[owner], "yield_qty": "1", "yield_unit": "batch", "menu_price": "",
        "kind": np.where(is_sub, "recipe", "ingredient"), "item": item,
        "qty": qty.astype(str), "unit": unit, "waste_pct": np.where(slot % 5 == 4, "5", ""),
    })


def price_list_csv(path: Path, *, rows: int, items: int, seed: int = SEED) -> Path:
    """A supplier list of `rows` SKUs naming `items` distinct ingredients (all in grams)."""
    rng = np.random.default_rng(seed)
    item = rng.integers(0, items, size=rows)
    frame = pd.DataFrame({
        "sku": [f"SKU{i:08d}" for i in range(rows)],
        "item": [f"ingredient {i:06d}" for i in item],
        "price": np.char.mod("%.2f", rng.uniform(0.5, 90, size=rows)),
        "pack": np.array(["1 kg", "6 x 1 kg", "500 g", "bag 25 kg", "2 x 6 x 330 g"])[rng.integers(0, 5, size=rows)],
        "unit": "g",
    })
    frame.to_csv(path, index=False)
    return path


# ------------------------------------------------------------------------ a tenant for sanity()

_ID_BASE = 1_000_000_000  # explicit ids, far above anything the sequences hand out in a bench


def sanity_world(tenant_id: str, *, events: int, cost_rows: int, batches: int = 100,
                 recipes: int = 20_000, lines_per_recipe: int = 4) -> dict[str, pd.DataFrame]:
    """A consistent tenant as the services would have written it, table by table, for the
    sanity checks: cost_rows/2 ingredients with a manual and an imported cost each (and one
    ingredient.cost.updated event per cost row: by idempotency key and cost_id, or by batch and
    ingredient_id), `batches` completed imports with one import.completed each, `recipes`
    recipes costed after those costs, and recipe events up to `events` events in all."""
    n_ing = cost_rows // 2
    ing = np.arange(n_ing, dtype=np.int64) + _ID_BASE
    batch = np.arange(batches, dtype=np.int64) + 2 * _ID_BASE
    cost = np.arange(cost_rows, dtype=np.int64) + 3 * _ID_BASE
    recipe = np.arange(recipes, dtype=np.int64) + 4 * _ID_BASE
    past = pd.Timestamp("2024-01-01", tz="UTC")
    tables = {
        "ingredients": pd.DataFrame({
            "tenant_id": tenant_id, "id": ing, "name": [f"ingredient {i}" for i in range(n_ing)],
            "family": "mass", "base_unit": "g"}).assign(name_key=lambda f: f["name"]),
        "import_batches": pd.DataFrame({
            "tenant_id": tenant_id, "id": batch, "kind": "price_list",
            "idempotency_key": [f"import-{i}" for i in range(batches)],
            "content_hash": [f"h{i}" for i in range(batches)], "status": "completed", "rows": 1}),
        "ingredient_costs": _sanity_costs(tenant_id, ing, batch, cost, past),
        "recipes": pd.DataFrame({
            "tenant_id": tenant_id, "id": recipe, "name": [f"recipe {i}" for i in range(recipes)],
            "yield_qty": 1, "yield_unit": "each", "yield_family": "count", "yield_base": "each",
            "yield_base_qty": 1}).assign(name_key=lambda f: f["name"]),
        "recipe_lines": pd.DataFrame({
            "tenant_id": tenant_id,
            "recipe_id": np.repeat(recipe, lines_per_recipe),
            "position": np.tile(np.arange(lines_per_recipe), recipes),
            "ingredient_id": ing[np.arange(recipes * lines_per_recipe) * 7919 % n_ing],
            "qty": 10, "unit": "g", "family": "mass", "base_unit": "g", "qty_base": 10}),
        "recipe_costs": pd.DataFrame({
            "tenant_id": tenant_id, "recipe_id": recipe, "total_cost": 1, "unit_cost": 1,
            "complete": True, "missing": "[]"}),
    }
    tables["event_log"] = _sanity_events(tenant_id, ing, batch, cost, recipe, events)
    return tables


def _sanity_costs(tenant_id: str, ing: np.ndarray, batch: np.ndarray, cost: np.ndarray,
                  past: pd.Timestamp) -> pd.DataFrame:
    manual = np.arange(len(cost)) % 2 == 0  # even: the manual cost of ingredient i // 2
    owner = ing[np.arange(len(cost)) // 2]
    return pd.DataFrame({
        "tenant_id": tenant_id, "id": cost, "ingredient_id": owner, "price": 2, "pack": "1 kg",
        "pack_qty": 1000, "unit_cost": "0.002", "effective_at": past,
        "source": np.where(manual, "manual", "import"),
        "batch_id": pd.array(np.where(manual, None, batch[(owner - _ID_BASE) % len(batch)]),
                             dtype="Int64"),
        "idempotency_key": np.where(manual, [f"cost-{c}" for c in cost], None)})


def _sanity_events(tenant_id: str, ing: np.ndarray, batch: np.ndarray, cost: np.ndarray,
                   recipe: np.ndarray, events: int) -> pd.DataFrame:
    costs = _sanity_costs(tenant_id, ing, batch, cost, pd.Timestamp("2024-01-01", tz="UTC"))
    manual = costs["source"] == "manual"
    parts = [
        pd.DataFrame({"event_type": "ingredient.created", "aggregate_type": "ingredient",
                      "aggregate_id": ing.astype(str),
                      "payload": [f'{{"name": "ingredient {i - _ID_BASE}"}}' for i in ing]}),
        pd.DataFrame({"event_type": "ingredient.cost.updated", "aggregate_type": "ingredient",
                      "aggregate_id": costs["ingredient_id"].astype(str),
                      "payload": [f'{{"cost_id": {c}, "ingredient_id": {i}, "new_unit_cost": "0.002"}}'
                                  if m else f'{{"ingredient_id": {i}, "new_unit_cost": "0.002"}}'
                                  for c, i, m in zip(costs["id"], costs["ingredient_id"], manual)],
                      "idempotency_key": costs["idempotency_key"],
                      "batch_id": costs["batch_id"]}),
        pd.DataFrame({"event_type": "import.completed", "aggregate_type": "import_batch",
                      "aggregate_id": batch.astype(str), "payload": '{"rows": 1}',
                      "batch_id": pd.array(batch, dtype="Int64")}),
        pd.DataFrame({"event_type": "recipe.saved", "aggregate_type": "recipe",
                      "aggregate_id": recipe.astype(str), "payload": '{"lines": 4}'}),
    ]
    rest = max(0, events - sum(len(p) for p in parts))
    parts.append(pd.DataFrame({"event_type": "recipe.recomputed", "aggregate_type": "recipe",
                               "aggregate_id": recipe[np.arange(rest) % len(recipe)].astype(str),
                               "payload": '{"cause": "bench"}'}))
    frame = pd.concat(parts, ignore_index=True)
    frame.insert(0, "tenant_id", tenant_id)
    return frame.astype({"idempotency_key": object, "batch_id": "Int64"})
