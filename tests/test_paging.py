"""List routes send pages (issue #14, finding 6): a default and a maximum page size, a keyset
cursor bound to its tenant and listing, and HttpClient following the pages to the same
DataFrames LocalClient returns — on DuckDB and PostgreSQL.

The server under test runs with MO_PAGE_SIZE=2, so a handful of rows spans several pages.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from seeded_templates import seed_duckdb

import mo
from mo.api import paging
from mo.api.server import BackgroundServer
from mo.client import MOClient, frames
from mo.domain.context import TenantContext
from mo.services import costs, event_reads, imports, recipes, tenants
from mo.services.paging import FramePage, PageRequest
from mo.settings import load_page_limits
from mo.store import Store, connect_store

TENANT, OTHER = "acme", "rival"
PAGE = 2

PRICES = [
    {"item": f"Item {n:02d}", "sku": f"S-{n}", "price": f"{n}.50", "pack": "1 kg"} for n in range(7)
]


def _kitchen(client: MOClient) -> None:
    """Rows on every list: ingredients (one deleted, aliases), costs sharing an effective_at,
    three import batches, recipes (one deleted) and the events of all of it."""
    client.import_price_list(PRICES, idempotency_key="imp-1", supplier="Metro")
    client.import_price_list(PRICES[:4], idempotency_key="imp-2", supplier="Bakers")
    client.import_price_list(PRICES[:3], idempotency_key="imp-3", supplier="Metro")  # unchanged prices
    client.add_ingredient("Egg", unit="each")
    client.add_alias("Item 03", "Flour")
    client.add_alias("Item 03", "Plain flour")
    client.add_alias("Egg", "Hen egg")
    client.update_cost("Egg", "0.30", per="each", idempotency_key="egg-1")
    for n in range(5):
        client.save_recipe(
            f"Dish {n}",
            yield_qty=1,
            yield_unit="each",
            lines=[{"ingredient": "Egg", "qty": n + 1, "unit": "each"}],
        )
    client.delete_recipe("Dish 2")
    client.delete_ingredient("Item 05")
    client.add_ingredient("Item 05", unit="g")  # a deleted and an active row share a name_key


# ---- a server that pages by two rows ------------------------------------------------------------


@pytest.fixture
def paged_server(
    db_url: str, api_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[BackgroundServer]:
    monkeypatch.setenv("MO_PROJECT_DIR", str(tmp_path))  # no .env of the checkout
    monkeypatch.setenv("MO_PAGE_SIZE", str(PAGE))
    monkeypatch.setenv("MO_MAX_PAGE_SIZE", "5")
    with BackgroundServer(db_url=db_url) as server:
        yield server


@pytest.fixture
def kitchen(db_url: str, api_keys: dict[str, str], request: pytest.FixtureRequest) -> None:
    """The kitchen in tenant "acme": on DuckDB copied from a template seeded once."""
    if not seed_duckdb(request, db_url, "paging-kitchen", _seed_kitchen):
        _seed_kitchen(db_url)


def _seed_kitchen(db_url: str) -> None:
    with mo.LocalClient(TENANT, db_url=db_url) as local:
        _kitchen(local)


@pytest.fixture
def get(
    paged_server: BackgroundServer, api_keys: dict[str, str]
) -> Iterator[Callable[..., httpx.Response]]:
    with httpx.Client(base_url=paged_server.base_url, timeout=60) as http:

        def send(path: str, *, tenant: str = TENANT, **params: Any) -> httpx.Response:
            headers = {"Authorization": f"Bearer {api_keys[tenant]}"}
            return http.get(path, params=params, headers=headers)

        yield send


def _pages(get: Callable[..., httpx.Response], path: str, **params: Any) -> list[dict[str, Any]]:
    bodies = [get(path, **params).json()]
    while bodies[-1]["next"] is not None:
        bodies.append(get(path, **params, cursor=bodies[-1]["next"]).json())
    return bodies


def _rows(body: dict[str, Any]) -> int:
    return len(body["data"][0]) if body["data"] else 0


# ---- HttpClient follows the pages: the same frames as LocalClient ------------------------------

READS: dict[str, Callable[[MOClient, bool], pd.DataFrame]] = {
    "ingredients": lambda c, e: c.ingredients(exact=e),
    "ingredients with deleted": lambda c, e: c.ingredients(include_deleted=True, exact=e),
    "cost history": lambda c, e: c.cost_history(exact=e),
    "cost history of one": lambda c, e: c.cost_history("item 03", exact=e),
    "imports": lambda c, e: c.imports(exact=e),
    "recipes": lambda c, e: c.recipes(exact=e),
    "recipes with deleted": lambda c, e: c.recipes(include_deleted=True, exact=e),
    "events": lambda c, e: c.events(exact=e),
    "events, limit 5": lambda c, e: c.events(limit=5, exact=e),
    "events, limit 4 of a type": lambda c, e: c.events(
        limit=4, types=["ingredient.created"], exact=e
    ),
    "events, limit above the count": lambda c, e: c.events(limit=10_000, exact=e),
}


def test_http_client_follows_pages_to_the_local_frames(
    kitchen: None, paged_server: BackgroundServer, api_keys: dict[str, str], twin: MOClient
) -> None:
    with mo.HttpClient(paged_server.base_url, api_key=api_keys[TENANT]) as remote:
        for (name, read), exact in itertools.product(READS.items(), (False, True)):
            local, paged = read(twin, exact), read(remote, exact)
            assert len(local) > PAGE or name == "cost history of one", name
            assert_frame_equal(paged, local, obj=f"{name}, exact={exact}")


def test_every_list_route_sends_pages_of_the_page_size(
    kitchen: None, get: Callable[..., httpx.Response], twin: MOClient
) -> None:
    totals = {
        "/v1/ingredients": len(twin.ingredients()),
        "/v1/costs": len(twin.cost_history()),
        "/v1/imports": len(twin.imports()),
        "/v1/recipes": len(twin.recipes()),
        "/v1/events": len(twin.events()),
    }
    for path, total in totals.items():
        bodies = _pages(get, path)
        assert [_rows(b) for b in bodies[:-1]] == [PAGE] * (len(bodies) - 1), path
        assert 1 <= _rows(bodies[-1]) <= PAGE, path  # a full last page ends with next: null
        assert sum(_rows(b) for b in bodies) == total, path
        assert len(_pages(get, path, page_size=5)) == -(-total // 5), path


def test_events_limit_counts_the_whole_listing(
    kitchen: None, get: Callable[..., httpx.Response], twin: MOClient
) -> None:
    ids = twin.events()["id"].tolist()
    for limit in (1, 2, 3, 4, 5):
        bodies = _pages(get, "/v1/events", limit=limit)
        got = [i for b in bodies for i in b["data"][0]]
        assert got == ids[:limit], limit
        assert len(bodies) == -(-limit // PAGE), limit


def test_page_size_outside_its_range_is_refused(
    kitchen: None, get: Callable[..., httpx.Response]
) -> None:
    for size in (0, -1, 6):
        response = get("/v1/ingredients", page_size=size)
        assert response.status_code == 422, size
        error = response.json()["error"]
        assert (error["code"], error["details"]["field"]) == ("validation_error", "page_size")
        assert error["details"]["maximum"] == 5


def _tampered(cursor: str) -> list[str]:
    body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    other_key = {**body, "k": [body["k"][0], body["k"][1] + 1]}
    other_left = {**body, "l": 1}
    forged = [base64.urlsafe_b64encode(json.dumps(b).encode()).decode() for b in (other_key, other_left)]
    flipped = cursor[:-3] + ("A" if cursor[-3] != "A" else "B") + cursor[-2:]
    return [*forged, flipped, cursor[:10], "not a cursor!", "", "x" * 5000, "e30"]  # e30 = {}


def test_a_tampered_or_foreign_cursor_is_refused(
    kitchen: None, db_url: str, get: Callable[..., httpx.Response]
) -> None:
    with mo.LocalClient(OTHER, db_url=db_url) as rival:
        _kitchen(rival)
    cursor = get("/v1/ingredients").json()["next"]
    refused = {
        "tampered": [("/v1/ingredients", {"cursor": c}, TENANT) for c in _tampered(cursor)],
        "other tenant": [("/v1/ingredients", {"cursor": cursor}, OTHER)],
        "other listing": [("/v1/recipes", {"cursor": cursor}, TENANT)],
        "other filters": [("/v1/ingredients", {"cursor": cursor, "include_deleted": True}, TENANT)],
    }
    for case, requests in refused.items():
        for path, params, tenant in requests:
            response = get(path, tenant=tenant, **params)
            assert response.status_code == 422, (case, params)
            error = response.json()["error"]
            assert (error["code"], error["details"]["field"]) == ("validation_error", "cursor")
    assert get("/v1/ingredients", cursor=cursor).status_code == 200  # the cursor itself works


def test_a_cursor_forged_with_its_digest_still_holds_only_storable_keys(
    kitchen: None, db_url: str, get: Callable[..., httpx.Response]
) -> None:
    # The digest is no secret (the tenant id shows in tenant.created events): whoever rebuilds
    # it gets a validation_error for a key the database could not compare, never a 500.
    with connect_store(db_url) as store:
        ctx = tenants.resolve_tenant(store, TENANT)
    binding = paging._binding("ingredients", ctx, {"include_deleted": False})
    for key in (("a\x00b", 1), ("a", 2**63), ("a", True), ("a",), (1, 1)):
        forged = paging._encode(paging.Cursor(key, None), binding=binding)  # type: ignore[arg-type]
        response = get("/v1/ingredients", cursor=forged)
        assert response.status_code == 422, key
        assert response.json()["error"]["details"]["field"] == "cursor"
    fine = paging._encode(paging.Cursor(("item 03", 2**63 - 1), None), binding=binding)
    assert get("/v1/ingredients", cursor=fine).status_code == 200


def test_rows_written_between_pages_are_neither_repeated_nor_skipped(
    kitchen: None, paged_server: BackgroundServer, get: Callable[..., httpx.Response], db_url: str
) -> None:
    first = get("/v1/ingredients").json()
    with mo.LocalClient(TENANT, db_url=db_url) as local:
        local.add_ingredient("Aardvark", unit="g")  # sorts before the cursor: not in this listing
        local.add_ingredient("Zucchini", unit="g")  # sorts after it: in it
        expected = local.ingredients()
    names = list(first["data"][1])
    body = first
    while body["next"] is not None:
        body = get("/v1/ingredients", cursor=body["next"]).json()
        names += body["data"][1]
    assert names == [n for n in expected["name"] if n != "Aardvark"]


# ---- the services read one page with LIMIT and a key ---------------------------------------------

PAGED: dict[str, Callable[[Store, TenantContext, PageRequest], FramePage]] = {
    "ingredients": lambda s, c, p: costs.ingredients_page(s, c, include_deleted=True, page=p),
    "cost_history": lambda s, c, p: costs.cost_history_page(s, c, page=p),
    "imports": lambda s, c, p: imports.imports_page(s, c, page=p),
    "recipes": lambda s, c, p: recipes.recipes_page(s, c, include_deleted=True, page=p),
    "events": lambda s, c, p: event_reads.events_page(s, c, page=p),
}


@pytest.mark.parametrize("read", sorted(PAGED))
def test_service_pages_put_together_are_the_whole_read(
    read: str, store: Store, ctx: TenantContext, db_url: str, other_ctx: TenantContext
) -> None:
    with mo.LocalClient(TENANT, db_url=db_url) as local:
        _kitchen(local)
    with mo.LocalClient(OTHER, db_url=db_url) as rival:
        _kitchen(rival)  # the same keys in another tenant: never on this tenant's pages
    whole = PAGED[read](store, ctx, PageRequest())
    assert whole.next is None and len(whole.frame) >= 3
    for size in (1, 2, 3):
        frames, after = [], None
        while True:
            page = PAGED[read](store, ctx, PageRequest(after=after, size=size))
            assert len(page.frame) <= size
            frames.append(page.frame)
            if page.next is None:
                break
            after = page.next
        joined = pd.concat(frames, ignore_index=True)
        assert_frame_equal(_conformed(read, joined), _conformed(read, whole.frame), obj=f"{read} by {size}")


def _conformed(read: str, frame: pd.DataFrame) -> pd.DataFrame:
    # As both clients hand them out (pd.concat may widen a page's dtypes).
    return frames.conform(frame, frames.READ_SCHEMAS[read], read=read, exact=True)


# ---- the settings ---------------------------------------------------------------------------------


def test_page_size_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MO_PROJECT_DIR", str(tmp_path))
    monkeypatch.delenv("MO_PAGE_SIZE", raising=False)
    monkeypatch.delenv("MO_MAX_PAGE_SIZE", raising=False)
    limits = load_page_limits()
    assert (limits.default, limits.maximum) == (10_000, 100_000)
    (tmp_path / ".env").write_text("MO_PAGE_SIZE=50\nMO_MAX_PAGE_SIZE=70\n")
    assert (load_page_limits().default, load_page_limits().maximum) == (50, 70)
    for default, maximum, field in (("0", "5", "MO_PAGE_SIZE"), ("x", "5", "MO_PAGE_SIZE"),
                                    ("3", "-2", "MO_MAX_PAGE_SIZE"), ("6", "5", "MO_PAGE_SIZE")):
        monkeypatch.setenv("MO_PAGE_SIZE", default)
        monkeypatch.setenv("MO_MAX_PAGE_SIZE", maximum)
        with pytest.raises(mo.MOError) as caught:
            load_page_limits()
        assert (caught.value.code.value, caught.value.details["field"]) == ("validation_error", field)
