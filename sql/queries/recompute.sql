-- Set-based recipe costing over the recipe graph (mo/services/recompute.py drives it).
--
-- Work happens in temporary tables that live for one recompute inside the caller's transaction:
--   rc_seed      recipe ids to start from        rc_seed_ing  ingredient ids to start from
--   rc_ids       the scope: seeds + ancestors    rc_scope     scope with level (longest chain down)
--   rc_ing       used ingredients + current cost rc_work      computed recipes (and outside subs)
-- Money is DECIMAL(38,12): every product is CAST back to it, and every quotient goes through
-- exact_div (V006), never through DECIMAL '/' (DuckDB makes that a DOUBLE).

-- name: drop_seed
DROP TABLE IF EXISTS rc_seed
-- name: drop_seed_ing
DROP TABLE IF EXISTS rc_seed_ing
-- name: drop_ids
DROP TABLE IF EXISTS rc_ids
-- name: drop_scope
DROP TABLE IF EXISTS rc_scope
-- name: drop_ing
DROP TABLE IF EXISTS rc_ing
-- name: drop_work
DROP TABLE IF EXISTS rc_work

-- name: create_seed
CREATE TEMP TABLE rc_seed (id BIGINT)
-- name: create_seed_ing
CREATE TEMP TABLE rc_seed_ing (id BIGINT)
-- name: create_ids
CREATE TEMP TABLE rc_ids (id BIGINT)
-- name: create_scope
CREATE TEMP TABLE rc_scope (recipe_id BIGINT, lvl INTEGER)
-- name: create_ing
CREATE TEMP TABLE rc_ing (
    ingredient_id BIGINT, name VARCHAR, family VARCHAR, base_unit VARCHAR,
    density DECIMAL(38, 12), yield_pct DECIMAL(38, 12), unit_cost DECIMAL(38, 12)
)
-- name: create_work
CREATE TEMP TABLE rc_work (recipe_id BIGINT, total DECIMAL(38, 12), missing VARCHAR[])

-- name: seed_from_ingredients
-- Recipes that use one of the seed ingredients directly; their ancestors follow in scope_ancestors.
INSERT INTO rc_seed (id)
SELECT DISTINCT l.recipe_id
FROM recipe_lines l
WHERE l.tenant_id = :tenant_id AND l.ingredient_id IN (SELECT id FROM rc_seed_ing)

-- name: scope_all
INSERT INTO rc_ids (id)
SELECT id FROM recipes WHERE tenant_id = :tenant_id AND deleted_at IS NULL

-- name: scope_ancestors
-- Seeds plus every recipe above them. The walk passes through deleted recipes (a deleted seed's
-- parents must be recomputed too), but only active recipes are costed.
INSERT INTO rc_ids (id)
WITH RECURSIVE up(id) AS (
    SELECT id FROM rc_seed
    UNION
    SELECT l.recipe_id
    FROM up
    JOIN recipe_lines l ON l.tenant_id = :tenant_id AND l.sub_recipe_id = up.id
)
SELECT r.id FROM recipes r
WHERE r.tenant_id = :tenant_id AND r.deleted_at IS NULL AND r.id IN (SELECT id FROM up)

-- name: levels
-- A recipe's level is its longest chain of in-scope sub-recipes below it (0: none in scope), so
-- computing levels in order finds every in-scope sub already costed. UNION keeps one row per
-- (recipe, depth); :max_depth stops the walk if a cycle ever slipped past the save-time check.
INSERT INTO rc_scope (recipe_id, lvl)
WITH RECURSIVE depth(id, d) AS (
    SELECT id, 0 FROM rc_ids
    UNION
    SELECT l.recipe_id, depth.d + 1
    FROM depth
    JOIN recipe_lines l ON l.tenant_id = :tenant_id AND l.sub_recipe_id = depth.id
    JOIN rc_ids s ON s.id = l.recipe_id
    WHERE depth.d < :max_depth
)
SELECT id, MAX(d) FROM depth GROUP BY id

-- name: max_level
SELECT COUNT(*) AS recipes, COALESCE(MAX(lvl), -1) AS max_level FROM rc_scope

-- name: scope_edges
-- Sub-recipe edges inside the scope: only read to name a cycle's path.
SELECT l.recipe_id AS parent, l.sub_recipe_id AS child, p.name AS parent_name, c.name AS child_name
FROM recipe_lines l
JOIN rc_scope s ON s.recipe_id = l.recipe_id
JOIN rc_scope t ON t.recipe_id = l.sub_recipe_id
JOIN recipes p ON p.tenant_id = :tenant_id AND p.id = l.recipe_id AND p.deleted_at IS NULL
JOIN recipes c ON c.tenant_id = :tenant_id AND c.id = l.sub_recipe_id AND c.deleted_at IS NULL
WHERE l.tenant_id = :tenant_id

-- name: load_ingredients
-- Every ingredient the scope's lines use, with its current cost: latest effective_at <= now
-- (the transaction's clock, as costs.now), ties by highest id. Deleted ingredients have no cost.
INSERT INTO rc_ing (ingredient_id, name, family, base_unit, density, yield_pct, unit_cost)
WITH used AS (
    SELECT DISTINCT l.ingredient_id
    FROM recipe_lines l
    JOIN rc_scope s ON s.recipe_id = l.recipe_id
    WHERE l.tenant_id = :tenant_id AND l.ingredient_id IS NOT NULL
),
cur AS (
    SELECT DISTINCT ON (c.ingredient_id) c.ingredient_id, c.unit_cost
    FROM ingredient_costs c
    WHERE c.tenant_id = :tenant_id AND c.effective_at <= current_timestamp
      AND c.ingredient_id IN (SELECT ingredient_id FROM used)
    ORDER BY c.ingredient_id, c.effective_at DESC, c.id DESC
)
SELECT i.id, i.name, i.family, i.base_unit, i.density, i.yield_pct,
       CASE WHEN i.deleted_at IS NULL THEN cur.unit_cost END
FROM ingredients i
LEFT JOIN cur ON cur.ingredient_id = i.id
WHERE i.tenant_id = :tenant_id AND i.id IN (SELECT ingredient_id FROM used)

-- name: preload_outside
-- Sub-recipes used by the scope but outside it keep their stored cost: load it once.
INSERT INTO rc_work (recipe_id, total, missing)
SELECT c.recipe_id, c.total_cost,
       CASE WHEN c.complete THEN NULL ELSE CAST(c.missing AS VARCHAR[]) END
FROM recipe_costs c
WHERE c.tenant_id = :tenant_id
  AND c.recipe_id IN (
      SELECT l.sub_recipe_id FROM recipe_lines l JOIN rc_scope s ON s.recipe_id = l.recipe_id
      WHERE l.tenant_id = :tenant_id AND l.sub_recipe_id IS NOT NULL)
  AND c.recipe_id NOT IN (SELECT recipe_id FROM rc_scope)

-- name: compute_level
-- Cost every recipe of one level. Ingredient line: qty in the ingredient's base unit (via its
-- density between mass and volume) × unit cost ÷ (yield_pct/100) ÷ (1 − waste_pct/100).
-- Sub-recipe line: qty in the sub's yield base unit × sub total ÷ sub yield_base_qty.
-- A line without a cost or a conversion adds nothing and names its item in missing; a costed
-- but incomplete sub-recipe passes its missing items up. missing is NULL when complete.
INSERT INTO rc_work (recipe_id, total, missing)
WITH lv AS (
    SELECT recipe_id FROM rc_scope WHERE lvl = :lvl
),
ln AS (
    SELECT l.recipe_id,
           CASE WHEN l.ingredient_id IS NOT NULL THEN
               exact_div(CAST(exact_div(CAST(CAST(
                   CASE WHEN l.base_unit = i.base_unit THEN l.qty_base
                        WHEN l.family = 'volume' AND i.family = 'mass'
                            THEN CAST(l.qty_base * i.density AS DECIMAL(38, 12))
                        WHEN l.family = 'mass' AND i.family = 'volume'
                            THEN exact_div(l.qty_base, i.density)
                   END * i.unit_cost AS DECIMAL(38, 12)) * 100 AS DECIMAL(38, 12)), i.yield_pct)
                   * 100 AS DECIMAL(38, 12)), 100 - l.waste_pct)
           WHEN r.deleted_at IS NULL AND r.yield_base = l.base_unit THEN
               exact_div(CAST(l.qty_base * w.total AS DECIMAL(38, 12)), r.yield_base_qty)
           END AS cost,
           COALESCE(i.name, r.name) AS item,
           w.missing AS sub_missing
    FROM lv
    JOIN recipe_lines l ON l.tenant_id = :tenant_id AND l.recipe_id = lv.recipe_id
    LEFT JOIN rc_ing i ON i.ingredient_id = l.ingredient_id
    LEFT JOIN recipes r ON r.tenant_id = :tenant_id AND r.id = l.sub_recipe_id
    LEFT JOIN rc_work w ON w.recipe_id = l.sub_recipe_id
),
known AS (
    SELECT recipe_id, SUM(cost) AS total FROM ln GROUP BY recipe_id
),
names AS (
    SELECT recipe_id, item AS name FROM ln WHERE cost IS NULL
    UNION
    SELECT recipe_id, unnest(sub_missing) AS name FROM ln WHERE cost IS NOT NULL AND sub_missing IS NOT NULL
),
missing AS (
    SELECT recipe_id, array_agg(name ORDER BY name) AS names FROM names GROUP BY recipe_id
)
SELECT lv.recipe_id, CAST(COALESCE(known.total, 0) AS DECIMAL(38, 12)), missing.names
FROM lv
LEFT JOIN known ON known.recipe_id = lv.recipe_id
LEFT JOIN missing ON missing.recipe_id = lv.recipe_id

-- name: emit_changes
-- One recipe.recomputed event per scoped recipe whose total or completeness changed (a first
-- costing counts as a change). Amounts are plain decimal text, as in the other events.
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload)
SELECT :tenant_id, 'recipe.recomputed', 'recipe', CAST(r.id AS VARCHAR),
       json_object(
           'recipe', r.name,
           'old_total', rtrim(rtrim(CAST(c.total_cost AS VARCHAR), '0'), '.'),
           'new_total', rtrim(rtrim(CAST(w.total AS VARCHAR), '0'), '.'),
           'complete', w.missing IS NULL,
           'cause', CAST(:cause AS VARCHAR))
FROM rc_scope s
JOIN rc_work w ON w.recipe_id = s.recipe_id
JOIN recipes r ON r.tenant_id = :tenant_id AND r.id = s.recipe_id AND r.deleted_at IS NULL
LEFT JOIN recipe_costs c ON c.tenant_id = :tenant_id AND c.recipe_id = s.recipe_id
WHERE c.recipe_id IS NULL OR c.total_cost <> w.total OR c.complete <> (w.missing IS NULL)

-- name: delete_costs
DELETE FROM recipe_costs
WHERE tenant_id = :tenant_id AND recipe_id IN (SELECT recipe_id FROM rc_scope)

-- name: insert_costs
-- unit_cost is per 1 yield unit (total ÷ yield_qty); food_cost_pct = unit cost ÷ menu price × 100.
INSERT INTO recipe_costs (tenant_id, recipe_id, total_cost, unit_cost, food_cost_pct, complete,
                          missing, computed_at)
SELECT :tenant_id, r.id, w.total, exact_div(w.total, r.yield_qty),
       CASE WHEN r.menu_price IS NOT NULL THEN
           exact_div(CAST(exact_div(w.total, r.yield_qty) * 100 AS DECIMAL(38, 12)), r.menu_price)
       END,
       w.missing IS NULL,
       COALESCE(to_json(w.missing), CAST('[]' AS JSON)),
       current_timestamp
FROM rc_scope s
JOIN rc_work w ON w.recipe_id = s.recipe_id
JOIN recipes r ON r.tenant_id = :tenant_id AND r.id = s.recipe_id AND r.deleted_at IS NULL
