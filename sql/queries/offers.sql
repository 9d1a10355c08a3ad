-- Offers and cost policies. The chosen-cost rule itself is cost_offers(tenant, as_of), created
-- by migration V017 (a DuckDB table macro, a PostgreSQL inlinable SQL function): said once.

-- name: listed
-- Every offer in effect now of the tenant's active ingredients (or of one: :ingredient_id, NULL
-- for all), by ingredient then newest first. sku: the supplier's own code for the item, for
-- offers a price list wrote (the lowest when it sends several).
SELECT i.name AS ingredient, o.supplier,
       (SELECT min(si.sku) FROM supplier_items si
        JOIN import_batches b ON b.tenant_id = si.tenant_id AND b.supplier_key = si.supplier_key
        WHERE si.tenant_id = :tenant_id AND b.id = o.batch_id
          AND si.ingredient_id = o.ingredient_id) AS sku,
       o.pack, o.price, o.unit_cost, i.base_unit AS unit, o.effective_at, o.chosen, o.source,
       o.cost_id
FROM cost_offers(:tenant_id, current_timestamp) o
JOIN active_ingredients i ON i.tenant_id = :tenant_id AND i.id = o.ingredient_id
WHERE (CAST(:ingredient_id AS BIGINT) IS NULL OR o.ingredient_id = :ingredient_id)
ORDER BY i.name_key, i.id, o.effective_at DESC, o.cost_id DESC

-- name: chosen_at
-- One ingredient's chosen offer at two instants (:at, and :now), one row each that has one.
SELECT 'at' AS instant, o.cost_id, o.unit_cost, o.supplier
FROM cost_offers(:tenant_id, :at) o
WHERE o.ingredient_id = :ingredient_id AND o.chosen
UNION ALL
SELECT 'now' AS instant, o.cost_id, o.unit_cost, o.supplier
FROM cost_offers(:tenant_id, :now) o
WHERE o.ingredient_id = :ingredient_id AND o.chosen

-- name: supplier_offer_as_of
-- The same supplier's offer in effect at :at (no supplier: the manual offer): a cost equal to
-- it changes nothing and is not written.
SELECT id, unit_cost, effective_at
FROM ingredient_costs
WHERE tenant_id = :tenant_id AND ingredient_id = :ingredient_id AND effective_at <= :at
  AND lower(coalesce(supplier, '')) = lower(coalesce(CAST(:supplier AS VARCHAR), ''))
ORDER BY effective_at DESC, id DESC
LIMIT 1

-- name: set_policy
INSERT INTO ingredient_cost_policies (tenant_id, ingredient_id, policy, supplier)
VALUES (:tenant_id, :ingredient_id, :policy, :supplier)
ON CONFLICT (tenant_id, ingredient_id)
DO UPDATE SET policy = excluded.policy, supplier = excluded.supplier,
              updated_at = excluded.updated_at

-- name: policy_of
SELECT policy, supplier
FROM ingredient_cost_policies
WHERE tenant_id = :tenant_id AND ingredient_id = :ingredient_id
