-- Tenants are the scope itself: these reads are not tenant-filtered (allow-listed in the tests).

-- name: by_slug
SELECT id, slug, name, created_at FROM tenants WHERE slug = :slug

-- name: list
SELECT id, slug, name, created_at FROM tenants ORDER BY slug

-- name: insert
INSERT INTO tenants (id, slug, name) VALUES (:id, :slug, :name)

-- name: insert_key
INSERT INTO api_keys (tenant_id, key_hash, prefix) VALUES (:tenant_id, :key_hash, :prefix)

-- name: by_key_hash
-- Authentication: the key names its tenant, so this read cannot be routed by tenant first.
SELECT k.tenant_id, k.prefix, t.slug
FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
WHERE k.key_hash = :key_hash AND k.revoked_at IS NULL
