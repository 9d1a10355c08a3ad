-- Reads of the event log for frames and exports. Every read is routed by tenant_id.

-- name: window
-- One keyset page of a tenant's events in [since, until), in (occurred_at, id) order.
-- The first page passes after_at = since and after_id = -1; each next page passes the key of
-- the last row it got, so a page never repeats or skips rows that share an occurred_at.
-- The plain `occurred_at >= :after_at` lets DuckDB zone maps and the PostgreSQL
-- (tenant_id, occurred_at) index skip what earlier pages already returned.
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
  AND (:all_types OR event_type = ANY(:types))
ORDER BY occurred_at, id
LIMIT :limit

-- name: counts_since
-- Events per type since the database's now minus :span (an interval). A filtered GROUP BY:
-- on DuckDB a zone-map-pruned scan, on PostgreSQL the (tenant_id, occurred_at) index.
SELECT event_type, count(*) AS events
FROM event_log
WHERE tenant_id = :tenant_id AND occurred_at >= current_timestamp - :span
GROUP BY event_type
ORDER BY event_type
