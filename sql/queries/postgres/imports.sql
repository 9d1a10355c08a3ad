-- PostgreSQL: staging tables are TEMP ... ON COMMIT DROP, so they end with the transaction
-- (a rollback drops them too). Event payloads are built with jsonb_build_object.

-- name: create_rows
CREATE TEMP TABLE price_import_rows (
    row_no BIGINT, key_code BIGINT, sku VARCHAR, pack_code BIGINT, price_code BIGINT,
    cost_code BIGINT) ON COMMIT DROP

-- name: create_items
CREATE TEMP TABLE price_import_items (
    key_code BIGINT, item_key VARCHAR, item VARCHAR, category VARCHAR, new_family VARCHAR,
    new_base VARCHAR) ON COMMIT DROP

-- name: create_packs
CREATE TEMP TABLE price_import_packs (
    pack_code BIGINT, pack VARCHAR, family VARCHAR, base VARCHAR,
    pack_qty DECIMAL(38, 12)) ON COMMIT DROP

-- name: create_prices
CREATE TEMP TABLE price_import_prices (
    price_code BIGINT, price DECIMAL(38, 12)) ON COMMIT DROP

-- name: create_costs
CREATE TEMP TABLE price_import_costs (
    cost_code BIGINT, unit_cost DECIMAL(38, 12)) ON COMMIT DROP

-- name: create_match
CREATE TEMP TABLE price_import_match (
    row_no BIGINT, key_code BIGINT, sku VARCHAR, pack_code BIGINT, price_code BIGINT,
    cost_code BIGINT, ingredient_id BIGINT, ing_base VARCHAR, ing_family VARCHAR,
    ing_density DECIMAL(38, 12), sku_state VARCHAR) ON COMMIT DROP

-- name: create_new
CREATE TEMP TABLE price_import_new (
    key_code BIGINT, ingredient_id BIGINT) ON COMMIT DROP

-- name: create_conv
CREATE TEMP TABLE price_import_conv (
    price_code BIGINT, pack_code BIGINT, ingredient_id BIGINT, pack_qty DECIMAL(38, 12),
    unit_cost DECIMAL(38, 12)) ON COMMIT DROP

-- name: create_rejected
CREATE TEMP TABLE price_import_rejected (
    seq BIGINT, row_no BIGINT, column_name VARCHAR, value VARCHAR, problem VARCHAR) ON COMMIT DROP

-- name: create_chosen
CREATE TEMP TABLE price_import_chosen (
    ingredient_id BIGINT, row_no BIGINT, price DECIMAL(38, 12), pack VARCHAR,
    pack_qty DECIMAL(38, 12), unit_cost DECIMAL(38, 12), old_unit_cost DECIMAL(38, 12),
    changed BOOLEAN) ON COMMIT DROP

-- name: created_events
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload,
                       idempotency_key, batch_id)
SELECT i.tenant_id, 'ingredient.created', 'ingredient', CAST(i.id AS VARCHAR),
       jsonb_build_object('name', i.name, 'unit', i.base_unit, 'category', i.category),
       CAST(:idempotency_key AS VARCHAR), CAST(:batch_id AS BIGINT)
FROM price_import_new nw
JOIN ingredients i ON i.tenant_id = :tenant_id AND i.id = nw.ingredient_id AND i.deleted_at IS NULL
ORDER BY i.id

-- name: cost_events
-- Unit costs as plain decimal text without trailing zeros, as update_cost writes them.
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload,
                       idempotency_key, batch_id)
SELECT i.tenant_id, 'ingredient.cost.updated', 'ingredient', CAST(c.ingredient_id AS VARCHAR),
       jsonb_build_object('ingredient', i.name, 'ingredient_id', c.ingredient_id,
                   'old_unit_cost', rtrim(rtrim(CAST(c.old_unit_cost AS VARCHAR), '0'), '.'),
                   'new_unit_cost', rtrim(rtrim(CAST(c.unit_cost AS VARCHAR), '0'), '.'),
                   'effective_at', CAST(:effective_at AS VARCHAR), 'source', 'import',
                   'supplier', CAST(:supplier AS VARCHAR)),
       CAST(:idempotency_key AS VARCHAR), CAST(:batch_id AS BIGINT)
FROM price_import_chosen c
JOIN ingredients i ON i.tenant_id = :tenant_id AND i.id = c.ingredient_id AND i.deleted_at IS NULL
WHERE c.changed
ORDER BY c.ingredient_id

-- name: staging_statistics
-- ANALYZE samples 300 x default_statistics_target rows: 30,000 by default, which took 0.4-0.5 s
-- over the three staging ANALYZEs of a 1M-row list; 3,000 take 0.1 s and give the planner the
-- row counts and rough distributions its hash joins need. For this transaction only.
SELECT set_config('default_statistics_target', '10', true) AS sampled

-- name: table_statistics
-- The tenant tables are shared and long-lived: they keep the server's sample size.
SELECT set_config('default_statistics_target', reset_val, true) AS sampled
FROM pg_settings WHERE name = 'default_statistics_target'

-- name: analyze
ANALYZE price_import_rows, price_import_items, price_import_packs, price_import_prices,
        price_import_costs, price_import_match, price_import_new, price_import_conv

-- name: analyze_match
-- Re-analysing all eight staging tables after each step cost about 0.4 s per 200k rows, twice.
ANALYZE price_import_match

-- name: analyze_new
ANALYZE price_import_new, price_import_conv

-- name: create_ingredients
-- As the portable query, but recording the new ids from RETURNING: joining back to ingredients
-- by name would run against statistics that do not count the rows just added, and PostgreSQL
-- then scans the table once per new item (minutes for 100k items).
WITH created AS (
    INSERT INTO ingredients (tenant_id, name, name_key, family, base_unit, category)
    SELECT CAST(:tenant_id AS VARCHAR), it.item, it.item_key, it.new_family, it.new_base,
           it.category
    FROM price_import_items it
    WHERE it.key_code IN (SELECT key_code FROM price_import_match WHERE ingredient_id IS NULL)
    ORDER BY it.item_key
    RETURNING id, name_key
)
INSERT INTO price_import_new (key_code, ingredient_id)
SELECT it.key_code, created.id
FROM created
JOIN price_import_items it ON it.item_key = created.name_key

-- name: link_created
-- Done by create_ingredients above.
SELECT 0 AS linked

-- name: analyze_written
-- Without this, PostgreSQL plans the next import against statistics from before this one (an
-- empty ingredients table, say) and picks nested loops: 40 s instead of 1 s for 200k rows.
-- As the tables' owner (mo_analyze, migration V009): tenant transactions run as mo_app.
SELECT mo_analyze(ARRAY['ingredients', 'ingredient_names', 'supplier_items', 'ingredient_costs'])
