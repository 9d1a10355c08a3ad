-- Recipes and their lines (mo/services/recipes.py). Costs are written by recompute.sql.

-- name: by_key
SELECT id, name, yield_qty, yield_unit, yield_family, yield_base, yield_base_qty, menu_price
FROM active_recipes
WHERE tenant_id = :tenant_id AND name_key = :name_key

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

-- name: set_shares
-- share = qty_base ÷ the sub-recipe's yield_base_qty (V007) for the recipe's own sub-recipe lines
-- and for every line using the recipe (its yield may just have changed).
UPDATE recipe_lines SET share = exact_div(recipe_lines.qty_base, r.yield_base_qty)
FROM active_recipes r
WHERE recipe_lines.tenant_id = :tenant_id AND r.tenant_id = :tenant_id
  AND r.id = recipe_lines.sub_recipe_id
  AND (recipe_lines.recipe_id = :recipe_id OR recipe_lines.sub_recipe_id = :recipe_id)

-- name: ancestor_edges
-- Every (parent → child) edge leading into :recipe_id from active recipes above it: a new line
-- using one of these parents (or the recipe itself) would close a cycle.
WITH RECURSIVE up(id) AS (
    SELECT CAST(:recipe_id AS BIGINT)
    UNION
    SELECT l.recipe_id
    FROM up
    JOIN recipe_lines l ON l.tenant_id = :tenant_id AND l.sub_recipe_id = up.id
    JOIN active_recipes r ON r.tenant_id = :tenant_id AND r.id = l.recipe_id
)
SELECT l.recipe_id AS parent, l.sub_recipe_id AS child, p.name AS parent_name
FROM recipe_lines l
JOIN up ON up.id = l.sub_recipe_id
JOIN active_recipes p ON p.tenant_id = :tenant_id AND p.id = l.recipe_id
WHERE l.tenant_id = :tenant_id

-- name: lock_below
-- Two saves running at once must not close a cycle (or too long a chain) between them. Each save
-- has written its own recipe row; this also claims every recipe at or below :ids, so two saves
-- whose new lines meet on one path both claim a row the other wrote, and the loser's write fails
-- as a transaction conflict (Store.atomic retries it; the retry sees the winner's lines).
-- A real (no-op) update, not a row lock, on both engines: PostgreSQL lets a transaction write
-- a row another one only locked (FOR SHARE) and committed, and the depth rule needs only one
-- of the two saves to reach the other's row. The price: two saves sharing a sub-recipe conflict
-- too, and one of them is retried.
UPDATE recipes SET updated_at = updated_at
WHERE tenant_id = :tenant_id AND deleted_at IS NULL AND id IN (
    WITH RECURSIVE down(id) AS (
        SELECT UNNEST(CAST(:ids AS BIGINT[]))
        UNION
        SELECT l.sub_recipe_id
        FROM down
        JOIN recipe_lines l ON l.tenant_id = :tenant_id AND l.recipe_id = down.id
        WHERE l.sub_recipe_id IS NOT NULL
    )
    SELECT id FROM down
)

-- name: chain_levels
-- The longest chain of active recipes through one of :ids, counted as recompute counts levels
-- (a chain of n recipes has n − 1): the longest part above the recipe plus the longest below.
-- One walk goes both ways, each row keeping its direction: up from a sub to the recipes using
-- it, down from a recipe to its subs. Each step is a LATERAL lookup by index from the ids found
-- so far (sub_recipe_id up, the key down; a join to a union of both would scan the tenant's
-- lines at every step on PostgreSQL). Both directions stop at :max_depth, so a chain already too
-- long still ends.
WITH RECURSIVE walk(seed, up, id, d) AS (
    SELECT r.id, way.up, r.id, 0
    FROM active_recipes r CROSS JOIN (VALUES (TRUE), (FALSE)) AS way(up)
    WHERE r.tenant_id = :tenant_id AND r.id IN (SELECT UNNEST(CAST(:ids AS BIGINT[])))
    UNION
    SELECT w.seed, w.up, s.next_id, w.d + 1
    FROM walk w
    CROSS JOIN LATERAL (
        SELECT l.recipe_id AS next_id FROM recipe_lines l
        WHERE w.up AND l.tenant_id = :tenant_id AND l.sub_recipe_id = w.id
        UNION ALL
        SELECT l.sub_recipe_id FROM recipe_lines l
        WHERE NOT w.up AND l.tenant_id = :tenant_id AND l.recipe_id = w.id
          AND l.sub_recipe_id IS NOT NULL
    ) s
    JOIN active_recipes n ON n.tenant_id = :tenant_id AND n.id = s.next_id
    WHERE w.d < :max_depth
),
longest AS (SELECT seed, up, MAX(d) AS d FROM walk GROUP BY seed, up)
SELECT COALESCE(MAX(a.d + b.d), 0) AS levels
FROM longest a
JOIN longest b ON b.seed = a.seed AND NOT b.up
WHERE a.up

-- name: import_ids
-- The recipes an import wrote, active ones only.
SELECT r.id FROM active_recipes r JOIN ri_recipes s ON s.recipe_key = r.name_key
WHERE r.tenant_id = :tenant_id

-- name: sub_lines_of
-- The sub-recipes a (possibly deleted) recipe uses: restore checks them for cycles.
SELECT DISTINCT l.sub_recipe_id AS id, r.name
FROM recipe_lines l
JOIN active_recipes r ON r.tenant_id = :tenant_id AND r.id = l.sub_recipe_id
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
-- One keyset page in (name_key, id) order (see mo/services/paging.py).
SELECT r.name, r.yield_qty, r.yield_unit, c.total_cost, c.unit_cost, r.menu_price,
       c.food_cost_pct, c.complete, c.missing, c.computed_at, r.name_key, r.id
FROM recipes r
LEFT JOIN recipe_costs c ON c.tenant_id = :tenant_id AND c.recipe_id = r.id
WHERE r.tenant_id = :tenant_id AND (r.deleted_at IS NULL OR :include_deleted)
  AND (:first OR (r.name_key >= :after_name AND (r.name_key > :after_name OR r.id > :after_id)))
ORDER BY r.name_key, r.id
LIMIT :limit

-- name: breakdown
-- The leaf ingredients of one recipe for its whole yield, summed over every path and level.
-- mult is how many times a (sub-)recipe's whole yield goes into the top recipe. A path through
-- a deleted sub-recipe or a unit that no longer matches its yield stops there, at a row for that
-- sub-recipe with no qty/cost and costing's reason (`dough: deleted`, `dough: no g→each
-- conversion`: the line's base → the sub's yield base); an ingredient without a current cost
-- or a conversion gets no qty/cost and its reason.
-- The walk keeps one row per sub-recipe and step, not one per path: a recipe using its sub twice,
-- whose sub uses its own twice, and so on, has 2^k paths at depth k (k = 30: a billion). Every
-- row of one step has the same depth, so the window sums, per sub-recipe, what all the paths of
-- that length bring to it, and DISTINCT keeps one row of them (aggregates are not allowed in a
-- recursive term on PostgreSQL; window functions are); `node` then sums each sub-recipe's steps.
-- Rows: at most recipes × :max_depth, as costing's levels.
WITH RECURSIVE walk(recipe_id, mult, depth) AS (
    SELECT CAST(:recipe_id AS BIGINT), CAST(1 AS DECIMAL(38, 12)), 0
    UNION ALL
    SELECT DISTINCT l.sub_recipe_id,
           CAST(SUM(CAST(exact_div(CAST(walk.mult * l.qty_base AS DECIMAL(38, 12)), r.yield_base_qty)
                         AS DECIMAL(38, 12))) OVER (PARTITION BY l.sub_recipe_id)
                AS DECIMAL(38, 12)),
           walk.depth + 1
    FROM walk
    JOIN recipe_lines l ON l.tenant_id = :tenant_id AND l.recipe_id = walk.recipe_id
    JOIN active_recipes r ON r.tenant_id = :tenant_id AND r.id = l.sub_recipe_id
                         AND r.yield_base = l.base_unit
    WHERE walk.depth < :max_depth
),
node AS (
    SELECT recipe_id, CAST(SUM(mult) AS DECIMAL(38, 12)) AS mult FROM walk GROUP BY recipe_id
),
used AS (
    SELECT l.recipe_id, l.ingredient_id, l.family, l.base_unit, l.qty_base, l.waste_pct
    FROM recipe_lines l
    WHERE l.tenant_id = :tenant_id AND l.recipe_id IN (SELECT recipe_id FROM node)
      AND l.ingredient_id IS NOT NULL
),
cur AS (
    -- The offer each cost policy chooses now: cost_offers (V017), as costing reads it.
    SELECT o.ingredient_id, o.unit_cost
    FROM cost_offers(:tenant_id, current_timestamp, (SELECT array_agg(ingredient_id) FROM used)) o
    WHERE o.chosen
),
own_conv AS (
    SELECT c.ingredient_id, c.pair_key, c.from_base, c.from_qty, c.to_base, c.to_qty
    FROM active_ingredient_conversions c
    WHERE c.tenant_id = :tenant_id AND c.ingredient_id IN (SELECT ingredient_id FROM used)
),
edge AS (
    -- As costing's (recompute compute): 1 a = num/den b, both ways; the density is ml→g.
    SELECT ingredient_id, from_base AS a, to_base AS b, to_qty AS num, from_qty AS den
    FROM own_conv
    UNION ALL
    SELECT ingredient_id, to_base, from_base, from_qty, to_qty FROM own_conv
    UNION ALL
    SELECT i.id, 'ml', 'g', i.density, CAST(1 AS DECIMAL(38, 12))
    FROM ingredients i
    WHERE i.tenant_id = :tenant_id AND i.density IS NOT NULL
      AND i.id IN (SELECT ingredient_id FROM used)
      AND i.id NOT IN (SELECT ingredient_id FROM own_conv WHERE pair_key = 'g|ml')
    UNION ALL
    SELECT i.id, 'g', 'ml', CAST(1 AS DECIMAL(38, 12)), i.density
    FROM ingredients i
    WHERE i.tenant_id = :tenant_id AND i.density IS NOT NULL
      AND i.id IN (SELECT ingredient_id FROM used)
      AND i.id NOT IN (SELECT ingredient_id FROM own_conv WHERE pair_key = 'g|ml')
),
factor AS (
    SELECT DISTINCT ON (ingredient_id, src, dst) ingredient_id, src, dst, num, den
    FROM (
        SELECT ingredient_id, a AS src, b AS dst, num, den, 1 AS hops, '' AS via FROM edge
        UNION ALL
        SELECT e1.ingredient_id, e1.a, e2.b, CAST(e1.num * e2.num AS DECIMAL(38, 12)),
               CAST(e1.den * e2.den AS DECIMAL(38, 12)), 2, e1.b
        FROM edge e1
        JOIN edge e2 ON e2.ingredient_id = e1.ingredient_id AND e2.a = e1.b AND e2.b <> e1.a
    ) p
    ORDER BY ingredient_id, src, dst, hops, via
),
leaf AS (
    SELECT i.id, i.name, i.base_unit, l.waste_pct, i.yield_pct,
           CASE WHEN i.deleted_at IS NULL THEN cur.unit_cost END AS unit_cost,
           CASE WHEN i.deleted_at IS NOT NULL THEN i.name || ': deleted'
                WHEN cur.unit_cost IS NULL THEN i.name || ': no cost'
                WHEN l.base_unit <> i.base_unit AND f.num IS NULL
                    THEN i.name || ': no ' || l.base_unit || '→' || i.base_unit || ' conversion'
           END AS reason,
           CAST(node.mult * CASE
               WHEN l.base_unit = i.base_unit THEN l.qty_base
               WHEN f.den = 1 THEN CAST(l.qty_base * f.num AS DECIMAL(38, 12))
               ELSE exact_div(CAST(l.qty_base * f.num AS DECIMAL(38, 12)), f.den)
           END AS DECIMAL(38, 12)) AS qty
    FROM node
    JOIN used l ON l.recipe_id = node.recipe_id
    JOIN ingredients i ON i.tenant_id = :tenant_id AND i.id = l.ingredient_id
    LEFT JOIN cur ON cur.ingredient_id = i.id
    LEFT JOIN factor f ON f.ingredient_id = i.id AND f.src = l.base_unit AND f.dst = i.base_unit
),
blocked AS (
    -- The sub-recipe lines the walk did not follow, as costing's scope_lines and compute judge
    -- them: one row per line of a walked recipe (bounded as the walk is), no qty/cost.
    SELECT r.id, r.name, r.yield_base AS base_unit, CAST(NULL AS DECIMAL(38, 12)) AS qty,
           CASE WHEN r.deleted_at IS NOT NULL THEN r.name || ': deleted'
                ELSE r.name || ': no ' || l.base_unit || '→' || r.yield_base || ' conversion'
           END AS reason,
           CAST(NULL AS DECIMAL(38, 12)) AS cost
    FROM recipe_lines l
    JOIN recipes r ON r.tenant_id = :tenant_id AND r.id = l.sub_recipe_id
    WHERE l.tenant_id = :tenant_id AND l.recipe_id IN (SELECT recipe_id FROM node)
      AND (r.deleted_at IS NOT NULL OR r.yield_base <> l.base_unit)
),
costed AS (
    SELECT 0 AS kind, id, name, base_unit, qty, reason,
           exact_div(CAST(exact_div(CAST(CAST(qty * unit_cost AS DECIMAL(38, 12)) * 100
                                         AS DECIMAL(38, 12)), yield_pct) * 100 AS DECIMAL(38, 12)),
                     100 - waste_pct) AS cost
    FROM leaf
    UNION ALL
    SELECT 1, id, name, base_unit, qty, reason, cost FROM blocked
)
SELECT name AS ingredient,
       CASE WHEN COUNT(*) = COUNT(qty) THEN SUM(qty) END AS qty,
       base_unit AS unit,
       CASE WHEN COUNT(*) = COUNT(cost) THEN SUM(cost) END AS cost,
       MIN(reason) AS reason
FROM costed
GROUP BY kind, id, name, base_unit
ORDER BY name, kind, id

-- ------------------------------------------------------------------------- bulk import
-- ri_recipes / ri_lines are temporary staging tables holding one import's checked rows;
-- amounts arrive as exact decimal text and are CAST on the way in.

-- name: create_ri_recipes
-- Temporary (Tx.create_temp_table): they last for the import's transaction only.
CREATE TEMP TABLE ri_recipes (
    recipe_key VARCHAR, name VARCHAR, row_no BIGINT, yield_qty VARCHAR, yield_unit VARCHAR,
    yield_family VARCHAR, yield_base VARCHAR, yield_base_qty VARCHAR, menu_price VARCHAR
)

-- name: create_ri_lines
CREATE TEMP TABLE ri_lines (
    row_no BIGINT, recipe_key VARCHAR, position INTEGER, kind VARCHAR, item VARCHAR,
    item_key VARCHAR, qty VARCHAR, unit VARCHAR, family VARCHAR, base_unit VARCHAR,
    qty_base VARCHAR, waste_pct VARCHAR
)

-- name: import_problems
-- Rows whose item is unknown, or whose unit cannot measure their sub-recipe (its yield unit
-- comes from this import when it is imported too, else from the stored recipe). An ingredient
-- line in any unit is imported, as save_recipe saves it: costing lists one it cannot convert.
WITH ing AS (
    SELECT n.name_key, i.name, i.family, i.base_unit
    FROM active_ingredient_names n
    JOIN active_ingredients i ON i.tenant_id = n.tenant_id AND i.id = n.ingredient_id
    WHERE n.tenant_id = :tenant_id
),
sub AS (
    SELECT recipe_key, name, yield_base FROM ri_recipes
    UNION ALL
    SELECT r.name_key, r.name, r.yield_base FROM active_recipes r
    WHERE r.tenant_id = :tenant_id
      AND r.name_key NOT IN (SELECT recipe_key FROM ri_recipes)
)
SELECT l.row_no AS "row", 'item' AS "column", l.item AS value,
       CASE WHEN l.kind = 'ingredient' THEN 'unknown ingredient' ELSE 'unknown recipe' END AS problem
FROM ri_lines l
WHERE l.item_key IS NOT NULL AND (
    (l.kind = 'ingredient' AND l.item_key NOT IN (SELECT name_key FROM ing))
    OR (l.kind = 'recipe' AND l.item_key NOT IN (SELECT recipe_key FROM sub)))
UNION ALL
SELECT l.row_no, 'unit', l.unit,
       'cannot measure recipe ' || s.name || ', which yields ' || s.yield_base
FROM ri_lines l JOIN sub s ON s.recipe_key = l.item_key
WHERE l.kind = 'recipe' AND l.base_unit IS NOT NULL AND s.yield_base IS NOT NULL
  AND l.base_unit <> s.yield_base

-- name: import_update_recipes
UPDATE recipes
SET name = s.name, yield_qty = CAST(s.yield_qty AS DECIMAL(38, 12)), yield_unit = s.yield_unit,
    yield_family = s.yield_family, yield_base = s.yield_base,
    yield_base_qty = CAST(s.yield_base_qty AS DECIMAL(38, 12)),
    menu_price = CAST(s.menu_price AS DECIMAL(38, 12)), updated_at = current_timestamp
FROM ri_recipes s
WHERE recipes.tenant_id = :tenant_id AND recipes.name_key = s.recipe_key
  AND recipes.deleted_at IS NULL

-- name: import_insert_recipes
INSERT INTO recipes (tenant_id, name, name_key, yield_qty, yield_unit, yield_family, yield_base,
                     yield_base_qty, menu_price)
SELECT :tenant_id, s.name, s.recipe_key, CAST(s.yield_qty AS DECIMAL(38, 12)), s.yield_unit,
       s.yield_family, s.yield_base, CAST(s.yield_base_qty AS DECIMAL(38, 12)),
       CAST(s.menu_price AS DECIMAL(38, 12))
FROM ri_recipes s
WHERE s.recipe_key NOT IN (
    SELECT name_key FROM active_recipes WHERE tenant_id = :tenant_id)

-- name: import_delete_lines
DELETE FROM recipe_lines
WHERE tenant_id = :tenant_id AND recipe_id IN (
    SELECT r.id FROM active_recipes r JOIN ri_recipes s ON s.recipe_key = r.name_key
    WHERE r.tenant_id = :tenant_id)

-- name: import_insert_lines
INSERT INTO recipe_lines (tenant_id, recipe_id, position, ingredient_id, sub_recipe_id, qty, unit,
                          family, base_unit, qty_base, waste_pct)
SELECT :tenant_id, r.id, l.position, n.ingredient_id, sub.id, CAST(l.qty AS DECIMAL(38, 12)),
       l.unit, l.family, l.base_unit, CAST(l.qty_base AS DECIMAL(38, 12)),
       CAST(l.waste_pct AS DECIMAL(38, 12))
FROM ri_lines l
JOIN active_recipes r ON r.tenant_id = :tenant_id AND r.name_key = l.recipe_key
LEFT JOIN active_ingredient_names n ON l.kind = 'ingredient' AND n.tenant_id = :tenant_id
                            AND n.name_key = l.item_key
LEFT JOIN active_recipes sub ON l.kind = 'recipe' AND sub.tenant_id = :tenant_id
                     AND sub.name_key = l.item_key

-- name: import_set_shares
-- share (see set_shares) for the imported recipes' lines and for every line using one of them.
UPDATE recipe_lines SET share = exact_div(recipe_lines.qty_base, r.yield_base_qty)
FROM active_recipes r
WHERE recipe_lines.tenant_id = :tenant_id AND r.tenant_id = :tenant_id
  AND r.id = recipe_lines.sub_recipe_id
  AND (r.name_key IN (SELECT recipe_key FROM ri_recipes)
       OR recipe_lines.recipe_id IN (
           SELECT p.id FROM active_recipes p JOIN ri_recipes s ON s.recipe_key = p.name_key
           WHERE p.tenant_id = :tenant_id))

-- name: import_batch
INSERT INTO import_batches (tenant_id, kind, idempotency_key, content_hash, status, rows, created,
                            changed)
VALUES (:tenant_id, 'recipes', :idempotency_key, :content_hash, 'completed', :rows, :created,
        :changed)
RETURNING id

-- name: import_batch_recomputed
UPDATE import_batches SET recomputed = :recomputed WHERE tenant_id = :tenant_id AND id = :id

-- name: import_seed
-- The imported recipes, staged as recompute seeds (rc_seed belongs to recompute.sql).
INSERT INTO rc_seed (id)
SELECT r.id FROM active_recipes r JOIN ri_recipes s ON s.recipe_key = r.name_key
WHERE r.tenant_id = :tenant_id

-- name: active_names
-- Names a not_found may suggest (mo/services/suggestions.py).
SELECT name FROM active_recipes WHERE tenant_id = :tenant_id
