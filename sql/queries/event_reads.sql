-- Reads of the event log for frames and exports. Every read is routed by tenant_id.

-- name: page_ends
-- The key (occurred_at, id) of every :page_rows-th event of the window, in order: the last row
-- of each full page. Bounding each page by them (upto_at, upto_id below) makes a page sort
-- only its own rows: with the LIMIT alone, every page sorted all the rest of the window, so a
-- 1M-event export in 100k pages spent 1.3 s fetching where one query takes 0.45 s.
SELECT occurred_at, id
FROM (
    SELECT occurred_at, id, row_number() OVER (ORDER BY occurred_at, id) AS n
    FROM event_log
    WHERE tenant_id = :tenant_id
      AND occurred_at >= :since AND occurred_at < :until
      AND (:all_types OR event_type = ANY(:types))
) keyed
WHERE n % :page_rows = 0
ORDER BY occurred_at, id

-- name: window
-- One keyset page of a tenant's events in [since, until), in (occurred_at, id) order.
-- The first page passes after_at = since and after_id = -1; each next page passes the key of
-- the last row it got, so a page never repeats or skips rows that share an occurred_at.
-- upto_at/upto_id bound the page from above (a page_ends key; for the last page until and -1).
-- The plain `occurred_at >= :after_at` and `occurred_at <= :upto_at` let DuckDB zone maps and
-- the PostgreSQL (tenant_id, occurred_at) index skip what other pages return.
-- Text casts: event_id and payload leave both backends as text (JSONB text is re-serialised
-- canonically by the caller, except where payload_canonical says the stored text already is).
SELECT id,
       CAST(event_id AS VARCHAR) AS event_id,
       event_type,
       aggregate_type,
       aggregate_id,
       CAST(payload AS VARCHAR) AS payload,
       occurred_at,
       idempotency_key,
       batch_id,
       payload_canonical
FROM event_log
WHERE tenant_id = :tenant_id
  AND occurred_at >= :since AND occurred_at < :until
  AND occurred_at >= :after_at
  AND (occurred_at > :after_at OR id > :after_id)
  AND occurred_at <= :upto_at
  AND (occurred_at < :upto_at OR id <= :upto_id)
  AND (:all_types OR event_type = ANY(:types))
ORDER BY occurred_at, id
LIMIT :limit

-- name: counts_since
-- Events per type since the database's now minus :span (an interval). A filtered GROUP BY:
-- on DuckDB a zone-map-pruned scan, on PostgreSQL the (tenant_id, occurred_at) index.
SELECT event_type, count(*) AS events
FROM event_log
WHERE tenant_id = :tenant_id AND occurred_at >= current_timestamp - CAST(:span AS INTERVAL)
GROUP BY event_type
ORDER BY event_type
