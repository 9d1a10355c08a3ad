-- PostgreSQL spellings of the JSON parts of recompute (the base file is DuckDB's; see it for
-- what each query does).

-- name: tune
SELECT set_config('jit', 'off', true) AS tuned

-- name: preload_outside
INSERT INTO rc_work (recipe_id, total, missing)
SELECT c.recipe_id, c.total_cost,
       CASE WHEN c.complete THEN NULL
            ELSE ARRAY(SELECT jsonb_array_elements_text(c.missing)) END
FROM recipe_costs c
WHERE c.tenant_id = :tenant_id
  AND c.recipe_id IN (SELECT sub_id FROM rc_sub)
  AND c.recipe_id NOT IN (SELECT recipe_id FROM rc_scope)

-- name: emit_changes
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload)
SELECT CAST(:tenant_id AS TEXT), 'recipe.recomputed', 'recipe', CAST(r.id AS VARCHAR),
       jsonb_build_object(
           'recipe', r.name,
           'old_total', rtrim(rtrim(CAST(o.total_cost AS VARCHAR), '0'), '.'),
           'new_total', rtrim(rtrim(CAST(w.total AS VARCHAR), '0'), '.'),
           'complete', m.recipe_id IS NULL,
           'cause', CAST(:cause AS VARCHAR))
FROM rc_scope s
JOIN rc_work w ON w.recipe_id = s.recipe_id
JOIN recipes r ON r.tenant_id = :tenant_id AND r.id = s.recipe_id AND r.deleted_at IS NULL
LEFT JOIN rc_missing m ON m.recipe_id = s.recipe_id
LEFT JOIN rc_old o ON o.recipe_id = s.recipe_id
WHERE o.recipe_id IS NULL OR o.total_cost <> w.total OR o.complete <> (m.recipe_id IS NULL)

-- name: update_costs
UPDATE recipe_costs
SET total_cost = w.total,
    unit_cost = CASE WHEN r.yield_qty = 1 THEN w.total ELSE exact_div(w.total, r.yield_qty) END,
    food_cost_pct = CASE WHEN r.menu_price IS NOT NULL
                         THEN exact_div(CAST(exact_div(w.total, r.yield_qty) * 100 AS DECIMAL(38, 12)),
                                        r.menu_price) END,
    complete = m.recipe_id IS NULL,
    missing = COALESCE(to_jsonb(m.names), CAST('[]' AS JSONB)),
    computed_at = current_timestamp
FROM rc_scope s
JOIN rc_work w ON w.recipe_id = s.recipe_id
JOIN recipes r ON r.tenant_id = :tenant_id AND r.id = s.recipe_id AND r.deleted_at IS NULL
LEFT JOIN rc_missing m ON m.recipe_id = s.recipe_id
WHERE recipe_costs.tenant_id = :tenant_id AND recipe_costs.recipe_id = s.recipe_id
  AND (recipe_costs.total_cost <> w.total OR recipe_costs.complete <> (m.recipe_id IS NULL)
       OR recipe_costs.missing <> COALESCE(to_jsonb(m.names), CAST('[]' AS JSONB))
       OR r.updated_at > recipe_costs.computed_at)

-- name: insert_costs
INSERT INTO recipe_costs (tenant_id, recipe_id, total_cost, unit_cost, food_cost_pct, complete,
                          missing, computed_at)
SELECT CAST(:tenant_id AS TEXT), r.id, w.total,
       CASE WHEN r.yield_qty = 1 THEN w.total ELSE exact_div(w.total, r.yield_qty) END,
       CASE WHEN r.menu_price IS NOT NULL THEN
           exact_div(CAST(exact_div(w.total, r.yield_qty) * 100 AS DECIMAL(38, 12)), r.menu_price)
       END,
       m.recipe_id IS NULL,
       COALESCE(to_jsonb(m.names), CAST('[]' AS JSONB)),
       current_timestamp
FROM rc_scope s
JOIN rc_work w ON w.recipe_id = s.recipe_id
JOIN recipes r ON r.tenant_id = :tenant_id AND r.id = s.recipe_id AND r.deleted_at IS NULL
LEFT JOIN rc_missing m ON m.recipe_id = s.recipe_id
WHERE s.recipe_id NOT IN (SELECT recipe_id FROM rc_old)
