-- share: the part of a sub-recipe's whole yield a line uses (qty_base ÷ the sub's yield_base_qty,
-- exact_div: truncated to 12 places). Kept current by the recipe services whenever a line or a
-- yield is written, so a recompute multiplies (share × sub total) instead of dividing per line:
-- in DuckDB a DECIMAL(38) division or rescale is a 128-bit division, the dominant cost at scale.
-- NULL on ingredient lines. No extra indexes here: DuckDB joins by hash, and an ART index would
-- only slow the bulk recipe import.
ALTER TABLE recipe_lines ADD COLUMN share DECIMAL(38, 12);
UPDATE recipe_lines SET share = exact_div(recipe_lines.qty_base, r.yield_base_qty)
FROM recipes r
WHERE r.tenant_id = recipe_lines.tenant_id AND r.id = recipe_lines.sub_recipe_id;
