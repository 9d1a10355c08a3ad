-- PostgreSQL spellings of the JSON parts of recompute (the base file is DuckDB's).

-- name: preload_outside
INSERT INTO rc_work (recipe_id, total, missing)
SELECT c.recipe_id, c.total_cost,
       CASE WHEN c.complete THEN NULL
            ELSE ARRAY(SELECT jsonb_array_elements_text(c.missing)) END
FROM recipe_costs c
WHERE c.tenant_id = :tenant_id
  AND c.recipe_id IN (
      SELECT l.sub_recipe_id FROM recipe_lines l JOIN rc_scope s ON s.recipe_id = l.recipe_id
      WHERE l.tenant_id = :tenant_id AND l.sub_recipe_id IS NOT NULL)
  AND c.recipe_id NOT IN (SELECT recipe_id FROM rc_scope)

-- name: emit_changes
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload)
SELECT CAST(:tenant_id AS TEXT), 'recipe.recomputed', 'recipe', CAST(r.id AS VARCHAR),
       jsonb_build_object(
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

-- name: insert_costs
INSERT INTO recipe_costs (tenant_id, recipe_id, total_cost, unit_cost, food_cost_pct, complete,
                          missing, computed_at)
SELECT CAST(:tenant_id AS TEXT), r.id, w.total, exact_div(w.total, r.yield_qty),
       CASE WHEN r.menu_price IS NOT NULL THEN
           exact_div(CAST(exact_div(w.total, r.yield_qty) * 100 AS DECIMAL(38, 12)), r.menu_price)
       END,
       w.missing IS NULL,
       COALESCE(to_jsonb(w.missing), CAST('[]' AS JSONB)),
       current_timestamp
FROM rc_scope s
JOIN rc_work w ON w.recipe_id = s.recipe_id
JOIN recipes r ON r.tenant_id = :tenant_id AND r.id = s.recipe_id AND r.deleted_at IS NULL
