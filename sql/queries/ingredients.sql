-- name: insert
INSERT INTO ingredients (tenant_id, name, name_key, family, base_unit, category, density, yield_pct)
VALUES (:tenant_id, :name, :name_key, :family, :base_unit, :category, :density, :yield_pct)
RETURNING id

-- name: insert_name
INSERT INTO ingredient_names (tenant_id, ingredient_id, name, name_key, is_alias)
VALUES (:tenant_id, :ingredient_id, :name, :name_key, :is_alias)

-- name: active_name
SELECT n.ingredient_id, i.name AS ingredient_name
FROM active_ingredient_names n
JOIN active_ingredients i ON i.tenant_id = n.tenant_id AND i.id = n.ingredient_id
WHERE n.tenant_id = :tenant_id AND n.name_key = :name_key

-- name: by_name
SELECT i.id, i.name, i.family, i.base_unit, i.density, i.yield_pct
FROM active_ingredient_names n
JOIN active_ingredients i ON i.tenant_id = n.tenant_id AND i.id = n.ingredient_id
WHERE n.tenant_id = :tenant_id AND n.name_key = :name_key

-- name: by_id
-- Deleted rows included on purpose: a record is returned after delete and restore.
SELECT id, name, family, base_unit, category, density, yield_pct, deleted_at
FROM ingredients
WHERE tenant_id = :tenant_id AND id = :id

-- name: aliases_of
SELECT name FROM active_ingredient_names
WHERE tenant_id = :tenant_id AND ingredient_id = :ingredient_id AND is_alias
ORDER BY name_key

-- name: soft_delete
UPDATE ingredients SET deleted_at = current_timestamp
WHERE tenant_id = :tenant_id AND id = :id AND deleted_at IS NULL

-- name: soft_delete_names
UPDATE ingredient_names SET deleted_at = (
    SELECT deleted_at FROM ingredients WHERE tenant_id = :tenant_id AND id = :id)
WHERE tenant_id = :tenant_id AND ingredient_id = :id AND deleted_at IS NULL

-- name: latest_deleted
-- Restore looks among deleted rows on purpose.
SELECT i.id, i.name, i.deleted_at
FROM ingredients i
JOIN ingredient_names n ON n.tenant_id = i.tenant_id AND n.ingredient_id = i.id
WHERE i.tenant_id = :tenant_id AND n.name_key = :name_key AND i.deleted_at IS NOT NULL
  AND n.deleted_at = i.deleted_at
ORDER BY i.deleted_at DESC, i.id DESC
LIMIT 1

-- name: names_deleted_with
SELECT name, name_key FROM ingredient_names
WHERE tenant_id = :tenant_id AND ingredient_id = :id AND deleted_at = :deleted_at

-- name: restore_names
UPDATE ingredient_names SET deleted_at = NULL
WHERE tenant_id = :tenant_id AND ingredient_id = :id AND deleted_at = :deleted_at

-- name: restore
UPDATE ingredients SET deleted_at = NULL
WHERE tenant_id = :tenant_id AND id = :id

-- name: active_names
-- Names and aliases a not_found may suggest (mo/services/suggestions.py).
SELECT n.name
FROM active_ingredient_names n
JOIN active_ingredients i ON i.tenant_id = n.tenant_id AND i.id = n.ingredient_id
WHERE n.tenant_id = :tenant_id
