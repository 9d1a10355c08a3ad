-- The cost chronicle: one row per price change; the current cost is the latest effective_at <= now.

-- name: now
-- The transaction's own clock (its start time on both backends), so a cost written "now" is
-- already current for every later read in the same transaction (recompute included).
SELECT current_timestamp AS now

-- name: insert
INSERT INTO ingredient_costs (tenant_id, ingredient_id, price, pack, pack_qty, unit_cost,
                              effective_at, source, supplier, note, idempotency_key)
VALUES (:tenant_id, :ingredient_id, :price, :pack, :pack_qty, :unit_cost,
        :effective_at, :source, :supplier, :note, :idempotency_key)
RETURNING id

-- name: history
-- One keyset page in (effective_at, id) order (see mo/services/paging.py); the plain
-- `effective_at >= :after_at` lets the (tenant_id, effective_at, id) index start at the key.
SELECT i.name AS ingredient, c.price, c.pack, c.unit_cost, i.base_unit AS unit, c.effective_at,
       c.source, c.supplier, c.note, c.batch_id, c.id AS cost_id
FROM ingredient_costs c
JOIN active_ingredients i ON i.tenant_id = c.tenant_id AND i.id = c.ingredient_id
WHERE c.tenant_id = :tenant_id
  AND (:first OR (c.effective_at >= :after_at AND (c.effective_at > :after_at OR c.id > :after_id)))
ORDER BY c.effective_at, c.id
LIMIT :limit

-- name: history_of
SELECT i.name AS ingredient, c.price, c.pack, c.unit_cost, i.base_unit AS unit, c.effective_at,
       c.source, c.supplier, c.note, c.batch_id, c.id AS cost_id
FROM ingredient_costs c
JOIN active_ingredients i ON i.tenant_id = c.tenant_id AND i.id = c.ingredient_id
WHERE c.tenant_id = :tenant_id AND c.ingredient_id = :ingredient_id
  AND (:first OR (c.effective_at >= :after_at AND (c.effective_at > :after_at OR c.id > :after_id)))
ORDER BY c.effective_at, c.id
LIMIT :limit

-- name: current
-- Every active ingredient's current cost: the offer its policy chooses now (cost_offers, V017);
-- ingredients without one are left out.
SELECT i.name AS ingredient, i.id AS ingredient_id, cur.unit_cost, i.base_unit AS unit,
       cur.effective_at, cur.source, cur.supplier, cur.batch_id, cur.cost_id
FROM cost_offers(:tenant_id, current_timestamp, CAST(NULL AS BIGINT[])) cur
JOIN active_ingredients i ON i.tenant_id = :tenant_id AND i.id = cur.ingredient_id
WHERE cur.chosen
ORDER BY i.name_key, i.id

-- name: ingredients
-- One keyset page in (name_key, id) order (see mo/services/paging.py): the page's ingredients
-- first, then the chosen offer (cost_offers, V017) and the policy of those only.
WITH page AS (
    SELECT i.id, i.name, i.name_key, i.base_unit, i.category, i.density, i.yield_pct, i.deleted_at
    FROM ingredients i
    WHERE i.tenant_id = :tenant_id AND (i.deleted_at IS NULL OR :include_deleted)
      AND (:first OR (i.name_key >= :after_name AND (i.name_key > :after_name OR i.id > :after_id)))
    ORDER BY i.name_key, i.id
    LIMIT :limit
),
cur AS (
    SELECT o.ingredient_id, o.unit_cost, o.effective_at, o.supplier, o.fallback
    FROM cost_offers(:tenant_id, current_timestamp, CAST(NULL AS BIGINT[])) o
    WHERE o.chosen AND o.ingredient_id IN (SELECT id FROM page)
)
SELECT p.id, p.name, p.base_unit AS unit, p.category, p.density, p.yield_pct, cur.unit_cost,
       cur.effective_at, coalesce(pol.policy, 'latest') AS cost_policy,
       pol.supplier AS preferred_supplier, cur.supplier AS cost_supplier,
       coalesce(cur.fallback, FALSE) AS cost_fallback, p.deleted_at IS NOT NULL AS deleted,
       p.name_key
FROM page p
LEFT JOIN cur ON cur.ingredient_id = p.id
LEFT JOIN ingredient_cost_policies pol ON pol.tenant_id = :tenant_id AND pol.ingredient_id = p.id
ORDER BY p.name_key, p.id

-- name: aliases
-- A deleted ingredient's aliases are the names deleted with it (same deleted_at); those of
-- one page of ingredients.ingredients only: the keys after :after_* up to :upto_* (its last row).
SELECT n.ingredient_id, n.name
FROM ingredient_names n
JOIN ingredients i ON i.tenant_id = n.tenant_id AND i.id = n.ingredient_id
WHERE n.tenant_id = :tenant_id AND n.is_alias
  AND (n.deleted_at IS NULL OR n.deleted_at = i.deleted_at)
  AND (i.deleted_at IS NULL OR :include_deleted)
  AND (:first OR (i.name_key >= :after_name AND (i.name_key > :after_name OR i.id > :after_id)))
  AND i.name_key <= :upto_name AND (i.name_key < :upto_name OR i.id <= :upto_id)
