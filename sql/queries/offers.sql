-- Offers and cost policies. The chosen-cost rule itself is cost_offers(tenant, as_of, ids), created
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
FROM cost_offers(:tenant_id, current_timestamp, CAST(NULL AS BIGINT[])) o
JOIN active_ingredients i ON i.tenant_id = :tenant_id AND i.id = o.ingredient_id
WHERE (CAST(:ingredient_id AS BIGINT) IS NULL OR o.ingredient_id = :ingredient_id)
ORDER BY i.name_key, i.id, o.effective_at DESC, o.cost_id DESC

-- name: chosen_at
-- One ingredient's chosen offer at two instants (:at, and :now), one row each that has one.
SELECT 'at' AS instant, o.cost_id, o.unit_cost, o.supplier
FROM cost_offers(:tenant_id, :at, ARRAY[CAST(:ingredient_id AS BIGINT)]) o
WHERE o.ingredient_id = :ingredient_id AND o.chosen
UNION ALL
SELECT 'now' AS instant, o.cost_id, o.unit_cost, o.supplier
FROM cost_offers(:tenant_id, :now, ARRAY[CAST(:ingredient_id AS BIGINT)]) o
WHERE o.ingredient_id = :ingredient_id AND o.chosen

-- name: chosen
-- One ingredient's chosen offer at one instant (:at), when it has one: chosen_at when its two
-- instants are one, as they are for most writes (each evaluation of the rule costs DuckDB ~2.5 ms).
SELECT o.cost_id, o.unit_cost, o.supplier
FROM cost_offers(:tenant_id, :at, ARRAY[CAST(:ingredient_id AS BIGINT)]) o
WHERE o.ingredient_id = :ingredient_id AND o.chosen

-- name: before_cost
-- What a cost update needs before it writes, in one read: the transaction's clock (as
-- costs.now), the same supplier's offer in effect at :at (NULL :at: now; no supplier: the manual
-- offer; the same unit cost is a re-listing: written with its own effective_at, so the offer
-- stays fresh, unless it is from that very instant) and the chosen offer at :at (cost_offers),
-- NULL where there is none. (The chosen offer now, when :at is another instant, is read apart:
-- each evaluation of the rule costs DuckDB ~2.5 ms, and most updates take effect now.)
SELECT n.now, own.unit_cost AS own_unit_cost, own.effective_at AS own_effective_at,
       a.cost_id, a.unit_cost, a.supplier
FROM (SELECT current_timestamp AS now) n
LEFT JOIN (
    SELECT c.unit_cost, c.effective_at
    FROM ingredient_costs c
    WHERE c.tenant_id = :tenant_id AND c.ingredient_id = :ingredient_id
      AND c.effective_at <= COALESCE(CAST(:at AS TIMESTAMPTZ), current_timestamp)
      AND lower(coalesce(c.supplier, '')) = lower(coalesce(CAST(:supplier AS VARCHAR), ''))
    ORDER BY c.effective_at DESC, c.id DESC
    LIMIT 1
) own ON true
LEFT JOIN cost_offers(:tenant_id, COALESCE(CAST(:at AS TIMESTAMPTZ), current_timestamp),
                      ARRAY[CAST(:ingredient_id AS BIGINT)]) a
       ON a.ingredient_id = :ingredient_id AND a.chosen

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
