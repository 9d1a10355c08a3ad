-- share: the part of a sub-recipe's whole yield a line uses (qty_base ÷ the sub's yield_base_qty,
-- exact_div: truncated to 12 places). Kept current by the recipe services whenever a line or a
-- yield is written, so a recompute multiplies (share × sub total) instead of dividing per line.
-- NULL on ingredient lines. The indexes serve the recompute's walks: upward from a sub-recipe to
-- the recipes using it, and from an ingredient to the recipes using it.
ALTER TABLE recipe_lines ADD COLUMN share NUMERIC(38, 12);
UPDATE recipe_lines SET share = exact_div(recipe_lines.qty_base, r.yield_base_qty)
FROM recipes r
WHERE r.tenant_id = recipe_lines.tenant_id AND r.id = recipe_lines.sub_recipe_id;
CREATE INDEX recipe_lines_sub_recipe ON recipe_lines (tenant_id, sub_recipe_id)
    WHERE sub_recipe_id IS NOT NULL;
CREATE INDEX recipe_lines_ingredient ON recipe_lines (tenant_id, ingredient_id)
    WHERE ingredient_id IS NOT NULL;
