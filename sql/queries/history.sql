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
-- One row per change of an active ingredient's cost whose effective_at falls in
-- [since, until): each cost row against the one before it (LAG over the ingredient's rows in
-- (effective_at, id) order, the order that picks the current cost). A first cost has no old
-- cost and no change_pct; a row that repeats the previous unit cost is no change. Biggest
-- absolute change first (first costs last), then by time, ingredient and id.
SELECT ingredient, supplier, old_unit_cost, new_unit_cost,
       CASE WHEN old_unit_cost > 0
            THEN CASE WHEN new_unit_cost >= old_unit_cost
                      THEN exact_div((new_unit_cost - old_unit_cost) * 100, old_unit_cost)
                      ELSE -exact_div((old_unit_cost - new_unit_cost) * 100, old_unit_cost) END
       END AS change_pct,
       effective_at, source, batch_id
FROM (
    SELECT i.name AS ingredient, c.supplier, c.source, c.batch_id, c.id, c.effective_at,
           c.unit_cost AS new_unit_cost,
           LAG(c.unit_cost) OVER (PARTITION BY c.ingredient_id ORDER BY c.effective_at, c.id)
               AS old_unit_cost
    FROM ingredient_costs c
    JOIN active_ingredients i ON i.tenant_id = c.tenant_id AND i.id = c.ingredient_id
    WHERE c.tenant_id = :tenant_id AND c.effective_at < :until
) moves
WHERE effective_at >= :since
  AND (old_unit_cost IS NULL OR old_unit_cost <> new_unit_cost)
ORDER BY CASE WHEN old_unit_cost IS NULL THEN 1 ELSE 0 END,
         abs(new_unit_cost - old_unit_cost) * 100 / CASE WHEN old_unit_cost > 0 THEN old_unit_cost ELSE 1 END DESC,
         effective_at, ingredient, id
