-- PostgreSQL spellings of the JSON parts of recompute (the base file is DuckDB's; see it for
-- what each query does).

-- name: open_work
-- One statement (a DO block) so the DDL costs one round trip; ON COMMIT DROP cleans up.
-- JIT goes off for the rest of the transaction: the work tables have no statistics, so the
-- planner's guesses can cross jit_above_cost, and a sub-millisecond query then spends most of
-- a second compiling.
DO $$
BEGIN
    PERFORM set_config('jit', 'off', true);
    DROP TABLE IF EXISTS pg_temp.rc_seed;
    CREATE TEMP TABLE rc_seed (id BIGINT) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.rc_seed_ing;
    CREATE TEMP TABLE rc_seed_ing (id BIGINT) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.rc_ids;
    CREATE TEMP TABLE rc_ids (id BIGINT) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.rc_lines;
    CREATE TEMP TABLE rc_lines (
        recipe_id BIGINT, ingredient_id BIGINT, sub_recipe_id BIGINT, family VARCHAR,
        base_unit VARCHAR, qty_base DECIMAL(38, 12), waste_pct DECIMAL(38, 12), share DECIMAL(38, 12)
    ) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.rc_scope;
    CREATE TEMP TABLE rc_scope (recipe_id BIGINT, lvl INTEGER) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.rc_rate;
    CREATE TEMP TABLE rc_rate (
        ingredient_id BIGINT, base_unit VARCHAR, waste_pct DECIMAL(38, 12), name VARCHAR,
        divisor DECIMAL(38, 12), rate DECIMAL(38, 12)
    ) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.rc_ingsum;
    CREATE TEMP TABLE rc_ingsum (recipe_id BIGINT, known DECIMAL(38, 24)) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.rc_sub;
    CREATE TEMP TABLE rc_sub (
        recipe_id BIGINT, lvl INTEGER, sub_id BIGINT, name VARCHAR, share DECIMAL(38, 12)
    ) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.rc_work;
    CREATE TEMP TABLE rc_work (recipe_id BIGINT, total DECIMAL(38, 12), missing VARCHAR[]) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.rc_missing;
    CREATE TEMP TABLE rc_missing (recipe_id BIGINT, names VARCHAR[]) ON COMMIT DROP;
END
$$

-- name: scope_ancestors
-- No edge copy: the walk uses the recipe_lines_sub_recipe index (V007).
INSERT INTO rc_ids (id)
WITH RECURSIVE up(id) AS (
    SELECT id FROM rc_seed
    UNION
    SELECT l.recipe_id FROM recipe_lines l
    WHERE l.tenant_id = :tenant_id AND l.ingredient_id IN (SELECT id FROM rc_seed_ing)
    UNION
    SELECT l.recipe_id
    FROM up
    JOIN recipe_lines l ON l.tenant_id = :tenant_id AND l.sub_recipe_id = up.id
)
SELECT r.id FROM recipes r
WHERE r.tenant_id = :tenant_id AND r.deleted_at IS NULL AND r.id IN (SELECT id FROM up)

-- name: compute_levels
-- One round trip: a loop over the levels, lowest first, each level one INSERT…SELECT.
DO $$
DECLARE
    top INTEGER := (SELECT COALESCE(MAX(lvl), -1) FROM rc_scope);
BEGIN
    FOR lv IN 0..top LOOP
        INSERT INTO rc_work (recipe_id, total)
        WITH subsum AS (
            SELECT b.recipe_id, SUM(b.share * w.total) AS known
            FROM rc_sub b
            JOIN rc_work w ON w.recipe_id = b.sub_id
            WHERE b.lvl = lv
            GROUP BY b.recipe_id
        )
        SELECT s.recipe_id, CAST(COALESCE(i.known, 0) + COALESCE(ss.known, 0) AS DECIMAL(38, 12))
        FROM rc_scope s
        LEFT JOIN rc_ingsum i ON i.recipe_id = s.recipe_id
        LEFT JOIN subsum ss ON ss.recipe_id = s.recipe_id
        WHERE s.lvl = lv;
    END LOOP;
END
$$

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
LEFT JOIN recipe_costs o ON o.tenant_id = :tenant_id AND o.recipe_id = s.recipe_id
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
WHERE s.recipe_id NOT IN (SELECT c.recipe_id FROM recipe_costs c WHERE c.tenant_id = :tenant_id)
