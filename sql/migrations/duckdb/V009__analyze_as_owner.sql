-- PostgreSQL only (postgres/V009__analyze_as_owner.sql: ANALYZE as the tables' owner while
-- tenant transactions run as the non-owner role mo_app). DuckDB has no roles: this no-op keeps
-- the versions of both dialects in step.
SELECT 1;
