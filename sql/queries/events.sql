-- payload_canonical keeps its default, false: PostgreSQL's JSONB re-serialises the text, so it is
-- re-serialised on read. DuckDB keeps the text as written (duckdb/events.sql marks it).

-- name: append
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload,
                       idempotency_key, batch_id)
VALUES (:tenant_id, :event_type, :aggregate_type, :aggregate_id, CAST(:payload AS JSON),
        :idempotency_key, :batch_id)
