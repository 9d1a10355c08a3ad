-- PostgreSQL only: what PostgresTx runs for the store hooks of mo/store/base.py (Tx.analyze,
-- Tx.plan_for_whole_tables, Tx.act_for_tenant, Tx.lock_migrations). DuckDB needs none of it.

-- name: analyze_as_owner
-- Without fresh statistics after a large import, PostgreSQL plans the next one (and the checks
-- and recompute that follow) against the sizes from before it (an empty ingredients table, say)
-- and picks nested loops: 40 s instead of 1 s for a 200k-row price list, minutes for the cycle
-- checks of a few thousand recipes. As the tables' owner (mo_analyze, migration V009): tenant
-- transactions run as mo_app.
SELECT mo_analyze(CAST(:tables AS TEXT[]))

-- name: light_statistics
-- ANALYZE samples 300 x default_statistics_target rows: 30,000 by default, which took 0.4-0.5 s
-- over the three staging ANALYZEs of a 1M-row list; 3,000 take 0.1 s and give the planner the
-- row counts and rough distributions its hash joins need. For this transaction only.
SELECT set_config('default_statistics_target', '10', true) AS sampled

-- name: server_statistics
-- The tenant tables are shared and long-lived: they keep the server's sample size.
SELECT set_config('default_statistics_target', reset_val, true) AS sampled
FROM pg_settings WHERE name = 'default_statistics_target'

-- name: plan_for_whole_tables
-- No nested loops and no JIT for the rest of the transaction (both set locally: they end with
-- it). Right after a bulk load, before autovacuum has analysed the tables, PostgreSQL takes a
-- tenant's 200k events for a handful and joins them by nested loops: minutes where hash joins
-- take a second. The sanity checks have equi-joins only, so every join can still be planned.
-- Ids compared as text have no statistics, so joins on them are estimated at millions of rows,
-- and JIT then compiled for longer (1.2 s) than the check ran.
SELECT set_config('enable_nestloop', 'off', true) AS nestloop, set_config('jit', 'off', true) AS jit

-- name: act_for_tenant
-- Transaction-local (is_local = true), as PostgresStore sets it for a tenant transaction: without
-- it row-level security refuses a new tenant's first event to any role but a superuser.
SELECT set_config('app.tenant_id', :tenant_id, true) AS tenant_id

-- name: lock_migrations
-- Held to the end of the migration's transaction: concurrent runners apply each version once.
SELECT pg_advisory_xact_lock(hashtext('mo.migrate.' || current_schema()))
