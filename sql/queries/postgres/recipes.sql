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
