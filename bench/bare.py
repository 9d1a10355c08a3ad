"""The floor: the bare DuckDB engine doing the same work as mo, on the same data."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

# The cost a line uses, with the joins mo's costing makes: each supplier's newest offer, the
# ingredient's cost policy (preferred supplier, else lowest or latest; the 30-day rule left
# out) and, below, the ingredient's own conversion for a line in another base unit.
_CURRENT_COST = """
offer AS (
    SELECT ingredient_id, lower(coalesce(supplier, '')) AS supplier,
           arg_max(unit_cost, effective_at)::DOUBLE AS unit_cost, max(effective_at) AS at
    FROM ingredient_costs WHERE tenant_id = $t AND effective_at <= now()
    GROUP BY ingredient_id, lower(coalesce(supplier, ''))
),
cost AS (
    SELECT o.ingredient_id,
           arg_min(o.unit_cost, CASE WHEN p.policy = 'preferred' AND o.supplier = lower(p.supplier)
                                     THEN -1e300
                                     WHEN p.policy = 'lowest' THEN o.unit_cost
                                     ELSE -epoch(o.at) END) AS unit_cost
    FROM offer o
    LEFT JOIN ingredient_cost_policies p ON p.tenant_id = $t AND p.ingredient_id = o.ingredient_id
    GROUP BY o.ingredient_id
)"""

_TOTALS = """
WITH RECURSIVE {cost},
expand(root, recipe_id, factor) AS (
    SELECT id, id, 1.0::DOUBLE FROM recipes WHERE tenant_id = $t AND deleted_at IS NULL {root}
    UNION ALL
    SELECT e.root, l.sub_recipe_id, e.factor * l.qty_base::DOUBLE / s.yield_base_qty::DOUBLE
    FROM expand e
    JOIN recipe_lines l ON l.tenant_id = $t AND l.recipe_id = e.recipe_id AND l.sub_recipe_id IS NOT NULL
    JOIN recipes s ON s.tenant_id = $t AND s.id = l.sub_recipe_id
)
SELECT e.root AS recipe_id,
       sum(e.factor * l.qty_base::DOUBLE * c.unit_cost * 100.0 / i.yield_pct::DOUBLE
           * 100.0 / (100.0 - l.waste_pct::DOUBLE)
           * CASE WHEN l.base_unit = i.base_unit THEN 1.0
                  ELSE cv.to_qty::DOUBLE / cv.from_qty::DOUBLE END) AS total
FROM expand e
JOIN recipe_lines l ON l.tenant_id = $t AND l.recipe_id = e.recipe_id AND l.ingredient_id IS NOT NULL
JOIN ingredients i ON i.tenant_id = $t AND i.id = l.ingredient_id
JOIN cost c ON c.ingredient_id = l.ingredient_id
LEFT JOIN ingredient_conversions cv ON cv.tenant_id = $t AND cv.ingredient_id = l.ingredient_id
     AND cv.deleted_at IS NULL AND l.base_unit <> i.base_unit
     AND cv.from_base = l.base_unit AND cv.to_base = i.base_unit
GROUP BY e.root
"""


def recursive_totals(con: duckdb.DuckDBPyConnection, tenant_id: str):
    """Every recipe's total by one recursive CTE (DOUBLE arithmetic: the engine's fastest)."""
    return con.execute(_TOTALS.format(cost=_CURRENT_COST, root=""), {"t": tenant_id}).to_arrow_table()


def one_query_per_recipe(con: duckdb.DuckDBPyConnection, tenant_id: str, sample: int) -> float:
    """Seconds to cost `sample` recipes the way peer tools do: one query per recipe."""
    ids = [r[0] for r in con.execute("SELECT id FROM recipes WHERE tenant_id = $t ORDER BY id DESC LIMIT $n",
                                     {"t": tenant_id, "n": sample}).fetchall()]
    query = _TOTALS.format(cost=_CURRENT_COST, root="AND id = $r")
    started = time.perf_counter()
    for recipe_id in ids:
        con.execute(query, {"t": tenant_id, "r": recipe_id}).fetchall()
    return time.perf_counter() - started


def totals_agree(con: duckdb.DuckDBPyConnection, tenant_id: str) -> dict[str, float]:
    """How far mo's stored totals are from the bare CTE's (a check that both did the same work)."""
    query = f"""
        WITH bare AS ({_TOTALS.format(cost=_CURRENT_COST, root="")})
        SELECT count(*) AS recipes, max(abs(b.total - rc.total_cost::DOUBLE)) AS max_abs_diff
        FROM bare b JOIN recipe_costs rc ON rc.tenant_id = $t AND rc.recipe_id = b.recipe_id"""
    recipes, diff = con.execute(query, {"t": tenant_id}).fetchone()
    return {"compared": recipes, "max_abs_diff": diff}


def load_csv(path: Path, db_file: Path) -> None:
    """A bare load of the price-list file into an indexed table."""
    db_file.unlink(missing_ok=True)
    with duckdb.connect(str(db_file)) as con:
        con.execute("CREATE TABLE prices (sku VARCHAR, item VARCHAR, price DECIMAL(18, 4), pack VARCHAR, unit VARCHAR)")
        con.execute("CREATE UNIQUE INDEX prices_sku ON prices (sku)")
        con.execute(f"INSERT INTO prices SELECT * FROM read_csv('{path}', header = true)")


def copy_csv_postgres(path: Path, url: str) -> None:
    """A bare PostgreSQL load of the price-list file: COPY FROM STDIN (the file streamed from
    this client, as mo reads it here too) into a fresh table with a unique index."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bare_prices")
        conn.execute("CREATE TABLE bare_prices (sku TEXT, item TEXT, price NUMERIC(18, 4), pack TEXT, unit TEXT)")
        conn.execute("CREATE UNIQUE INDEX bare_prices_sku ON bare_prices (sku)")
        with conn.cursor() as cur, cur.copy("COPY bare_prices FROM STDIN (FORMAT csv, HEADER true)") as copy, \
                path.open("rb") as source:
            while chunk := source.read(1 << 20):
                copy.write(chunk)


def copy_to(con: duckdb.DuckDBPyConnection, tenant_id: str, target: Path, since: datetime, until: datetime) -> None:
    con.execute(f"""
        COPY (SELECT event_id, event_type, aggregate_type, aggregate_id, payload, occurred_at,
                     idempotency_key, batch_id, id
              FROM event_log WHERE tenant_id = $t AND occurred_at >= $s AND occurred_at < $u
              ORDER BY occurred_at, id) TO '{target}' (HEADER, DELIMITER ',')""",
                {"t": tenant_id, "s": since, "u": until})


# Events as mo's writers store them, a third each: cost updates as the import's SQL writes them
# (keys sorted, printable ASCII: marked canonical), recipe.recomputed as recompute.sql writes
# them (keys sorted too, marked when the name and cause are printable ASCII), and
# import.completed as emit_event writes them (canonical).
_FILL = """
    INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload, occurred_at,
                           idempotency_key, batch_id, payload_canonical)
    SELECT $t, e.event_type, e.aggregate_type, e.aggregate_id, CAST(e.payload AS JSON), e.occurred_at,
           e.idempotency_key, e.batch_id,
           e.marked AND regexp_full_match(e.payload, '[ -~]*') AND NOT contains(e.payload, '\\u')
    FROM (
        SELECT CASE i % 3 WHEN 0 THEN 'ingredient.cost.updated' WHEN 1 THEN 'recipe.recomputed'
                          ELSE 'import.completed' END AS event_type,
               CASE i % 3 WHEN 0 THEN 'ingredient' WHEN 1 THEN 'recipe' ELSE 'import_batch' END AS aggregate_type,
               CAST(i % 5000 AS VARCHAR) AS aggregate_id,
               CAST(CASE i % 3
                   WHEN 0 THEN json_object('effective_at', '2026-11-26T06:00:00+00:00',
                                           'ingredient', 'ingredient ' || lpad(CAST(i % 5000 AS VARCHAR), 6, '0'),
                                           'ingredient_id', i % 5000, 'new_unit_cost', '0.0' || (i % 97),
                                           'old_unit_cost', '0.0' || (i % 89), 'source', 'import',
                                           'supplier', 'Bench Foods')
                   WHEN 1 THEN json_object('cause', 'cost_update', 'complete', i % 7 <> 0,
                                           'new_total', '1.' || (i % 991), 'old_total', '1.' || (i % 997),
                                           'recipe', 'recipe ' || lpad(CAST(i % 20000 AS VARCHAR), 7, '0'))
                   ELSE json_object('batch_id', i, 'changed', i % 1000, 'created', 0, 'rows', 1000,
                                    'supplier', 'Bench Foods', 'unchanged', 1000 - i % 1000)
               END AS VARCHAR) AS payload,
               true AS marked,
               CASE WHEN i % 3 <> 1 THEN 'bench-' || (i // 1000) END AS idempotency_key,
               CASE WHEN i % 3 <> 1 THEN i // 1000 END AS batch_id,
               $u - to_microseconds(CAST((i * ($span // $n)) AS BIGINT)) AS occurred_at
        FROM range($n) r(i)
    ) e"""


def fill_events(db_file: Path, tenant_id: str, count: int, *, days: int) -> tuple[datetime, datetime]:
    """`count` events spread evenly over the last `days` days; returns a window holding them all."""
    until = datetime.now(timezone.utc) + timedelta(seconds=1)
    since = until - timedelta(days=days, seconds=2)
    with duckdb.connect(str(db_file)) as con:
        con.execute(_FILL, {"t": tenant_id, "n": count, "u": until - timedelta(seconds=1),
                            "span": days * 86_400_000_000})
    return since, until


# The rows a first import of a `rows`-line list naming `items` ingredients must write on
# PostgreSQL, generated by the server itself: no file, no parsing, no matching. Written as mo's
# tenant transactions write them (the mo_app role under row-level security, which refuses COPY
# FROM), into the same indexed tables.
_REQUIRED_WRITES = [
    """INSERT INTO ingredients (tenant_id, name, name_key, family, base_unit)
       SELECT %(t)s, 'ingredient ' || g, 'ingredient ' || g, 'mass', 'g'
       FROM generate_series(1, %(items)s) g""",
    """INSERT INTO ingredient_names (tenant_id, ingredient_id, name, name_key, is_alias)
       SELECT tenant_id, id, name, name_key, FALSE FROM ingredients""",
    """INSERT INTO supplier_items (tenant_id, supplier_key, sku, ingredient_id)
       SELECT %(t)s, 'big supplier', 'SKU' || lpad(g::text, 8, '0'), g %% %(items)s + 1
       FROM generate_series(1, %(rows)s) g""",
    """INSERT INTO ingredient_costs (tenant_id, ingredient_id, price, pack, pack_qty, unit_cost,
                                     effective_at, source, supplier, batch_id)
       SELECT tenant_id, id, 12.5, '1 kg', 1000, 0.0125, now(), 'import', 'Big Supplier', 1
       FROM ingredients""",
    """INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload,
                             idempotency_key, batch_id)
       SELECT tenant_id, kind, 'ingredient', CAST(id AS TEXT),
              jsonb_build_object('ingredient', name, 'ingredient_id', id, 'old_unit_cost', NULL,
                                 'new_unit_cost', '0.0125', 'effective_at', '2026-01-01',
                                 'source', 'import', 'supplier', 'Big Supplier'),
              'big', 1
       FROM ingredients, (VALUES ('ingredient.created'), ('ingredient.cost.updated')) v(kind)""",
]


def required_writes_postgres(url: str, tenant_id: str, *, rows: int, items: int) -> None:
    """The write floor of a first PostgreSQL import: what mo cannot avoid writing, alone."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
        conn.execute("SET LOCAL ROLE mo_app")
        for statement in _REQUIRED_WRITES:
            conn.execute(statement, {"t": tenant_id, "rows": rows, "items": items})


_SCOPE = """
CREATE OR REPLACE TEMP TABLE bare_scope AS
WITH RECURSIVE up(id) AS (
    SELECT recipe_id FROM recipe_lines WHERE tenant_id = $t AND ingredient_id = $i
    UNION
    SELECT l.recipe_id FROM recipe_lines l JOIN up ON l.sub_recipe_id = up.id WHERE l.tenant_id = $t
)
SELECT id FROM up"""


def incremental_update(con: duckdb.DuckDBPyConnection, tenant_id: str, ingredient_id: int,
                       unit_cost: str, key: str) -> int:
    """One cost update done by the bare engine: the cost row, the recipes above the ingredient
    (recursive CTE), their totals (the DOUBLE recursive CTE, rooted at them), their stored costs
    and one event each, in one transaction. Returns how many recipes it re-costed."""
    con.execute("BEGIN TRANSACTION")
    con.execute("""INSERT INTO ingredient_costs (tenant_id, ingredient_id, price, pack, pack_qty, unit_cost,
                                                 effective_at, source, idempotency_key)
                   VALUES ($t, $i, $c, '1 g', 1, $c, now(), 'manual', $k)""",
                {"t": tenant_id, "i": ingredient_id, "c": unit_cost, "k": key})
    con.execute(_SCOPE, {"t": tenant_id, "i": ingredient_id})
    totals = _TOTALS.format(cost=_CURRENT_COST, root="AND id IN (SELECT id FROM bare_scope)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE bare_totals AS {totals}", {"t": tenant_id})
    con.execute("""UPDATE recipe_costs SET total_cost = CAST(b.total AS DECIMAL(38, 12)), computed_at = now()
                   FROM bare_totals b WHERE recipe_costs.tenant_id = $t AND recipe_costs.recipe_id = b.recipe_id""",
                {"t": tenant_id})
    (count,) = con.execute("""INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload)
                              SELECT $t, 'recipe.recomputed', 'recipe', CAST(recipe_id AS VARCHAR),
                                     json_object('total_cost', total)
                              FROM bare_totals""", {"t": tenant_id}).fetchone()
    con.execute("COMMIT")
    return int(count)


# The same update on PostgreSQL, as a hand-written transaction would do it: the current cost of a
# line's ingredient by its index (LATERAL … LIMIT 1; PostgreSQL has no arg_max), the rest as
# above. Run as the connecting role, without mo's REPEATABLE READ, role switch or tenant setting.
_SCOPE_PG = """
CREATE TEMP TABLE bare_scope ON COMMIT DROP AS
WITH RECURSIVE up(id) AS (
    SELECT recipe_id FROM recipe_lines WHERE tenant_id = %(t)s AND ingredient_id = %(i)s
    UNION
    SELECT l.recipe_id FROM recipe_lines l JOIN up ON l.sub_recipe_id = up.id WHERE l.tenant_id = %(t)s
)
SELECT id FROM up"""

# The expansion is materialised and analysed before the costing joins it: planned as one
# statement, PostgreSQL cannot estimate the recursive CTE and hashes every line of the tenant
# (3.3 s at 20k recipes, against a few ms this way).
_EXPAND_PG = """
CREATE TEMP TABLE bare_expand ON COMMIT DROP AS
WITH RECURSIVE expand(root, recipe_id, factor) AS (
    SELECT id, id, 1.0::float8 FROM recipes
    WHERE tenant_id = %(t)s AND deleted_at IS NULL AND id IN (SELECT id FROM bare_scope)
    UNION ALL
    SELECT e.root, l.sub_recipe_id, e.factor * l.qty_base::float8 / s.yield_base_qty::float8
    FROM expand e
    JOIN recipe_lines l ON l.tenant_id = %(t)s AND l.recipe_id = e.recipe_id AND l.sub_recipe_id IS NOT NULL
    JOIN recipes s ON s.tenant_id = %(t)s AND s.id = l.sub_recipe_id
)
SELECT root, recipe_id, factor FROM expand"""

_TOTALS_PG = """
CREATE TEMP TABLE bare_totals ON COMMIT DROP AS
SELECT e.root AS recipe_id,
       sum(e.factor * l.qty_base::float8 * c.unit_cost * 100.0 / i.yield_pct::float8
           * 100.0 / (100.0 - l.waste_pct::float8)
           * CASE WHEN l.base_unit = i.base_unit THEN 1.0
                  ELSE cv.to_qty::float8 / cv.from_qty::float8 END) AS total
FROM bare_expand e
JOIN recipe_lines l ON l.tenant_id = %(t)s AND l.recipe_id = e.recipe_id AND l.ingredient_id IS NOT NULL
JOIN ingredients i ON i.tenant_id = %(t)s AND i.id = l.ingredient_id
JOIN LATERAL (SELECT c.unit_cost::float8 AS unit_cost FROM ingredient_costs c
              LEFT JOIN ingredient_cost_policies p ON p.tenant_id = %(t)s
                                                  AND p.ingredient_id = c.ingredient_id
              WHERE c.tenant_id = %(t)s AND c.ingredient_id = l.ingredient_id AND c.effective_at <= now()
              ORDER BY p.policy = 'preferred' AND lower(c.supplier) = lower(p.supplier) DESC,
                       CASE WHEN p.policy = 'lowest' THEN c.unit_cost END,
                       c.effective_at DESC, c.id DESC LIMIT 1) c ON TRUE
LEFT JOIN ingredient_conversions cv ON cv.tenant_id = %(t)s AND cv.ingredient_id = l.ingredient_id
     AND cv.deleted_at IS NULL AND l.base_unit <> i.base_unit
     AND cv.from_base = l.base_unit AND cv.to_base = i.base_unit
GROUP BY e.root"""


def incremental_update_postgres(conn, tenant_id: str, ingredient_id: int, unit_cost: str, key: str) -> int:
    """incremental_update on PostgreSQL (a psycopg connection in autocommit mode: the block
    below is then one transaction, and its temp tables drop at its commit)."""
    params = {"t": tenant_id, "i": ingredient_id, "c": unit_cost, "k": key}
    with conn.transaction():
        conn.execute("""INSERT INTO ingredient_costs (tenant_id, ingredient_id, price, pack, pack_qty, unit_cost,
                                                      effective_at, source, idempotency_key)
                        VALUES (%(t)s, %(i)s, %(c)s, '1 g', 1, %(c)s, now(), 'manual', %(k)s)""", params)
        for statement in (_SCOPE_PG, "ANALYZE bare_scope", _EXPAND_PG, "ANALYZE bare_expand", _TOTALS_PG):
            conn.execute(statement, params)
        conn.execute("""UPDATE recipe_costs SET total_cost = b.total::numeric(38, 12), computed_at = now()
                        FROM bare_totals b
                        WHERE recipe_costs.tenant_id = %(t)s AND recipe_costs.recipe_id = b.recipe_id""", params)
        count = conn.execute("""INSERT INTO event_log (tenant_id, event_type, aggregate_type, aggregate_id, payload)
                                SELECT %(t)s, 'recipe.recomputed', 'recipe', recipe_id::text,
                                       jsonb_build_object('total_cost', total)
                                FROM bare_totals""", params).rowcount
    return int(count)


# What the bare PostgreSQL update reads and writes, copied from mo's schema into another one.
_BARE_TABLES = ("ingredients", "ingredient_costs", "ingredient_cost_policies", "ingredient_conversions",
                "recipes", "recipe_lines", "recipe_costs", "event_log")


def copy_schema_data(url: str, source: str, target: str) -> None:
    """Copy the bare update's tables from schema `source` into the migrated schema `target`,
    move its sequences past the ids the update inserts next to, and analyze them, as a fresh database would be."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for table in _BARE_TABLES:
            conn.execute(f'INSERT INTO "{target}".{table} SELECT * FROM "{source}".{table}')
            conn.execute(f'ANALYZE "{target}".{table}')
        for sequence, table in (("mo_id_seq", "ingredient_costs"), ("event_log_id_seq", "event_log")):
            conn.execute(f"""SELECT setval('"{target}".{sequence}',
                                           (SELECT max(id) FROM "{source}".{table}))""")
