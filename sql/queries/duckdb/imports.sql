-- DuckDB: staging tables live in the transaction's own connection (each transaction opens a
-- cursor and closes it), so TEMP tables vanish with it; OR REPLACE covers a retried attempt.
-- Event payloads are built with json_object.

-- name: create_rows
CREATE OR REPLACE TEMP TABLE price_import_rows (
    row_no BIGINT, item VARCHAR, item_key VARCHAR, sku VARCHAR, category VARCHAR,
    family VARCHAR, base VARCHAR, new_family VARCHAR, new_base VARCHAR,
    price DECIMAL(38, 12), pack VARCHAR, pack_qty DECIMAL(38, 12), unit_cost DECIMAL(38, 12))

-- name: create_match
CREATE OR REPLACE TEMP TABLE price_import_match (
    row_no BIGINT, item_key VARCHAR, sku VARCHAR, ingredient_id BIGINT, sku_state VARCHAR,
    created BOOLEAN)

-- name: create_conv
CREATE OR REPLACE TEMP TABLE price_import_conv (
    row_no BIGINT, pack_qty DECIMAL(38, 12), unit_cost DECIMAL(38, 12))

-- name: create_chosen
CREATE OR REPLACE TEMP TABLE price_import_chosen (
    ingredient_id BIGINT, row_no BIGINT, price DECIMAL(38, 12), pack VARCHAR,
    pack_qty DECIMAL(38, 12), unit_cost DECIMAL(38, 12), old_unit_cost DECIMAL(38, 12),
    changed BOOLEAN)

-- name: created_events
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload,
                       idempotency_key, batch_id)
SELECT i.tenant_id, 'ingredient.created', 'ingredient', CAST(i.id AS VARCHAR),
       json_object('name', i.name, 'unit', i.base_unit, 'category', i.category),
       CAST(:idempotency_key AS VARCHAR), CAST(:batch_id AS BIGINT)
FROM ingredients i
WHERE i.tenant_id = :tenant_id AND i.deleted_at IS NULL
  AND i.id IN (SELECT ingredient_id FROM price_import_match WHERE created)
ORDER BY i.id

-- name: cost_events
-- Unit costs as plain decimal text without trailing zeros, as update_cost writes them.
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload,
                       idempotency_key, batch_id)
SELECT i.tenant_id, 'ingredient.cost.updated', 'ingredient', CAST(c.ingredient_id AS VARCHAR),
       json_object('ingredient', i.name, 'ingredient_id', c.ingredient_id,
                   'old_unit_cost', rtrim(rtrim(CAST(c.old_unit_cost AS VARCHAR), '0'), '.'),
                   'new_unit_cost', rtrim(rtrim(CAST(c.unit_cost AS VARCHAR), '0'), '.'),
                   'effective_at', CAST(:effective_at AS VARCHAR), 'source', 'import',
                   'supplier', CAST(:supplier AS VARCHAR)),
       CAST(:idempotency_key AS VARCHAR), CAST(:batch_id AS BIGINT)
FROM price_import_chosen c
JOIN ingredients i ON i.tenant_id = :tenant_id AND i.id = c.ingredient_id AND i.deleted_at IS NULL
WHERE c.changed
ORDER BY c.ingredient_id
