"""The placeholder rewrite every named query goes through on its way to a driver."""

from __future__ import annotations

import re

import pytest

from mo.services.recompute import WORK_TABLES
from mo.store.sqlfiles import DIALECTS, _blocks, sql_root, compiled, query_names, raw_query, rewrite_placeholders

SQL = """-- the walk stops at :max_depth (a comment: no parameter)
SELECT '12:30' AS t, 'it''s :not_one' AS s, x::int - 1 AS y, 5 % 2 AS m -- trailing :ghost
FROM t WHERE tenant_id = :tenant_id AND d < :max_depth AND e = :tenant_id"""


def test_parameters_come_from_code_only_in_order_of_first_use() -> None:
    text, params = rewrite_placeholders(SQL, "dollar")
    assert params == ("tenant_id", "max_depth")
    assert "ghost" not in text and "--" not in text
    assert "'12:30'" in text and "'it''s :not_one'" in text and "x::int - 1" in text
    assert "tenant_id = $tenant_id AND d < $max_depth AND e = $tenant_id" in text


def test_pyformat_escapes_every_percent_literals_included() -> None:
    text, params = rewrite_placeholders(SQL + " AND f LIKE 'a%'", "pyformat")
    assert params == ("tenant_id", "max_depth")
    assert "5 %% 2" in text and "'a%%'" in text
    assert "tenant_id = %(tenant_id)s AND d < %(max_depth)s AND e = %(tenant_id)s" in text


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_catalog_query_keeps_its_text_apart_from_comments(dialect: str) -> None:
    """Nothing but comments is dropped: the code of every query survives the rewrite."""
    for name in query_names(dialect):
        query = compiled(dialect, name, "dollar")
        assert query.text.strip(), name
        assert "--" not in query.text.replace("'--'", ""), name


# Statements EXPLAIN cannot take (DDL, run by the setup below) or that need a table only their
# own test creates.
NOT_EXPLAINED = {"testing.load_probe": "mo_load_probe exists only in tests/test_store_load.py"}


def _explain(tx: object, dialect: str, name: str) -> None:
    """Bind and plan the named statement with every parameter NULL; nothing runs."""
    query = compiled(dialect, name, "dollar" if dialect == "duckdb" else "pyformat")
    values = {param: None for param in query.params}
    if dialect == "duckdb":
        tx._cur.execute("EXPLAIN " + query.text, values or None)  # type: ignore[attr-defined]
    else:
        tx._conn.execute("EXPLAIN " + query.text, values or None)  # type: ignore[attr-defined]


# Read outside any tenant (as mo_app, a tenant transaction may not read them on PostgreSQL).
_NO_TENANT_GROUPS = ("migrations.", "tenants.")


def test_every_catalog_statement_binds_on_its_engine(store, ctx) -> None:
    """Every statement a dialect's catalog holds (the base ones unless overridden, and its own)
    is valid SQL for that engine against the migrated schema: each is planned with EXPLAIN."""
    dialect = store.dialect
    names = query_names(dialect)
    ddl = [n for n in names if n not in WORK_TABLES
           and re.match(r"\s*CREATE\s+TEMP\s+TABLE", compiled(dialect, n, "dollar").text)]
    # A PostgreSQL DO block (costing's loop) has no plan: its body is checked when it runs.
    blocks = {n for n in names if re.match(r"\s*DO\b", compiled(dialect, n, "dollar").text)}
    rest = sorted(set(names) - set(ddl) - set(WORK_TABLES) - blocks - set(NOT_EXPLAINED)
                  - {"migrations.create_history"})  # DDL run below / by migrate
    failures: dict[str, str] = {}
    with store.transaction() as tx:
        _explain_all(tx, dialect, [n for n in rest if n.startswith(_NO_TENANT_GROUPS)], failures)
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        for name in ddl:
            tx.create_temp_table(name)
        tx.open_work_tables(WORK_TABLES)
        _explain_all(tx, dialect, [n for n in rest if not n.startswith(_NO_TENANT_GROUPS)], failures)
    assert len(names) > 50 and failures == {}


def _explain_all(tx: object, dialect: str, names: list[str], failures: dict[str, str]) -> None:
    for name in names:
        try:
            _explain(tx, dialect, name)
        except Exception as exc:  # noqa: BLE001 - a failed statement ends the transaction
            failures[name] = str(exc).splitlines()[0]
            return


def test_every_base_recompute_statement_runs_on_both_engines(store, ctx) -> None:
    """The base recompute.sql holds only SQL both engines run: each of its statements, its text
    as written there even where this dialect overrides it, is planned on this engine."""
    base = _blocks(sql_root() / "queries" / "recompute.sql")
    assert set(base) >= {"work_tables", "scope_ancestors", "levels", "work_rows"}
    style = "dollar" if store.dialect == "duckdb" else "pyformat"
    failures: dict[str, str] = {}
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        tx.open_work_tables(WORK_TABLES)
        for name, body in sorted(base.items()):
            if name == "work_tables":
                continue  # DDL: run by open_work_tables above, on both engines
            text, params = rewrite_placeholders(body, style)
            values = {param: None for param in params} or None
            run = tx._cur.execute if store.dialect == "duckdb" else tx._conn.execute
            try:
                run("EXPLAIN " + text, values)
            except Exception as exc:  # noqa: BLE001 - a failed statement ends the transaction
                failures[name] = str(exc).splitlines()[0]
                break
    assert failures == {}
