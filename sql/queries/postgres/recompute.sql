-- PostgreSQL spellings of recompute (the base file is DuckDB's; see it for what each query
-- does).

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
    CREATE TEMP TABLE rc_ids (id BIGINT, d INTEGER) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.rc_scope;
    CREATE TEMP TABLE rc_scope (
        recipe_id BIGINT, lvl INTEGER, name VARCHAR, yield_qty DECIMAL(38, 12),
        menu_price DECIMAL(38, 12), updated_at TIMESTAMPTZ, old_total DECIMAL(38, 12),
        old_complete BOOLEAN, old_missing JSONB, old_at TIMESTAMPTZ
    ) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.rc_lines;
    CREATE TEMP TABLE rc_lines (
        recipe_id BIGINT, lvl INTEGER, ingredient_id BIGINT, sub_recipe_id BIGINT, family VARCHAR,
        base_unit VARCHAR, qty_base DECIMAL(38, 12), waste_pct DECIMAL(38, 12), share DECIMAL(38, 12)
    ) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.rc_sub;
    CREATE TEMP TABLE rc_sub (
        recipe_id BIGINT, lvl INTEGER, sub_id BIGINT, name VARCHAR, share DECIMAL(38, 12),
        outside BOOLEAN, stored DECIMAL(38, 12), stored_missing VARCHAR[]
    ) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.rc_rate;
    CREATE TEMP TABLE rc_rate (
        ingredient_id BIGINT, base_unit VARCHAR, waste_pct DECIMAL(38, 12), name VARCHAR,
        divisor DECIMAL(38, 12), rate DECIMAL(38, 12)
    ) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.rc_ingsum;
    CREATE TEMP TABLE rc_ingsum (recipe_id BIGINT, known DECIMAL(38, 24)) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.rc_work;
    CREATE TEMP TABLE rc_work (recipe_id BIGINT, total DECIMAL(38, 12)) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.rc_missing;
    CREATE TEMP TABLE rc_missing (recipe_id BIGINT, names VARCHAR[]) ON COMMIT DROP;
END
$$

-- name: scope_walk
-- PostgreSQL allows no reference to the recursive query inside a subquery, so d comes from a
-- join; the walk uses the recipe_lines_sub_recipe index (V007) instead of an edge copy.
INSERT INTO rc_ids (id, d)
WITH RECURSIVE up(id, d) AS (
    SELECT id, 0 FROM rc_seed
    UNION
    SELECT l.recipe_id, 0 FROM recipe_lines l
    WHERE l.tenant_id = :tenant_id AND l.ingredient_id IN (SELECT id FROM rc_seed_ing)
    UNION
    SELECT l.recipe_id, up.d + 1
    FROM up
    JOIN recipe_lines l ON l.tenant_id = :tenant_id AND l.sub_recipe_id = up.id
    WHERE up.d < :max_depth
),
walked AS MATERIALIZED (SELECT id, MAX(d) AS d FROM up GROUP BY id)
SELECT id, d FROM walked WHERE (SELECT MAX(d) FROM walked) < :max_depth

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

-- name: sub_lines
INSERT INTO rc_sub (recipe_id, lvl, sub_id, name, share, outside, stored, stored_missing)
SELECT l.recipe_id, l.lvl, l.sub_recipe_id, r.name,
       CASE WHEN r.deleted_at IS NOT NULL OR r.yield_base <> l.base_unit THEN NULL
            WHEN l.share IS NOT NULL THEN l.share
            ELSE exact_div(l.qty_base, r.yield_base_qty) END,
       i.recipe_id IS NULL,
       CASE WHEN i.recipe_id IS NULL THEN c.total_cost END,
       CASE WHEN i.recipe_id IS NULL AND NOT c.complete
            THEN ARRAY(SELECT jsonb_array_elements_text(c.missing)) END
FROM rc_lines l
JOIN recipes r ON r.tenant_id = :tenant_id AND r.id = l.sub_recipe_id
LEFT JOIN rc_scope i ON i.recipe_id = l.sub_recipe_id
LEFT JOIN recipe_costs c ON c.tenant_id = :tenant_id AND c.recipe_id = l.sub_recipe_id
WHERE l.sub_recipe_id IS NOT NULL

-- name: compute_levels
-- One round trip: the ingredient sums, then a loop over the levels, lowest first, each level
-- one INSERT…SELECT.
DO $$
DECLARE
    top INTEGER := (SELECT COALESCE(MAX(lvl), -1) FROM rc_scope);
BEGIN
    INSERT INTO rc_ingsum (recipe_id, known)
    SELECT l.recipe_id,
           SUM(CASE WHEN rt.divisor IS NULL THEN l.qty_base * rt.rate
                    ELSE exact_div(l.qty_base, rt.divisor) * rt.rate END)
    FROM rc_lines l
    JOIN rc_rate rt ON rt.ingredient_id = l.ingredient_id AND rt.base_unit = l.base_unit
                   AND rt.waste_pct = l.waste_pct
    GROUP BY l.recipe_id;
    FOR lv IN 0..top LOOP
        INSERT INTO rc_work (recipe_id, total)
        WITH subsum AS (
            SELECT b.recipe_id, SUM(b.share * COALESCE(b.stored, w.total)) AS known
            FROM rc_sub b
            LEFT JOIN rc_work w ON w.recipe_id = b.sub_id
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

-- name: emit_changes
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload)
SELECT CAST(:tenant_id AS TEXT), 'recipe.recomputed', 'recipe', CAST(s.recipe_id AS VARCHAR),
       jsonb_build_object(
           'recipe', s.name,
           'old_total', rtrim(rtrim(CAST(s.old_total AS VARCHAR), '0'), '.'),
           'new_total', rtrim(rtrim(CAST(w.total AS VARCHAR), '0'), '.'),
           'complete', m.recipe_id IS NULL,
           'cause', CAST(:cause AS VARCHAR))
FROM rc_scope s
JOIN rc_work w ON w.recipe_id = s.recipe_id
LEFT JOIN rc_missing m ON m.recipe_id = s.recipe_id
WHERE s.old_total IS NULL OR s.old_total <> w.total OR s.old_complete <> (m.recipe_id IS NULL)

-- name: write_costs
INSERT INTO recipe_costs (tenant_id, recipe_id, total_cost, unit_cost, food_cost_pct, complete,
                          missing, computed_at)
SELECT CAST(:tenant_id AS TEXT), s.recipe_id, w.total,
       CASE WHEN s.yield_qty = 1 THEN w.total ELSE exact_div(w.total, s.yield_qty) END,
       CASE WHEN s.menu_price IS NOT NULL THEN
           exact_div(CAST(exact_div(w.total, s.yield_qty) * 100 AS DECIMAL(38, 12)), s.menu_price)
       END,
       m.recipe_id IS NULL,
       COALESCE(to_jsonb(m.names), CAST('[]' AS JSONB)),
       current_timestamp
FROM rc_scope s
JOIN rc_work w ON w.recipe_id = s.recipe_id
LEFT JOIN rc_missing m ON m.recipe_id = s.recipe_id
WHERE s.old_total IS NULL OR s.old_total <> w.total OR s.old_complete <> (m.recipe_id IS NULL)
   OR s.old_missing <> COALESCE(to_jsonb(m.names), CAST('[]' AS JSONB))
   OR s.updated_at > s.old_at
ON CONFLICT (tenant_id, recipe_id) DO UPDATE
SET total_cost = excluded.total_cost, unit_cost = excluded.unit_cost,
    food_cost_pct = excluded.food_cost_pct, complete = excluded.complete,
    missing = excluded.missing, computed_at = excluded.computed_at
