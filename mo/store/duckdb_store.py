"""The embedded DuckDB store: one database file (or :memory:), a cursor per transaction; the file
is held only while transactions run (mo/store/duckdb_sharing.py)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from mo.errors import ErrorCode, MOError
from mo.sqlfiles import compiled
from mo.settings import db_lock_timeout
from mo.store.base import Params, Row, Store, Tx, rows_from, transaction_conflict
from mo.store.duckdb_sharing import SharedFile, held_elsewhere, is_lock_error
from mo.store.resident_graph import GRAPH_TABLES, GraphWatch, RecipeGraph, watch_for

DIALECT = "duckdb"
# A statement that may change a table the resident graph copies. Over-matching (a comment that
# names one) only costs a rebuild; under-matching would serve a stale graph, so it is broad.
_GRAPH_WRITE = re.compile(
    r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|ALTER\s+TABLE"
    r"|DROP\s+TABLE(?:\s+IF\s+EXISTS)?|MERGE\s+INTO|COPY)\s+(?:\w+\.)*(?:"
    + "|".join(GRAPH_TABLES) + r")\b",
    re.IGNORECASE,
)


@cache
def _writes_graph(query: str) -> bool:
    return bool(_GRAPH_WRITE.search(compiled(DIALECT, query, "dollar").text))


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
                      {"problem": text[:300]})
    elif isinstance(exc, duckdb.ConversionException | duckdb.OutOfRangeException):
        err = MOError(ErrorCode.VALIDATION_ERROR, "a value is out of range", {"problem": text[:300]})
    else:
        err = MOError(ErrorCode.INTERNAL_ERROR, "the database failed", {"driver": type(exc).__name__})
    err.__cause__ = exc
    return err


def _locked_file(text: str) -> str:
    match = re.search(r'lock on file "([^"]*)"', text)
    return match.group(1) if match else "?"


def _constraint(text: str) -> str:
    # DuckDB does not name the index; the key text is enough to tell them apart in services.
    return text.split("\n")[0][:300]


class DuckDBTx(Tx):
    dialect = DIALECT

    def __init__(self, cursor: duckdb.DuckDBPyConnection, watch: GraphWatch) -> None:
        self._cur = cursor
        self._watch = watch
        # Taken before BEGIN, so before this transaction's snapshot (see resident_graph).
        self._began = watch.state()
        self.wrote_graph = False

    def _graph_written(self) -> None:
        if not self.wrote_graph:
            self.wrote_graph = True
            self._watch.writer_started()

    def recipe_graph(self, tenant_id: str) -> RecipeGraph | None:
        generation, clean = self._began
        if self.wrote_graph or not clean:
            return None
        # Binding a table of the file fixes this transaction's snapshot, if nothing did yet;
        # only then does an unchanged generation prove the copy matches it.
        params = {"tenant_id": tenant_id}
        self._execute("recompute.graph_snapshot", params)
        made, graph = self._watch.copy_for(tenant_id, generation)
        if not made:
            graph = RecipeGraph.build(self.arrow("recompute.graph_lines", params),
                                      self.arrow("recompute.graph_recipes", params),
                                      self.arrow("recompute.graph_ingredients", params))
            self._watch.keep(tenant_id, generation, graph)
        return graph if self._watch.state()[0] == generation else None

    def _execute(self, query: str, params: Params) -> duckdb.DuckDBPyConnection:
        q = compiled(DIALECT, query, "dollar")
        if _writes_graph(query):
            self._graph_written()
        values = {name: (params or {})[name] for name in q.params}
        try:
            return self._cur.execute(q.text, values) if values else self._cur.execute(q.text)
        except duckdb.Error as exc:
            raise translate(exc) from exc

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
        try:
            return self._cur.sql(q.text, params=values or None).to_arrow_table()
        except duckdb.Error as exc:
            raise translate(exc) from exc

    @contextmanager
    def staged(self, tables: Mapping[str, pa.Table]) -> Iterator[None]:
        # A view cannot replace a table (DuckDB then aborts the transaction), and an earlier
        # recompute in this transaction may have left its work tables: drop them first.
        drops = "; ".join(f"DROP TABLE IF EXISTS temp.main.{name}" for name in tables)
        try:
            self._cur.execute(drops)
            for name, table in tables.items():
                self._cur.register(name, table)
            yield
        except duckdb.Error as exc:
            raise translate(exc) from exc
        finally:
            for name in tables:
                try:
                    self._cur.unregister(name)
                except duckdb.Error:
                    pass  # never registered, or the transaction is failing: keep its error

    def load(self, table: str, frame: pd.DataFrame) -> int:
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        if table in GRAPH_TABLES:
            self._graph_written()
        try:
            self._cur.register("_mo_load", frame)
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
        self._graph_written()  # migrations and ad-hoc DDL: assume the worst
        try:
            self._cur.execute(sql_text)
        except duckdb.Error as exc:
            raise translate(exc) from exc


class DuckDBStore(Store):
    dialect = DIALECT

    def __init__(self, url: str, path: str) -> None:
        self.url = url
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._watch = GraphWatch() if path == ":memory:" else watch_for(os.path.realpath(path))
        # Held only while transactions run, so other processes can use the file between calls.
        self._file = SharedFile(path, timeout_s=db_lock_timeout(), on_open=self._opened,
                                translate=translate)

    def _opened(self, conn: duckdb.DuckDBPyConnection) -> None:
        try:
            conn.execute("SET TimeZone = 'UTC'")
        except duckdb.Error as exc:
            raise translate(exc) from exc
        # While released, another process may have written the file: drop the resident copies.
        self._watch.writer_started()
        self._watch.writer_ended()

    @contextmanager
    def transaction(self, *, tenant_id: str | None = None) -> Iterator[Tx]:
        with self._file.cursor() as cursor:
            tx = DuckDBTx(cursor, self._watch)
            try:
                cursor.execute("BEGIN TRANSACTION")
                yield tx
                try:
                    cursor.execute("COMMIT")
                except duckdb.Error as exc:
                    raise translate(exc) from exc
            except BaseException:
                _rollback(cursor)
                raise
            finally:
                if tx.wrote_graph:
                    self._watch.writer_ended()

    def close(self) -> None:
        self._file.close()


def _rollback(cursor: duckdb.DuckDBPyConnection) -> None:
    try:
        cursor.execute("ROLLBACK")
    except duckdb.Error:
        pass  # a failed COMMIT has already ended the transaction
