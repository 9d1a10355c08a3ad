-- PostgreSQL spellings of tenants.sql queries (the base file is DuckDB's).

-- name: enter
-- Transaction-local (is_local = true), as PostgresStore sets it for a tenant transaction.
SELECT set_config('app.tenant_id', :tenant_id, true) AS tenant_id
