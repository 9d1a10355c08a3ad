"""Migrated PostgreSQL schemas for the test suite, migrated once and reused.

Why not a copy per test: PostgreSQL cannot copy a schema, and rebuilding one is the same DDL as
migrating it (measured here: ~0.25-0.4 s either way); `CREATE DATABASE … TEMPLATE` takes ~0.1 s
but its `DROP DATABASE` waits for a checkpoint (~0.3 s). Emptying a migrated schema takes ~0.02 s.

So a test takes a migrated schema from the pool and gives it back afterwards. Given back, a
schema is reused only when its catalog (tables, columns, indexes, policies, grants, functions,
migration history) is exactly as it was when it was migrated; then every row is deleted and the
sequences restart, which leaves it as a newly migrated one. Any other schema is dropped. The
pool's schemas are uniquely named, so several pytest processes may share one server.
"""

from __future__ import annotations

import uuid

import psycopg
from database_support import with_schema
from psycopg import sql

from mo.store import connect_store, migrations

HISTORY = "mo_schema_history"

# Everything a test could change in a schema besides its rows. Names only, never oids: the
# fingerprint of one schema is compared with itself, before and after a test.
_FINGERPRINT = """
SELECT md5(coalesce(string_agg(item, E'\\n' ORDER BY item), '')) FROM (
    SELECT concat_ws(':', 'rel', c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity,
                     c.relacl, pg_get_viewdef(c.oid)) AS item
    FROM pg_class c WHERE c.relnamespace = %(schema)s::regnamespace
    UNION ALL
    SELECT concat_ws(':', 'col', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                     a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relnamespace = %(schema)s::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT concat_ws(':', 'idx', c.relname, pg_get_indexdef(i.indexrelid))
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE c.relnamespace = %(schema)s::regnamespace
    UNION ALL
    SELECT concat_ws(':', 'con', c.conname, pg_get_constraintdef(c.oid))
    FROM pg_constraint c WHERE c.connamespace = %(schema)s::regnamespace
    UNION ALL
    SELECT concat_ws(':', 'pol', p.polname, c.relname, p.polcmd, p.polpermissive, p.polroles,
                     pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
    WHERE c.relnamespace = %(schema)s::regnamespace
    UNION ALL
    SELECT concat_ws(':', 'fn', p.proname, pg_get_functiondef(p.oid), p.proacl)
    FROM pg_proc p WHERE p.pronamespace = %(schema)s::regnamespace
    UNION ALL
    SELECT concat_ws(':', 'trg', t.tgname, c.relname)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = %(schema)s::regnamespace
    UNION ALL
    SELECT concat_ws(':', 'schema', n.nspacl, pg_get_userbyid(n.nspowner))
    FROM pg_namespace n WHERE n.oid = %(schema)s::regnamespace
) AS catalog
"""
_TABLES = """
SELECT tablename FROM pg_tables WHERE schemaname = %(schema)s AND tablename <> %(history)s
ORDER BY tablename
"""
_SEQUENCES = "SELECT sequencename FROM pg_sequences WHERE schemaname = %(schema)s"


class SchemaPool:
    """Migrated schemas on one server: take() one per test, give_back() it afterwards."""

    def __init__(self, base_url: str) -> None:
        self._base = base_url
        self._free: list[str] = []
        self._fingerprints: dict[str, str] = {}  # every schema this pool made and still owns

    def url(self, schema: str) -> str:
        return with_schema(self._base, schema)

    def take(self) -> str:
        return self._free.pop() if self._free else self._migrated()

    def give_back(self, schema: str) -> None:
        try:
            reusable = self._empty_if_unchanged(schema)
        except psycopg.Error:
            reusable = False  # e.g. a lock a stray connection still holds: not worth waiting for
        if reusable:
            self._free.append(schema)
        else:
            self._drop(schema)

    def close(self) -> None:
        for schema in list(self._fingerprints):
            self._drop(schema)
        self._free.clear()

    def _migrated(self) -> str:
        schema = f"mo_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self._base, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            self._fingerprints[schema] = "being migrated"  # dropped at close() if this fails
        with connect_store(self.url(schema)) as store:
            migrations.migrate(store)
        with psycopg.connect(self._base, autocommit=True) as conn:
            self._fingerprints[schema] = self._fingerprint(conn, schema)
        return schema

    def _empty_if_unchanged(self, schema: str) -> bool:
        with psycopg.connect(self._base, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '10s'")
            if self._fingerprint(conn, schema) != self._fingerprints[schema]:
                return False
            with conn.transaction():
                # Off: an error instead of rows silently kept, were the connecting role ever
                # subject to the row-level security policies (a superuser is not).
                conn.execute("SET LOCAL row_security = off")
                # DELETE, not TRUNCATE: on tables this small TRUNCATE takes ~20x longer. All in
                # one round trip (statements without parameters may share one execute).
                tables = conn.execute(_TABLES, {"schema": schema, "history": HISTORY}).fetchall()
                sequences = conn.execute(_SEQUENCES, {"schema": schema}).fetchall()
                conn.execute(sql.SQL("; ").join(
                    [sql.SQL("DELETE FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(t))
                     for (t,) in tables]
                    + [sql.SQL("ALTER SEQUENCE {}.{} RESTART").format(sql.Identifier(schema),
                                                                      sql.Identifier(q))
                       for (q,) in sequences]))
        return True

    @staticmethod
    def _fingerprint(conn: psycopg.Connection, schema: str) -> str:
        [(catalog,)] = conn.execute(_FINGERPRINT, {"schema": schema}).fetchall()
        history = conn.execute(
            sql.SQL("SELECT version, checksum FROM {}.{} ORDER BY version").format(
                sql.Identifier(schema), sql.Identifier(HISTORY)
            )
        ).fetchall()
        return f"{catalog}:{history}"

    def _drop(self, schema: str) -> None:
        self._fingerprints.pop(schema, None)
        with psycopg.connect(self._base, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
