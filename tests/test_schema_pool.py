"""The suite's reused PostgreSQL schemas (pg_schema_pool.py) come back as newly migrated ones."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest
from pg_schema_pool import SchemaPool

from mo.services import tenants
from mo.store import connect_store, migrations


@pytest.fixture
def pool(pg_url: str | None) -> Iterator[SchemaPool]:
    if pg_url is None:
        if os.environ.get("MO_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is not reachable — required by MO_REQUIRE_POSTGRES=1")
        pytest.skip("PostgreSQL is not reachable")
    made = SchemaPool(pg_url)
    yield made
    made.close()


def _schema_exists(pool: SchemaPool, schema: str) -> bool:
    with psycopg.connect(pool.url(schema)) as conn:
        return conn.execute("SELECT to_regnamespace(%s) IS NOT NULL", (schema,)).fetchone()[0]


def test_a_given_back_schema_is_reused_empty_with_its_sequences_restarted(pool: SchemaPool) -> None:
    schema = pool.take()
    with connect_store(pool.url(schema)) as store:
        tenants.create_tenant(store, "acme", name="Acme Bistro")
    with psycopg.connect(pool.url(schema)) as conn:
        conn.execute("SELECT nextval('mo_id_seq'), nextval('event_log_id_seq')")
        conn.execute("SELECT nextval('mo_id_seq'), nextval('event_log_id_seq')")
    pool.give_back(schema)

    again = pool.take()
    assert again == schema
    with psycopg.connect(pool.url(again)) as conn:
        assert conn.execute("SELECT count(*) FROM tenants").fetchone()[0] == 0
        assert conn.execute("SELECT nextval('mo_id_seq'), nextval('event_log_id_seq')").fetchone() == (1, 1)
    with connect_store(pool.url(again)) as store:
        assert {m.state for m in migrations.status(store)} == {"applied"}
        tenants.create_tenant(store, "acme", name="Acme Bistro")  # the slug is free again


def test_a_schema_whose_catalog_changed_is_dropped_not_reused(pool: SchemaPool) -> None:
    schema = pool.take()
    with psycopg.connect(pool.url(schema), autocommit=True) as conn:
        conn.execute("ALTER TABLE event_log NO FORCE ROW LEVEL SECURITY")  # would weaken later tests
    pool.give_back(schema)
    assert not _schema_exists(pool, schema)
    assert pool.take() != schema
