-- PostgreSQL spellings of imports.sql's event statements: payloads built with
-- jsonb_build_object (see mo/payloads.py for the one definition each follows).

-- name: created_events
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload,
                       idempotency_key, batch_id)
SELECT i.tenant_id, 'ingredient.created', 'ingredient', CAST(i.id AS VARCHAR),
       jsonb_build_object('name', i.name, 'unit', i.base_unit, 'category', i.category),
       CAST(:idempotency_key AS VARCHAR), CAST(:batch_id AS BIGINT)
FROM price_import_new nw
JOIN active_ingredients i ON i.tenant_id = :tenant_id AND i.id = nw.ingredient_id
ORDER BY i.id

-- name: cost_events
-- Unit costs as plain decimal text without trailing zeros, as update_cost writes them; one per
-- ingredient whose chosen offer moved (imports.moved), naming the supplier chosen.
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload,
                       idempotency_key, batch_id)
SELECT i.tenant_id, 'ingredient.cost.updated', 'ingredient', CAST(c.ingredient_id AS VARCHAR),
       jsonb_build_object('ingredient', i.name, 'ingredient_id', c.ingredient_id,
                   'old_unit_cost', rtrim(rtrim(CAST(c.old_unit_cost AS VARCHAR), '0'), '.'),
                   'new_unit_cost', rtrim(rtrim(CAST(c.unit_cost AS VARCHAR), '0'), '.'),
                   'effective_at', CAST(:effective_at AS VARCHAR), 'source', 'import',
                   'supplier', c.supplier),
       CAST(:idempotency_key AS VARCHAR), CAST(:batch_id AS BIGINT)
FROM price_import_moved c
JOIN active_ingredients i ON i.tenant_id = :tenant_id AND i.id = c.ingredient_id
ORDER BY c.ingredient_id
