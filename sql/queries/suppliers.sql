-- Saved supplier formats: how a supplier's price lists read. One active row per supplier name.

-- name: active
SELECT id, name, column_map, decimal_mark, price_per, sheet, created_at
FROM suppliers
WHERE tenant_id = :tenant_id AND name_key = :name_key AND deleted_at IS NULL

-- name: retire
-- Saving again or deleting: the active format becomes history.
UPDATE suppliers SET deleted_at = current_timestamp
WHERE tenant_id = :tenant_id AND name_key = :name_key AND deleted_at IS NULL

-- name: insert
INSERT INTO suppliers (tenant_id, name, name_key, column_map, decimal_mark, price_per, sheet)
VALUES (:tenant_id, :name, :name_key, :column_map, :decimal_mark, :price_per, :sheet)
RETURNING id, created_at

-- name: listed
SELECT id, name, column_map, decimal_mark, price_per, sheet, created_at
FROM suppliers
WHERE tenant_id = :tenant_id AND deleted_at IS NULL
ORDER BY name_key
