"""Open the store a database URL names: duckdb:///path, duckdb:///:memory: or postgresql://…"""

from __future__ import annotations

from mo.store.base import Store, Tx
from mo.store.urls import parse_db_url

__all__ = ["Store", "Tx", "open_store", "connect_store"]


def connect_store(url: str) -> Store:
    """Connect without touching the schema (the migration runner uses this)."""
    parsed = parse_db_url(url)
    if parsed.dialect == "duckdb":
        from mo.store.duckdb_store import DuckDBStore

        return DuckDBStore(url, parsed.target)
    from mo.store.postgres_store import PostgresStore

    return PostgresStore(parsed.target)


def open_store(url: str) -> Store:
    """Connect, then make the schema current: an embedded DuckDB migrates itself, while a
    PostgreSQL server with pending migrations answers migration_required."""
    from mo.migrations import ensure_current

    store = connect_store(url)
    try:
        ensure_current(store)
    except BaseException:
        store.close()
        raise
    return store
