-- name: history_exists
SELECT count(*) > 0 AS present
FROM duckdb_tables()
WHERE table_name = 'mo_schema_history' AND schema_name = current_schema()
