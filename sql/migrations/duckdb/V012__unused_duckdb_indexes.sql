-- DuckDB never scans these ART indexes: its planner uses an ART only for highly selective
-- lookups on one column, and event windows, event counts and "the cost in effect" read
-- zone-map-pruned scans instead (EXPLAIN shows sequential scans with or without them). They
-- were only maintained: every event and cost row updated them, and committing their changes
-- was about a tenth of a cost update's time at 100k recipes (p50 88 -> 77 ms without the two
-- event_log indexes). PostgreSQL keeps its own (postgres/V012 is a no-op): it does use them.
DROP INDEX event_log_tenant_time;
DROP INDEX event_log_tenant_type_time;
DROP INDEX ingredient_costs_current;
