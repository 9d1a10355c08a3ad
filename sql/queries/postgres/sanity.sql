-- PostgreSQL spellings of sanity.sql queries (the base file is DuckDB's).

-- name: plan_for_whole_tables
-- No nested loops and no JIT in the checks' transaction (both set locally: they end with it).
-- Right after a bulk load, before autovacuum has analysed the tables, PostgreSQL takes a
-- tenant's 200k events for a handful and joins them by nested loops: minutes where hash joins
-- take a second. The checks have equi-joins only, so every join can still be planned. Ids
-- compared as text have no statistics, so joins on them are estimated at millions of rows,
-- and JIT then compiled for longer (1.2 s) than the check ran.
SELECT set_config('enable_nestloop', 'off', true) AS nestloop, set_config('jit', 'off', true) AS jit
