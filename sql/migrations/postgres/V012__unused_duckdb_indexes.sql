-- DuckDB only (duckdb/V012__unused_duckdb_indexes.sql drops ART indexes DuckDB never scans).
-- PostgreSQL plans with its event_log and ingredient_costs indexes: they stay. This no-op keeps
-- the versions of both dialects in step.
SELECT 1;
