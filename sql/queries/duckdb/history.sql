-- DuckDB spelling of history.sql's price_changes: the same rows, with cost_offers evaluated
-- once per distinct instant for every ingredient (ids NULL) and joined to the ingredients that
-- moved. A lateral call per (ingredient, instant) passes a list DuckDB cannot join on: it
-- compared every instant with every cost row (3.9 s for 1,000 ingredients with 10 rows each;
-- quadratic). Keep the rest of the statement as history.sql's.

-- name: price_changes
WITH moved AS (
    SELECT DISTINCT c.ingredient_id, c.effective_at AS instant
    FROM ingredient_costs c
    WHERE c.tenant_id = :tenant_id AND c.effective_at >= :since AND c.effective_at < :until
),
instants AS (
    SELECT instant FROM moved
    UNION
    SELECT CAST(:since AS TIMESTAMPTZ) - INTERVAL '1 microsecond'
),
chosen AS (
    SELECT i.name AS ingredient, t.instant, o.supplier, o.source, o.batch_id, o.cost_id,
           o.unit_cost AS new_unit_cost,
           LAG(o.unit_cost) OVER (PARTITION BY o.ingredient_id ORDER BY t.instant)
               AS old_unit_cost
    FROM instants t
    CROSS JOIN LATERAL cost_offers(:tenant_id, t.instant, CAST(NULL AS BIGINT[])) o
    JOIN active_ingredients i ON i.tenant_id = :tenant_id AND i.id = o.ingredient_id
    WHERE o.chosen AND o.ingredient_id IN (SELECT ingredient_id FROM moved)
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
