"""Open the store a database URL names: duckdb:///path, duckdb:///:memory: or postgresql://…"""

from __future__ import annotations

from mo.errors import validation_error
from mo.store.base import Store, Tx

__all__ = ["Store", "Tx", "open_store", "connect_store"]


def connect_store(url: str, *, statement_timeout: float | None = None) -> Store:
    """Connect without touching the schema (the migration runner uses this).

    statement_timeout bounds every statement, in seconds (0: no bound); None reads
    MO_STATEMENT_TIMEOUT (mo.settings.statement_timeout_s)."""
    if statement_timeout is None:
        from mo.settings import statement_timeout_s

        statement_timeout = statement_timeout_s()
    if url.startswith("duckdb:///"):
        from mo.store.duckdb_store import DuckDBStore

        return DuckDBStore(url, url.removeprefix("duckdb:///") or ":memory:",
                           statement_timeout=statement_timeout)
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from mo.store.postgres_store import PostgresStore

        return PostgresStore(url.replace("postgresql+psycopg://", "postgresql://", 1),
                             statement_timeout=statement_timeout)
    raise validation_error(
        "MO_DB_URL must start with duckdb:/// or postgresql://", field="MO_DB_URL", value=url
    )


def open_store(url: str, *, statement_timeout: float | None = None) -> Store:
    """Connect, then make the schema current: an embedded DuckDB migrates itself, while a
    PostgreSQL server with pending migrations answers migration_required."""
    from mo.migrations import ensure_current

    store = connect_store(url, statement_timeout=statement_timeout)
    try:
        ensure_current(store)
    except BaseException:
        store.close()
        raise
    return store
