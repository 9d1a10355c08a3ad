-- Read-backs the test suite uses to look under the services. Tenant-filtered like the rest.

-- name: events
SELECT id, event_type, aggregate_type, aggregate_id, payload
FROM event_log WHERE tenant_id = :tenant_id ORDER BY id

-- name: ingredients
-- All rows, deleted ones too: tests count what was written.
SELECT id, name, deleted_at FROM ingredients WHERE tenant_id = :tenant_id ORDER BY id

-- name: ingredient_names
-- All rows, deleted ones too: tests count what was written.
SELECT ingredient_id, name, name_key, is_alias, deleted_at
FROM ingredient_names WHERE tenant_id = :tenant_id ORDER BY id

-- name: insert_supplier_item
INSERT INTO supplier_items (tenant_id, supplier_key, sku, ingredient_id)
VALUES (:tenant_id, :supplier_key, :sku, :ingredient_id)

-- name: load_probe
-- tests/test_store_load.py: what Tx.load wrote into its temporary table.
SELECT n, t, d, b FROM mo_load_probe ORDER BY n

-- name: currval_unset
-- tests/test_errors.py: currval before any nextval in the session is an error of the statement,
-- not of the connection (SQLSTATE 55000 on PostgreSQL).
SELECT currval('mo_id_seq') AS value

-- name: slow
-- tests/test_breakdown_bounds.py: a statement that runs for seconds (:n × :n pairs, none kept),
-- to be stopped by the statement bound. Touches no table.
SELECT count(*) AS pairs
FROM generate_series(1, :n) a(x) CROSS JOIN generate_series(1, :n) b(y)
WHERE a.x + b.y < 0

-- name: event_texts
-- tests/test_event_payloads.py: events as stored, with the canonical marker.
SELECT id, event_type, aggregate_id, CAST(payload AS VARCHAR) AS payload, payload_canonical,
       batch_id
FROM event_log WHERE tenant_id = :tenant_id ORDER BY id

-- name: ingredient_facts
-- All rows, deleted ones too: what an ingredient.created payload names.
SELECT id, name, base_unit, category FROM ingredients WHERE tenant_id = :tenant_id ORDER BY id

-- name: cost_rows
SELECT id, ingredient_id, unit_cost, effective_at, batch_id
FROM ingredient_costs WHERE tenant_id = :tenant_id ORDER BY id

-- name: forget_recipe_cost
-- tests/test_recompute.py: a recipe never costed (no stored cost), as one saved before costing
-- existed would be; only reachable under the services, which cost every recipe they save.
DELETE FROM recipe_costs WHERE tenant_id = :tenant_id AND recipe_id = :recipe_id
