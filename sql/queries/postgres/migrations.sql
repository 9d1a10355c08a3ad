-- name: history_exists
SELECT to_regclass('mo_schema_history') IS NOT NULL AS present

-- name: lock
-- Held to the end of the migration's transaction: concurrent runners apply each version once.
SELECT pg_advisory_xact_lock(hashtext('mo.migrate.' || current_schema()))
