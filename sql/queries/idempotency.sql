-- name: get
SELECT operation, request_hash, result
FROM idempotency_keys
WHERE tenant_id = :tenant_id AND idempotency_key = :key

-- name: claim
INSERT INTO idempotency_keys (tenant_id, idempotency_key, operation, request_hash, result)
VALUES (:tenant_id, :key, :operation, :request_hash, CAST('{}' AS JSON))

-- name: complete
UPDATE idempotency_keys SET result = CAST(:result AS JSON)
WHERE tenant_id = :tenant_id AND idempotency_key = :key
