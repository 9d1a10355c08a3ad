"""The embedded DuckDB store: one database file (or :memory:), a cursor per transaction; the file
is held only while transactions run (mo/store/duckdb_sharing.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from mo.errors import ErrorCode, MOError
from mo.settings import db_lock_timeout
from mo.store.base import Params, Row, Store, Tx, rows_from, transaction_conflict
from mo.store.bounds import WATCHDOG, statement_timeout
from mo.store.duckdb_sharing import SharedFile, held_elsewhere, is_lock_error
from mo.store.sqlfiles import compiled, temp_tables

DIALECT = "duckdb"


def translate(exc: duckdb.Error) -> MOError:
    """The one place a DuckDB error becomes an MOError (the driver error stays as __cause__)."""
    text = str(exc)
    if isinstance(exc, duckdb.TransactionException) or "Conflict on" in text:
        return transaction_conflict(exc)
    if isinstance(exc, duckdb.ConstraintException):
        err = MOError(ErrorCode.CONFLICT, "a unique rule was broken", {"constraint": _constraint(text)})
    elif is_lock_error(exc):
        return held_elsewhere(exc, _locked_file(text))
    elif isinstance(exc, duckdb.InvalidInputException) and "cannot encode str" in text:
        err = MOError(ErrorCode.VALIDATION_ERROR, "a text is not valid Unicode (a lone surrogate)",
                      {"problem": _reason(text)})
    elif isinstance(exc, duckdb.ConversionException | duckdb.OutOfRangeException):
        err = MOError(ErrorCode.VALIDATION_ERROR, "a value is out of range", {"problem": _reason(text)})
    else:
        err = MOError(ErrorCode.INTERNAL_ERROR, "the database failed", {"driver": type(exc).__name__})
    err.__cause__ = exc
    return err


def _reason(text: str) -> str:
    # The first line only: DuckDB follows it with "LINE 1: <the statement>" and a caret.
    return text.split("\n", 1)[0][:300]


def _locked_file(text: str) -> str:
    match = re.search(r'lock on file "([^"]*)"', text)
    return match.group(1) if match else "?"


def _constraint(text: str) -> str:
    # DuckDB does not name the index; the key text is enough to tell them apart in services.
    return text.split("\n")[0][:300]


class DuckDBTx(Tx):
    dialect = DIALECT

    def __init__(self, cursor: duckdb.DuckDBPyConnection, *, limit_s: float = 0.0) -> None:
        self._cur = cursor
        self._limit_s = limit_s

    @contextmanager
    def _bounded(self) -> Iterator[None]:
        """Run one statement under the statement bound; its driver errors become MOErrors.
        DuckDB has no statement_timeout: the watchdog interrupts the cursor at the limit."""
        with WATCHDOG.watch(self._cur, limit_s=self._limit_s) as watch:
            try:
                yield
            except duckdb.Error as exc:
                if watch.fired:
                    raise statement_timeout(self._limit_s, exc) from exc
                raise translate(exc) from exc

    def _execute(self, query: str, params: Params) -> duckdb.DuckDBPyConnection:
        q = compiled(DIALECT, query, "dollar")
        values = {name: (params or {})[name] for name in q.params}
        with self._bounded():
            return self._cur.execute(q.text, values) if values else self._cur.execute(q.text)

    def all(self, query: str, params: Params = None) -> list[Row]:
        cur = self._execute(query, params)
        if cur.description is None:
            return []
        return rows_from([d[0] for d in cur.description], iter(cur.fetchall()))

    def run(self, query: str, params: Params = None) -> int:
        cur = self._execute(query, params)
        # DuckDB reports changed rows as a one-row result of a "Count" column.
        if cur.description and cur.description[0][0] == "Count":
            row = cur.fetchone()
            return int(row[0]) if row else 0
        return -1

    def arrow(self, query: str, params: Params = None) -> Any:
        # A relation hands Arrow its batches directly; a DB-API result would copy them first.
        q = compiled(DIALECT, query, "dollar")
        values = {name: (params or {})[name] for name in q.params}
        with self._bounded():
            return self._cur.sql(q.text, params=values or None).to_arrow_table()

    def load(self, table: str, frame: pd.DataFrame) -> int:
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        try:
            self._cur.register("_mo_load", frame)
            with self._bounded():
                self._cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _mo_load")
        except duckdb.Error as exc:
            raise translate(exc) from exc
        finally:
            try:
                self._cur.unregister("_mo_load")
            except duckdb.Error:
                pass  # a failed INSERT aborted the transaction: keep its error, not this one
        return len(frame)

    def script(self, sql_text: str) -> None:
        with self._bounded():
            self._cur.execute(sql_text)

    def create_temp_table(self, query: str) -> None:
        # Temporary tables live in the transaction's own cursor and vanish with it; OR REPLACE
        # covers a second import in one transaction.
        text = compiled(DIALECT, query, "dollar").text
        with self._bounded():
            self._cur.execute(_or_replace(text))

    def open_work_tables(self, queries: Sequence[str]) -> None:
        # Temporary tables die with the transaction's cursor: recreated, all in one execute.
        script = ";\n".join(_or_replace(create) for _, create in temp_tables(DIALECT, tuple(queries)))
        with self._bounded():
            self._cur.execute(script)

    def analyze(self, tables: Sequence[str], *, staging: bool = False) -> None:
        pass  # DuckDB keeps its statistics as it loads

    def plan_for_whole_tables(self) -> None:
        pass  # DuckDB plans hash joins for these reads by itself

    def act_for_tenant(self, tenant_id: str) -> None:
        pass  # no row-level security on DuckDB: the services' tenant filter is the wall

    def lock_migrations(self) -> None:
        pass  # one process owns a DuckDB file; the runner serialises its own threads


def _or_replace(create: str) -> str:
    head = re.match(r"\s*CREATE\s+TEMP(?:ORARY)?\s+TABLE\s", create, re.IGNORECASE)
    if head is None:
        raise ValueError(f"not a CREATE TEMP TABLE statement: {create[:60]!r}")
    return "CREATE OR REPLACE TEMP TABLE " + create[head.end():]


class DuckDBStore(Store):
    dialect = DIALECT

    def __init__(self, url: str, path: str, *, statement_timeout: float = 0.0) -> None:
        self.url = url
        self.path = path
        self.statement_timeout = statement_timeout  # seconds; 0: no bound
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Held only while transactions run, so other processes can use the file between calls.
        self._file = SharedFile(path, timeout_s=db_lock_timeout(), on_open=self._opened,
                                translate=translate)

    def _opened(self, conn: duckdb.DuckDBPyConnection) -> None:
        try:
            conn.execute("SET TimeZone = 'UTC'")
        except duckdb.Error as exc:
            raise translate(exc) from exc

    @contextmanager
    def transaction(self, *, tenant_id: str | None = None) -> Iterator[Tx]:
        with self._file.cursor() as cursor:
            try:
                cursor.execute("BEGIN TRANSACTION")
                yield DuckDBTx(cursor, limit_s=self.statement_timeout)
                try:
                    cursor.execute("COMMIT")
                except duckdb.Error as exc:
                    raise translate(exc) from exc
            except BaseException:
                _rollback(cursor)
                raise

    def close(self) -> None:
        self._file.close()


def _rollback(cursor: duckdb.DuckDBPyConnection) -> None:
    try:
        cursor.execute("ROLLBACK")
    except duckdb.Error:
        pass  # a failed COMMIT has already ended the transaction
