-- name: append
INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload,
                       idempotency_key, batch_id)
VALUES (:tenant_id, :event_type, :aggregate_type, :aggregate_id, CAST(:payload AS JSON),
        :idempotency_key, :batch_id)
