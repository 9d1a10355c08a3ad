-- DuckDB spellings of imports.sql statements: event payloads built with json_object, keys
-- sorted, marked canonical when they are; and choose_costs with arg_min.

-- name: created_events
-- Payload keys in sorted order, so the text is canonical when every string in it is printable
-- ASCII: json_object then escapes exactly as Python's json does (a quote or a backslash
-- only; tests compare every printable character). A payload holding anything else (UTF-8, or
-- control characters, which DuckDB escapes as \u001F where Python writes \u001f) is marked
-- not canonical and re-serialised on read. The other values are ids and NULLs.
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload,
                       idempotency_key, batch_id, payload_canonical)
SELECT i.tenant_id, 'ingredient.created', 'ingredient', CAST(i.id AS VARCHAR),
       json_object('category', i.category, 'name', i.name, 'unit', i.base_unit),
       CAST(:idempotency_key AS VARCHAR), CAST(:batch_id AS BIGINT),
       regexp_full_match(i.name || COALESCE(i.category, '') || i.base_unit, '[ -~]*')
FROM price_import_new nw
JOIN active_ingredients i ON i.tenant_id = :tenant_id AND i.id = nw.ingredient_id
ORDER BY i.id

-- name: cost_events
-- Unit costs as plain decimal text without trailing zeros, as update_cost writes them. Keys
-- sorted and the canonical marker as in created_events: the strings are the name, the
-- supplier, the ISO time and decimal digits. One per ingredient whose chosen offer moved
-- (imports.moved), naming the supplier chosen.
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload,
                       idempotency_key, batch_id, payload_canonical)
SELECT i.tenant_id, 'ingredient.cost.updated', 'ingredient', CAST(c.ingredient_id AS VARCHAR),
       json_object('effective_at', CAST(:effective_at AS VARCHAR), 'ingredient', i.name,
                   'ingredient_id', c.ingredient_id,
                   'new_unit_cost', rtrim(rtrim(CAST(c.unit_cost AS VARCHAR), '0'), '.'),
                   'old_unit_cost', rtrim(rtrim(CAST(c.old_unit_cost AS VARCHAR), '0'), '.'),
                   'source', 'import', 'supplier', c.supplier),
       CAST(:idempotency_key AS VARCHAR), CAST(:batch_id AS BIGINT),
       regexp_full_match(i.name, '[ -~]*')
       AND regexp_full_match(COALESCE(c.supplier, '') || CAST(:effective_at AS VARCHAR), '[ -~]*')
FROM price_import_moved c
JOIN active_ingredients i ON i.tenant_id = :tenant_id AND i.id = c.ingredient_id
ORDER BY c.ingredient_id
