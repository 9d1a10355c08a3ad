-- Row-level security is PostgreSQL's (see postgres/V008__row_level_security.sql). DuckDB has no
-- roles or policies: an embedded file is one tenant wall's worth of trust, and the services'
-- `WHERE tenant_id = :tenant_id` on every query is the wall. This no-op keeps the versions of
-- both dialects in step.
SELECT 1;
