"""Fixtures that run a test against every client configuration: (duckdb, postgres) × (local, http).

`backend` and `db_url` come from conftest.py (a migrated database per test). In http mode a real
uvicorn server serves that database on a free loopback port in a background thread.
Import the fixtures a test module needs: `from client_fixtures import client, mode, ...`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

import mo
from mo.client import MOClient

if TYPE_CHECKING:  # imported in the fixtures: see conftest.py (the xdist controller's imports)
    import httpx

    from mo.api.server import BackgroundServer
    from mo.store import Store

MODES = ["local", "http"]
TENANT = "acme"
OTHER_TENANT = "rival"


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def api_keys(db_url: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """Two tenants, each with an API key, created before any server opens the database.

    On DuckDB, db_url copied them from a seeded template (conftest.DuckDBSeeds: nearly every
    client test asks for this fixture); elsewhere they are created now."""
    from seeded_templates import COPIED_FROM

    copied = request.node.stash.get(COPIED_FROM, None)
    if copied is not None and copied[0] == "tenants":
        _, keys = request.getfixturevalue("duckdb_seeds").built("tenants")
        return dict(keys)
    return tenants_with_keys(db_url)


def tenants_with_keys(db_url: str) -> dict[str, str]:
    """Create the tenants "acme" and "rival", each with an API key: {slug: key}.

    Through the services over one store (mo.create_tenant and mo.create_api_key would open
    the database once each)."""
    from mo.store import open_store

    with open_store(db_url) as store:
        return {slug: _tenant_with_key(store, slug) for slug in (TENANT, OTHER_TENANT)}


def _tenant_with_key(store: Store, slug: str) -> str:
    from mo.services import tenants

    tenants.create_tenant(store, slug)
    return tenants.create_api_key(store, slug)


@pytest.fixture(scope="session")
def stopping_servers() -> Iterator[list[BackgroundServer]]:
    """The test servers told to stop; each must have exited by the end of the session."""
    stopping: list[BackgroundServer] = []
    yield stopping
    assert all(server.join() for server in stopping), "a test API server did not shut down"


@pytest.fixture
def api_server(
    db_url: str, api_keys: dict[str, str], stopping_servers: list[BackgroundServer]
) -> Iterator[BackgroundServer]:
    from mo.api.server import BackgroundServer

    server = BackgroundServer(db_url=db_url).start()
    try:
        yield server
    finally:
        # The next test need not wait the ~0.2 s uvicorn's shutdown takes (its clients are
        # closed: the server is idle); the session checks that every server did stop.
        server.stop(wait=False)
        stopping_servers.append(server)


@pytest.fixture
def connect_as(
    mode: str, db_url: str, api_keys: dict[str, str], request: pytest.FixtureRequest
) -> Iterator[Callable[[str], MOClient]]:
    """open(slug) → a client of the parametrized mode for that tenant; all closed afterwards."""
    opened: list[MOClient] = []

    def open_client(slug: str) -> MOClient:
        if mode == "local":
            client: MOClient = mo.LocalClient(slug, db_url=db_url)
        else:
            server: BackgroundServer = request.getfixturevalue("api_server")
            client = mo.HttpClient(server.base_url, api_key=api_keys[slug])
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()


@pytest.fixture
def client(connect_as: Callable[[str], MOClient]) -> MOClient:
    """The client under test, for tenant "acme"."""
    return connect_as(TENANT)


@pytest.fixture
def other_client(connect_as: Callable[[str], MOClient]) -> MOClient:
    """A client of the same mode for tenant "rival", over the same database."""
    return connect_as(OTHER_TENANT)


@pytest.fixture
def twin(db_url: str, api_keys: dict[str, str]) -> Iterator[MOClient]:
    """A LocalClient over the same database and tenant: the reference the client must match."""
    with mo.LocalClient(TENANT, db_url=db_url) as reference:
        yield reference


@pytest.fixture
def http(api_server: BackgroundServer) -> Iterator[httpx.Client]:
    """Raw HTTP to the test server, for what the clients do not say (headers, bodies, status)."""
    import httpx

    with httpx.Client(base_url=api_server.base_url, timeout=60) as session:
        yield session


@pytest.fixture
def auth(api_keys: dict[str, str]) -> dict[str, str]:
    """The headers that authenticate a raw request as tenant "acme"."""
    return {"Authorization": f"Bearer {api_keys[TENANT]}"}


def unit_costs(client: MOClient) -> dict[str, Decimal | None]:
    """Each ingredient's current unit cost, exact (None: no cost yet), by name."""
    frame = client.ingredients(exact=True)
    return dict(zip(frame["name"], frame["unit_cost"], strict=True))


def error_of(call: Callable[[], Any]) -> mo.MOError:
    """The MOError a call raises (fails the test when it raises nothing)."""
    with pytest.raises(mo.MOError) as caught:
        call()
    return caught.value


def error_tuple(err: mo.MOError) -> tuple[str, str, Any]:
    return err.code.value, err.message, err.details


def flour_and_butter_costs(client: MOClient, *, jan: datetime, feb: datetime) -> None:
    """The start of the cost histories read back by the history and explain tests: Flour (g)
    2.00 per kg from jan and 3.00 from feb, Butter (g) 5.00 per 500 g from jan."""
    client.add_ingredient("Flour", unit="g")
    client.add_ingredient("Butter", unit="g")
    client.update_cost("Flour", "2.00", per="1 kg", idempotency_key="f1", effective_at=jan)
    client.update_cost("Butter", "5.00", per="500 g", idempotency_key="b1", effective_at=jan)
    client.update_cost("Flour", "3.00", per="1 kg", idempotency_key="f2", effective_at=feb)
