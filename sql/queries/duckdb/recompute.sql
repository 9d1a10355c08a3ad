-- The embedded DuckDB store's resident recipe graph (mo/store/resident_graph.py) and the costing
-- that uses it (mo/services/resident_costing.py): what the copy holds, and the one read a cost
-- update still makes with it. Together they replace scope_walk, scope_lines and compute, which
-- read recipe_lines and run a dozen operators on every update; emit_changes and write_costs
-- then read rc_scope and rc_work as the service stages them (Arrow views, not tables).

-- name: graph_snapshot
-- Binds a table of the file, which fixes the transaction's snapshot if nothing did yet.
SELECT 1 FROM recipes WHERE tenant_id = :tenant_id AND deleted_at IS NULL LIMIT 0

-- name: graph_lines
-- Ordered as the copy holds them: each recipe's lines together.
SELECT recipe_id, ingredient_id, sub_recipe_id, family, base_unit, qty_base, waste_pct, share
FROM recipe_lines
WHERE tenant_id = :tenant_id
ORDER BY recipe_id

-- name: graph_recipes
-- Deleted recipes too: the walk passes through them, and a line may use one as its sub.
SELECT id, name, yield_qty, menu_price, updated_at, deleted_at IS NOT NULL AS deleted, yield_base,
       yield_base_qty
FROM recipes
WHERE tenant_id = :tenant_id
ORDER BY id

-- name: graph_ingredients
-- Deleted ones too: a line may still use one (it is then missing).
SELECT id, name, family, base_unit, density, yield_pct, deleted_at IS NOT NULL AS deleted
FROM ingredients
WHERE tenant_id = :tenant_id
ORDER BY id

-- name: resident_reads
-- What a resident recompute still reads, in one statement (each costs a millisecond or more):
-- kind 'cost', the unit cost in effect now of each of the scope's ingredients (compute's
-- `cur`: latest effective_at <= the transaction's clock, ties by highest id); kind 'stored', the
-- stored figures of the scope's recipes (their old ones) and of the subs outside it (their
-- totals and missing items). rc_resident_ids (staged by the service) holds the ids: kind 0
-- ingredients, 1 recipes.
SELECT 'cost' AS kind, c.ingredient_id AS id,
       arg_max(c.unit_cost, CAST(epoch_us(c.effective_at) AS HUGEINT) * 1000000000000 + c.id)
           AS amount,
       CAST(NULL AS BOOLEAN) AS complete, CAST(NULL AS VARCHAR) AS missing,
       CAST(NULL AS TIMESTAMPTZ) AS computed_at
FROM ingredient_costs c
WHERE c.tenant_id = :tenant_id AND c.effective_at <= current_timestamp
  AND c.ingredient_id IN (SELECT id FROM rc_resident_ids WHERE kind = 0)
GROUP BY c.ingredient_id
UNION ALL
SELECT 'stored', recipe_id, total_cost, complete, CAST(missing AS VARCHAR), computed_at
FROM recipe_costs
WHERE tenant_id = :tenant_id AND recipe_id IN (SELECT id FROM rc_resident_ids WHERE kind = 1)
