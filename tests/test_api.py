# ruff: noqa: F811  (pytest fixtures are imported from client_fixtures, then requested by name)
"""The HTTP API itself, spoken to with raw HTTP against a real uvicorn server: authentication,
the one error shape for every failure, Idempotency-Key handling, tenant isolation, OpenAPI."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from client_fixtures import OTHER_TENANT, TENANT, api_keys, api_server, error_of  # noqa: F401  (fixtures)

import mo
from mo.api.cli import add_serve_command
from mo.api.server import BackgroundServer


def assert_error_shape(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The body is exactly {"error": {"code", "message", "details"}} with the expected status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code and isinstance(body["error"]["message"], str)
    return body["error"]  # type: ignore[no-any-return]


@pytest.fixture
def http(api_server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server.base_url, timeout=30) as session:
        yield session


@pytest.fixture
def auth(api_keys: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_keys[TENANT]}"}


@pytest.fixture
def rival_auth(api_keys: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_keys[OTHER_TENANT]}"}


# ---- authentication --------------------------------------------------------------------------------


def test_health_answers_without_a_key(http: httpx.Client) -> None:
    assert http.get("/v1/health").json() == {"status": "ok"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer mo_unknown"},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic YWNtZTpzZWNyZXQ="},
    ],
)
def test_a_missing_or_unknown_key_is_401_whatever_the_request(
    http: httpx.Client, headers: dict[str, str]
) -> None:
    for method, path in (
        ("GET", "/v1/ingredients"),
        ("POST", "/v1/ingredients"),
        ("GET", "/v1/no-such-route"),
    ):
        response = http.request(method, path, headers=headers, content=b"{not json")
        assert_error_shape(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"


def test_the_tenant_comes_from_the_key_only(
    http: httpx.Client, auth: dict[str, str], rival_auth: dict[str, str]
) -> None:
    assert http.get("/v1/tenant", headers=auth).json() == {"tenant": TENANT}
    assert (
        http.post("/v1/ingredients", headers=auth, json={"name": "Flour", "unit": "g"}).status_code
        == 200
    )
    # Naming the other tenant anywhere the caller controls changes nothing.
    sneaky = {**rival_auth, "X-Tenant": TENANT, "MO-Tenant": TENANT}
    listed = http.get("/v1/ingredients", headers=sneaky, params={"tenant": TENANT}).json()
    assert listed["data"][0] == []
    assert_error_shape(http.delete("/v1/ingredients/Flour", headers=rival_auth), 404, "not_found")
    assert_error_shape(
        http.post(
            "/v1/ingredients/Flour/costs",
            headers={**rival_auth, "Idempotency-Key": "k"},
            json={"price": "1", "per": "kg"},
        ),
        404,
        "not_found",
    )
    assert http.get("/v1/ingredients", headers=auth).json()["data"][1] == ["Flour"]


# ---- one error shape for every failure --------------------------------------------------------------


def test_unknown_routes_and_wrong_methods(http: httpx.Client, auth: dict[str, str]) -> None:
    missing = assert_error_shape(http.get("/v1/no-such-route", headers=auth), 404, "not_found")
    assert missing["details"] == {"method": "GET", "path": "/v1/no-such-route"}
    assert_error_shape(http.get("/elsewhere", headers=auth), 404, "not_found")
    wrong = assert_error_shape(http.put("/v1/ingredients", headers=auth), 405, "method_not_allowed")
    assert wrong["details"] == {"method": "PUT", "path": "/v1/ingredients"}
    assert_error_shape(
        http.post("/v1/recipes/x/breakdown", headers=auth), 405, "method_not_allowed"
    )


def test_malformed_json_is_422_in_the_error_shape(http: httpx.Client, auth: dict[str, str]) -> None:
    response = http.post(
        "/v1/ingredients",
        headers={**auth, "Content-Type": "application/json"},
        content=b'{"name": "Flour", ',
    )
    error = assert_error_shape(response, 422, "validation_error")
    assert error["details"]["fields"] == [
        {"field": "body", "in": "body", "problem": "malformed JSON", "type": "json_invalid"}
    ]


def test_request_validation_lists_the_fields(http: httpx.Client, auth: dict[str, str]) -> None:
    body_error = assert_error_shape(
        http.post("/v1/ingredients", headers=auth, json={"name": "Flour", "colour": 1}),
        422,
        "validation_error",
    )
    assert {(f["in"], f["field"]) for f in body_error["details"]["fields"]} == {
        ("body", "unit"),
        ("body", "colour"),
    }
    query_error = assert_error_shape(
        http.get("/v1/ingredients", headers=auth, params={"include_deleted": "maybe"}),
        422,
        "validation_error",
    )
    assert [(f["in"], f["field"]) for f in query_error["details"]["fields"]] == [
        ("query", "include_deleted")
    ]
    assert_error_shape(
        http.post("/v1/ingredients", headers=auth, json=["not", "an", "object"]),
        422,
        "validation_error",
    )


def test_service_errors_keep_their_code_status_and_details(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    http.post("/v1/ingredients", headers=auth, json={"name": "Flour", "unit": "g"})
    conflict = assert_error_shape(
        http.post("/v1/ingredients", headers=auth, json={"name": "FLOUR", "unit": "g"}),
        409,
        "conflict",
    )
    assert conflict["details"]["name"] == "FLOUR"
    mismatch = http.post(
        "/v1/ingredients/Flour/costs",
        headers={**auth, "Idempotency-Key": "u"},
        json={"price": "1", "per": "l"},
    )
    assert_error_shape(mismatch, 422, "unit_mismatch")


def test_an_unexpected_failure_is_500_without_internals(
    http: httpx.Client, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mo.services import costs

    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr(costs, "ingredients_page", explode)  # what the route reads
    response = http.get("/v1/ingredients", headers=auth)
    error = assert_error_shape(response, 500, "internal_error")
    assert (
        error["details"] == {}
        and "secret" not in response.text
        and "Traceback" not in response.text
    )


# ---- Idempotency-Key -------------------------------------------------------------------------------------


def test_a_write_without_idempotency_key_is_400(http: httpx.Client, auth: dict[str, str]) -> None:
    http.post("/v1/ingredients", headers=auth, json={"name": "Flour", "unit": "g"})
    for headers in (auth, {**auth, "Idempotency-Key": ""}, {**auth, "Idempotency-Key": '""'}):
        response = http.post(
            "/v1/ingredients/Flour/costs", headers=headers, json={"price": "1", "per": "kg"}
        )
        error = assert_error_shape(response, 400, "validation_error")
        assert error["details"] == {"field": "idempotency_key"}


def test_a_quoted_key_is_the_same_key(http: httpx.Client, auth: dict[str, str]) -> None:
    http.post("/v1/ingredients", headers=auth, json={"name": "Flour", "unit": "g"})
    body = {"price": "1", "per": "kg"}
    first = http.post(
        "/v1/ingredients/Flour/costs", headers={**auth, "Idempotency-Key": '"k-1"'}, json=body
    ).json()
    again = http.post(
        "/v1/ingredients/Flour/costs", headers={**auth, "Idempotency-Key": "k-1"}, json=body
    ).json()
    assert again == first | {"replayed": True}
    conflict = http.post(
        "/v1/ingredients/Flour/costs",
        headers={**auth, "Idempotency-Key": "k-1"},
        json={"price": "2", "per": "kg"},
    )
    assert_error_shape(conflict, 422, "idempotency_conflict")


def test_a_duplicate_in_flight_is_409(
    api_server: BackgroundServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    http.post("/v1/ingredients", headers=auth, json={"name": "Flour", "unit": "g"})
    tenant_id = mo.LocalClient(
        TENANT, db_url=api_server.server.config.app.state.store.url
    )._ctx.tenant_id
    in_flight = api_server.server.config.app.state.in_flight
    with in_flight.claim(tenant_id, "busy"):  # as if the first request were still running
        response = http.post(
            "/v1/ingredients/Flour/costs",
            headers={**auth, "Idempotency-Key": "busy"},
            json={"price": "1", "per": "kg"},
        )
        error = assert_error_shape(response, 409, "idempotency_in_progress")
        assert error["details"] == {"idempotency_key": "busy"}
    done = http.post(
        "/v1/ingredients/Flour/costs",
        headers={**auth, "Idempotency-Key": "busy"},
        json={"price": "1", "per": "kg"},
    )
    assert done.status_code == 200 and done.json()["replayed"] is False


def test_concurrent_duplicates_have_one_effect(http: httpx.Client, auth: dict[str, str]) -> None:
    http.post("/v1/ingredients", headers=auth, json={"name": "Flour", "unit": "g"})
    request = {"headers": {**auth, "Idempotency-Key": "race"}, "json": {"price": "1", "per": "kg"}}
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda _: http.post("/v1/ingredients/Flour/costs", **request), range(8))
        )
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {200, 409} and 200 in statuses, [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert_error_shape(answer, 409, "idempotency_in_progress")
    assert [a.json()["replayed"] for a in answers if a.status_code == 200].count(False) == 1
    assert len(http.get("/v1/costs", headers=auth).json()["data"][0]) == 1  # one cost row


# ---- names in paths ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["½ & ¼ / mix", "..", ".", "a%2Fb", "what? #1", "Crème fraîche"])
def test_any_name_survives_the_url_path(
    api_server: BackgroundServer, api_keys: dict[str, str], name: str
) -> None:
    with mo.HttpClient(api_server.base_url, api_key=api_keys[TENANT]) as client:
        shown = client.add_ingredient(name, unit="g").name  # NFKC: "½" is shown as "1⁄2"
        assert client.add_alias(name, "alias of " + name).aliases == ("alias of " + shown,)
        assert client.update_cost(name, "1", per="kg", idempotency_key="k").ingredient == shown
        assert client.cost_history(name)["ingredient"].tolist() == [shown]
        assert client.delete_ingredient(name).name == shown
        assert client.restore_ingredient(name).deleted is False


# ---- the client's side of the wire --------------------------------------------------------------------


def test_an_unreachable_server_is_unavailable() -> None:
    with mo.HttpClient("http://127.0.0.1:9", api_key="k") as client:
        err = error_of(client.ingredients)
    assert err.code is mo.ErrorCode.UNAVAILABLE and err.details["reason"] == "connection"


def test_a_response_without_the_error_shape_is_still_an_moerror() -> None:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(502, text="<html>bad gateway</html>")
    )
    with mo.HttpClient(
        "http://proxy", api_key="k", http=httpx.Client(transport=transport)
    ) as client:
        err = error_of(client.ingredients)
    assert err.code is mo.ErrorCode.UNAVAILABLE and err.details == {"status": 502}


def test_the_client_sends_the_key_and_the_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "cost_id": 1,
                "ingredient": "Flour",
                "unit_cost": "0.001",
                "changed": True,
                "replayed": False,
                "recomputed": 0,
            },
        )

    with mo.HttpClient(
        "http://api/", api_key="mo_k", http=httpx.Client(transport=httpx.MockTransport(answer))
    ) as c:
        result = c.update_cost("Flour", "1.000", per="kg", idempotency_key="key-1")
    [request] = seen
    assert (
        request.headers["authorization"] == "Bearer mo_k"
        and request.headers["idempotency-key"] == "key-1"
    )
    assert (
        request.url.path == "/v1/ingredients/Flour/costs" and b'"price": "1.000"' in request.content
    )
    assert result == mo.CostUpdate(
        1, "Flour", mo.CostUpdate.from_dict({"unit_cost": "0.001"}).unit_cost, True, False, 0
    )


# ---- OpenAPI and `mo serve` ----------------------------------------------------------------------------


def test_the_openapi_document_validates(http: httpx.Client) -> None:
    # Imported here: it loads jsonschema (~1.6 s of CPU at import), which every pytest worker
    # would otherwise pay to collect this module.
    from openapi_spec_validator import validate

    document = http.get("/openapi.json").json()
    validate(document)
    assert all(path.startswith("/v1/") for path in document["paths"])
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert http.get("/docs").status_code == 200


def test_the_serve_command_parses_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = argparse.ArgumentParser(prog="mo")
    parser.add_argument("--db-url")
    add_serve_command(parser.add_subparsers(dest="command"))
    defaults = parser.parse_args(["serve"])
    assert (defaults.host, defaults.port, defaults.db_url) == ("127.0.0.1", 8765, None)
    chosen = parser.parse_args(
        ["--db-url", "duckdb:///x", "serve", "--port", "9000", "--host", "0.0.0.0"]
    )
    assert (chosen.host, chosen.port, chosen.db_url) == ("0.0.0.0", 9000, "duckdb:///x")
    assert (
        parser.parse_args(["serve", "--db-url", "postgresql://h/db"]).db_url == "postgresql://h/db"
    )
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("mo.api.server.serve", lambda **kwargs: calls.append(kwargs))
    assert chosen.handler(chosen) == 0
    assert calls == [{"host": "0.0.0.0", "port": 9000, "db_url": "duckdb:///x"}]


# ---- uploads and exports on the wire ------------------------------------------------------------------

CSV = b"item,price,pack\nFlour,20.00,25 kg\nMilk,1.20,1 l\n"


def test_a_price_list_arrives_as_a_multipart_upload_or_as_json(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    upload = http.post(
        "/v1/imports",
        headers={**auth, "Idempotency-Key": "u-1"},
        files={"file": ("prices.csv", CSV, "text/csv")},
        data={"options": '{"supplier": "Bakers", "effective_at": "2024-01-01"}'},
    )
    assert upload.status_code == 200, upload.text
    assert upload.json() | {"batch_id": 0} == {
        "batch_id": 0,
        "status": "completed",
        "rows": 2,
        "created": 2,
        "changed": 2,
        "unchanged": 0,
        "recomputed": 0,
        "replayed": False,
        "duplicate_of": None,
        "rejected_rows": 0,
        "rejected": [],
        "header_row": 1,
    }
    rows = [
        {"item": "Flour", "price": "20.00", "pack": "25 kg"},
        {"item": "Milk", "price": "1.20", "pack": "1 l"},
    ]
    as_json = http.post(
        "/v1/imports",
        headers={**auth, "Idempotency-Key": "u-2"},
        json={"rows": rows, "supplier": "Bakers", "effective_at": "2024-01-01"},
    )
    assert as_json.json()["status"] == "duplicate"  # the same cells as the uploaded file
    table = http.post(
        "/v1/imports",
        headers={**auth, "Idempotency-Key": "u-3"},
        json={
            "header": ["item", "price", "pack"],
            "rows": [["Flour", "30", "25 kg"]],
            "supplier": "Bakers",
        },
    )
    assert table.json()["changed"] == 1


def test_upload_problems_are_errors_in_shape(http: httpx.Client, auth: dict[str, str]) -> None:
    headers = {**auth, "Idempotency-Key": "u-9"}
    assert_error_shape(
        http.post("/v1/imports", headers=auth, files={"file": ("p.csv", CSV)}),
        400,
        "validation_error",
    )
    no_file = http.post(
        "/v1/imports",
        headers=headers,
        data={"options": '{"supplier": "A"}'},
        files={"other": ("p.csv", CSV)},
    )
    assert assert_error_shape(no_file, 422, "validation_error")["details"] == {"field": "file"}
    bad_options = http.post(
        "/v1/imports", headers=headers, files={"file": ("p.csv", CSV)}, data={"options": "{"}
    )
    assert (
        assert_error_shape(bad_options, 422, "validation_error")["details"]["fields"][0]["field"]
        == "options"
    )
    no_supplier = http.post("/v1/imports", headers=headers, files={"file": ("p.csv", CSV)})
    assert {
        f["field"]
        for f in assert_error_shape(no_supplier, 422, "validation_error")["details"]["fields"]
    } == {"supplier"}
    xml = http.post(
        "/v1/imports", headers={**headers, "Content-Type": "application/xml"}, content=b"<rows/>"
    )
    assert assert_error_shape(xml, 422, "validation_error")["details"]["field"] == "content-type"
    broken = http.post(
        "/v1/imports", headers={**headers, "Content-Type": "application/json"}, content=b"{"
    )
    assert_error_shape(broken, 422, "validation_error")
    # A file name cannot climb out of the upload folder: only its base name is kept.
    sneaky = http.post(
        "/v1/imports",
        headers=headers,
        files={"file": ("../../etc/passwd.csv", CSV)},
        data={"options": '{"supplier": "A"}'},
    )
    assert sneaky.status_code == 200 and sneaky.json()["created"] == 2


def test_an_export_streams_with_its_checksum_and_manifest(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    http.post("/v1/ingredients", headers=auth, json={"name": "Flour", "unit": "g"})
    response = http.get(
        "/v1/events/export",
        headers=auth,
        params={"since": "2000-01-01", "until": "2200-01-01", "format": "jsonl"},
    )
    assert (
        response.status_code == 200 and response.headers["content-type"] == "application/x-ndjson"
    )
    import base64
    import hashlib
    import json

    assert hashlib.sha256(response.content).hexdigest() == response.headers["x-mo-sha256"]
    manifest = json.loads(base64.b64decode(response.headers["x-mo-manifest"]))
    assert (
        manifest["file"] == "events.jsonl"
        and manifest["rows"] == int(response.headers["x-mo-rows"]) == 3
    )
    assert [json.loads(line)["event_type"] for line in response.text.splitlines()] == [
        "tenant.created",
        "api_key.created",
        "ingredient.created",
    ]
    window = assert_error_shape(
        http.get("/v1/events/export", headers=auth, params={"since": "2000-01-01"}),
        422,
        "validation_error",
    )
    assert window["details"] == {"missing": ["until"]}


def test_mo_serve_runs_the_api(db_url: str, api_keys: dict[str, str], tmp_path) -> None:
    """`mo serve` as an operator runs it: a separate process, answering on the chosen port."""
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as probe:  # a free loopback port (tiny race, acceptable in a test)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "mo", "--db-url", db_url, "serve", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/v1/tenant",
                    headers={"Authorization": f"Bearer {api_keys[TENANT]}"},
                    timeout=2,
                )
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, (
                    "mo serve did not start"
                )
                time.sleep(0.1)
        assert answer.json() == {"tenant": TENANT}
    finally:
        process.terminate()
        process.wait(timeout=30)
