-- name: history_exists
SELECT to_regclass('mo_schema_history') IS NOT NULL AS present
