-- The sanity SQL: invariant checks over one tenant, run by mo.services.sanity and runnable by
-- hand (psql / duckdb CLI) with :tenant_id filled in. Each check returns the rows that break
-- its rule (at most 5, with `problems` = how many break it in all); no rows means it holds.
-- Every statement is routed by tenant_id.
--
-- Each check gathers its offending rows in a MATERIALIZED CTE and only then counts, sorts and
-- limits them. Why: with the LIMIT 5 in sight, PostgreSQL plans for the first 5 rows, as if they
-- came early; when a check holds none come at all, and a plan chosen for its cheap start (nested
-- loops over index scans) then runs to the end: one check took 28 s on 80k recipe lines where a
-- hash join takes 0.1 s. Planned whole, every check is a few scans and hash joins (checked with
-- EXPLAIN in tests/test_sanity.py: no plan has a per-row subplan).

-- name: event_counts_last_hour
-- Informational: events per type written in the last hour (database clock).
SELECT event_type, count(*) AS events
FROM event_log
WHERE tenant_id = :tenant_id AND occurred_at >= current_timestamp - INTERVAL '1 hour'
GROUP BY event_type
ORDER BY event_type

-- name: imports_without_one_completed_event
-- Each completed price-list import has exactly one import.completed event naming its batch.
WITH offending AS MATERIALIZED (
    SELECT b.id AS batch_id, count(e.id) AS events
    FROM import_batches b
    LEFT JOIN event_log e
           ON e.tenant_id = b.tenant_id AND e.batch_id = b.id AND e.event_type = 'import.completed'
    WHERE b.tenant_id = :tenant_id AND b.status = 'completed' AND b.kind = 'price_list'
    GROUP BY b.id
    HAVING count(e.id) <> 1
)
SELECT batch_id, events, count(*) OVER () AS problems
FROM offending
ORDER BY batch_id
LIMIT 5

-- name: costs_without_event
-- Each ingredient_costs row has its ingredient.cost.updated event: the event's payload names
-- the row (cost_id); or, for an import row, the event carries its batch_id and ingredient_id;
-- or, for a manual row, the event carries its idempotency_key. A re-listing (a row repeating
-- the unit cost of its supplier's row before it) moves no cost and has none. Three equi-joins and an anti-join
-- rather than one NOT EXISTS with ORs, which no engine can hash: that was a nested loop, rows ×
-- events (20 s for 10k cost rows on DuckDB). Ids compare as text (see events_without_row).
WITH ev AS MATERIALIZED (
    SELECT e.batch_id, e.idempotency_key, e.payload ->> 'cost_id' AS cost_id,
           e.payload ->> 'ingredient_id' AS ingredient_id
    FROM event_log e
    WHERE e.tenant_id = :tenant_id AND e.event_type = 'ingredient.cost.updated'
),
matched AS (
    SELECT c.id FROM ingredient_costs c JOIN ev ON ev.cost_id = CAST(c.id AS VARCHAR)
    WHERE c.tenant_id = :tenant_id
    UNION
    SELECT c.id FROM ingredient_costs c
    JOIN ev ON ev.batch_id = c.batch_id AND ev.ingredient_id = CAST(c.ingredient_id AS VARCHAR)
    WHERE c.tenant_id = :tenant_id AND c.batch_id IS NOT NULL
    UNION
    SELECT c.id FROM ingredient_costs c JOIN ev ON ev.idempotency_key = c.idempotency_key
    WHERE c.tenant_id = :tenant_id AND c.batch_id IS NULL
),
relisted AS (
    SELECT id FROM (
        SELECT c.id, c.unit_cost,
               LAG(c.unit_cost) OVER (PARTITION BY c.ingredient_id, lower(coalesce(c.supplier, ''))
                                      ORDER BY c.effective_at, c.id) AS before
        FROM ingredient_costs c
        WHERE c.tenant_id = :tenant_id
    ) r
    WHERE r.unit_cost = r.before
),
offending AS MATERIALIZED (
    SELECT c.id AS cost_id, c.ingredient_id, c.batch_id, c.idempotency_key
    FROM ingredient_costs c
    LEFT JOIN matched m ON m.id = c.id
    LEFT JOIN relisted x ON x.id = c.id
    WHERE c.tenant_id = :tenant_id AND m.id IS NULL AND x.id IS NULL
)
SELECT cost_id, ingredient_id, batch_id, idempotency_key, count(*) OVER () AS problems
FROM offending
ORDER BY cost_id
LIMIT 5

-- name: stale_recipe_costs
-- No active recipe's cost is older than the cost change behind the current cost (latest
-- effective_at <= now, ties: highest id, as mo.services.costs defines it) of an ingredient
-- one of its lines uses directly. That change happened when the row was written or, for a row
-- dated ahead, when its effective_at arrived, whichever is later: computed_at must be at or
-- after it. A backdated row that does not become current changes no cost, so it does not count;
-- nor does a re-listing (a row repeating its supplier's previous unit cost), which recomputes
-- nothing when it leaves the chosen cost as it was.
-- DISTINCT ON rather than a row_number() = 1 filter, which PostgreSQL guesses keeps 0.5% of the
-- rows; DISTINCT ON is estimated as one row per ingredient.
WITH changes AS (
    SELECT c.id, c.ingredient_id, c.effective_at, c.created_at, c.unit_cost,
           LAG(c.unit_cost) OVER (PARTITION BY c.ingredient_id, lower(coalesce(c.supplier, ''))
                                  ORDER BY c.effective_at, c.id) AS before
    FROM ingredient_costs c
    WHERE c.tenant_id = :tenant_id AND c.effective_at <= current_timestamp
),
current_costs AS (
    SELECT DISTINCT ON (ingredient_id) ingredient_id,
           GREATEST(created_at, effective_at) AS changed_at
    FROM changes
    WHERE before IS NULL OR before <> unit_cost
    ORDER BY ingredient_id, effective_at DESC, id DESC
),
offending AS MATERIALIZED (
    SELECT rc.recipe_id, rc.computed_at, max(c.changed_at) AS latest_cost_change
    FROM recipe_costs rc
    JOIN active_recipes r ON r.tenant_id = rc.tenant_id AND r.id = rc.recipe_id
    JOIN recipe_lines l ON l.tenant_id = rc.tenant_id AND l.recipe_id = rc.recipe_id
    JOIN current_costs c ON c.ingredient_id = l.ingredient_id
    WHERE rc.tenant_id = :tenant_id
    GROUP BY rc.recipe_id, rc.computed_at
    HAVING rc.computed_at < max(c.changed_at)
)
SELECT recipe_id, computed_at, latest_cost_change, count(*) OVER () AS problems
FROM offending
ORDER BY recipe_id
LIMIT 5

-- name: events_without_row
-- No ingredient, recipe or import_batch event names a row that does not exist
-- (soft-deleted rows exist: they are kept on purpose).
-- Set-based: one hash anti-join of the events against every row's (type, id), which both
-- engines plan as such. Inside ORed NOT EXISTS (as this check once was) the same comparison
-- was a subplan per event on PostgreSQL, each scanning the table: rows × events (no answer in
-- 15 minutes after a 150k-row import). The tables' ids are cast to text, once per row, rather
-- than each event's aggregate_id to a number: any text is a valid aggregate_id (one that is no
-- id names no row and is reported), and guarding the cast would cost a regular expression per
-- event.
WITH known AS (
    SELECT 'ingredient' AS aggregate_type, CAST(id AS VARCHAR) AS aggregate_id
    FROM ingredients WHERE tenant_id = :tenant_id
    UNION ALL
    SELECT 'recipe', CAST(id AS VARCHAR) FROM recipes WHERE tenant_id = :tenant_id
    UNION ALL
    SELECT 'import_batch', CAST(id AS VARCHAR) FROM import_batches WHERE tenant_id = :tenant_id
),
orphans AS (
    SELECT e.aggregate_type, e.aggregate_id FROM event_log e
    WHERE e.tenant_id = :tenant_id
      AND e.aggregate_type IN ('ingredient', 'recipe', 'import_batch')
      AND NOT EXISTS (
          SELECT 1 FROM known k
          WHERE k.aggregate_type = e.aggregate_type AND k.aggregate_id = e.aggregate_id)
),
offending AS MATERIALIZED (
    SELECT aggregate_type, aggregate_id, count(*) AS events
    FROM orphans
    GROUP BY aggregate_type, aggregate_id
)
SELECT aggregate_type, aggregate_id, events, count(*) OVER () AS problems
FROM offending
ORDER BY aggregate_type, aggregate_id
LIMIT 5
