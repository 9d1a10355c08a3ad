-- DuckDB: staging tables live in the transaction's own connection (each transaction opens a
-- cursor and closes it), so TEMP tables vanish with it; OR REPLACE covers a retried attempt.
-- Event payloads are built with json_object, keys sorted, marked canonical when they are.

-- name: create_rows
CREATE OR REPLACE TEMP TABLE price_import_rows (
    row_no BIGINT, key_code BIGINT, sku VARCHAR, pack_code BIGINT, price_code BIGINT,
    cost_code BIGINT)

-- name: create_items
CREATE OR REPLACE TEMP TABLE price_import_items (
    key_code BIGINT, item_key VARCHAR, item VARCHAR, category VARCHAR, new_family VARCHAR,
    new_base VARCHAR)

-- name: create_packs
CREATE OR REPLACE TEMP TABLE price_import_packs (
    pack_code BIGINT, pack VARCHAR, family VARCHAR, base VARCHAR, pack_qty DECIMAL(38, 12))

-- name: create_prices
CREATE OR REPLACE TEMP TABLE price_import_prices (
    price_code BIGINT, price DECIMAL(38, 12))

-- name: create_costs
CREATE OR REPLACE TEMP TABLE price_import_costs (
    cost_code BIGINT, unit_cost DECIMAL(38, 12))

-- name: create_match
CREATE OR REPLACE TEMP TABLE price_import_match (
    row_no BIGINT, key_code BIGINT, sku VARCHAR, pack_code BIGINT, price_code BIGINT,
    cost_code BIGINT, ingredient_id BIGINT, ing_base VARCHAR, ing_family VARCHAR,
    ing_density DECIMAL(38, 12), sku_state VARCHAR)

-- name: create_new
CREATE OR REPLACE TEMP TABLE price_import_new (
    key_code BIGINT, ingredient_id BIGINT)

-- name: create_conv
CREATE OR REPLACE TEMP TABLE price_import_conv (
    price_code BIGINT, pack_code BIGINT, ingredient_id BIGINT, pack_qty DECIMAL(38, 12),
    unit_cost DECIMAL(38, 12))

-- name: create_rejected
CREATE OR REPLACE TEMP TABLE price_import_rejected (
    seq BIGINT, row_no BIGINT, column_name VARCHAR, value VARCHAR, problem VARCHAR)

-- name: create_chosen
CREATE OR REPLACE TEMP TABLE price_import_chosen (
    ingredient_id BIGINT, row_no BIGINT, price DECIMAL(38, 12), pack VARCHAR,
    pack_qty DECIMAL(38, 12), unit_cost DECIMAL(38, 12), old_unit_cost DECIMAL(38, 12),
    changed BOOLEAN)

-- name: created_events
-- Payload keys in sorted order, so the text is canonical when every string in it is printable
-- ASCII: json_object then escapes exactly as Python's json does (a quote or a backslash
-- only; tests compare every printable character). A payload holding anything else (UTF-8, or
-- control characters, which DuckDB escapes as \u001F where Python writes \u001f) is marked
-- not canonical and re-serialised on read. The other values are ids and NULLs.
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload,
                       idempotency_key, batch_id, payload_canonical)
SELECT i.tenant_id, 'ingredient.created', 'ingredient', CAST(i.id AS VARCHAR),
       json_object('category', i.category, 'name', i.name, 'unit', i.base_unit),
       CAST(:idempotency_key AS VARCHAR), CAST(:batch_id AS BIGINT),
       regexp_full_match(i.name || COALESCE(i.category, '') || i.base_unit, '[ -~]*')
FROM price_import_new nw
JOIN ingredients i ON i.tenant_id = :tenant_id AND i.id = nw.ingredient_id AND i.deleted_at IS NULL
ORDER BY i.id

-- name: cost_events
-- Unit costs as plain decimal text without trailing zeros, as update_cost writes them. Keys
-- sorted and the canonical marker as in created_events: the strings are the name, the
-- supplier, the ISO time and decimal digits.
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload,
                       idempotency_key, batch_id, payload_canonical)
SELECT i.tenant_id, 'ingredient.cost.updated', 'ingredient', CAST(c.ingredient_id AS VARCHAR),
       json_object('effective_at', CAST(:effective_at AS VARCHAR), 'ingredient', i.name,
                   'ingredient_id', c.ingredient_id,
                   'new_unit_cost', rtrim(rtrim(CAST(c.unit_cost AS VARCHAR), '0'), '.'),
                   'old_unit_cost', rtrim(rtrim(CAST(c.old_unit_cost AS VARCHAR), '0'), '.'),
                   'source', 'import', 'supplier', CAST(:supplier AS VARCHAR)),
       CAST(:idempotency_key AS VARCHAR), CAST(:batch_id AS BIGINT),
       regexp_full_match(i.name, '[ -~]*')
       AND regexp_full_match(COALESCE(CAST(:supplier AS VARCHAR), '') || CAST(:effective_at AS VARCHAR), '[ -~]*')
FROM price_import_chosen c
JOIN ingredients i ON i.tenant_id = :tenant_id AND i.id = c.ingredient_id AND i.deleted_at IS NULL
WHERE c.changed
ORDER BY c.ingredient_id

-- name: choose_costs
-- As the portable query, with arg_min in place of DISTINCT ON, which sorts every row (3x slower).
INSERT INTO price_import_chosen (ingredient_id, row_no, price, pack, pack_qty, unit_cost,
                                 old_unit_cost, changed)
WITH x AS (
    SELECT COALESCE(m.ingredient_id, n.ingredient_id) AS ingredient_id, m.row_no, m.price_code,
           m.pack_code, COALESCE(c.pack_qty, p.pack_qty) AS pack_qty,
           COALESCE(c.unit_cost, uc.unit_cost) AS unit_cost
    FROM price_import_match m
    JOIN price_import_costs uc ON uc.cost_code = m.cost_code
    JOIN price_import_packs p ON p.pack_code = m.pack_code
    LEFT JOIN price_import_new n ON n.key_code = m.key_code
    LEFT JOIN price_import_conv c ON c.price_code = m.price_code AND c.pack_code = m.pack_code
                                 AND c.ingredient_id = m.ingredient_id
), best AS (
    SELECT arg_min(x, (x.unit_cost, x.row_no)) AS b FROM x GROUP BY x.ingredient_id
)
SELECT b.ingredient_id, b.row_no, pr.price, p.pack, b.pack_qty, b.unit_cost, cur.unit_cost,
       cur.unit_cost IS NULL OR cur.unit_cost <> b.unit_cost
FROM (SELECT unnest(b) FROM best) b
JOIN price_import_prices pr ON pr.price_code = b.price_code
JOIN price_import_packs p ON p.pack_code = b.pack_code
LEFT JOIN (
    SELECT DISTINCT ON (ingredient_id) ingredient_id, unit_cost
    FROM ingredient_costs
    WHERE tenant_id = :tenant_id AND effective_at <= :at
      AND ingredient_id IN (SELECT ingredient_id FROM price_import_match)
    ORDER BY ingredient_id, effective_at DESC, id DESC
) cur ON cur.ingredient_id = b.ingredient_id
