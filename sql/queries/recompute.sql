-- Set-based recipe costing over the recipe graph (mo/services/recompute.py drives it).
--
-- Work happens in temporary tables that live for one recompute inside the caller's transaction:
--   rc_seed    recipe ids to start from          rc_seed_ing  ingredient ids to start from
--   rc_ids     the walked scope: recipe ids (with d, the longest walk down to a seed, on the
--              usual path; without, on the exact path and for a full recompute)
--   rc_scope   the scope's active recipes: level, and what the writes need of them (name,
--              yield, menu price, the stored cost before this recompute), read once from
--              recipes and recipe_costs
--   rc_lines   the scope's lines (read once)
--   rc_sub     the scope's sub-recipe lines with what they need of the sub (name, share, and
--              for a sub outside the scope its stored total and missing items)
--   rc_rate    cost per line unit of each (ingredient, line unit, waste) the scope uses
--   rc_work    computed totals             rc_missing  per recipe: its missing items
-- Each DuckDB statement costs a few milliseconds of planning and scheduling however small the
-- scope, and each read of a big table (recipe_lines, recipes, recipe_costs) a few more, so a
-- recompute is as few statements as the writes allow, and intermediate sets read by one
-- statement only are CTEs of that statement, not tables.
-- The usual path finds the scope and its levels from one walk (scope_walk, then scope); when
-- the walk finds nothing, or goes deeper than MAX_DEPTH (a cycle?), the exact path
-- (scope_ancestors, levels, max_level) decides, as it does for a full recompute.
-- Money is DECIMAL(38,12); every quotient goes through exact_div (V006), never through DECIMAL
-- '/' (DuckDB makes that a DOUBLE). Each product is CAST back to DECIMAL(38,12), except a line
-- cost (qty × rate, share × sub total): those are summed exactly at 24 places and the recipe
-- total is CAST once, because in DuckDB every DECIMAL(38) rescale or division is a 128-bit
-- division, which would dominate the run time if done per line.

-- name: open_work
-- Fresh, empty work tables in one round trip. They are temporary: they die with the
-- transaction's connection (DuckDB) or at commit (PostgreSQL, see its override).
CREATE OR REPLACE TEMP TABLE rc_seed (id BIGINT);
CREATE OR REPLACE TEMP TABLE rc_seed_ing (id BIGINT);
CREATE OR REPLACE TEMP TABLE rc_ids (id BIGINT, d INTEGER);
CREATE OR REPLACE TEMP TABLE rc_scope (
    recipe_id BIGINT, lvl INTEGER, name VARCHAR, yield_qty DECIMAL(38, 12),
    menu_price DECIMAL(38, 12), updated_at TIMESTAMPTZ, old_total DECIMAL(38, 12),
    old_complete BOOLEAN, old_missing JSON, old_at TIMESTAMPTZ
);
CREATE OR REPLACE TEMP TABLE rc_lines (
    recipe_id BIGINT, lvl INTEGER, ingredient_id BIGINT, sub_recipe_id BIGINT, family VARCHAR,
    base_unit VARCHAR, qty_base DECIMAL(38, 12), waste_pct DECIMAL(38, 12), share DECIMAL(38, 12)
);
CREATE OR REPLACE TEMP TABLE rc_sub (
    recipe_id BIGINT, lvl INTEGER, sub_id BIGINT, name VARCHAR, share DECIMAL(38, 12),
    outside BOOLEAN, stored DECIMAL(38, 12), stored_missing VARCHAR[]
);
CREATE OR REPLACE TEMP TABLE rc_rate (
    ingredient_id BIGINT, base_unit VARCHAR, waste_pct DECIMAL(38, 12), name VARCHAR,
    divisor DECIMAL(38, 12), rate DECIMAL(38, 12)
);
CREATE OR REPLACE TEMP TABLE rc_work (recipe_id BIGINT, total DECIMAL(38, 12));
CREATE OR REPLACE TEMP TABLE rc_missing (recipe_id BIGINT, names VARCHAR[]);

-- name: add_rc_seed
INSERT INTO rc_seed (id) VALUES (:id)
-- name: add_rc_seed_ing
INSERT INTO rc_seed_ing (id) VALUES (:id)

-- name: scope_walk
-- The usual path: the seed recipes, the recipes using a seed ingredient and every recipe above
-- them, each with d, its longest walk down to a seed, in one statement. d is the walk's step
-- (every row of one step has the same d), so a parent always gets a larger d than its subs.
-- Each step probes the sub-recipe edges with the previous step's ids (a semi join: the small
-- side is the hashed one). The walk passes through deleted recipes (a deleted seed's parents
-- must be recomputed too); scope keeps the active ones. Nothing is kept when the walk reaches
-- the maximum depth (a cycle, or absurd nesting): the exact path then decides.
INSERT INTO rc_ids (id, d)
WITH RECURSIVE graph(parent, child) AS MATERIALIZED (
    SELECT recipe_id, sub_recipe_id FROM recipe_lines
    WHERE tenant_id = :tenant_id AND sub_recipe_id IS NOT NULL
),
up(id, d) AS (
    SELECT id, 0 FROM rc_seed
    UNION
    SELECT l.recipe_id, 0 FROM recipe_lines l
    WHERE l.tenant_id = :tenant_id AND l.ingredient_id IN (SELECT id FROM rc_seed_ing)
    UNION
    SELECT g.parent, (SELECT MAX(d) + 1 FROM up) FROM graph g
    WHERE g.child IN (SELECT id FROM up) AND (SELECT MAX(d) FROM up) < :max_depth
),
walked AS MATERIALIZED (SELECT id, MAX(d) AS d FROM up GROUP BY id)
SELECT id, d FROM walked WHERE (SELECT MAX(d) FROM walked) < :max_depth

-- name: scope
-- The walked scope's active recipes, with what the writes need of them (read once, before
-- anything is written). Ranking d densely gives levels without gaps, every parent above its
-- subs: the order compute_levels needs.
INSERT INTO rc_scope (recipe_id, lvl, name, yield_qty, menu_price, updated_at, old_total,
                      old_complete, old_missing, old_at)
SELECT r.id, CAST(DENSE_RANK() OVER (ORDER BY w.d) - 1 AS INTEGER), r.name, r.yield_qty,
       r.menu_price, r.updated_at, c.total_cost, c.complete, c.missing, c.computed_at
FROM rc_ids w
JOIN recipes r ON r.tenant_id = :tenant_id AND r.id = w.id AND r.deleted_at IS NULL
LEFT JOIN recipe_costs c ON c.tenant_id = :tenant_id AND c.recipe_id = w.id

-- name: scope_all
INSERT INTO rc_ids (id)
SELECT id FROM recipes WHERE tenant_id = :tenant_id AND deleted_at IS NULL

-- name: scope_ancestors
-- The exact path's scope: the seed recipes, the recipes using a seed ingredient, and every
-- active recipe above them (the walk passes through deleted ones). It walks up a narrow,
-- materialized copy of the tenant's sub-recipe edges. (PostgreSQL walks its sub_recipe_id
-- index instead.)
INSERT INTO rc_ids (id)
WITH RECURSIVE graph(parent, child) AS MATERIALIZED (
    SELECT recipe_id, sub_recipe_id FROM recipe_lines
    WHERE tenant_id = :tenant_id AND sub_recipe_id IS NOT NULL
),
up(id) AS (
    SELECT id FROM rc_seed
    UNION
    SELECT l.recipe_id FROM recipe_lines l
    WHERE l.tenant_id = :tenant_id AND l.ingredient_id IN (SELECT id FROM rc_seed_ing)
    UNION
    SELECT g.parent FROM up JOIN graph g ON g.child = up.id
)
SELECT r.id FROM recipes r
WHERE r.tenant_id = :tenant_id AND r.deleted_at IS NULL AND r.id IN (SELECT id FROM up)

-- name: levels
-- The exact path's levels: a recipe's level is its longest chain of in-scope sub-recipes below
-- it (0: none in scope), so computing levels in order finds every in-scope sub already costed.
-- UNION keeps one row per (recipe, depth); :max_depth stops the walk if a cycle ever slipped
-- past the save-time check.
INSERT INTO rc_scope (recipe_id, lvl, name, yield_qty, menu_price, updated_at, old_total,
                      old_complete, old_missing, old_at)
WITH RECURSIVE edges(parent, child) AS MATERIALIZED (
    -- Sub-recipe edges inside the scope.
    SELECT DISTINCT l.recipe_id, l.sub_recipe_id
    FROM recipe_lines l
    JOIN rc_ids p ON p.id = l.recipe_id
    JOIN rc_ids c ON c.id = l.sub_recipe_id
    WHERE l.tenant_id = :tenant_id
),
depth(id, d) AS (
    SELECT id, 0 FROM rc_ids
    UNION
    SELECT e.parent, depth.d + 1
    FROM depth
    JOIN edges e ON e.child = depth.id
    WHERE depth.d < :max_depth
),
lv AS (SELECT id, MAX(d) AS lvl FROM depth GROUP BY id)
SELECT r.id, lv.lvl, r.name, r.yield_qty, r.menu_price, r.updated_at, c.total_cost, c.complete,
       c.missing, c.computed_at
FROM lv
JOIN recipes r ON r.tenant_id = :tenant_id AND r.id = lv.id AND r.deleted_at IS NULL
LEFT JOIN recipe_costs c ON c.tenant_id = :tenant_id AND c.recipe_id = lv.id

-- name: max_level
-- The exact path's scope size and depth (a depth of MAX_DEPTH means a cycle).
SELECT COUNT(*) AS recipes, COALESCE(MAX(lvl), -1) AS max_level FROM rc_scope

-- name: scope_edges
-- Sub-recipe edges inside the scope, with names: only read to name a cycle's path.
SELECT e.parent, e.child, p.name AS parent_name, c.name AS child_name
FROM (SELECT DISTINCT l.recipe_id AS parent, l.sub_recipe_id AS child
      FROM recipe_lines l
      JOIN rc_ids a ON a.id = l.recipe_id
      JOIN rc_ids b ON b.id = l.sub_recipe_id
      WHERE l.tenant_id = :tenant_id) e
JOIN recipes p ON p.tenant_id = :tenant_id AND p.id = e.parent AND p.deleted_at IS NULL
JOIN recipes c ON c.tenant_id = :tenant_id AND c.id = e.child AND c.deleted_at IS NULL

-- name: scope_lines
-- The one read of recipe_lines for the costing itself; everything below works on rc_lines.
INSERT INTO rc_lines (recipe_id, lvl, ingredient_id, sub_recipe_id, family, base_unit, qty_base,
                      waste_pct, share)
SELECT l.recipe_id, s.lvl, l.ingredient_id, l.sub_recipe_id, l.family, l.base_unit, l.qty_base,
       l.waste_pct, l.share
FROM recipe_lines l
JOIN rc_scope s ON s.recipe_id = l.recipe_id
WHERE l.tenant_id = :tenant_id

-- name: sub_lines
-- The scope's sub-recipe lines with what costing them needs: the sub's name, the line's share
-- (qty ÷ the sub's yield, kept on the line by the recipe services; NULL when the line cannot be
-- costed: the sub is deleted or no longer yields in the line's unit, and it is then listed as
-- missing) and, for a sub outside the scope, its stored total and missing items (it keeps its
-- cost). Joined from the small side, so DuckDB hashes these few lines, not the big tables.
INSERT INTO rc_sub (recipe_id, lvl, sub_id, name, share, outside, stored, stored_missing)
SELECT l.recipe_id, l.lvl, l.sub_recipe_id, r.name,
       CASE WHEN r.deleted_at IS NOT NULL OR r.yield_base <> l.base_unit THEN NULL
            WHEN l.share IS NOT NULL THEN l.share
            ELSE exact_div(l.qty_base, r.yield_base_qty) END,
       i.recipe_id IS NULL,
       CASE WHEN i.recipe_id IS NULL THEN c.total_cost END,
       CASE WHEN i.recipe_id IS NULL AND NOT c.complete THEN CAST(c.missing AS VARCHAR[]) END
FROM rc_lines l
JOIN recipes r ON r.tenant_id = :tenant_id AND r.id = l.sub_recipe_id
LEFT JOIN rc_scope i ON i.recipe_id = l.sub_recipe_id
LEFT JOIN recipe_costs c ON c.tenant_id = :tenant_id AND c.recipe_id = l.sub_recipe_id
WHERE l.sub_recipe_id IS NOT NULL

-- name: load_rates
-- The cost of one line base unit of an ingredient, for each way the scope's lines use it:
-- current unit cost (latest effective_at <= now, the transaction's clock as in costs.now; ties
-- by highest id) ÷ (yield_pct/100), × density for a volume line of a mass ingredient,
-- ÷ (1 − waste_pct/100). A mass line of a volume ingredient keeps the density as `divisor`: its
-- qty is divided by it exactly (92 g of oil at 0.92 g/ml is exactly 100 ml). rate is NULL when
-- the ingredient is deleted, has no current cost or no conversion. Computed once per distinct
-- use, so the per-line work is a multiplication.
INSERT INTO rc_rate (ingredient_id, base_unit, waste_pct, name, divisor, rate)
WITH uses AS (
    SELECT DISTINCT ingredient_id, family, base_unit, waste_pct
    FROM rc_lines
    WHERE ingredient_id IS NOT NULL
),
cur AS (
    SELECT DISTINCT ON (c.ingredient_id) c.ingredient_id, c.unit_cost
    FROM ingredient_costs c
    WHERE c.tenant_id = :tenant_id AND c.effective_at <= current_timestamp
      AND c.ingredient_id IN (SELECT ingredient_id FROM uses)
    ORDER BY c.ingredient_id, c.effective_at DESC, c.id DESC
),
edible AS (
    SELECT i.id AS ingredient_id, i.name, i.family, i.base_unit, i.density,
           CASE WHEN i.deleted_at IS NOT NULL THEN NULL
                WHEN i.yield_pct = 100 THEN cur.unit_cost
                ELSE exact_div(CAST(cur.unit_cost * 100 AS DECIMAL(38, 12)), i.yield_pct) END AS cost
    FROM ingredients i
    LEFT JOIN cur ON cur.ingredient_id = i.id
    WHERE i.tenant_id = :tenant_id AND i.id IN (SELECT ingredient_id FROM uses)
),
converted AS (
    SELECT u.ingredient_id, u.base_unit, u.waste_pct, e.name,
           CASE WHEN u.family = 'mass' AND e.family = 'volume' THEN e.density END AS divisor,
           CASE WHEN u.base_unit = e.base_unit THEN e.cost
                WHEN u.family = 'volume' AND e.family = 'mass'
                    THEN CAST(e.cost * e.density AS DECIMAL(38, 12))
                WHEN u.family = 'mass' AND e.family = 'volume' AND e.density IS NOT NULL THEN e.cost
           END AS cost
    FROM uses u JOIN edible e ON e.ingredient_id = u.ingredient_id
)
SELECT ingredient_id, base_unit, waste_pct, name, divisor,
       CASE WHEN waste_pct = 0 THEN cost
            ELSE exact_div(CAST(cost * 100 AS DECIMAL(38, 12)), 100 - waste_pct) END
FROM converted

-- name: missing_items
-- What each scoped recipe lacks, to any depth: its own ingredients without a cost or a
-- conversion, its unusable or uncosted sub-recipes by name, the stored missing items of
-- sub-recipes outside the scope, and, transitively, everything its usable sub-recipes lack.
-- It depends on no total, so it is one statement for all levels.
INSERT INTO rc_missing (recipe_id, names)
WITH RECURSIVE lacks(recipe_id, name) AS (
    SELECT l.recipe_id, rt.name
    FROM rc_lines l
    JOIN rc_rate rt ON rt.ingredient_id = l.ingredient_id AND rt.base_unit = l.base_unit
                   AND rt.waste_pct = l.waste_pct
    WHERE rt.rate IS NULL
    UNION
    SELECT s.recipe_id, s.name FROM rc_sub s
    WHERE s.share IS NULL OR (s.outside AND s.stored IS NULL)
    UNION
    SELECT s.recipe_id, unnest(s.stored_missing) FROM rc_sub s
    WHERE s.share IS NOT NULL AND s.stored_missing IS NOT NULL
    UNION
    SELECT s.recipe_id, lacks.name FROM lacks
    JOIN rc_sub s ON s.sub_id = lacks.recipe_id AND s.share IS NOT NULL
)
SELECT recipe_id, array_agg(name ORDER BY name) FROM lacks GROUP BY recipe_id

-- name: compute_levels
-- Cost every scoped recipe, level by level, in one statement: a recipe's total is its
-- ingredient lines' exact sum of qty × rate (any level: they need no sub) plus, per usable
-- sub-recipe line, share × the sub's total, CAST once. DuckDB's USING KEY recursion keeps every
-- total computed so far (recurring.tot), so each step costs the next level from all lower ones
-- and from the stored totals of subs outside the scope (seeded at level -1, NULL when there is
-- none). Levels have no gaps (levels, scope), and a level-L recipe always has a sub below it,
-- in the scope or outside it, so the inner joins of the step find it. (PostgreSQL's override
-- loops over the levels in a DO block instead.)
INSERT INTO rc_work (recipe_id, total)
WITH RECURSIVE ingsum AS MATERIALIZED (
    SELECT l.recipe_id,
           SUM(CASE WHEN rt.divisor IS NULL THEN l.qty_base * rt.rate
                    ELSE exact_div(l.qty_base, rt.divisor) * rt.rate END) AS known
    FROM rc_lines l
    JOIN rc_rate rt ON rt.ingredient_id = l.ingredient_id AND rt.base_unit = l.base_unit
                   AND rt.waste_pct = l.waste_pct
    GROUP BY l.recipe_id
),
tot(recipe_id, lvl, total) USING KEY (recipe_id) AS (
    SELECT sub_id, -1, stored FROM rc_sub WHERE outside
    UNION
    SELECT s.recipe_id, 0, CAST(COALESCE(i.known, 0) + COALESCE(o.known, 0) AS DECIMAL(38, 12))
    FROM rc_scope s
    LEFT JOIN ingsum i ON i.recipe_id = s.recipe_id
    LEFT JOIN (
        SELECT b.recipe_id, SUM(b.share * b.stored) AS known
        FROM rc_sub b WHERE b.lvl = 0
        GROUP BY b.recipe_id
    ) o ON o.recipe_id = s.recipe_id
    WHERE s.lvl = 0
    UNION
    SELECT s.recipe_id, s.lvl,
           CAST(COALESCE(MAX(i.known), 0) + COALESCE(SUM(b.share * t.total), 0) AS DECIMAL(38, 12))
    FROM rc_scope s
    JOIN rc_sub b ON b.recipe_id = s.recipe_id
    JOIN recurring.tot t ON t.recipe_id = b.sub_id
    LEFT JOIN ingsum i ON i.recipe_id = s.recipe_id
    WHERE s.lvl = (SELECT MAX(lvl) + 1 FROM tot)
    GROUP BY s.recipe_id, s.lvl
)
SELECT recipe_id, total FROM tot WHERE lvl >= 0

-- name: emit_changes
-- One recipe.recomputed event per scoped recipe whose total or completeness changed (a first
-- costing counts as a change). Amounts are plain decimal text, as in the other events. The old
-- figures are the ones rc_scope read before anything was written. Keys in sorted order and
-- payload_canonical as in imports.sql's created_events: when the name and the cause are
-- printable ASCII the text is already what the export would write, and it skips re-serialising.
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload,
                       payload_canonical)
SELECT :tenant_id, 'recipe.recomputed', 'recipe', CAST(s.recipe_id AS VARCHAR),
       json_object(
           'cause', CAST(:cause AS VARCHAR),
           'complete', m.recipe_id IS NULL,
           'new_total', rtrim(rtrim(CAST(w.total AS VARCHAR), '0'), '.'),
           'old_total', rtrim(rtrim(CAST(s.old_total AS VARCHAR), '0'), '.'),
           'recipe', s.name),
       regexp_full_match(s.name || CAST(:cause AS VARCHAR), '[ -~]*')
FROM rc_scope s
JOIN rc_work w ON w.recipe_id = s.recipe_id
LEFT JOIN rc_missing m ON m.recipe_id = s.recipe_id
WHERE s.old_total IS NULL OR s.old_total <> w.total OR s.old_complete <> (m.recipe_id IS NULL)

-- name: write_costs
-- Write the stored cost of each scoped recipe that has none yet, whose figures changed (total,
-- completeness, missing items) or that was edited since it was last costed, in one upsert.
-- Unchanged rows are left alone, computed_at included: rewriting 100k identical rows costs more
-- than the costing itself. unit_cost is per 1 yield unit (total ÷ yield_qty); food_cost_pct =
-- unit cost ÷ menu price × 100.
INSERT INTO recipe_costs (tenant_id, recipe_id, total_cost, unit_cost, food_cost_pct, complete,
                          missing, computed_at)
SELECT :tenant_id, s.recipe_id, w.total,
       CASE WHEN s.yield_qty = 1 THEN w.total ELSE exact_div(w.total, s.yield_qty) END,
       CASE WHEN s.menu_price IS NOT NULL THEN
           exact_div(CAST(exact_div(w.total, s.yield_qty) * 100 AS DECIMAL(38, 12)), s.menu_price)
       END,
       m.recipe_id IS NULL,
       COALESCE(to_json(m.names), CAST('[]' AS JSON)),
       current_timestamp
FROM rc_scope s
JOIN rc_work w ON w.recipe_id = s.recipe_id
LEFT JOIN rc_missing m ON m.recipe_id = s.recipe_id
WHERE s.old_total IS NULL OR s.old_total <> w.total OR s.old_complete <> (m.recipe_id IS NULL)
   OR CAST(s.old_missing AS VARCHAR)
      <> CAST(COALESCE(to_json(m.names), CAST('[]' AS JSON)) AS VARCHAR)
   OR s.updated_at > s.old_at
ON CONFLICT (tenant_id, recipe_id) DO UPDATE
SET total_cost = excluded.total_cost, unit_cost = excluded.unit_cost,
    food_cost_pct = excluded.food_cost_pct, complete = excluded.complete,
    missing = excluded.missing, computed_at = excluded.computed_at
