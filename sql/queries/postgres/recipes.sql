-- PostgreSQL spellings of recipes.sql queries (the base file is DuckDB's).

-- name: open_import
DO $$
BEGIN
    DROP TABLE IF EXISTS pg_temp.ri_recipes;
    CREATE TEMP TABLE ri_recipes (
        recipe_key VARCHAR, name VARCHAR, row_no BIGINT, yield_qty VARCHAR, yield_unit VARCHAR,
        yield_family VARCHAR, yield_base VARCHAR, yield_base_qty VARCHAR, menu_price VARCHAR
    ) ON COMMIT DROP;
    DROP TABLE IF EXISTS pg_temp.ri_lines;
    CREATE TEMP TABLE ri_lines (
        row_no BIGINT, recipe_key VARCHAR, position INTEGER, kind VARCHAR, item VARCHAR,
        item_key VARCHAR, qty VARCHAR, unit VARCHAR, family VARCHAR, base_unit VARCHAR,
        qty_base VARCHAR, waste_pct VARCHAR
    ) ON COMMIT DROP;
END
$$

-- name: import_analyze
-- Without statistics the planner takes the staging tables for a few rows and joins them by
-- nested loops, comparing every line with every ingredient name and recipe: 2,000 recipes
-- (16,000 lines) took 30 s, 4,000 took 85 s.
ANALYZE ri_recipes, ri_lines

-- name: import_analyze_written
-- Planned from statistics taken before the import (an empty recipes table, say), the cycle and
-- depth checks walk the new graph by scanning every recipe once per line: minutes for a few
-- thousand recipes. As the tables' owner (mo_analyze, V009): tenant transactions run as mo_app.
SELECT mo_analyze(ARRAY['recipes', 'recipe_lines'])
