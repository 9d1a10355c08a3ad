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

-- name: choose_costs
-- As the portable query, with arg_min in place of DISTINCT ON, which sorts every row (3x slower).
INSERT INTO price_import_chosen (ingredient_id, row_no, price, pack, pack_qty, unit_cost,
                                 old_unit_cost, changed, chosen_cost_id, chosen_unit_cost)
WITH x AS (
    SELECT COALESCE(m.ingredient_id, n.ingredient_id) AS ingredient_id, m.row_no, m.price_code,
           m.pack_code, COALESCE(c.pack_qty, p.pack_qty) AS pack_qty,
           COALESCE(c.unit_cost, uc.unit_cost) AS unit_cost
    FROM price_import_match m
    JOIN price_import_costs uc ON uc.cost_code = m.cost_code
    JOIN price_import_packs p ON p.pack_code = m.pack_code
    LEFT JOIN price_import_new n ON n.key_code = m.key_code
    LEFT JOIN price_import_conv c ON c.price_code = m.price_code AND c.pack_code = m.pack_code
                                 AND c.ingredient_id = m.ingredient_id
), best AS (
    SELECT arg_min(x, (x.unit_cost, x.row_no)) AS b FROM x GROUP BY x.ingredient_id
)
SELECT b.ingredient_id, b.row_no, pr.price, p.pack, b.pack_qty, b.unit_cost, cur.unit_cost,
       cur.unit_cost IS NULL OR cur.unit_cost <> b.unit_cost, ch.cost_id, ch.unit_cost
FROM (SELECT unnest(b) FROM best) b
JOIN price_import_prices pr ON pr.price_code = b.price_code
JOIN price_import_packs p ON p.pack_code = b.pack_code
LEFT JOIN (
    SELECT DISTINCT ON (ingredient_id) ingredient_id, unit_cost
    FROM ingredient_costs
    WHERE tenant_id = :tenant_id AND effective_at <= :at
      AND lower(coalesce(supplier, '')) = lower(coalesce(CAST(:supplier AS VARCHAR), ''))
      AND ingredient_id IN (SELECT ingredient_id FROM price_import_match)
    ORDER BY ingredient_id, effective_at DESC, id DESC
) cur ON cur.ingredient_id = b.ingredient_id
LEFT JOIN (
    SELECT o.ingredient_id, o.cost_id, o.unit_cost
    FROM cost_offers(:tenant_id, :at) o
    WHERE o.chosen AND o.ingredient_id IN (SELECT ingredient_id FROM price_import_match)
) ch ON ch.ingredient_id = b.ingredient_id
