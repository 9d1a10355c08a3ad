-- Price-list imports, set-based: the validated file is bulk-loaded into the price_import_*
-- temporary tables (created per dialect, see duckdb/ and postgres/imports.sql), then matched,
-- created and costed with joins. No statement here runs once per row.

-- name: latest_completed
-- The supplier's latest completed price list: re-sending it is a duplicate, not a change.
SELECT id, content_hash
FROM import_batches
WHERE tenant_id = :tenant_id AND kind = 'price_list' AND supplier_key = :supplier_key
  AND status = 'completed'
ORDER BY id DESC
LIMIT 1

-- name: insert_batch
INSERT INTO import_batches (tenant_id, kind, idempotency_key, supplier, supplier_key, content_hash,
                            status, rows, duplicate_of, effective_at)
VALUES (:tenant_id, 'price_list', :idempotency_key, :supplier, :supplier_key, :content_hash,
        :status, :rows, :duplicate_of, :effective_at)
RETURNING id

-- name: finish_batch
UPDATE import_batches
SET created = :created, changed = :changed, unchanged = :unchanged, recomputed = :recomputed
WHERE tenant_id = :tenant_id AND id = :id

-- name: match
-- Each row's ingredient: the one its (supplier, sku) maps to when that ingredient is active,
-- else the active ingredient its item name or alias names, else none yet (a new item).
-- sku_state: 'active' mapping, 'stale' (mapped to a deleted ingredient) or NULL (unknown sku).
INSERT INTO price_import_match (row_no, item_key, sku, ingredient_id, sku_state, created)
SELECT r.row_no, r.item_key, r.sku, COALESCE(s.ingredient_id, n.ingredient_id),
       CASE WHEN s.ingredient_id IS NOT NULL THEN 'active' WHEN s.sku IS NOT NULL THEN 'stale' END,
       FALSE
FROM price_import_rows r
LEFT JOIN (
    SELECT si.sku, CASE WHEN i.deleted_at IS NULL THEN si.ingredient_id END AS ingredient_id
    FROM supplier_items si
    JOIN ingredients i ON i.tenant_id = si.tenant_id AND i.id = si.ingredient_id
    WHERE si.tenant_id = :tenant_id AND si.supplier_key = :supplier_key
) s ON s.sku = r.sku
LEFT JOIN (
    SELECT n.name_key, n.ingredient_id
    FROM ingredient_names n
    JOIN ingredients i ON i.tenant_id = n.tenant_id AND i.id = n.ingredient_id
    WHERE n.tenant_id = :tenant_id AND n.deleted_at IS NULL AND i.deleted_at IS NULL
) n ON n.name_key = r.item_key

-- name: to_convert
-- Rows priced in the other one of mass and volume than their ingredient, which has a density.
SELECT r.row_no, r.price, r.pack, i.name, i.base_unit, i.density
FROM price_import_rows r
JOIN price_import_match m ON m.row_no = r.row_no
JOIN ingredients i ON i.tenant_id = :tenant_id AND i.id = m.ingredient_id AND i.deleted_at IS NULL
WHERE r.base <> i.base_unit AND r.family IN ('mass', 'volume') AND i.family IN ('mass', 'volume')
  AND i.density IS NOT NULL
ORDER BY r.row_no

-- name: unit_clashes
-- Rows whose pack cannot be priced in their ingredient's unit. A new ingredient takes the unit
-- of its first row (the unit column, else the pack), and has no density yet.
SELECT r.row_no, r.pack, r.base, COALESCE(i.name, r.item) AS ingredient,
       COALESCE(i.base_unit, f.first_base) AS unit, count(*) OVER () AS total
FROM price_import_rows r
JOIN price_import_match m ON m.row_no = r.row_no
LEFT JOIN ingredients i ON i.tenant_id = :tenant_id AND i.id = m.ingredient_id AND i.deleted_at IS NULL
LEFT JOIN (
    SELECT DISTINCT ON (fr.item_key) fr.item_key, fr.new_base AS first_base
    FROM price_import_rows fr
    JOIN price_import_match fm ON fm.row_no = fr.row_no
    WHERE fm.ingredient_id IS NULL
    ORDER BY fr.item_key, fr.row_no
) f ON m.ingredient_id IS NULL AND f.item_key = r.item_key
WHERE CASE
    WHEN m.ingredient_id IS NULL THEN :create_missing AND r.base <> f.first_base
    ELSE r.base <> i.base_unit AND NOT (r.family IN ('mass', 'volume')
                                        AND i.family IN ('mass', 'volume') AND i.density IS NOT NULL)
END
ORDER BY r.row_no
LIMIT :limit

-- name: unknown_items
SELECT r.row_no, r.item, count(*) OVER () AS total
FROM price_import_rows r
JOIN price_import_match m ON m.row_no = r.row_no
WHERE m.ingredient_id IS NULL
ORDER BY r.row_no
LIMIT :limit

-- name: create_ingredients
-- One ingredient per new item name, shaped by its first row.
INSERT INTO ingredients (tenant_id, name, name_key, family, base_unit, category)
SELECT CAST(:tenant_id AS VARCHAR), nf.item, nf.item_key, nf.new_family, nf.new_base,
       nf.category
FROM (
    SELECT DISTINCT ON (r.item_key) r.item, r.item_key, r.new_family, r.new_base, r.category
    FROM price_import_rows r
    JOIN price_import_match m ON m.row_no = r.row_no
    WHERE m.ingredient_id IS NULL
    ORDER BY r.item_key, r.row_no
) nf
ORDER BY nf.item_key

-- name: link_created
UPDATE price_import_match
SET ingredient_id = i.id, created = TRUE
FROM ingredients i
WHERE price_import_match.ingredient_id IS NULL
  AND i.tenant_id = :tenant_id AND i.deleted_at IS NULL AND i.name_key = price_import_match.item_key

-- name: name_created
INSERT INTO ingredient_names (tenant_id, ingredient_id, name, name_key, is_alias)
SELECT i.tenant_id, i.id, i.name, i.name_key, FALSE
FROM ingredients i
WHERE i.tenant_id = :tenant_id AND i.deleted_at IS NULL
  AND i.id IN (SELECT ingredient_id FROM price_import_match WHERE created)
ORDER BY i.id

-- name: add_supplier_items
INSERT INTO supplier_items (tenant_id, supplier_key, sku, ingredient_id)
SELECT CAST(:tenant_id AS VARCHAR), CAST(:supplier_key AS VARCHAR), m.sku, m.ingredient_id
FROM price_import_match m
WHERE m.sku IS NOT NULL AND m.sku_state IS NULL
ORDER BY m.row_no

-- name: remap_supplier_items
-- A sku mapped to an ingredient deleted since now names the ingredient this file matched.
UPDATE supplier_items
SET ingredient_id = m.ingredient_id
FROM price_import_match m
WHERE supplier_items.tenant_id = :tenant_id AND supplier_items.supplier_key = :supplier_key
  AND supplier_items.sku = m.sku AND m.sku_state = 'stale'

-- name: choose_costs
-- Per ingredient, the batch's lowest unit cost (the first row on ties), beside the cost in
-- effect at :at; the batch changes that ingredient's cost when the two differ.
INSERT INTO price_import_chosen (ingredient_id, row_no, price, pack, pack_qty, unit_cost,
                                 old_unit_cost, changed)
SELECT b.ingredient_id, b.row_no, b.price, b.pack, b.pack_qty, b.unit_cost, cur.unit_cost,
       cur.unit_cost IS NULL OR cur.unit_cost <> b.unit_cost
FROM (
    SELECT DISTINCT ON (m.ingredient_id) m.ingredient_id, r.row_no, r.price, r.pack,
           COALESCE(c.pack_qty, r.pack_qty) AS pack_qty, COALESCE(c.unit_cost, r.unit_cost) AS unit_cost
    FROM price_import_rows r
    JOIN price_import_match m ON m.row_no = r.row_no
    LEFT JOIN price_import_conv c ON c.row_no = r.row_no
    ORDER BY m.ingredient_id, COALESCE(c.unit_cost, r.unit_cost), r.row_no
) b
LEFT JOIN (
    SELECT DISTINCT ON (ingredient_id) ingredient_id, unit_cost
    FROM ingredient_costs
    WHERE tenant_id = :tenant_id AND effective_at <= :at
      AND ingredient_id IN (SELECT ingredient_id FROM price_import_match)
    ORDER BY ingredient_id, effective_at DESC, id DESC
) cur ON cur.ingredient_id = b.ingredient_id

-- name: insert_costs
INSERT INTO ingredient_costs (tenant_id, ingredient_id, price, pack, pack_qty, unit_cost,
                              effective_at, source, supplier, batch_id)
SELECT CAST(:tenant_id AS VARCHAR), c.ingredient_id, c.price, c.pack, c.pack_qty, c.unit_cost,
       CAST(:at AS TIMESTAMPTZ), 'import', CAST(:supplier AS VARCHAR), CAST(:batch_id AS BIGINT)
FROM price_import_chosen c
WHERE c.changed
ORDER BY c.ingredient_id

-- name: counts
SELECT count(*) FILTER (WHERE changed) AS changed,
       count(*) FILTER (WHERE NOT changed) AS unchanged,
       (SELECT count(DISTINCT ingredient_id) FROM price_import_match WHERE created) AS created
FROM price_import_chosen

-- name: changed_ids
SELECT ingredient_id FROM price_import_chosen WHERE changed ORDER BY ingredient_id

-- name: batches
SELECT id AS batch_id, kind, supplier, status, rows, created, changed, unchanged, recomputed,
       duplicate_of, effective_at, created_at, idempotency_key
FROM import_batches
WHERE tenant_id = :tenant_id
ORDER BY created_at, id

-- name: supplier_items
SELECT si.supplier_key, si.sku, i.name AS ingredient, si.ingredient_id
FROM supplier_items si
JOIN ingredients i ON i.tenant_id = si.tenant_id AND i.id = si.ingredient_id
WHERE si.tenant_id = :tenant_id AND i.deleted_at IS NULL
ORDER BY si.supplier_key, si.sku
