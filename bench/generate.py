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
