-- Costings that write nothing (mo/services/what_if.py): what the costing's compute step needs
-- around its work tables. Portable SQL; every read is routed by tenant_id.

-- name: recipe_heads
-- Every active recipe's current head, by name (recipes_as_of pairs them with rc_work's rows).
SELECT id, name, yield_qty, yield_unit, menu_price
FROM active_recipes
WHERE tenant_id = :tenant_id
ORDER BY name_key, id

-- name: ingredients
-- The active ingredients the names or aliases in :name_keys refer to, each with its current
-- cost as the costing picks it (latest effective_at at or before now, ties by highest id; NULL
-- without one).
SELECT nm.name_key, i.id, i.name, i.base_unit, i.density, cur.unit_cost
FROM active_ingredient_names nm
JOIN active_ingredients i ON i.tenant_id = nm.tenant_id AND i.id = nm.ingredient_id
LEFT JOIN (
    SELECT DISTINCT ON (ingredient_id) ingredient_id, unit_cost
    FROM ingredient_costs
    WHERE tenant_id = :tenant_id AND effective_at <= current_timestamp
      AND ingredient_id IN (SELECT ingredient_id FROM active_ingredient_names
                            WHERE tenant_id = :tenant_id AND name_key = ANY(:name_keys))
    ORDER BY ingredient_id, effective_at DESC, id DESC
) cur ON cur.ingredient_id = i.id
WHERE nm.tenant_id = :tenant_id AND nm.name_key = ANY(:name_keys)
