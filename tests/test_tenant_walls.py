"""Tenant walls: one tenant never reads or writes another's rows.

1. A seeded random walk of writes and reads across three tenants through both clients (local and
   HTTP, on both backends). The tenants share every ingredient name, recipe name, supplier and
   idempotency key on purpose. Each step is checked against a model of the acting tenant, and
   the other two tenants' rows (counted with the raw driver) must not move at all. Prices carry
   the tenant in a digit, so a leaked cost row would show as a foreign tag.
2. HTTP: no key (or an unknown one) is 401 on every route of the OpenAPI document; tenant A's
   key on tenant B's names is 404 on every route that addresses a name.
3. PostgreSQL row-level security as the second wall: as mo_app under tenant A, raw SQL sees none
   of B's rows in any tenant table and cannot insert, move or change any; the store's tenant
   transactions run as mo_app; every tenant table has a forced policy.

Walk length: MO_WALK_STEPS (25 per configuration in `make test`, 300 under `make soak`).
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import psycopg
import pytest
from client_fixtures import OTHER_TENANT, TENANT, api_keys, api_server, mode  # noqa: F401
from psycopg import errors as pg_errors
from reliability_support import TENANT_TABLES, knob, record, tenant_counts

import mo
from mo.api.server import BackgroundServer
from mo.client import MOClient
from mo.errors import MOError
from mo.services import conversions, costs, imports, offers, recipes, suppliers, tenants
from mo.services import ingredients as ing
from mo.store import Store, connect_store

THIRD_TENANT = "third"
SLUGS = (TENANT, OTHER_TENANT, THIRD_TENANT)
STEPS = knob("MO_WALK_STEPS", 25, 300)
NAMES = ("Flour", "Sugar", "Butter", "Salt")
RECIPES = ("Pie", "Cake")


# ---- the model of one tenant --------------------------------------------------------------------


@dataclass
class Ingredient:
    name: str
    deleted: bool = False
    alias: bool = False
    costs: int = 0


@dataclass
class Model:
    tag: int  # this tenant's digit in every price it writes
    items: list[Ingredient] = field(default_factory=list)
    recipes: dict[str, bool] = field(default_factory=dict)  # name -> deleted
    recipe_bin: dict[str, int] = field(default_factory=dict)  # name -> deleted rows of it
    keys: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # key -> the request
    imports: int = 0

    def active(self, name: str) -> Ingredient | None:
        return next((i for i in self.items if i.name == name and not i.deleted), None)

    def latest_deleted(self, name: str) -> Ingredient | None:
        return next((i for i in reversed(self.items) if i.name == name and i.deleted), None)

    def cost_rows(self) -> int:
        return sum(i.costs for i in self.items if not i.deleted)


def _price(step: int, tag: int) -> str:
    return f"{step + 1}.{tag}5"  # the tenant's tag is the tenths digit


def _tag(unit_cost: Decimal) -> int:
    return int(unit_cost * 1000 * 100) // 10 % 10  # costs are per g of a price per 1 kg


# ---- one step -----------------------------------------------------------------------------------


class Walk:
    """Random operations for random tenants; each returns what the model says must happen."""

    def __init__(self, clients: dict[str, MOClient], rng: random.Random) -> None:
        self.clients, self.rng = clients, rng
        self.models = {slug: Model(tag=n + 1) for n, slug in enumerate(SLUGS)}
        self.shared_keys: list[str] = []
        self.tried: dict[str, int] = {}

    def step(self, n: int) -> tuple[str, str]:
        slug = self.rng.choice(SLUGS)
        op = self.rng.choice([
            "add", "add", "alias", "cost", "cost", "cost", "import", "recipe", "delete",
            "restore", "delete_recipe", "restore_recipe",
        ])
        self.tried[op] = self.tried.get(op, 0) + 1
        expected, call, apply = getattr(self, f"_{op}")(self.models[slug], self.clients[slug], n)
        if expected == "ok":
            result = call()
            apply(result)
        else:
            with pytest.raises(MOError) as caught:
                call()
            assert caught.value.code.value == expected, (slug, op, caught.value)
        return slug, op

    def _add(self, m: Model, client: MOClient, n: int) -> Any:
        name = self.rng.choice(NAMES)
        code = "conflict" if m.active(name) else "ok"
        return code, lambda: client.add_ingredient(name, unit="g"), \
            lambda _: m.items.append(Ingredient(name))

    def _alias(self, m: Model, client: MOClient, n: int) -> Any:
        name = self.rng.choice(NAMES)
        item = m.active(name)
        code = "not_found" if item is None else ("conflict" if item.alias else "ok")
        return code, lambda: client.add_alias(name, f"{name} alias"), \
            lambda _: setattr(item, "alias", True)

    def _cost(self, m: Model, client: MOClient, n: int) -> Any:
        name, price = self.rng.choice(NAMES), _price(n, m.tag)
        if self.shared_keys and self.rng.random() < 0.4:
            key = self.rng.choice(self.shared_keys)  # maybe another tenant's: a fresh key here
        else:
            key = f"k{n}"
            self.shared_keys.append(key)
        if key in m.keys and self.rng.random() < 0.5:
            _, name, price = m.keys[key]  # the very same request again: a replay
        item = m.active(name)
        if key in m.keys:
            same = m.keys[key] == ("cost", name, price)
            code = "ok" if same else "idempotency_conflict"
        else:
            code = "not_found" if item is None else "ok"

        def apply(result: Any) -> None:
            assert result.replayed is (key in m.keys), (key, result)
            if not result.replayed:
                assert item is not None and _tag(result.unit_cost) == m.tag
                item.costs += 1
                m.keys[key] = ("cost", name, price)

        return code, lambda: client.update_cost(name, price, per="1 kg", idempotency_key=key), apply

    def _import(self, m: Model, client: MOClient, n: int) -> Any:
        names = self.rng.sample(NAMES, self.rng.randint(1, 3))
        rows = [{"item": name, "price": _price(n, m.tag), "pack": "1 kg"} for name in names]
        key = f"imp{n}"  # the same supplier and key text in every tenant

        def apply(result: Any) -> None:
            assert (result.status, result.rows) == ("completed", len(rows)), result
            for name in names:
                item = m.active(name)
                if item is None:
                    item = Ingredient(name)
                    m.items.append(item)
                item.costs += 1
            m.imports += 1

        return "ok", lambda: client.import_price_list(
            rows, idempotency_key=key, supplier="Shared Supplier"), apply

    def _recipe(self, m: Model, client: MOClient, n: int) -> Any:
        name, item = self.rng.choice(RECIPES), self.rng.choice(NAMES)
        code = "ok" if m.active(item) else "not_found"
        line = {"ingredient": item, "qty": 100, "unit": "g"}
        return code, lambda: client.save_recipe(name, yield_qty=1, yield_unit="each",
                                                lines=[line]), \
            lambda _: m.recipes.__setitem__(name, False)

    def _delete(self, m: Model, client: MOClient, n: int) -> Any:
        name = self.rng.choice(NAMES)
        item = m.active(name)
        return ("ok" if item else "not_found"), lambda: client.delete_ingredient(name), \
            lambda _: setattr(item, "deleted", True)

    def _restore(self, m: Model, client: MOClient, n: int) -> Any:
        name = self.rng.choice(NAMES)
        item = m.latest_deleted(name)
        code = "conflict" if m.active(name) and item else ("not_found" if item is None else "ok")
        return code, lambda: client.restore_ingredient(name), \
            lambda _: setattr(item, "deleted", False)

    def _delete_recipe(self, m: Model, client: MOClient, n: int) -> Any:
        name = self.rng.choice(RECIPES)
        code = "ok" if m.recipes.get(name) is False else "not_found"

        def apply(_: Any) -> None:
            m.recipes[name] = True
            m.recipe_bin[name] = m.recipe_bin.get(name, 0) + 1

        return code, lambda: client.delete_recipe(name), apply

    def _restore_recipe(self, m: Model, client: MOClient, n: int) -> Any:
        name = self.rng.choice(RECIPES)
        binned = m.recipe_bin.get(name, 0)
        code = "not_found" if not binned else ("conflict" if m.recipes[name] is False else "ok")

        def apply(_: Any) -> None:
            m.recipes[name] = False
            m.recipe_bin[name] = binned - 1

        return code, lambda: client.restore_recipe(name), apply


def _check_reads(model: Model, client: MOClient) -> None:
    """Every read of the acting tenant shows exactly its own rows."""
    names = client.ingredients()["name"].tolist()
    assert sorted(names) == sorted(i.name for i in model.items if not i.deleted)
    history = client.cost_history(exact=True)
    assert len(history) == model.cost_rows()
    assert {_tag(c) for c in history["unit_cost"]} <= {model.tag}, "a foreign cost row"
    assert len(client.imports()) == model.imports
    active = sorted(name for name, deleted in model.recipes.items() if not deleted)
    assert sorted(client.recipes()["name"]) == active


# ---- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def walkers(
    mode: str, db_url: str, api_keys: dict[str, str], request: pytest.FixtureRequest  # noqa: F811
) -> Iterator[dict[str, MOClient]]:
    """A client of the parametrized mode for each of three tenants over one database."""
    keys = dict(api_keys)
    mo.create_tenant(THIRD_TENANT, db_url=db_url)
    keys[THIRD_TENANT] = mo.create_api_key(THIRD_TENANT, db_url=db_url)
    if mode == "local":
        clients = {slug: mo.LocalClient(slug, db_url=db_url) for slug in SLUGS}
    else:
        server: BackgroundServer = request.getfixturevalue("api_server")
        clients = {slug: mo.HttpClient(server.base_url, api_key=keys[slug]) for slug in SLUGS}
    yield clients
    for client in clients.values():
        client.close()


def test_a_random_walk_across_three_tenants_never_crosses_a_wall(
    walkers: dict[str, MOClient], db_url: str, backend: str, mode: str  # noqa: F811
) -> None:
    seed = int(os.environ.get("MO_WALK_SEED") or random.randrange(10**6))
    walk = Walk(walkers, random.Random(seed))
    # A second store in this process: DuckDB hands out the instance the clients already hold.
    with connect_store(db_url) as store:
        ids = {slug: tenants.resolve_tenant(store, slug).tenant_id for slug in SLUGS}
        for n in range(STEPS):
            before = {slug: tenant_counts(store, ids[slug]) for slug in SLUGS}
            acting, op = walk.step(n)
            for slug in SLUGS:
                if slug != acting:
                    assert tenant_counts(store, ids[slug]) == before[slug], (
                        f"seed {seed}, step {n}: {acting}'s {op} touched {slug}'s rows"
                    )
            _check_reads(walk.models[acting], walkers[acting])
    record(f"tenant_walk_{backend}_{mode}", seed=seed, steps=STEPS, operations=walk.tried,
           failures=0)


# ---- HTTP: the key decides the tenant -----------------------------------------------------------


def _operations(http: httpx.Client) -> list[tuple[str, str]]:
    document = http.get("/openapi.json").json()
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"} and path != "/v1/health"
    ]


def _error_code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, (response.request.url, response.text)
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return str(body["error"]["code"])


@pytest.mark.parametrize("backend", ["duckdb"])  # the API's wall does not depend on the backend
@pytest.mark.parametrize("authorization", [None, "Bearer mo_not_a_key", "Bearer", "Token x"])
def test_every_route_without_a_valid_key_is_401(
    http: httpx.Client, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    operations = _operations(http)
    assert len(operations) >= 15
    for method, path in operations:
        response = http.request(method, path.replace("{name}", "Flour"), headers=headers,
                                json={"price": "1", "per": "kg"})
        assert _error_code(response, 401) == "unauthorized", (method, path)


# Bodies the name-addressed routes need to get as far as the lookup.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/ingredients/{name}/costs"): {"price": "1", "per": "kg"},
    ("POST", "/v1/ingredients/{name}/aliases"): {"alias": "stolen"},
    ("PUT", "/v1/ingredients/{name}/policy"): {"policy": "lowest"},
    ("POST", "/v1/ingredients/{name}/conversions"): {"from_qty": "1 each", "to_qty": "5 g"},
}
# Query parameters a name-addressed route needs to get as far as the lookup.
QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/v1/recipes/{name}/explain"): {"since": "2026-01-01T00:00:00Z"},
}


@pytest.mark.parametrize("backend", ["duckdb", "postgres"])
def test_one_tenants_key_on_anothers_names_is_404_and_changes_nothing(
    http: httpx.Client, api_keys: dict[str, str], db_url: str  # noqa: F811
) -> None:
    owner, intruder = (mo.HttpClient(str(http.base_url), api_key=api_keys[s]) for s in SLUGS[1::-1])
    owner.add_ingredient("Secret Truffle", unit="g")
    owner.update_cost("Secret Truffle", "900", per="1 kg", idempotency_key="t")
    owner.save_recipe("Secret Pie", yield_qty=1, yield_unit="each",
                      lines=[{"ingredient": "Secret Truffle", "qty": 5, "unit": "g"}])
    owner.add_ingredient("Old Secret", unit="g")
    owner.delete_ingredient("Old Secret")
    owner.save_supplier("Secret Truffle", columns={"Truffle": "item"})
    skipped = owner.import_price_list(
        [{"item": "Secret Truffle", "price": "9", "pack": "1 l"}, {"item": "Salt", "price": "1", "pack": "1 kg"}],
        idempotency_key="s", supplier="Secret Truffle", columns={"item": "item"},
        on_bad_rows="skip")
    assert skipped.rejected_rows == 1
    owner.save_recipe("Old Secret", yield_qty=1, yield_unit="each",
                      lines=[{"ingredient": "Secret Truffle", "qty": 1, "unit": "g"}])
    owner.delete_recipe("Old Secret")
    with connect_store(db_url) as store:
        rival_id = tenants.resolve_tenant(store, OTHER_TENANT).tenant_id
        before = tenant_counts(store, rival_id)
        auth = {"Authorization": f"Bearer {api_keys[TENANT]}", "Idempotency-Key": "x"}
        named = [(m, p) for m, p in _operations(http) if "{name}" in p]
        assert len(named) >= 6
        for method, path in named:
            secret = "Old Secret" if path.endswith("/restore") else (
                "Secret Pie" if path.startswith("/v1/recipes") else "Secret Truffle")
            response = http.request(method, path.replace("{name}", secret).replace("{unit}", "each"),
                                    headers=auth, json=BODIES.get((method, path)),
                                    params=QUERIES.get((method, path)))
            assert _error_code(response, 404) == "not_found", (method, path)
        for method, path, kwargs in (
            ("GET", "/v1/costs", {"params": {"ingredient": "Secret Truffle"}}),
            ("POST", "/v1/recompute", {"json": {"recipes": ["Secret Pie"]}}),
            ("GET", f"/v1/imports/{skipped.batch_id}/rejections", {}),
        ):
            assert _error_code(http.request(method, path, headers=auth, **kwargs), 404) == (
                "not_found"
            )
        assert tenant_counts(store, rival_id) == before
    assert intruder.ingredients().empty and intruder.recipes().empty
    assert intruder.cost_history().empty and len(owner.cost_history()) == 2
    assert intruder.suppliers().empty and len(owner.suppliers()) == 1
    owner.close()
    intruder.close()


# ---- PostgreSQL: row-level security under the services' filters ---------------------------------

on_postgres = pytest.mark.parametrize("backend", ["postgres"])


def _fill_every_tenant_table(store: Store, slug: str) -> str:
    """Give the tenant at least one row in every tenant table; its id."""
    tenants.create_tenant(store, slug)
    ctx = tenants.resolve_tenant(store, slug)
    ing.add_ingredient(store, ctx, "Flour", unit="g")
    ing.add_alias(store, ctx, "Flour", "Farine")
    costs.update_cost(store, ctx, "Flour", "2", per="1 kg", idempotency_key="same-key")
    imports.import_price_list(store, ctx, [{"item": "Sugar", "price": "3", "pack": "1 kg",
                                            "sku": "S1"}], idempotency_key="imp", supplier="Acme")
    imports.import_price_list(store, ctx, [{"item": "Salt", "price": "1", "pack": "1 kg"},
                                           {"item": "Pepper", "price": "x", "pack": "1 kg"}],
                              idempotency_key="skip", supplier="Acme", on_bad_rows="skip")
    suppliers.save_supplier(store, ctx, "Acme", columns={"Item": "item"})
    offers.set_cost_policy(store, ctx, "Sugar", "preferred", supplier="Acme", idempotency_key="pol")
    conversions.add_conversion(store, ctx, "Flour", "1 each", "50 g", idempotency_key="conv")
    recipes.save_recipe(store, ctx, "Pie", yield_qty=1, yield_unit="each",
                        lines=[{"ingredient": "Flour", "qty": 100, "unit": "g"}])
    tenants.create_api_key(store, slug)
    counts = tenant_counts(store, ctx.tenant_id)
    assert all(counts.values()), counts
    return ctx.tenant_id


@pytest.fixture
def two_tenants(store: Store) -> tuple[str, str]:
    return _fill_every_tenant_table(store, "alpha"), _fill_every_tenant_table(store, "beta")


@contextmanager
def _as_app(store: Store, tenant_id: str | None) -> Iterator[psycopg.Connection[Any]]:
    """A raw connection in a transaction, as mo_app, with app.tenant_id set (or unset); rolled
    back and closed on leaving, so nothing a test tries as mo_app is kept."""
    with psycopg.connect(store.url) as conn:
        if tenant_id is not None:
            conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
        conn.execute("SET LOCAL ROLE mo_app")
        try:
            yield conn
        finally:
            conn.rollback()


def _rows_seen(conn: psycopg.Connection[Any], relation: str, *, of: str) -> tuple[int, int]:
    """(rows of tenant `of`, all rows) that `relation` shows this connection."""
    return conn.execute(  # type: ignore[return-value]
        f"SELECT count(*) FILTER (WHERE tenant_id = %s), count(*) FROM {relation}", (of,)
    ).fetchone()


ACTIVE_VIEWS = ("active_ingredients", "active_ingredient_names", "active_recipes")


@on_postgres
def test_under_tenant_a_raw_sql_sees_none_of_bs_rows(
    store: Store, two_tenants: tuple[str, str]
) -> None:
    """In every tenant table, and through the active-row views: V015's views read their tables
    with the caller's rights (security_invoker), so the policies hold through them (a view
    owned by the migrating role would skip them)."""
    a, b = two_tenants
    mine = tenant_counts(store, a)
    with _as_app(store, a) as conn:
        for table in TENANT_TABLES:
            seen = _rows_seen(conn, table, of=b)
            assert seen == (0, mine[table]), (table, seen)
        for view in ACTIVE_VIEWS:
            seen = _rows_seen(conn, view, of=b)
            assert seen[0] == 0 and seen[1] > 0, (view, seen)
        assert conn.execute("SELECT current_user").fetchone() == ("mo_app",)


@on_postgres
def test_under_tenant_a_raw_sql_cannot_write_bs_rows(
    store: Store, two_tenants: tuple[str, str]
) -> None:
    a, b = two_tenants
    theirs = tenant_counts(store, b)
    refused = []
    with _as_app(store, a) as conn:
        for table in TENANT_TABLES:
            for statement, params in (
                (f"INSERT INTO {table} SELECT (json_populate_record(NULL::{table},"
                 f" (to_jsonb(r) || jsonb_build_object('tenant_id', %s::text))::json)).*"
                 f" FROM {table} r LIMIT 1", (b,)),
                (f"UPDATE {table} SET tenant_id = %s WHERE ctid IN"
                 f" (SELECT ctid FROM {table} LIMIT 1)", (b,)),
            ):
                with pytest.raises(pg_errors.InsufficientPrivilege), conn.transaction():
                    conn.execute(statement, params)  # type: ignore[arg-type]
                refused.append(table)
            for statement in (f"UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = %s",
                              f"DELETE FROM {table} WHERE tenant_id = %s"):
                assert conn.execute(statement, (b,)).rowcount == 0, (table, statement)  # type: ignore[arg-type]
    assert tenant_counts(store, b) == theirs
    assert sorted(set(refused)) == sorted(TENANT_TABLES)


@on_postgres
def test_without_a_tenant_the_app_role_sees_nothing_but_key_lookups(
    store: Store, two_tenants: tuple[str, str]
) -> None:
    with _as_app(store, None) as conn:
        for table in TENANT_TABLES:
            [count] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # type: ignore[misc]
            # Authentication reads api_keys by hash before any tenant is known (policy
            # mo_api_key_lookup); every other tenant table shows nothing.
            assert (count > 0) is (table == "api_keys"), (table, count)


@on_postgres
def test_the_store_runs_tenant_transactions_as_the_app_role(
    store: Store, two_tenants: tuple[str, str]
) -> None:
    a, _ = two_tenants
    with store.transaction(tenant_id=a) as tx:
        conn = tx._conn  # type: ignore[attr-defined]  # look past the catalog, on purpose
        row = conn.execute("SELECT current_user AS who, count(*) AS n FROM ingredients").fetchone()
        isolation = conn.execute("SHOW transaction_isolation").fetchone()
    assert (row["who"], row["n"]) == ("mo_app", tenant_counts(store, a)["ingredients"])
    assert isolation["transaction_isolation"] == "repeatable read"
    with store.transaction() as tx:
        who = tx._conn.execute("SELECT current_user AS who").fetchone()  # type: ignore[attr-defined]
    assert who["who"] != "mo_app"  # no tenant: the connecting role (migrations, auth)


@on_postgres
def test_every_tenant_table_has_a_forced_policy_and_the_app_role_bypasses_nothing(
    store: Store,
) -> None:
    with psycopg.connect(store.url) as conn:
        tables = conn.execute(
            """SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                      array_agg(p.polname ORDER BY p.polname) FILTER (WHERE p.polname IS NOT NULL)
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
               LEFT JOIN pg_policy p ON p.polrelid = c.oid
               WHERE c.relkind = 'r'
               GROUP BY c.relname, c.relrowsecurity, c.relforcerowsecurity
               ORDER BY c.relname"""
        ).fetchall()
        role = conn.execute(
            "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'mo_app'"
        ).fetchone()
        owned = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
            " AND tableowner = 'mo_app'"
        ).fetchone()
    assert [t[0] for t in tables] == sorted(TENANT_TABLES)
    for name, enabled, forced, policies in tables:
        assert enabled and forced, name
        assert "mo_tenant_isolation" in policies, name
    assert role == (False, False, False) and owned == (0,)


@on_postgres
def test_a_large_import_still_refreshes_statistics_as_the_app_role(store: Store) -> None:
    """ANALYZE needs the table's owner on PostgreSQL 15; mo_app owns nothing, so imports call
    mo_analyze (SECURITY DEFINER, V009). Without it the refresh is skipped with a warning and
    the next large import is planned from stale statistics (minutes instead of seconds)."""
    tenants.create_tenant(store, "alpha")
    ctx = tenants.resolve_tenant(store, "alpha")
    rows = [{"item": f"Item {n}", "price": "1", "pack": "1 kg", "sku": f"S{n:05d}"}
            for n in range(imports.ANALYZE_FROM_ROWS)]
    imports.import_price_list(store, ctx, rows, idempotency_key="big", supplier="Bulk")
    with psycopg.connect(store.url) as conn:
        analyzed = conn.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema()"
            " AND last_analyze IS NOT NULL ORDER BY relname"
        ).fetchall()
        assert [r[0] for r in analyzed] == [
            "ingredient_costs", "ingredient_names", "ingredients", "supplier_items"
        ]
        # The staging tables are sampled small; the tenant tables keep the server's sample
        # size (100 by default: a histogram of up to 101 bounds, not the staging's 11).
        bounds = conn.execute(
            "SELECT cardinality(histogram_bounds::text::text[]) FROM pg_stats"
            " WHERE schemaname = current_schema() AND tablename = 'supplier_items'"
            " AND attname = 'sku'"
        ).fetchone()
        target = int(conn.execute("SHOW default_statistics_target").fetchone()[0])
        assert bounds == (target + 1,)
        conn.execute("SET ROLE mo_app")
        with pytest.raises(pg_errors.InvalidParameterValue):
            conn.execute("SELECT mo_analyze(ARRAY['pg_class'])")


@on_postgres
def test_a_large_recipe_import_refreshes_the_recipe_tables_statistics(store: Store) -> None:
    """Planned from statistics older than the import, the cycle and depth checks of a few
    thousand imported recipes scanned every recipe once per line (85 s for 4,000 recipes)."""
    from mo.services import recipe_import

    tenants.create_tenant(store, "alpha")
    ctx = tenants.resolve_tenant(store, "alpha")
    imports.import_price_list(store, ctx, [{"item": "Flour", "price": "1", "pack": "1 kg"}],
                              idempotency_key="flour", supplier="Mill")
    recipes = recipe_import.ANALYZE_FROM_LINES // 8
    lines = [{"recipe": f"Bread {r}", "yield_qty": "1", "yield_unit": "batch", "kind": "ingredient",
              "item": "Flour", "qty": "100", "unit": "g"} for r in range(recipes) for _ in range(8)]
    recipe_import.import_recipes(store, ctx, lines, idempotency_key="breads")
    with psycopg.connect(store.url) as conn:
        analyzed = conn.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema()"
            " AND relname LIKE 'recipe%' AND last_analyze IS NOT NULL ORDER BY relname"
        ).fetchall()
    assert [r[0] for r in analyzed] == ["recipe_lines", "recipes"]
