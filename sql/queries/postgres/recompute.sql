-- PostgreSQL's recompute (the base file holds what both engines run; DuckDB's spellings, in
-- sql/queries/duckdb/recompute.sql, say what each step does). PostgreSQL keeps the separate work
-- tables rc_sub, rc_rate, rc_ingsum and rc_missing (step_tables):
-- scope_lines fills rc_lines, rc_sub and rc_rate in one statement (data-modifying CTEs), and
-- compute is one DO block over them, so a recompute costs the same round trips as on DuckDB.

-- name: step_tables
-- PostgreSQL's own work tables, beside the shared ones (the base file's work_tables): the steps
-- its compute runs apart. Opened with them by Tx.open_work_tables, in the same round trip.
-- rc_sub holds, per sub-recipe line, what DuckDB keeps in rc_lines' sub columns.
CREATE TEMP TABLE rc_sub (
    recipe_id BIGINT, lvl INTEGER, sub_id BIGINT, name VARCHAR, share DECIMAL(38, 12),
    base_unit VARCHAR, sub_base VARCHAR, deleted BOOLEAN, outside BOOLEAN,
    stored DECIMAL(38, 12), stored_missing VARCHAR[]
);
CREATE TEMP TABLE rc_rate (
    ingredient_id BIGINT, base_unit VARCHAR, waste_pct DECIMAL(38, 12), name VARCHAR,
    divisor DECIMAL(38, 12), rate DECIMAL(38, 12), lack VARCHAR
);
CREATE TEMP TABLE rc_ingsum (recipe_id BIGINT, known NUMERIC, over BOOLEAN);
CREATE TEMP TABLE rc_missing (recipe_id BIGINT, names VARCHAR[])

-- name: work_rows
-- As the base file's; the missing items are in rc_missing, a total too large to store is 0.
SELECT s.recipe_id, s.name, COALESCE(w.total, 0) AS total, COALESCE(w.unit_cost, 0) AS unit_cost,
       w.food_cost_pct, m.names
FROM rc_work w
JOIN rc_scope s ON s.recipe_id = w.recipe_id
LEFT JOIN rc_missing m ON m.recipe_id = w.recipe_id
ORDER BY s.recipe_id

-- name: scope_walk
-- PostgreSQL allows no reference to the recursive query inside a subquery, so d comes from a
-- join. Each step, and each read of what the writes need, looks its rows up by index from the
-- ids found so far (a LATERAL subquery with OFFSET 0, which the planner cannot flatten into a
-- join): the few rows a cost update touches are found without reading the tenant's whole
-- tables, whatever the statistics say. Planned as joins, the walk hashed every sub-recipe line
-- of the tenant at each step, and recipe_costs (whose statistics lag behind until something
-- analyses it) was hashed whole: 200 ms of a 20k-recipe cost update that needs 2.
INSERT INTO rc_scope (recipe_id, lvl, name, yield_qty, menu_price, updated_at, old_total,
                      old_complete, old_missing, old_at)
WITH RECURSIVE up(id, d) AS (
    SELECT id, 0 FROM rc_seed
    UNION
    SELECT l.recipe_id, 0 FROM recipe_lines l
    WHERE l.tenant_id = :tenant_id AND l.ingredient_id IN (SELECT id FROM rc_seed_ing)
    UNION
    SELECT p.recipe_id, up.d + 1
    FROM up
    CROSS JOIN LATERAL (SELECT l.recipe_id FROM recipe_lines l
                        WHERE l.tenant_id = :tenant_id AND l.sub_recipe_id = up.id
                        OFFSET 0) p
    WHERE up.d < :max_depth
),
walked AS MATERIALIZED (SELECT id, MAX(d) AS d FROM up GROUP BY id)
SELECT r.id, CAST(DENSE_RANK() OVER (ORDER BY w.d) - 1 AS INTEGER), r.name, r.yield_qty,
       r.menu_price, r.updated_at, c.total_cost, c.complete, c.missing, c.computed_at
FROM walked w
CROSS JOIN LATERAL (SELECT r.id, r.name, r.yield_qty, r.menu_price, r.updated_at
                    FROM active_recipes r
                    WHERE r.tenant_id = :tenant_id AND r.id = w.id
                    OFFSET 0) r
LEFT JOIN LATERAL (SELECT c.total_cost, c.complete, c.missing, c.computed_at
                   FROM recipe_costs c
                   WHERE c.tenant_id = :tenant_id AND c.recipe_id = w.id
                   OFFSET 0) c ON true
WHERE (SELECT MAX(d) FROM walked) < :max_depth

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
SELECT r.id FROM active_recipes r
WHERE r.tenant_id = :tenant_id AND r.id IN (SELECT id FROM up)

-- name: scope_lines
-- One statement: the scope's lines (the one read of recipe_lines), its sub-recipe lines with what
-- costing them needs (rc_sub) and the rates of its ingredient uses (rc_rate), each computed as
-- the base file's scope_lines and compute do. Every part reads the statement's one snapshot, so
-- rc_sub and rc_rate are computed from the lines CTE, not from rc_lines. A sub-recipe line's
-- recipe and stored cost are looked up by index (LATERAL … OFFSET 0, as in scope_walk), not
-- hashed from the tenant's whole tables.
WITH lines AS MATERIALIZED (
    SELECT l.recipe_id, s.lvl, l.ingredient_id, l.sub_recipe_id, l.family, l.base_unit,
           l.qty_base, l.waste_pct, l.share
    FROM recipe_lines l
    JOIN rc_scope s ON s.recipe_id = l.recipe_id
    WHERE l.tenant_id = :tenant_id
),
kept_lines AS (
    INSERT INTO rc_lines (recipe_id, lvl, ingredient_id, sub_recipe_id, family, base_unit,
                          qty_base, waste_pct, share)
    SELECT recipe_id, lvl, ingredient_id, sub_recipe_id, family, base_unit, qty_base, waste_pct,
           share
    FROM lines
),
kept_subs AS (
    INSERT INTO rc_sub (recipe_id, lvl, sub_id, name, share, base_unit, sub_base, deleted,
                        outside, stored, stored_missing)
    SELECT l.recipe_id, l.lvl, l.sub_recipe_id, r.name,
           CASE WHEN r.deleted_at IS NOT NULL OR r.yield_base <> l.base_unit THEN NULL
                WHEN l.share IS NOT NULL THEN l.share
                ELSE exact_div(l.qty_base, r.yield_base_qty) END,
           l.base_unit, r.yield_base, r.deleted_at IS NOT NULL,
           i.recipe_id IS NULL,
           CASE WHEN i.recipe_id IS NULL THEN c.total_cost END,
           CASE WHEN i.recipe_id IS NULL AND NOT c.complete
                THEN ARRAY(SELECT jsonb_array_elements_text(c.missing)) END
    FROM lines l
    CROSS JOIN LATERAL (SELECT r.name, r.deleted_at, r.yield_base, r.yield_base_qty
                        FROM recipes r
                        WHERE r.tenant_id = :tenant_id AND r.id = l.sub_recipe_id
                        OFFSET 0) r
    LEFT JOIN rc_scope i ON i.recipe_id = l.sub_recipe_id
    LEFT JOIN LATERAL (SELECT c.total_cost, c.complete, c.missing
                       FROM recipe_costs c
                       WHERE c.tenant_id = :tenant_id AND c.recipe_id = l.sub_recipe_id
                       OFFSET 0) c ON true
    WHERE l.sub_recipe_id IS NOT NULL
),
uses AS (
    SELECT DISTINCT ingredient_id, family, base_unit, waste_pct
    FROM lines
    WHERE ingredient_id IS NOT NULL
),
cur AS (
    -- The offer each ingredient's cost policy chooses at :as_of (NULL: the transaction's clock;
    -- cost_offers, V017), unless rc_cost_override names one for it (see the DuckDB compute);
    -- an empty list when no ingredient is used (NULL would mean all of them).
    SELECT ingredient_id, unit_cost FROM rc_cost_override
    UNION ALL
    SELECT o.ingredient_id, o.unit_cost
    FROM cost_offers(CAST(:tenant_id AS TEXT),
                     COALESCE(CAST(:as_of AS TIMESTAMPTZ), current_timestamp),
                     COALESCE((SELECT array_agg(DISTINCT ingredient_id) FROM uses),
                              CAST(ARRAY[] AS BIGINT[]))) o
    WHERE o.chosen
      AND o.ingredient_id NOT IN (SELECT ingredient_id FROM rc_cost_override)
),
edible AS (
    SELECT i.id AS ingredient_id, i.name, i.base_unit, i.density,
           i.deleted_at IS NOT NULL AS deleted, cur.unit_cost IS NOT NULL AS priced,
           CASE WHEN i.deleted_at IS NOT NULL THEN NULL
                WHEN i.yield_pct = 100 THEN cur.unit_cost
                ELSE try_div(cur.unit_cost * 100, i.yield_pct) END AS cost
    FROM ingredients i
    LEFT JOIN cur ON cur.ingredient_id = i.id
    WHERE i.tenant_id = :tenant_id AND i.id IN (SELECT ingredient_id FROM uses)
),
own_conv AS (
    SELECT c.ingredient_id, c.pair_key, c.from_base, c.from_qty, c.to_base, c.to_qty
    FROM active_ingredient_conversions c
    WHERE c.tenant_id = :tenant_id
      AND c.ingredient_id IN (SELECT u.ingredient_id FROM uses u JOIN edible e
                              ON e.ingredient_id = u.ingredient_id AND e.base_unit <> u.base_unit)
),
edge AS (
    -- As the DuckDB compute's: 1 a = num/den b, both ways, the density as the ml→g edge.
    SELECT ingredient_id, from_base AS a, to_base AS b, to_qty AS num, from_qty AS den
    FROM own_conv
    UNION ALL
    SELECT ingredient_id, to_base, from_base, from_qty, to_qty FROM own_conv
    UNION ALL
    SELECT e.ingredient_id, x.a, x.b, x.num, x.den
    FROM edible e
    CROSS JOIN LATERAL (VALUES ('ml', 'g', e.density, CAST(1 AS NUMERIC)),
                               ('g', 'ml', CAST(1 AS NUMERIC), e.density)) x(a, b, num, den)
    WHERE e.density IS NOT NULL
      AND e.ingredient_id NOT IN (SELECT ingredient_id FROM own_conv WHERE pair_key = 'g|ml')
),
factor AS (
    SELECT DISTINCT ON (ingredient_id, src, dst) ingredient_id, src, dst, num, den
    FROM (
        SELECT ingredient_id, a AS src, b AS dst, num, den, 1 AS hops, '' AS via FROM edge
        UNION ALL
        SELECT e1.ingredient_id, e1.a, e2.b, fits12(e1.num * e2.num), fits12(e1.den * e2.den),
               2, e1.b
        FROM edge e1
        JOIN edge e2 ON e2.ingredient_id = e1.ingredient_id AND e2.a = e1.b AND e2.b <> e1.a
    ) p
    ORDER BY ingredient_id, src, dst, hops, via
),
converted AS (
    SELECT u.ingredient_id, u.base_unit, u.waste_pct,
           CASE WHEN u.base_unit <> e.base_unit AND f.den <> 1 THEN f.den END AS divisor,
           CASE WHEN e.deleted THEN e.name || ': deleted'
                WHEN NOT e.priced THEN e.name || ': no cost'
                WHEN u.base_unit <> e.base_unit AND f.num IS NULL
                    THEN e.name || ': no ' || u.base_unit || '→' || e.base_unit || ' conversion'
           END AS reason,
           CASE WHEN u.base_unit = e.base_unit THEN e.cost
                WHEN f.num = 1 THEN e.cost
                ELSE fits12(e.cost * f.num) END AS cost
    FROM uses u
    JOIN edible e ON e.ingredient_id = u.ingredient_id
    LEFT JOIN factor f ON f.ingredient_id = u.ingredient_id AND f.src = u.base_unit
                      AND f.dst = e.base_unit
)
INSERT INTO rc_rate (ingredient_id, base_unit, waste_pct, name, divisor, rate, lack)
SELECT ingredient_id, base_unit, waste_pct, NULL, divisor, rate,
       CASE WHEN rate IS NOT NULL THEN NULL ELSE COALESCE(reason, 'cost too large') END
FROM (SELECT *, CASE WHEN waste_pct = 0 THEN cost
                     ELSE try_div(cost * 100, 100 - waste_pct) END AS rate
      FROM converted) r

-- name: compute
-- One round trip over the work tables scope_lines filled: the ingredient sums, a loop over the
-- levels, lowest first, each level one INSERT…SELECT, then what each recipe misses (as the base
-- file's compute). NUMERIC arithmetic is exact at any size here; only what is stored can
-- overflow, and a recipe whose total, unit cost or food-cost % does not fit NUMERIC(38,12) is
-- "cost too large", under the same rules as the base file's (fits12, try_div: V014).
DO $$
DECLARE
    top INTEGER := (SELECT COALESCE(MAX(lvl), -1) FROM rc_scope);
BEGIN
    INSERT INTO rc_ingsum (recipe_id, known, over)
    SELECT recipe_id, SUM(q * rate), bool_or(rate IS NOT NULL AND q IS NULL)
    FROM (
        SELECT l.recipe_id, rt.rate,
               CASE WHEN rt.divisor IS NULL THEN l.qty_base
                    ELSE try_div(l.qty_base, rt.divisor) END AS q
        FROM rc_lines l
        JOIN rc_rate rt ON rt.ingredient_id = l.ingredient_id AND rt.base_unit = l.base_unit
                       AND rt.waste_pct = l.waste_pct
    ) costed
    GROUP BY recipe_id;
    FOR lv IN 0..top LOOP
        INSERT INTO rc_work (recipe_id, total, big, unit_cost, food_cost_pct)
        WITH subsum AS (
            SELECT b.recipe_id, SUM(b.share * COALESCE(b.stored, w.total)) AS known,
                   COALESCE(bool_or(b.share IS NOT NULL AND w.big), false) AS big
            FROM rc_sub b
            LEFT JOIN rc_work w ON w.recipe_id = b.sub_id
            WHERE b.lvl = lv
            GROUP BY b.recipe_id
        ),
        totals AS (
            SELECT s.recipe_id, s.yield_qty, s.menu_price, COALESCE(ss.big, false) AS big,
                   CASE WHEN NOT COALESCE(i.over, false)
                        THEN fits12(COALESCE(i.known, 0) + COALESCE(ss.known, 0)) END AS total
            FROM rc_scope s
            LEFT JOIN rc_ingsum i ON i.recipe_id = s.recipe_id
            LEFT JOIN subsum ss ON ss.recipe_id = s.recipe_id
            WHERE s.lvl = lv
        ),
        unit AS (
            SELECT t.*, CASE WHEN yield_qty = 1 THEN total ELSE try_div(total, yield_qty) END
                            AS unit_cost
            FROM totals t
        )
        SELECT recipe_id, total, big OR total IS NULL, unit_cost,
               CASE WHEN menu_price IS NOT NULL THEN try_div(unit_cost * 100, menu_price) END
        FROM unit;
    END LOOP;
    INSERT INTO rc_missing (recipe_id, names)
    WITH RECURSIVE lacks(recipe_id, name) AS (
        SELECT l.recipe_id, rt.lack
        FROM rc_lines l
        JOIN rc_rate rt ON rt.ingredient_id = l.ingredient_id AND rt.base_unit = l.base_unit
                       AND rt.waste_pct = l.waste_pct
        WHERE rt.lack IS NOT NULL
        UNION
        SELECT recipe_id, lack
        FROM (SELECT s.recipe_id,
                     CASE WHEN s.deleted THEN s.name || ': deleted'
                          WHEN s.share IS NULL
                              THEN s.name || ': no ' || s.base_unit || '→' || s.sub_base
                                   || ' conversion'
                          WHEN s.outside AND s.stored IS NULL THEN s.name || ': not costed'
                     END AS lack
              FROM rc_sub s) why
        WHERE lack IS NOT NULL
        UNION
        SELECT s.recipe_id, unnest(s.stored_missing) FROM rc_sub s
        WHERE s.share IS NOT NULL AND s.stored_missing IS NOT NULL
        UNION
        SELECT s.recipe_id, lacks.name FROM lacks
        JOIN rc_sub s ON s.sub_id = lacks.recipe_id AND s.share IS NOT NULL
    )
    SELECT recipe_id, array_agg(name ORDER BY name)
    FROM (SELECT * FROM lacks
          UNION
          SELECT w.recipe_id, 'cost too large' FROM rc_work w
          JOIN rc_scope s ON s.recipe_id = w.recipe_id
          WHERE w.big OR w.unit_cost IS NULL
             OR (s.menu_price IS NOT NULL AND w.food_cost_pct IS NULL)) named
    GROUP BY recipe_id;
END
$$

-- name: emit_changes
-- As DuckDB's (the payload is recipe_recomputed_payload's); a total too large to store is
-- written, and reported, as 0.
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload)
SELECT CAST(:tenant_id AS TEXT), 'recipe.recomputed', 'recipe', CAST(s.recipe_id AS VARCHAR),
       jsonb_build_object(
           'recipe', s.name,
           'old_total', rtrim(rtrim(CAST(s.old_total AS VARCHAR), '0'), '.'),
           'new_total', rtrim(rtrim(CAST(COALESCE(w.total, 0) AS VARCHAR), '0'), '.'),
           'complete', m.recipe_id IS NULL,
           'cause', CAST(:cause AS VARCHAR))
FROM rc_scope s
JOIN rc_work w ON w.recipe_id = s.recipe_id
LEFT JOIN rc_missing m ON m.recipe_id = s.recipe_id
WHERE s.old_total IS NULL OR s.old_total <> COALESCE(w.total, 0)
   OR s.old_complete <> (m.recipe_id IS NULL)

-- name: write_costs
-- As the base file's: compute worked out every figure; an amount too large to store is 0.
INSERT INTO recipe_costs (tenant_id, recipe_id, total_cost, unit_cost, food_cost_pct, complete,
                          missing, computed_at)
SELECT CAST(:tenant_id AS TEXT), s.recipe_id, COALESCE(w.total, 0), COALESCE(w.unit_cost, 0),
       w.food_cost_pct, m.recipe_id IS NULL, COALESCE(to_jsonb(m.names), CAST('[]' AS JSONB)),
       current_timestamp
FROM rc_scope s
JOIN rc_work w ON w.recipe_id = s.recipe_id
LEFT JOIN rc_missing m ON m.recipe_id = s.recipe_id
WHERE s.old_total IS NULL OR s.old_total <> COALESCE(w.total, 0)
   OR s.old_complete <> (m.recipe_id IS NULL)
   OR CAST(s.old_missing AS JSONB) <> COALESCE(to_jsonb(m.names), CAST('[]' AS JSONB))
   OR s.updated_at > s.old_at
ON CONFLICT (tenant_id, recipe_id) DO UPDATE
SET total_cost = excluded.total_cost, unit_cost = excluded.unit_cost,
    food_cost_pct = excluded.food_cost_pct, complete = excluded.complete,
    missing = excluded.missing, computed_at = excluded.computed_at
