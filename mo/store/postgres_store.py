"""The PostgreSQL store: a psycopg 3 connection pool, one pooled connection per transaction."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

import pandas as pd
import psycopg
import psycopg_pool
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.rows import dict_row

from mo.errors import ErrorCode, MOError
from mo.store.base import Params, Row, Store, Tx, transaction_conflict
from mo.store.bounds import statement_timeout
from mo.store.sqlfiles import compiled, temp_tables

DIALECT = "postgres"
_COPY_CHUNK_ROWS = 100_000
# The role tenant transactions run as: no BYPASSRLS, owns nothing, so the row-level security
# policies of migration V008 apply even when the server is reached as a superuser or the owner.
TENANT_ROLE = "mo_app"
# One round trip: the statement bound, the tenant for the policies, then the role
# (set_config('role') = SET LOCAL ROLE). All three revert at commit or rollback.
_ENTER_TENANT = (
    "SELECT set_config('statement_timeout', %s, true), set_config('app.tenant_id', %s, true),"
    " set_config('role', %s, true)"
)
# Transactions without a tenant (migrations, tenant lookup, API-key checks) get the bound alone.
_BOUND = "SELECT set_config('statement_timeout', %s, true)"
# Tenant transactions see one snapshot, as on DuckDB: a write to a row another transaction
# changed since the snapshot fails (SerializationFailure → transaction_conflict) and Store.atomic
# retries it from the start. Under READ COMMITTED it would go through with values computed from
# older rows: two cost updates of one ingredient left its recipes costed at the one not current.
_TENANT_ISOLATION = psycopg.IsolationLevel.REPEATABLE_READ


def translate(exc: Exception, *, limit_s: float = 0.0) -> MOError:
    """The one place a psycopg error becomes an MOError (the driver error stays as __cause__).
    limit_s is the statement bound the failing transaction ran under."""
    if isinstance(exc, pg_errors.SerializationFailure | pg_errors.DeadlockDetected):
        return transaction_conflict(exc)
    if isinstance(exc, pg_errors.QueryCanceled) and "statement timeout" in str(exc):
        return statement_timeout(limit_s, exc)
    if isinstance(exc, UnicodeEncodeError):  # psycopg encodes parameters before sending them
        err = MOError(ErrorCode.VALIDATION_ERROR, "a text is not valid Unicode (a lone surrogate)",
                      {"problem": str(exc)[:300]})
    elif isinstance(exc, pg_errors.UniqueViolation):
        constraint = getattr(exc.diag, "constraint_name", None) or ""
        err = MOError(ErrorCode.CONFLICT, "a unique rule was broken", {"constraint": constraint})
    elif isinstance(exc, pg_errors.DataError):
        err = MOError(ErrorCode.VALIDATION_ERROR, "a value is out of range", {"problem": _reason(exc)})
    elif _unreachable(exc):
        err = MOError(ErrorCode.UNAVAILABLE, "the database is unreachable", {"reason": "connection"})
    else:
        err = MOError(ErrorCode.INTERNAL_ERROR, "the database failed", {"driver": type(exc).__name__})
    err.__cause__ = exc
    return err


def _reason(exc: psycopg.Error) -> str:
    """The server's one-line reason, without the DETAIL/CONTEXT lines that follow it in str(exc):
    those quote SQL, parameters and statement names, which are no business of a caller."""
    primary = getattr(exc.diag, "message_primary", None) or str(exc)
    return primary.split("\n", 1)[0][:300]


def _unreachable(exc: Exception) -> bool:
    """A lost or refused connection, a server out of resources or shutting down: worth a retry.
    Other OperationalErrors (class 55, "object not in prerequisite state", say) are bugs."""
    if isinstance(exc, psycopg_pool.PoolTimeout):
        return True
    sqlstate = getattr(exc, "sqlstate", None)  # None: the client lost the connection itself
    return isinstance(exc, psycopg.OperationalError) and (sqlstate is None or sqlstate[:2] in _RETRYABLE)


# SQLSTATE classes: connection exception, insufficient resources, operator intervention.
_RETRYABLE = ("08", "53", "57")


class PostgresTx(Tx):
    dialect = DIALECT

    def __init__(self, conn: psycopg.Connection[Row], *, limit_s: float = 0.0) -> None:
        self._conn = conn
        self._limit_s = limit_s

    def _execute(self, query: str, params: Params) -> psycopg.Cursor[Row]:
        q = compiled(DIALECT, query, "pyformat")
        values = {name: (params or {})[name] for name in q.params}
        try:
            return self._conn.execute(q.text, values)  # type: ignore[arg-type]
        except (psycopg.Error, UnicodeEncodeError) as exc:
            raise translate(exc, limit_s=self._limit_s) from exc

    def all(self, query: str, params: Params = None) -> list[Row]:
        cur = self._execute(query, params)
        return list(cur.fetchall()) if cur.description else []

    def run(self, query: str, params: Params = None) -> int:
        return self._execute(query, params).rowcount

    def arrow(self, query: str, params: Params = None) -> Any:
        import pyarrow as pa

        cur = self._execute(query, params)
        return pa.Table.from_pylist(cur.fetchall()) if cur.description else pa.table({})

    def load(self, table: str, frame: pd.DataFrame) -> int:
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        statement = f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)"
        try:
            with self._conn.cursor().copy(statement) as copy:  # type: ignore[arg-type]
                for chunk in _csv_chunks(frame):
                    copy.write(chunk)
        except (psycopg.Error, UnicodeEncodeError) as exc:
            raise translate(exc, limit_s=self._limit_s) from exc
        return len(frame)

    def script(self, sql_text: str) -> None:
        try:
            self._conn.execute(sql_text.encode())  # bytes: no placeholder parsing in DDL
        except psycopg.Error as exc:
            raise translate(exc, limit_s=self._limit_s) from exc

    def create_temp_table(self, query: str) -> None:
        # ON COMMIT DROP: the table ends with the transaction (a rollback drops it too), so a
        # pooled connection never hands it to the next one; DROP covers a second import in one.
        create = compiled(DIALECT, query, "pyformat").text
        name = re.match(r"\s*CREATE\s+TEMP(?:ORARY)?\s+TABLE\s+(\w+)", create, re.IGNORECASE)
        if name is None:
            raise ValueError(f"not a CREATE TEMP TABLE statement: {create[:60]!r}")
        drop = sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(sql.Identifier(name.group(1)))
        self._plain(drop)
        self._plain(sql.SQL(create.replace("%%", "%") + " ON COMMIT DROP"))  # type: ignore[arg-type]

    def open_work_tables(self, queries: Sequence[str]) -> None:
        self._plain(sql.SQL(_open_work_block(tuple(queries))))  # type: ignore[arg-type]

    def analyze(self, tables: Sequence[str], *, staging: bool = False) -> None:
        if not staging:
            # As the tables' owner (mo_analyze, migration V009): tenant transactions run as mo_app.
            self.run("store.analyze_as_owner", {"tables": list(tables)})
            return
        # PostgreSQL gathers no statistics for temporary tables by itself. A light sample (see
        # store.light_statistics) for tables nobody else reads, then the server's own again.
        self.run("store.light_statistics")
        self._plain(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(map(sql.Identifier, tables))))
        self.run("store.server_statistics")

    def plan_for_whole_tables(self) -> None:
        self.run("store.plan_for_whole_tables")

    def act_for_tenant(self, tenant_id: str) -> None:
        self.run("store.act_for_tenant", {"tenant_id": tenant_id})

    def lock_migrations(self) -> None:
        self.run("store.lock_migrations")

    def _plain(self, statement: sql.Composable) -> None:
        try:
            self._conn.execute(statement)
        except psycopg.Error as exc:
            raise translate(exc, limit_s=self._limit_s) from exc


@cache
def _open_work_block(queries: tuple[str, ...]) -> str:
    """One DO block (one round trip) that creates the tables on the connection's first use and
    empties them afterwards. They belong to the pooled connection: ON COMMIT DELETE ROWS empties
    them at commit (a rollback discards their rows anyway), so opening them costs no catalog
    writes; creating and dropping ten tables in every transaction (ON COMMIT DROP) cost more than
    the rest of a small cost update. They are created together, so one missing means all are.
    JIT goes off for the rest of the transaction: work tables have no statistics, so the
    planner's guesses can cross jit_above_cost, and a sub-millisecond query then spends most of a
    second compiling."""
    tables = temp_tables(DIALECT, queries)
    creates = "".join(f"{create} ON COMMIT DELETE ROWS;\n" for _, create in tables)
    empties = "".join(f"DELETE FROM {name};\n" for name, _ in tables)
    return (
        "DO $$\nBEGIN\nPERFORM set_config('jit', 'off', true);\n"
        f"IF to_regclass('pg_temp.{tables[-1][0]}') IS NULL THEN\n{creates}"
        f"ELSE\n{empties}END IF;\nEND\n$$"
    )


def _csv_chunks(frame: pd.DataFrame) -> Iterator[bytes | str]:
    """The frame as COPY csv text, in chunks of _COPY_CHUNK_ROWS rows.

    Arrow's CSV writer is ~7x faster than pandas' (1M staged price-list rows: 0.16 s against
    1.1 s) and quotes every string, so an empty string arrives as "" and a missing value as
    nothing: COPY's csv format reads those as '' and NULL, as pandas' output was read. A frame
    Arrow cannot type (a column mixing text and numbers, a lone surrogate) goes through pandas,
    which COPY then reads, or refuses, as before.
    """
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        for start in range(0, len(frame), _COPY_CHUNK_ROWS):
            buf = io.StringIO()
            frame.iloc[start : start + _COPY_CHUNK_ROWS].to_csv(
                buf, header=False, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n"
            )
            yield buf.getvalue()
        return
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    for batch in table.to_batches(max_chunksize=_COPY_CHUNK_ROWS):
        sink = io.BytesIO()
        pacsv.write_csv(batch, sink, options)
        yield sink.getvalue()


class PostgresStore(Store):
    dialect = DIALECT

    def __init__(self, url: str, *, max_size: int = 10, statement_timeout: float = 0.0) -> None:
        self.url = url
        self.statement_timeout = statement_timeout  # seconds; 0: no bound
        self._pool = psycopg_pool.ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            kwargs={"row_factory": dict_row, "autocommit": True},
            configure=_configure,
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=10)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            self._pool.close()
            raise translate(exc) from exc

    @contextmanager
    def transaction(self, *, tenant_id: str | None = None) -> Iterator[Tx]:
        """A transaction on a pooled connection. With a tenant it is REPEATABLE READ, sets
        app.tenant_id and runs as TENANT_ROLE, so row-level security confines it to that
        tenant's rows (both revert at commit or rollback); without one (migrations, tenant
        lookup, API-key authentication) it keeps the connecting role and the server's default
        isolation. Every statement in it is bounded by statement_timeout (the server cancels it
        and ends the transaction: a query no longer runs on after its caller gave up)."""
        limit_s = self.statement_timeout
        bound = str(max(1, round(limit_s * 1000)) if limit_s > 0 else 0)  # ms; 0: no bound
        try:
            with self._pool.connection() as conn:
                conn.isolation_level = None if tenant_id is None else _TENANT_ISOLATION
                with conn.transaction():
                    if tenant_id is not None:
                        conn.execute(_ENTER_TENANT, (bound, tenant_id, TENANT_ROLE))
                    else:
                        conn.execute(_BOUND, (bound,))
                    yield PostgresTx(conn, limit_s=limit_s)
        except psycopg.Error as exc:
            raise translate(exc, limit_s=limit_s) from exc
        except psycopg_pool.PoolTimeout as exc:
            raise translate(exc) from exc

    @contextmanager
    def session(self) -> Iterator[psycopg.Connection[Row]]:
        """A raw pooled connection, for the migration runner's session-level advisory lock."""
        with self._pool.connection() as conn:
            yield conn

    def close(self) -> None:
        self._pool.close()


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SET TIME ZONE 'UTC'")
