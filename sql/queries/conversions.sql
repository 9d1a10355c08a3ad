-- Per-ingredient conversions (migration V017): one active row per ingredient and pair of bases.

-- name: of_ingredient
SELECT id, from_base, from_qty, to_base, to_qty
FROM active_ingredient_conversions
WHERE tenant_id = :tenant_id AND ingredient_id = :ingredient_id
ORDER BY id

-- name: retire
-- Saving a conversion for a pair replaces the active one; deleting retires it.
UPDATE ingredient_conversions
SET deleted_at = current_timestamp
WHERE tenant_id = :tenant_id AND ingredient_id = :ingredient_id AND pair_key = :pair_key
  AND deleted_at IS NULL
RETURNING id, from_text, to_text

-- name: insert
INSERT INTO ingredient_conversions (tenant_id, ingredient_id, pair_key, from_text, from_base,
                                    from_qty, to_text, to_base, to_qty)
VALUES (:tenant_id, :ingredient_id, :pair_key, :from_text, :from_base, :from_qty, :to_text,
        :to_base, :to_qty)
RETURNING id

-- name: listed
-- Every active conversion of the tenant's active ingredients (or of one: :ingredient_id).
SELECT i.name AS ingredient, c.from_text AS from_qty, c.to_text AS to_qty, c.from_base,
       c.to_base, c.created_at AS saved_at, c.id AS conversion_id
FROM active_ingredient_conversions c
JOIN active_ingredients i ON i.tenant_id = c.tenant_id AND i.id = c.ingredient_id
WHERE c.tenant_id = :tenant_id
  AND (CAST(:ingredient_id AS BIGINT) IS NULL OR c.ingredient_id = :ingredient_id)
ORDER BY i.name_key, i.id, c.pair_key
