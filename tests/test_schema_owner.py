"""mo deployed as PostgreSQL is usually run: migrated by, and connecting as, a plain role that
owns the schema, neither superuser nor BYPASSRLS. Row-level security is FORCEd, so it holds the
owner too: every write of tenant rows (creating a tenant included) must name its tenant."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from database_support import with_schema

from mo.errors import MOError
from mo.services import costs, tenants
from mo.services import ingredients as ing
from mo.store import connect_store, migrations

OWNER = "mo_schema_owner_test"


def _as_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


@pytest.fixture
def owner_url(pg_url: str | None) -> Iterator[str]:
    """A fresh schema owned by a LOGIN role without SUPERUSER or BYPASSRLS (CREATEROLE only,
    so migration V008 may make it a member of mo_app), reached as that role."""
    if pg_url is None:
        pytest.fail("PostgreSQL is not reachable (set MO_TEST_PG_URL or start a server)")
    schema = f"mo_owner_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('mo.test.owner_role'))")
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (OWNER,)).fetchone() is None:
            conn.execute(f"CREATE ROLE {OWNER} LOGIN NOSUPERUSER NOBYPASSRLS CREATEROLE")
        conn.execute("SELECT pg_advisory_unlock(hashtext('mo.test.owner_role'))")
        conn.execute(f'CREATE SCHEMA "{schema}" AUTHORIZATION {OWNER}')
    yield with_schema(_as_user(pg_url, OWNER), schema)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_a_plain_owner_role_migrates_creates_tenants_and_works_under_rls(owner_url: str) -> None:
    with connect_store(owner_url) as store:
        migrations.migrate(store)
        with psycopg.connect(owner_url) as conn:
            rolsuper, bypass = conn.execute(
                "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
            ).fetchone() or (None, None)
        assert (rolsuper, bypass) == (False, False)
        try:
            tenant = tenants.create_tenant(store, "bistro")
        except MOError as err:  # the policy refusing the tenant.created event, before the fix
            pytest.fail(f"a plain owner could not create a tenant: {err!r} ({err.__cause__!r})")
        assert tenants.create_tenant(store, "bistro") == tenant  # idempotent on slug
        ctx = tenants.resolve_tenant(store, "bistro")
        assert tenants.create_api_key(store, "bistro").startswith(tenants.KEY_PREFIX)
        ing.add_ingredient(store, ctx, "Flour", unit="g")
        costs.update_cost(store, ctx, "Flour", "2.00", per="1 kg", idempotency_key="k")
        with psycopg.connect(owner_url) as conn:
            events = conn.execute(
                "SELECT event_type FROM event_log WHERE tenant_id = %s ORDER BY id", (ctx.tenant_id,)
            ).fetchall()
        # As the owner, outside a tenant transaction, FORCEd RLS hides every row: read the
        # events the way the services do.
        assert events == []
        with store.transaction(tenant_id=ctx.tenant_id) as tx:
            types = [r["event_type"] for r in tx.all("testing.events", {"tenant_id": ctx.tenant_id})]
        assert types[0] == "tenant.created" and "ingredient.cost.updated" in types
