-- DuckDB keeps JSON text exactly as written, so the writer's canonical marker holds for the
-- stored text (on PostgreSQL JSONB re-serialises it: the portable append leaves it false).

-- name: append
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload,
                       idempotency_key, batch_id, payload_canonical)
VALUES (:tenant_id, :event_type, :aggregate_type, :aggregate_id, CAST(:payload AS JSON),
        :idempotency_key, :batch_id, :payload_canonical)
