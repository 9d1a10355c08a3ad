"""API fuzzing: schemathesis drives a real uvicorn server (loopback only) from its /openapi.json.

Every operation gets generated requests — schema-valid and schema-violating (wrong types,
missing fields, odd strings, random multipart uploads) — with a valid API key and a fresh
Idempotency-Key. Whatever it sends: no 5xx, and every error answer is exactly the uniform
{"error": {"code", "message", "details"}} with a known code whose status matches mo's table.

Examples per operation: the "mo-fast" hypothesis profile scaled down in `make test`, "mo-fuzz"
under `make fuzz` (MO_FUZZ=1); see reliability_support.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import given
from hypothesis.errors import Unsatisfiable
from client_fixtures import TENANT, api_keys, api_server  # noqa: F401  (fixtures)
from reliability_support import fuzz_settings, record
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

import mo
from mo.api.errors import IDEMPOTENCY_KEY_REQUIRED_STATUS
from mo.api.server import BackgroundServer
from mo.errors import HTTP_STATUS, ErrorCode

TRIED: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _record_requests_sent() -> Iterator[None]:
    yield
    statuses = {k: v for k, v in TRIED.items() if k.isdigit()}
    by_mode = {k: v for k, v in TRIED.items() if k.startswith(("positive", "negative"))}
    record("api_fuzz", requests=sum(statuses.values()), by_status=dict(sorted(statuses.items())),
           by_mode_and_status=dict(sorted(by_mode.items())),
           operations_without_a_negative_case=TRIED["operations without a negative case"],
           server_errors=0, failures=0)


@pytest.fixture
def seeded_server(api_server: BackgroundServer, api_keys: dict[str, str]) -> BackgroundServer:  # noqa: F811
    """The server, with a little data so that some generated names hit real rows."""
    with mo.HttpClient(api_server.base_url, api_key=api_keys[TENANT]) as client:
        client.add_ingredient("Flour", unit="g")
        client.update_cost("Flour", "2", per="1 kg", idempotency_key="seed")
        client.save_recipe("Bread", yield_qty=1, yield_unit="each",
                           lines=[{"ingredient": "Flour", "qty": 500, "unit": "g"}])
    return api_server


def uniform_errors(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every non-2xx answer is the one error shape, with a known code and its own status."""
    if response.status_code < 400:
        return None
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert error["code"] in ErrorCode._value2member_map_, error
    assert isinstance(error["message"], str) and error["message"], error
    expected = HTTP_STATUS[ErrorCode(error["code"])]
    missing_key = (response.status_code == IDEMPOTENCY_KEY_REQUIRED_STATUS
                   and error["details"].get("field") == "idempotency_key")
    assert response.status_code == expected or missing_key, (response.status_code, error)
    return None


MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


def test_no_request_gets_a_5xx_and_every_error_has_the_uniform_shape(
    seeded_server: BackgroundServer, api_keys: dict[str, str]  # noqa: F811
) -> None:
    """Each operation of the document, with schema-valid then schema-violating requests.

    (schemathesis.pytest.from_fixture would make one subtest per operation, but it reads a
    pytest attribute pytest 9 no longer has; the operations' own strategies do the same.)"""
    assert seeded_server.base_url.startswith("http://127.0.0.1:")  # loopback only
    schema = schemathesis.openapi.from_url(f"{seeded_server.base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    headers = {"Authorization": f"Bearer {api_keys[TENANT]}"}
    for operation in operations:
        for generation_mode in MODES:
            label = f"{operation.label} ({generation_mode.value})"

            @fuzz_settings(scale=0.3)
            @given(case=operation.as_strategy(generation_mode))
            def send(case: Any) -> None:
                sent = {**headers, "Idempotency-Key": f"fuzz-{uuid.uuid4().hex}"}
                if generation_mode is GenerationMode.POSITIVE:  # our key, not a generated one
                    case.headers = {**(case.headers or {}), **sent}
                response = case.call(headers=sent, timeout=60)
                TRIED[str(response.status_code)] += 1
                TRIED[f"{generation_mode.value} {response.status_code}"] += 1
                case.validate_response(response, checks=[not_a_server_error, uniform_errors],
                                       headers=sent)

            try:
                send()
            except Unsatisfiable:
                # Nothing to violate: an operation without parameters or body has no negative
                # case (GET /v1/health, GET /v1/sanity, ...). Its positive run above covered it.
                assert generation_mode is GenerationMode.NEGATIVE, label
                TRIED["operations without a negative case"] += 1
            except Exception as exc:
                raise AssertionError(f"{label}: {exc}") from exc


SURROGATE_BODIES = {
    ("POST", "/v1/ingredients"): '{"name": "a\\ud800", "unit": "g"}',
    ("POST", "/v1/ingredients/Flour/costs"): '{"price": "1", "per": "kg", "note": "\\udfff"}',
    ("POST", "/v1/ingredients/Flour/aliases"): '{"alias": "\\ud800x"}',
    ("POST", "/v1/recipes"): '{"name": "\\ud83d", "yield_qty": 1, "yield_unit": "each",'
    ' "lines": [{"ingredient": "Flour", "qty": 1, "unit": "g"}]}',
    ("POST", "/v1/imports"): '{"rows": [{"item": "a\\ud800", "price": "1", "pack": "kg"}],'
    ' "supplier": "s"}',
    ("POST", "/v1/recipes/import"): '{"rows": [{"recipe": "\\ud800", "yield_qty": "1"}]}',
    ("POST", "/v1/recompute"): '{"recipes": ["\\udc00"]}',
}


@pytest.mark.parametrize("backend", ["duckdb", "postgres"])
def test_lone_surrogate_escapes_get_an_error_answer_not_a_dropped_connection(
    seeded_server: BackgroundServer, api_keys: dict[str, str]  # noqa: F811
) -> None:
    """JSON allows "\\ud800"; Python decodes it to a lone surrogate no database or UTF-8
    encoder takes. Each such body gets a 4xx in the uniform shape (found by hand: schemathesis
    does not generate these escapes)."""
    headers = {"Authorization": f"Bearer {api_keys[TENANT]}", "Content-Type": "application/json"}
    with httpx.Client(base_url=seeded_server.base_url, timeout=30) as http:
        for (method, path), body in SURROGATE_BODIES.items():
            response = http.request(method, path, content=body.encode(),
                                    headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
            assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
            error = response.json()["error"]
            assert set(error) == {"code", "message", "details"}, (path, error)
