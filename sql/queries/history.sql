-- Read models of how costs moved over time. Every read is routed by tenant_id; portable SQL
-- (the ->> operator, exact_div and window functions mean the same on DuckDB and PostgreSQL).

-- name: recipe_history
-- A recipe's stored cost after each recipe.recomputed event, in (occurred_at, id) order. The
-- unit cost and food-cost % are worked out as the costing did then: from the yield and menu
-- price of the recipe's latest recipe.saved event up to that point (the current row when no
-- save was logged, e.g. an imported recipe), by the same exact_div the costing uses.
SELECT h.occurred_at AS at, h.total AS total_cost,
       CASE WHEN h.yield_qty = 1 THEN h.total ELSE exact_div(h.total, h.yield_qty) END
           AS unit_cost,
       CASE WHEN h.menu_price IS NOT NULL AND h.menu_price > 0
            THEN exact_div(CASE WHEN h.yield_qty = 1 THEN h.total
                                ELSE exact_div(h.total, h.yield_qty) END * 100, h.menu_price)
       END AS food_cost_pct,
       h.complete, h.cause
FROM (
    SELECT e.id, e.occurred_at,
           CAST(e.payload ->> 'new_total' AS DECIMAL(38, 12)) AS total,
           e.payload ->> 'complete' = 'true' AS complete,
           e.payload ->> 'cause' AS cause,
           COALESCE(CAST(s.payload ->> 'yield_qty' AS DECIMAL(38, 12)), r.yield_qty) AS yield_qty,
           CASE WHEN s.id IS NULL THEN r.menu_price
                ELSE CAST(s.payload ->> 'menu_price' AS DECIMAL(38, 12)) END AS menu_price
    FROM event_log e
    JOIN active_recipes r ON r.tenant_id = e.tenant_id AND r.id = :recipe_id
    LEFT JOIN event_log s
      ON s.id = (SELECT max(x.id) FROM event_log x
                 WHERE x.tenant_id = e.tenant_id AND x.event_type = 'recipe.saved'
                   AND x.aggregate_type = 'recipe' AND x.aggregate_id = e.aggregate_id
                   AND x.id < e.id)
     AND s.tenant_id = e.tenant_id
    WHERE e.tenant_id = :tenant_id AND e.event_type = 'recipe.recomputed'
      AND e.aggregate_type = 'recipe' AND e.aggregate_id = CAST(:recipe_id AS VARCHAR)
) h
ORDER BY h.occurred_at, h.id

-- name: price_changes
-- One row per move of an active ingredient's chosen cost (cost_offers, V017: the one rule) at
-- an instant in [since, until). The chosen offer can only move when a cost row takes effect
-- (the 30-day window of "lowest" counts from the newest offer, itself a cost row), so each
-- ingredient with a cost row in the window is evaluated at each of its rows' effective_at and
-- just before since (1 µs: the offers effective before it), and an instant is kept when the
-- chosen unit cost differs from the one before. So a supplier's offer that is not chosen, and
-- a re-listing at the same price, are no row. The chosen cost is judged by the ingredient's
-- current policy, as costing as of an instant is (policies keep no history). A first cost has
-- no old cost and no change_pct. Biggest absolute change first (first costs last), then by
-- time, ingredient and cost id. PostgreSQL: one inlined cost_offers per (ingredient, instant),
-- an index range each; sql/queries/duckdb/history.sql evaluates it once per instant instead.
WITH moved AS (
    SELECT DISTINCT c.ingredient_id, c.effective_at AS instant
    FROM ingredient_costs c
    WHERE c.tenant_id = :tenant_id AND c.effective_at >= :since AND c.effective_at < :until
),
instants AS (
    SELECT ingredient_id, instant FROM moved
    UNION
    SELECT ingredient_id, CAST(:since AS TIMESTAMPTZ) - INTERVAL '1 microsecond' FROM moved
),
chosen AS (
    SELECT i.name AS ingredient, t.instant, o.supplier, o.source, o.batch_id, o.cost_id,
           o.unit_cost AS new_unit_cost,
           LAG(o.unit_cost) OVER (PARTITION BY t.ingredient_id ORDER BY t.instant)
               AS old_unit_cost
    FROM instants t
    JOIN active_ingredients i ON i.tenant_id = :tenant_id AND i.id = t.ingredient_id
    CROSS JOIN LATERAL cost_offers(:tenant_id, t.instant, ARRAY[t.ingredient_id]) o
    WHERE o.ingredient_id = t.ingredient_id AND o.chosen
)
SELECT ingredient, supplier, old_unit_cost, new_unit_cost,
       CASE WHEN old_unit_cost > 0
            THEN CASE WHEN new_unit_cost >= old_unit_cost
                      THEN exact_div((new_unit_cost - old_unit_cost) * 100, old_unit_cost)
                      ELSE -exact_div((old_unit_cost - new_unit_cost) * 100, old_unit_cost) END
       END AS change_pct,
       instant AS effective_at, source, batch_id
FROM chosen
WHERE instant >= :since
  AND (old_unit_cost IS NULL OR old_unit_cost <> new_unit_cost)
ORDER BY CASE WHEN old_unit_cost IS NULL THEN 1 ELSE 0 END,
         abs(new_unit_cost - old_unit_cost) * 100 / CASE WHEN old_unit_cost > 0 THEN old_unit_cost ELSE 1 END DESC,
         instant, ingredient, cost_id

-- ------------------------------------------------------------------------- explain_change
-- Why a recipe's cost moved between two instants (mo/services/history.py explain_change): the
-- recipe's current structure walked path by path, each leaf costed at both instants.

-- name: explain_path_count
-- How many leaf paths the current structure has, capped at :cap (a recipe using its sub twice,
-- whose sub uses its own twice, and so on, has 2^k paths at depth k: the walk below would list
-- them all). One row per sub-recipe and step, as the breakdown's walk: the window sums what all
-- paths of one length bring to a sub, DISTINCT keeps one row of them.
WITH RECURSIVE walk(recipe_id, paths, depth) AS (
    SELECT CAST(:recipe_id AS BIGINT), CAST(1 AS DECIMAL(38, 0)), 0
    UNION ALL
    SELECT DISTINCT l.sub_recipe_id,
           CAST(LEAST(SUM(walk.paths) OVER (PARTITION BY l.sub_recipe_id), :cap) AS DECIMAL(38, 0)),
           walk.depth + 1
    FROM walk
    JOIN recipe_lines l ON l.tenant_id = :tenant_id AND l.recipe_id = walk.recipe_id
    JOIN active_recipes r ON r.tenant_id = :tenant_id AND r.id = l.sub_recipe_id
                         AND r.yield_base = l.base_unit
    WHERE walk.depth < :max_depth
)
SELECT COALESCE(SUM(walk.paths), 0) AS paths
FROM walk
JOIN recipe_lines l ON l.tenant_id = :tenant_id AND l.recipe_id = walk.recipe_id
WHERE l.ingredient_id IS NOT NULL

-- name: explain_paths
-- One row per path from the recipe to a leaf ingredient line, through usable sub-recipe lines
-- (an active sub whose yield unit matches the line; others stop, as in the costing).
-- mult: how many times that (sub-)recipe's whole yield goes into the top recipe along the path,
-- each step exact_div(mult × line qty, sub yield), as the breakdown's walk. qty: the ingredient,
-- in its base unit, as bought, that the path puts in one whole yield of the top recipe:
-- mult × the line's qty (converted by density as the costing converts), × 100 ÷ yield_pct,
-- × 100 ÷ (100 − waste_pct), each step one exact_div (12 places). So qty × unit cost is the
-- leaf's cost with waste and yield included, and it is linear in the unit cost. qty is NULL
-- when the line's unit does not convert to the ingredient's (no density). old/new unit cost:
-- the cost current at :since and at :until (latest effective_at <= the instant, ties by highest
-- id, as the costing picks it), NULL for a deleted ingredient (the costing's rule).
WITH RECURSIVE walk(recipe_id, path, sort_key, mult, depth) AS (
    SELECT r.id, CAST(r.name AS VARCHAR), CAST('' AS VARCHAR), CAST(1 AS DECIMAL(38, 12)), 0
    FROM active_recipes r
    WHERE r.tenant_id = :tenant_id AND r.id = :recipe_id
    UNION ALL
    SELECT l.sub_recipe_id, CAST(walk.path || ' > ' || r.name AS VARCHAR),
           CAST(walk.sort_key || lpad(CAST(l.position AS VARCHAR), 6, '0') || '.' AS VARCHAR),
           CAST(exact_div(CAST(walk.mult * l.qty_base AS DECIMAL(38, 12)), r.yield_base_qty)
                AS DECIMAL(38, 12)),
           walk.depth + 1
    FROM walk
    JOIN recipe_lines l ON l.tenant_id = :tenant_id AND l.recipe_id = walk.recipe_id
    JOIN active_recipes r ON r.tenant_id = :tenant_id AND r.id = l.sub_recipe_id
                         AND r.yield_base = l.base_unit
    WHERE walk.depth < :max_depth
),
leaf AS (
    SELECT walk.path || ' > ' || i.name AS path,
           walk.sort_key || lpad(CAST(l.position AS VARCHAR), 6, '0') AS sort_key,
           i.id AS ingredient_id, i.name, i.base_unit, i.yield_pct, l.waste_pct,
           i.deleted_at IS NULL AS live,
           CAST(walk.mult * CASE
               WHEN l.base_unit = i.base_unit THEN l.qty_base
               WHEN l.family = 'volume' AND i.family = 'mass'
                   THEN CAST(l.qty_base * i.density AS DECIMAL(38, 12))
               WHEN l.family = 'mass' AND i.family = 'volume' THEN exact_div(l.qty_base, i.density)
           END AS DECIMAL(38, 12)) AS used
    FROM walk
    JOIN recipe_lines l ON l.tenant_id = :tenant_id AND l.recipe_id = walk.recipe_id
    JOIN ingredients i ON i.tenant_id = :tenant_id AND i.id = l.ingredient_id
),
bought AS (
    SELECT path, sort_key, ingredient_id, name, base_unit, live, waste_pct,
           CASE WHEN yield_pct = 100 THEN used
                ELSE exact_div(CAST(used * 100 AS DECIMAL(38, 12)), yield_pct) END AS edible
    FROM leaf
),
old AS (
    -- The offer each cost policy chose at each instant (cost_offers, as costing reads it).
    SELECT o.ingredient_id, o.unit_cost
    FROM cost_offers(:tenant_id, :since, (SELECT array_agg(ingredient_id) FROM leaf)) o
    WHERE o.chosen
),
new AS (
    SELECT o.ingredient_id, o.unit_cost
    FROM cost_offers(:tenant_id, :until, (SELECT array_agg(ingredient_id) FROM leaf)) o
    WHERE o.chosen
)
SELECT b.name AS ingredient, b.path,
       CASE WHEN b.waste_pct = 0 THEN b.edible
            ELSE exact_div(CAST(b.edible * 100 AS DECIMAL(38, 12)), 100 - b.waste_pct) END AS qty,
       b.base_unit AS unit,
       CASE WHEN b.live THEN old.unit_cost END AS old_unit_cost,
       CASE WHEN b.live THEN new.unit_cost END AS new_unit_cost
FROM bought b
LEFT JOIN old ON old.ingredient_id = b.ingredient_id
LEFT JOIN new ON new.ingredient_id = b.ingredient_id
ORDER BY b.sort_key, b.path

-- name: explain_stored
-- The recipe's stored total (and whether it was complete) at :since and at :until: the
-- new_total of its latest recipe.recomputed event at or before the instant (ties by id), NULL
-- before its first; and how many times it or a recipe its current structure reaches was edited
-- in (since, until]: saved, deleted, restored, or recomputed by a recipe import (which replaces
-- lines without a recipe.saved).
WITH RECURSIVE reach(recipe_id, depth) AS (
    SELECT CAST(:recipe_id AS BIGINT), 0
    UNION
    SELECT l.sub_recipe_id, reach.depth + 1
    FROM reach
    JOIN recipe_lines l ON l.tenant_id = :tenant_id AND l.recipe_id = reach.recipe_id
    JOIN active_recipes r ON r.tenant_id = :tenant_id AND r.id = l.sub_recipe_id
    WHERE reach.depth < :max_depth
),
ends AS (
    SELECT CAST(e.payload ->> 'new_total' AS DECIMAL(38, 12)) AS total,
           e.payload ->> 'complete' = 'true' AS complete,
           ROW_NUMBER() OVER (ORDER BY e.occurred_at DESC, e.id DESC) AS at_until,
           CASE WHEN e.occurred_at <= :since
                THEN ROW_NUMBER() OVER (PARTITION BY e.occurred_at <= :since
                                        ORDER BY e.occurred_at DESC, e.id DESC)
           END AS at_since
    FROM event_log e
    WHERE e.tenant_id = :tenant_id AND e.event_type = 'recipe.recomputed'
      AND e.aggregate_type = 'recipe' AND e.aggregate_id = CAST(:recipe_id AS VARCHAR)
      AND e.occurred_at <= :until
)
SELECT (SELECT total FROM ends WHERE at_since = 1) AS old_total,
       (SELECT complete FROM ends WHERE at_since = 1) AS old_complete,
       (SELECT total FROM ends WHERE at_until = 1) AS new_total,
       (SELECT complete FROM ends WHERE at_until = 1) AS new_complete,
       (SELECT COUNT(*) FROM event_log e
        WHERE e.tenant_id = :tenant_id AND e.aggregate_type = 'recipe'
          AND e.aggregate_id IN (SELECT CAST(recipe_id AS VARCHAR) FROM reach)
          AND (e.event_type IN ('recipe.saved', 'recipe.deleted', 'recipe.restored')
               OR (e.event_type = 'recipe.recomputed'
                   AND e.payload ->> 'cause' = 'recipes.imported'))
          AND e.occurred_at > :since AND e.occurred_at <= :until) AS edits
