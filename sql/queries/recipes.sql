-- Recipes and their lines (mo/services/recipes.py). Costs are written by recompute.sql.

-- name: by_key
SELECT id, name, yield_qty, yield_unit, yield_family, yield_base, yield_base_qty, menu_price
FROM recipes
WHERE tenant_id = :tenant_id AND name_key = :name_key AND deleted_at IS NULL

-- name: by_id
-- Deleted rows included on purpose: a record is returned after delete and restore.
SELECT r.id, r.name, r.yield_qty, r.yield_unit, r.menu_price, r.deleted_at,
       (SELECT COUNT(*) FROM recipe_lines l WHERE l.tenant_id = :tenant_id AND l.recipe_id = r.id) AS lines
FROM recipes r
WHERE r.tenant_id = :tenant_id AND r.id = :id

-- name: insert
INSERT INTO recipes (tenant_id, name, name_key, yield_qty, yield_unit, yield_family, yield_base,
                     yield_base_qty, menu_price)
VALUES (:tenant_id, :name, :name_key, :yield_qty, :yield_unit, :yield_family, :yield_base,
        :yield_base_qty, :menu_price)
RETURNING id

-- name: update
UPDATE recipes
SET name = :name, yield_qty = :yield_qty, yield_unit = :yield_unit, yield_family = :yield_family,
    yield_base = :yield_base, yield_base_qty = :yield_base_qty, menu_price = :menu_price,
    updated_at = current_timestamp
WHERE tenant_id = :tenant_id AND id = :id AND deleted_at IS NULL

-- name: delete_lines
DELETE FROM recipe_lines WHERE tenant_id = :tenant_id AND recipe_id = :recipe_id

-- name: insert_line
INSERT INTO recipe_lines (tenant_id, recipe_id, position, ingredient_id, sub_recipe_id, qty, unit,
                          family, base_unit, qty_base, waste_pct)
VALUES (:tenant_id, :recipe_id, :position, :ingredient_id, :sub_recipe_id, :qty, :unit,
        :family, :base_unit, :qty_base, :waste_pct)

-- name: ancestor_edges
-- Every (parent → child) edge leading into :recipe_id from active recipes above it: a new line
-- using one of these parents (or the recipe itself) would close a cycle.
WITH RECURSIVE up(id) AS (
    SELECT CAST(:recipe_id AS BIGINT)
    UNION
    SELECT l.recipe_id
    FROM up
    JOIN recipe_lines l ON l.tenant_id = :tenant_id AND l.sub_recipe_id = up.id
    JOIN recipes r ON r.tenant_id = :tenant_id AND r.id = l.recipe_id AND r.deleted_at IS NULL
)
SELECT l.recipe_id AS parent, l.sub_recipe_id AS child, p.name AS parent_name
FROM recipe_lines l
JOIN up ON up.id = l.sub_recipe_id
JOIN recipes p ON p.tenant_id = :tenant_id AND p.id = l.recipe_id AND p.deleted_at IS NULL
WHERE l.tenant_id = :tenant_id

-- name: sub_lines_of
-- The sub-recipes a (possibly deleted) recipe uses: restore checks them for cycles.
SELECT DISTINCT l.sub_recipe_id AS id, r.name
FROM recipe_lines l
JOIN recipes r ON r.tenant_id = :tenant_id AND r.id = l.sub_recipe_id AND r.deleted_at IS NULL
WHERE l.tenant_id = :tenant_id AND l.recipe_id = :recipe_id

-- name: soft_delete
UPDATE recipes SET deleted_at = current_timestamp
WHERE tenant_id = :tenant_id AND id = :id AND deleted_at IS NULL

-- name: latest_deleted
-- Restore looks among deleted rows on purpose.
SELECT id, name, deleted_at FROM recipes
WHERE tenant_id = :tenant_id AND name_key = :name_key AND deleted_at IS NOT NULL
ORDER BY deleted_at DESC, id DESC
LIMIT 1

-- name: restore
UPDATE recipes SET deleted_at = NULL, updated_at = current_timestamp
WHERE tenant_id = :tenant_id AND id = :id AND deleted_at IS NOT NULL

-- name: frame
SELECT r.name, r.yield_qty, r.yield_unit, c.total_cost, c.unit_cost, r.menu_price,
       c.food_cost_pct, c.complete, c.missing, c.computed_at
FROM recipes r
LEFT JOIN recipe_costs c ON c.tenant_id = :tenant_id AND c.recipe_id = r.id
WHERE r.tenant_id = :tenant_id AND (r.deleted_at IS NULL OR :include_deleted)
ORDER BY r.name_key, r.id

-- name: breakdown
-- The leaf ingredients of one recipe for its whole yield, summed over every path and level.
-- mult is how many times a (sub-)recipe's whole yield goes into the top recipe. A path through
-- a deleted sub-recipe or a unit that no longer matches its yield stops (the recipe lists it
-- as missing); an ingredient without a current cost or a conversion gets no qty/cost.
WITH RECURSIVE walk(recipe_id, mult, depth) AS (
    SELECT CAST(:recipe_id AS BIGINT), CAST(1 AS DECIMAL(38, 12)), 0
    UNION ALL
    SELECT l.sub_recipe_id,
           CAST(exact_div(CAST(walk.mult * l.qty_base AS DECIMAL(38, 12)), r.yield_base_qty)
                AS DECIMAL(38, 12)),
           walk.depth + 1
    FROM walk
    JOIN recipe_lines l ON l.tenant_id = :tenant_id AND l.recipe_id = walk.recipe_id
    JOIN recipes r ON r.tenant_id = :tenant_id AND r.id = l.sub_recipe_id
                  AND r.deleted_at IS NULL AND r.yield_base = l.base_unit
    WHERE walk.depth < :max_depth
),
cur AS (
    SELECT DISTINCT ON (c.ingredient_id) c.ingredient_id, c.unit_cost
    FROM ingredient_costs c
    WHERE c.tenant_id = :tenant_id AND c.effective_at <= current_timestamp
    ORDER BY c.ingredient_id, c.effective_at DESC, c.id DESC
),
leaf AS (
    SELECT i.id, i.name, i.base_unit, l.waste_pct, i.yield_pct,
           CASE WHEN i.deleted_at IS NULL THEN cur.unit_cost END AS unit_cost,
           CAST(walk.mult * CASE
               WHEN l.base_unit = i.base_unit THEN l.qty_base
               WHEN l.family = 'volume' AND i.family = 'mass'
                   THEN CAST(l.qty_base * i.density AS DECIMAL(38, 12))
               WHEN l.family = 'mass' AND i.family = 'volume' THEN exact_div(l.qty_base, i.density)
           END AS DECIMAL(38, 12)) AS qty
    FROM walk
    JOIN recipe_lines l ON l.tenant_id = :tenant_id AND l.recipe_id = walk.recipe_id
    JOIN ingredients i ON i.tenant_id = :tenant_id AND i.id = l.ingredient_id
    LEFT JOIN cur ON cur.ingredient_id = i.id
),
costed AS (
    SELECT id, name, base_unit, qty,
           exact_div(CAST(exact_div(CAST(CAST(qty * unit_cost AS DECIMAL(38, 12)) * 100
                                         AS DECIMAL(38, 12)), yield_pct) * 100 AS DECIMAL(38, 12)),
                     100 - waste_pct) AS cost
    FROM leaf
)
SELECT name AS ingredient,
       CASE WHEN COUNT(*) = COUNT(qty) THEN SUM(qty) END AS qty,
       base_unit AS unit,
       CASE WHEN COUNT(*) = COUNT(cost) THEN SUM(cost) END AS cost
FROM costed
GROUP BY id, name, base_unit
ORDER BY name, id
