-- Set-based recipe costing over the recipe graph (mo/services/recompute.py drives it). This file
-- holds only the statements both engines run (tests/test_sqlfiles.py plans each on both); each
-- engine's own steps (scope_walk, scope_lines, compute, emit_changes, write_costs) are whole in
-- sql/queries/duckdb/recompute.sql and sql/queries/postgres/recompute.sql.
--
-- Work happens in temporary tables that live for one recompute inside the caller's transaction:
--   rc_seed    recipe ids to start from          rc_seed_ing  ingredient ids to start from
--   rc_ids     the exact path's scope, and a full recompute's: recipe ids
--   rc_scope   the scope's active recipes: level, and what the writes need of them (name,
--              yield, menu price, the stored cost before this recompute), read once from
--              recipes and recipe_costs
--   rc_lines   the scope's lines (read once); a sub-recipe line also carries what costing it
--              needs of the sub (name, share, yield base, deleted or not, and for a sub outside
--              the scope its stored total and missing items)
--   rc_work    per recipe: its computed total, unit cost and food-cost % (NULL: too large
--              to store) and its missing items
--   rc_cost_override  unit costs that replace the chosen ones (compute_only; else empty)
-- Each DuckDB statement costs a millisecond or more of binding, planning and scheduling however
-- small the scope, and each read of a big table (recipe_lines, recipes, recipe_costs) a few more,
-- so a recompute is as few statements as the writes allow (a cost update: open_work, its seed,
-- scope_walk, scope_lines, compute, emit_changes, write_costs), and intermediate sets read by
-- one statement only are CTEs of that statement, not tables.
-- The usual path finds the scope, its levels and what the writes need of it in one statement
-- (scope_walk); when it keeps nothing (it found nothing active, or went deeper than MAX_DEPTH:
-- a cycle?), the exact path (scope_ancestors, levels, max_level) decides, as it does for a full
-- recompute.
-- Money is DECIMAL(38,12); every quotient goes through exact_div (V006), never through DECIMAL
-- '/' (DuckDB makes that a DOUBLE). Each product is CAST back to DECIMAL(38,12), except a line
-- cost (qty × rate, share × sub total): those are summed exactly at 24 places and the recipe
-- total is CAST once, because in DuckDB every DECIMAL(38) rescale or division is a 128-bit
-- division, which would dominate the run time if done per line.

-- name: work_tables
-- The work tables, declared once for both engines in types both accept; Tx.open_work_tables
-- makes them fresh and empty for this transaction (DuckDB: CREATE OR REPLACE; PostgreSQL: kept
-- for the pooled connection, ON COMMIT DELETE ROWS, emptied when reopened). A column one
-- engine's statements do not fill stays NULL there (rc_lines' sub-recipe columns and rc_work's
-- names on PostgreSQL, which keeps those in rc_sub and rc_missing; rc_work.big on DuckDB).
-- rc_cost_override: unit costs that replace an ingredient's chosen current cost (before yield,
-- density and waste) in compute; empty in a normal recompute (compute_only fills it).
CREATE TEMP TABLE rc_seed (id BIGINT);
CREATE TEMP TABLE rc_seed_ing (id BIGINT);
CREATE TEMP TABLE rc_ids (id BIGINT);
CREATE TEMP TABLE rc_cost_override (ingredient_id BIGINT, unit_cost DECIMAL(38, 12));
CREATE TEMP TABLE rc_scope (
    recipe_id BIGINT, lvl INTEGER, name VARCHAR, yield_qty DECIMAL(38, 12),
    menu_price DECIMAL(38, 12), updated_at TIMESTAMPTZ, old_total DECIMAL(38, 12),
    old_complete BOOLEAN, old_missing JSON, old_at TIMESTAMPTZ
);
CREATE TEMP TABLE rc_lines (
    recipe_id BIGINT, lvl INTEGER, ingredient_id BIGINT, sub_recipe_id BIGINT, family VARCHAR,
    base_unit VARCHAR, qty_base DECIMAL(38, 12), waste_pct DECIMAL(38, 12), share DECIMAL(38, 12),
    sub_name VARCHAR, sub_base VARCHAR, sub_deleted BOOLEAN, outside BOOLEAN,
    stored DECIMAL(38, 12), stored_missing VARCHAR[]
);
CREATE TEMP TABLE rc_work (
    recipe_id BIGINT, total DECIMAL(38, 12), big BOOLEAN, unit_cost DECIMAL(38, 12),
    food_cost_pct DECIMAL(38, 12), names VARCHAR[]
)

-- name: add_rc_cost_override
INSERT INTO rc_cost_override (ingredient_id, unit_cost) VALUES (:ingredient_id, :unit_cost)

-- name: work_rows
-- What compute put in rc_work, with each recipe's name (compute_only's answer).
SELECT s.recipe_id, s.name, w.total, w.unit_cost, w.food_cost_pct, w.names
FROM rc_work w
JOIN rc_scope s ON s.recipe_id = w.recipe_id
ORDER BY s.recipe_id

-- name: add_rc_seed
INSERT INTO rc_seed (id) VALUES (:id)
-- name: add_rc_seed_ing
INSERT INTO rc_seed_ing (id) VALUES (:id)

-- name: scope_all
INSERT INTO rc_ids (id)
SELECT id FROM active_recipes WHERE tenant_id = :tenant_id

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
SELECT r.id FROM active_recipes r
WHERE r.tenant_id = :tenant_id AND r.id IN (SELECT id FROM up)

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
JOIN active_recipes r ON r.tenant_id = :tenant_id AND r.id = lv.id
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
JOIN active_recipes p ON p.tenant_id = :tenant_id AND p.id = e.parent
JOIN active_recipes c ON c.tenant_id = :tenant_id AND c.id = e.child

