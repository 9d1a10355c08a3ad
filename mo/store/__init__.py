"""Open the store a database URL names: duckdb:///path, duckdb:///:memory: or postgresql://…"""

from __future__ import annotations

from mo.store.base import Store, Tx
from mo.store.urls import parse_db_url

__all__ = ["Store", "Tx", "open_store", "connect_store"]


def connect_store(url: str, *, statement_timeout: float | None = None) -> Store:
    """Connect without touching the schema (the migration runner uses this).

    statement_timeout bounds every statement, in seconds (0: no bound); None reads
    MO_STATEMENT_TIMEOUT (mo.settings.statement_timeout_s)."""
    if statement_timeout is None:
        from mo.settings import statement_timeout_s

        statement_timeout = statement_timeout_s()
    parsed = parse_db_url(url)
    if parsed.dialect == "duckdb":
        from mo.store.duckdb_store import DuckDBStore

        return DuckDBStore(url, parsed.target, statement_timeout=statement_timeout)
    from mo.store.postgres_store import PostgresStore

    return PostgresStore(parsed.target, statement_timeout=statement_timeout)


def open_store(url: str, *, statement_timeout: float | None = None) -> Store:
    """Connect, then make the schema current: an embedded DuckDB migrates itself, while a
    PostgreSQL server with pending migrations answers migration_required."""
    from mo.store.migrations import ensure_current

    store = connect_store(url, statement_timeout=statement_timeout)
    try:
        ensure_current(store)
    except BaseException:
        store.close()
        raise
    return store
