-- Price-list imports, set-based. The validated list is bulk-loaded into temporary staging
-- tables (Tx.create_temp_table makes each last for the transaction only):
--   price_import_rows    one per good row: row_no, key_code, sku and codes into the tables below
--   price_import_items   one per item name (key_code, item_key, item, category, new unit)
--   price_import_packs   one per pack text (pack, family, base, pack_qty in its base unit)
--   price_import_prices  one per price text;  price_import_costs  one per (price, pack) unit cost
-- then matched, created and costed with joins. No statement here runs once per row.

-- name: create_rows
CREATE TEMP TABLE price_import_rows (
    row_no BIGINT, key_code BIGINT, sku VARCHAR, pack_code BIGINT, price_code BIGINT,
    cost_code BIGINT)

-- name: create_items
CREATE TEMP TABLE price_import_items (
    key_code BIGINT, item_key VARCHAR, item VARCHAR, category VARCHAR, new_family VARCHAR,
    new_base VARCHAR)

-- name: create_packs
CREATE TEMP TABLE price_import_packs (
    pack_code BIGINT, pack VARCHAR, family VARCHAR, base VARCHAR, pack_qty DECIMAL(38, 12))

-- name: create_prices
CREATE TEMP TABLE price_import_prices (
    price_code BIGINT, price DECIMAL(38, 12))

-- name: create_costs
CREATE TEMP TABLE price_import_costs (
    cost_code BIGINT, unit_cost DECIMAL(38, 12))

-- name: create_match
CREATE TEMP TABLE price_import_match (
    row_no BIGINT, key_code BIGINT, sku VARCHAR, pack_code BIGINT, price_code BIGINT,
    cost_code BIGINT, ingredient_id BIGINT, ing_base VARCHAR, ing_family VARCHAR,
    ing_density DECIMAL(38, 12), sku_state VARCHAR)

-- name: create_new
CREATE TEMP TABLE price_import_new (
    key_code BIGINT, ingredient_id BIGINT)

-- name: create_conv
CREATE TEMP TABLE price_import_conv (
    price_code BIGINT, pack_code BIGINT, ingredient_id BIGINT, pack_qty DECIMAL(38, 12),
    unit_cost DECIMAL(38, 12))

-- name: create_moved
CREATE TEMP TABLE price_import_moved (
    ingredient_id BIGINT, old_unit_cost DECIMAL(38, 12), unit_cost DECIMAL(38, 12),
    supplier VARCHAR)

-- name: create_rejected
CREATE TEMP TABLE price_import_rejected (
    seq BIGINT, row_no BIGINT, column_name VARCHAR, value VARCHAR, problem VARCHAR)

-- name: create_chosen
CREATE TEMP TABLE price_import_chosen (
    ingredient_id BIGINT, row_no BIGINT, price DECIMAL(38, 12), pack VARCHAR,
    pack_qty DECIMAL(38, 12), unit_cost DECIMAL(38, 12), old_unit_cost DECIMAL(38, 12),
    changed BOOLEAN, written BOOLEAN, chosen_unit_cost DECIMAL(38, 12), chosen_supplier VARCHAR)

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
-- Each row's ingredient, with the unit facts the checks need: the ingredient its (supplier, sku)
-- maps to when that one is active, else the active ingredient its item name or alias names,
-- else none yet (a new item). sku_state: 'active', 'stale' (mapped to a deleted ingredient) or
-- NULL (a sku this supplier never sent).
INSERT INTO price_import_match (row_no, key_code, sku, pack_code, price_code, cost_code,
                                ingredient_id, ing_base, ing_family, ing_density, sku_state)
SELECT r.row_no, r.key_code, r.sku, r.pack_code, r.price_code, r.cost_code,
       CASE WHEN s.active THEN s.ingredient_id ELSE n.ingredient_id END,
       CASE WHEN s.active THEN s.base_unit ELSE n.base_unit END,
       CASE WHEN s.active THEN s.family ELSE n.family END,
       CASE WHEN s.active THEN s.density ELSE n.density END,
       CASE WHEN s.active THEN 'active' WHEN s.sku IS NOT NULL THEN 'stale' END
FROM price_import_rows r
JOIN price_import_items it ON it.key_code = r.key_code
LEFT JOIN (
    SELECT si.sku, i.deleted_at IS NULL AS active, i.id AS ingredient_id, i.base_unit, i.family,
           i.density
    FROM supplier_items si
    JOIN ingredients i ON i.tenant_id = si.tenant_id AND i.id = si.ingredient_id
    WHERE si.tenant_id = :tenant_id AND si.supplier_key = :supplier_key
) s ON s.sku = r.sku
LEFT JOIN (
    SELECT n.name_key, i.id AS ingredient_id, i.base_unit, i.family, i.density
    FROM active_ingredient_names n
    JOIN active_ingredients i ON i.tenant_id = n.tenant_id AND i.id = n.ingredient_id
    WHERE n.tenant_id = :tenant_id
) n ON n.name_key = it.item_key

-- name: to_convert
-- Packs in another unit than their ingredient's: one row per distinct (price, pack, ingredient),
-- to be costed in Python through the density or the ingredient's conversions (exact decimals).
SELECT m.price_code, m.pack_code, m.ingredient_id, min(m.row_no) AS row_no, count(*) AS rows,
       pr.price, p.pack, p.base AS pack_base, i.name, i.base_unit, i.density
FROM price_import_match m
JOIN price_import_packs p ON p.pack_code = m.pack_code
JOIN price_import_prices pr ON pr.price_code = m.price_code
JOIN active_ingredients i ON i.tenant_id = :tenant_id AND i.id = m.ingredient_id
WHERE p.base <> m.ing_base
GROUP BY m.price_code, m.pack_code, m.ingredient_id, pr.price, p.pack, p.base, i.name,
         i.base_unit, i.density
ORDER BY min(m.row_no)

-- name: staged_conversions
-- The active conversions of the ingredients a price list prices.
SELECT c.ingredient_id, c.from_base, c.from_qty, c.to_base, c.to_qty
FROM active_ingredient_conversions c
WHERE c.tenant_id = :tenant_id
  AND c.ingredient_id IN (SELECT ingredient_id FROM price_import_match)
ORDER BY c.ingredient_id, c.id

-- name: unit_clashes
-- Rows whose pack cannot be priced in their ingredient's unit: no density or conversion of the
-- ingredient reaches it (to_convert left it without a price_import_conv row). A new ingredient takes its item's first-row unit and has no density yet.
SELECT bad.row_no, p.pack, p.base, COALESCE(i.name, it.item) AS ingredient,
       COALESCE(bad.ing_base, it.new_base) AS unit, bad.total
FROM (
    SELECT m.row_no, m.pack_code, m.key_code, m.ingredient_id, m.ing_base, count(*) OVER () AS total
    FROM price_import_match m
    JOIN price_import_packs p ON p.pack_code = m.pack_code
    JOIN price_import_items it ON it.key_code = m.key_code
    LEFT JOIN price_import_conv c ON c.price_code = m.price_code AND c.pack_code = m.pack_code
                                 AND c.ingredient_id = m.ingredient_id
    WHERE CASE
        WHEN m.ingredient_id IS NULL THEN :create_missing AND p.base <> it.new_base
        ELSE p.base <> m.ing_base AND c.ingredient_id IS NULL
    END
    ORDER BY m.row_no
    LIMIT :limit
) bad
JOIN price_import_packs p ON p.pack_code = bad.pack_code
JOIN price_import_items it ON it.key_code = bad.key_code
LEFT JOIN active_ingredients i ON i.tenant_id = :tenant_id AND i.id = bad.ingredient_id
ORDER BY bad.row_no

-- name: unknown_items
SELECT m.row_no, it.item, count(*) OVER () AS total
FROM price_import_match m
JOIN price_import_items it ON it.key_code = m.key_code
WHERE m.ingredient_id IS NULL
ORDER BY m.row_no
LIMIT :limit

-- name: number_created
-- An id for each new item name, drawn from the ingredients' own sequence in item_key order, so
-- the rows can be written with their ids and never looked up again by name (PostgreSQL's
-- statistics do not count rows just added: a join back by name scanned the table once per new
-- item, minutes for 100k items).
INSERT INTO price_import_new (key_code, ingredient_id)
SELECT it.key_code, nextval('mo_id_seq')
FROM price_import_items it
WHERE it.key_code IN (SELECT key_code FROM price_import_match WHERE ingredient_id IS NULL)
ORDER BY it.item_key

-- name: create_ingredients
-- One ingredient per new item name, shaped by the item's first row in the file.
INSERT INTO ingredients (tenant_id, id, name, name_key, family, base_unit, category)
SELECT CAST(:tenant_id AS VARCHAR), nw.ingredient_id, it.item, it.item_key, it.new_family,
       it.new_base, it.category
FROM price_import_new nw
JOIN price_import_items it ON it.key_code = nw.key_code
ORDER BY nw.ingredient_id

-- name: name_created
INSERT INTO ingredient_names (tenant_id, ingredient_id, name, name_key, is_alias)
SELECT i.tenant_id, i.id, i.name, i.name_key, FALSE
FROM price_import_new nw
JOIN active_ingredients i ON i.tenant_id = :tenant_id AND i.id = nw.ingredient_id
ORDER BY i.id

-- name: add_supplier_items
-- description: the supplier's own text for the item, as this list writes it.
INSERT INTO supplier_items (tenant_id, supplier_key, sku, ingredient_id, description)
SELECT CAST(:tenant_id AS VARCHAR), CAST(:supplier_key AS VARCHAR), m.sku,
       COALESCE(m.ingredient_id, n.ingredient_id), it.item
FROM price_import_match m
JOIN price_import_items it ON it.key_code = m.key_code
LEFT JOIN price_import_new n ON n.key_code = m.key_code
WHERE m.sku IS NOT NULL AND m.sku_state IS NULL

-- name: remap_supplier_items
-- A sku mapped to an ingredient deleted since now names the ingredient this file matched.
UPDATE supplier_items
SET ingredient_id = COALESCE(m.ingredient_id, n.ingredient_id)
FROM price_import_match m
LEFT JOIN price_import_new n ON n.key_code = m.key_code
WHERE supplier_items.tenant_id = :tenant_id AND supplier_items.supplier_key = :supplier_key
  AND supplier_items.sku = m.sku AND m.sku_state = 'stale'

-- name: describe_supplier_items
-- A supplier renames an item but keeps its sku: the row still maps to the same ingredient
-- (match goes by (supplier, sku) first) and the new text becomes the supplier's description;
-- the ingredient's own name stays. Only rows whose text changed are written.
UPDATE supplier_items
SET description = it.item
FROM price_import_match m
JOIN price_import_items it ON it.key_code = m.key_code
WHERE supplier_items.tenant_id = :tenant_id AND supplier_items.supplier_key = :supplier_key
  AND supplier_items.sku = m.sku AND m.sku IS NOT NULL AND m.sku_state IS NOT NULL
  AND (supplier_items.description IS NULL OR supplier_items.description <> it.item)

-- name: drop_bad_rows
-- on_bad_rows="skip": the rows unit_clashes, unknown_items and to_convert found bad (a pack
-- that cannot price the ingredient, an unknown item without create_missing, a conversion
-- that could not be costed) leave the import; the file's bad rows were never staged.
DELETE FROM price_import_match
WHERE row_no IN (
    SELECT m.row_no
    FROM price_import_match m
    JOIN price_import_packs p ON p.pack_code = m.pack_code
    JOIN price_import_items it ON it.key_code = m.key_code
    LEFT JOIN price_import_conv c ON c.price_code = m.price_code AND c.pack_code = m.pack_code
                                 AND c.ingredient_id = m.ingredient_id
    WHERE CASE
        WHEN m.ingredient_id IS NULL THEN NOT :create_missing OR p.base <> it.new_base
        WHEN p.base = m.ing_base THEN FALSE
        ELSE c.unit_cost IS NULL
    END
)

-- name: keep_rejections
INSERT INTO import_rejections (tenant_id, batch_id, seq, row_no, column_name, value, problem)
SELECT CAST(:tenant_id AS VARCHAR), CAST(:batch_id AS BIGINT), r.seq, r.row_no, r.column_name,
       r.value, r.problem
FROM price_import_rejected r
ORDER BY r.seq

-- name: choose_costs
-- Per ingredient, the batch's lowest unit cost (the first row on ties), beside this supplier's
-- offer in effect at :at and the offer chosen at :at before the batch (cost_offers: cost events
-- go where the chosen one moves). changed: the unit cost differs from this supplier's offer.
-- written: a cost row is written, for a change and for a re-listing at the same unit cost too,
-- so the offer's effective_at stays fresh (under "lowest", only offers within 30 days of the
-- newest compete); not for one from the very instant of the offer it repeats. The winner is
-- found by two hash aggregates (lowest cost, then first row at it) on both engines: DISTINCT
-- ON sorts every row (3x slower on DuckDB).
INSERT INTO price_import_chosen (ingredient_id, row_no, price, pack, pack_qty, unit_cost,
                                 old_unit_cost, changed, written, chosen_unit_cost,
                                 chosen_supplier)
WITH x AS MATERIALIZED (
    SELECT COALESCE(m.ingredient_id, n.ingredient_id) AS ingredient_id, m.row_no, m.price_code,
           m.pack_code, COALESCE(c.pack_qty, p.pack_qty) AS pack_qty,
           COALESCE(c.unit_cost, uc.unit_cost) AS unit_cost
    FROM price_import_match m
    JOIN price_import_costs uc ON uc.cost_code = m.cost_code
    JOIN price_import_packs p ON p.pack_code = m.pack_code
    LEFT JOIN price_import_new n ON n.key_code = m.key_code
    LEFT JOIN price_import_conv c ON c.price_code = m.price_code AND c.pack_code = m.pack_code
                                 AND c.ingredient_id = m.ingredient_id
),
lowest AS (SELECT ingredient_id, MIN(unit_cost) AS unit_cost FROM x GROUP BY ingredient_id),
first_row AS (
    SELECT x.ingredient_id, MIN(x.row_no) AS row_no
    FROM x JOIN lowest l ON l.ingredient_id = x.ingredient_id AND l.unit_cost = x.unit_cost
    GROUP BY x.ingredient_id
)
SELECT b.ingredient_id, b.row_no, pr.price, p.pack, b.pack_qty, b.unit_cost, cur.unit_cost,
       cur.unit_cost IS NULL OR cur.unit_cost <> b.unit_cost,
       cur.unit_cost IS NULL OR cur.unit_cost <> b.unit_cost OR cur.effective_at < :at,
       ch.unit_cost, ch.supplier
FROM x b
JOIN first_row f ON f.ingredient_id = b.ingredient_id AND f.row_no = b.row_no
JOIN price_import_prices pr ON pr.price_code = b.price_code
JOIN price_import_packs p ON p.pack_code = b.pack_code
LEFT JOIN (
    SELECT DISTINCT ON (ingredient_id) ingredient_id, unit_cost, effective_at
    FROM ingredient_costs
    WHERE tenant_id = :tenant_id AND effective_at <= :at
      AND lower(coalesce(supplier, '')) = lower(coalesce(CAST(:supplier AS VARCHAR), ''))
      AND ingredient_id IN (SELECT ingredient_id FROM price_import_match)
    ORDER BY ingredient_id, effective_at DESC, id DESC
) cur ON cur.ingredient_id = b.ingredient_id
LEFT JOIN (
    SELECT o.ingredient_id, o.unit_cost, o.supplier
    FROM cost_offers(:tenant_id, :at, (SELECT array_agg(ingredient_id) FROM price_import_match)) o
    WHERE o.chosen
) ch ON ch.ingredient_id = b.ingredient_id

-- name: insert_costs
INSERT INTO ingredient_costs (tenant_id, ingredient_id, price, pack, pack_qty, unit_cost,
                              effective_at, source, supplier, batch_id)
SELECT CAST(:tenant_id AS VARCHAR), c.ingredient_id, c.price, c.pack, c.pack_qty, c.unit_cost,
       CAST(:at AS TIMESTAMPTZ), 'import', CAST(:supplier AS VARCHAR), CAST(:batch_id AS BIGINT)
FROM price_import_chosen c
WHERE c.written
ORDER BY c.ingredient_id

-- name: counts
-- changed / unchanged: ingredients whose unit cost from this supplier changed or not (a
-- re-listing at the same unit cost is written, and counted unchanged).
SELECT count(*) FILTER (WHERE changed) AS changed,
       count(*) FILTER (WHERE NOT changed) AS unchanged,
       (SELECT count(*) FROM price_import_new) AS created
FROM price_import_chosen

-- name: moved
-- After insert_costs: the ingredients whose chosen offer at :at moved with this batch (another
-- unit cost or supplier: a re-listing's new cost row is no move), with the one chosen now. Their
-- recipes are recomputed and each gets an ingredient.cost.updated event.
INSERT INTO price_import_moved (ingredient_id, old_unit_cost, unit_cost, supplier)
SELECT o.ingredient_id, c.chosen_unit_cost, o.unit_cost, o.supplier
FROM price_import_chosen c
JOIN cost_offers(:tenant_id, :at, (SELECT array_agg(ingredient_id) FROM price_import_chosen)) o
  ON o.ingredient_id = c.ingredient_id AND o.chosen
WHERE c.written
  AND (c.chosen_unit_cost IS NULL OR o.unit_cost <> c.chosen_unit_cost
       OR lower(coalesce(o.supplier, '')) <> lower(coalesce(c.chosen_supplier, '')))

-- name: changed_ids
SELECT ingredient_id FROM price_import_moved ORDER BY ingredient_id

-- name: batches
-- One keyset page in (created_at, id) order (see mo/services/paging.py).
SELECT id AS batch_id, kind, supplier, status, rows, created, changed, unchanged, recomputed,
       duplicate_of, effective_at, created_at, idempotency_key
FROM import_batches
WHERE tenant_id = :tenant_id
  AND (:first OR (created_at >= :after_at AND (created_at > :after_at OR id > :after_id)))
ORDER BY created_at, id
LIMIT :limit

-- name: batch_exists
SELECT id FROM import_batches WHERE tenant_id = :tenant_id AND id = :batch_id

-- name: rejections
SELECT row_no AS "row", column_name AS "column", value, problem
FROM import_rejections
WHERE tenant_id = :tenant_id AND batch_id = :batch_id
ORDER BY seq

-- name: supplier_items
SELECT si.supplier_key, si.sku, i.name AS ingredient, si.ingredient_id, si.description
FROM supplier_items si
JOIN active_ingredients i ON i.tenant_id = si.tenant_id AND i.id = si.ingredient_id
WHERE si.tenant_id = :tenant_id
ORDER BY si.supplier_key, si.sku
