"""Hostile input over HTTP (issue #14, findings 1, 7 and 8), against a real `mo serve` on a
loopback port, on DuckDB and PostgreSQL.

Over HTTP a source is an uploaded file or rows (objects, or arrays under a header): nothing a
caller sends is ever opened as a path on the server. Bodies nested without end, unusable file
and export names, unreadable idempotency keys and oversized request heads are refused with
their reason; driver errors and error details never carry SQL or server paths; scratch folders
never outlive their request or their server.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from client_fixtures import TENANT

from mo.api import scratch
from mo.api.server import BackgroundServer
from mo.errors import MOError
from mo.store import connect_store

PRICE_CSV = "item,price,pack\nFlour,20.00,25 kg\nMilk,1.20,1 l\n"
RECIPE_CSV = (
    "recipe,yield_qty,yield_unit,kind,item,qty,unit\nToast,1,each,ingredient,Flour,50,g\n"
)
ROUTES = {
    "/v1/imports": {"supplier": "Bakers"},
    "/v1/recipes/import": {},
}
# Every JSON type but a list of objects, and lists of anything else.
NOT_ROWS: dict[str, Any] = {
    "string": "prices.csv",
    "empty string": "",
    "integer": 7,
    "float": 1.5,
    "true": True,
    "false": False,
    "null": None,
    "object": {"item": "Flour", "price": "1", "pack": "1 kg"},
    "empty object": {},
    "list of strings": ["prices.csv"],
    "list of numbers": [1, 2],
    "list of nulls": [None],
    "list of lists": [["Flour", "1", "1 kg"]],
    "list of booleans": [True],
    "mixed list": [{"item": "Flour", "price": "1", "pack": "1 kg"}, "row"],
}


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text[:500])
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return dict(body["error"])


def _nothing_imported(http: httpx.Client, auth: dict[str, str]) -> None:
    for read in ("/v1/imports", "/v1/ingredients", "/v1/recipes"):
        table = http.get(read, headers=auth).json()
        assert table["data"] == [] or all(column == [] for column in table["data"]), (read, table)


# ---- finding 1: a source over HTTP is a file or rows, nothing else ------------------------------


def test_every_json_type_but_rows_is_refused_on_every_route(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    wrong = []
    for route, options in ROUTES.items():
        for kind, rows in NOT_ROWS.items():
            headers = {**auth, "Idempotency-Key": f"{route}-{kind}"}
            response = http.post(route, headers=headers, json={**options, "rows": rows})
            body = response.json()
            details = body.get("error", {}).get("details", {})
            if (response.status_code, body.get("error", {}).get("code"), details.get("field")) != (
                422,
                "validation_error",
                "rows",
            ):
                wrong.append((route, kind, response.status_code, response.text[:200]))
    assert wrong == []
    _nothing_imported(http, auth)


def test_rows_of_objects_and_arrays_under_a_header_still_import(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    rows = [{"item": "Flour", "price": "20.00", "pack": "25 kg"}]
    headers = {**auth, "Idempotency-Key": "objects"}
    body = {"supplier": "Bakers", "rows": rows}
    assert http.post("/v1/imports", headers=headers, json=body).json()["created"] == 1
    table = {"supplier": "Bakers", "header": ["item", "price", "pack"], "rows": [["Milk", "1", "1 l"]]}
    headers = {**auth, "Idempotency-Key": "arrays"}
    assert http.post("/v1/imports", headers=headers, json=table).json()["created"] == 1
    recipe = {"header": RECIPE_CSV.split("\n")[0].split(","), "rows": [RECIPE_CSV.split("\n")[1].split(",")]}
    headers = {**auth, "Idempotency-Key": "recipe"}
    assert http.post("/v1/recipes/import", headers=headers, json=recipe).json()["recipes"] == 1


def test_a_server_file_named_in_rows_is_never_read(
    http: httpx.Client, auth: dict[str, str], tmp_path: Path
) -> None:
    """A real .csv on the server's disk, named as rows every way JSON can: refused, unread."""
    prices, recipes = tmp_path / "prices.csv", tmp_path / "recipes.csv"
    prices.write_text(PRICE_CSV, encoding="utf-8")
    recipes.write_text(RECIPE_CSV, encoding="utf-8")
    for route, path in (("/v1/imports", prices), ("/v1/recipes/import", recipes)):
        for n, rows in enumerate([str(path), [str(path)], {"path": str(path)}, path.as_uri()]):
            headers = {**auth, "Idempotency-Key": f"path-{n}"}
            response = http.post(route, headers=headers, json={**ROUTES[route], "rows": rows})
            error = _error(response, 422)
            assert (error["code"], error["details"]["field"]) == ("validation_error", "rows")
            assert str(tmp_path) not in response.text  # nothing about the path comes back
        # Nor beside an upload, where options used to be merged over the source fields.
        options = json.dumps({**ROUTES[route], "rows": str(path)})
        response = http.post(
            route,
            headers={**auth, "Idempotency-Key": "beside"},
            files={"file": ("mine.csv", b"x")},
            data={"options": options},
        )
        assert _error(response, 422)["details"]["field"] == "options"
    _nothing_imported(http, auth)


# ---- finding 7: bodies, options, columns, file and export names ---------------------------------


def test_json_nested_without_end_is_refused(http: httpx.Client, auth: dict[str, str]) -> None:
    headers = {**auth, "Idempotency-Key": "deep", "Content-Type": "application/json"}
    deep = b"[" * 100_000 + b"]" * 100_000
    for body in (deep, b'{"supplier": "A", "rows": ' + deep + b"}"):
        assert _error(http.post("/v1/imports", headers=headers, content=body), 422)["code"] == (
            "validation_error"
        )
    # Deep enough to be decoded, too deep for anything that walks it afterwards.
    nested: Any = "x"
    for _ in range(900):
        nested = [nested]
    body = {"supplier": "A", "rows": [{"item": nested, "price": "1", "pack": "1 kg"}]}
    error = _error(http.post("/v1/imports", headers=headers, json=body), 422)
    assert error["details"]["field"] == "body", error
    options = "[" * 100_000 + "]" * 100_000
    response = http.post(
        "/v1/imports",
        headers={**auth, "Idempotency-Key": "deep-options"},
        files={"file": ("p.csv", PRICE_CSV.encode())},
        data={"options": options},
    )
    assert _error(response, 422)["details"]["field"] == "options"
    assert http.get("/v1/health").status_code == 200
    _nothing_imported(http, auth)


def test_columns_that_are_no_mapping_are_refused(http: httpx.Client, auth: dict[str, str]) -> None:
    rows = [{"item": "Flour", "price": "1", "pack": "1 kg"}]
    for n, columns in enumerate([["a"], "a", 5, [["a", "item"]]]):
        headers = {**auth, "Idempotency-Key": f"columns-{n}"}
        body = {"supplier": "A", "rows": rows, "columns": columns}
        error = _error(http.post("/v1/imports", headers=headers, json=body), 422)
        assert (error["code"], error["details"]["field"]) == ("validation_error", "columns")
        response = http.post(
            "/v1/imports",
            headers=headers,
            files={"file": ("p.csv", PRICE_CSV.encode())},
            data={"options": json.dumps({"supplier": "A", "columns": columns})},
        )
        assert _error(response, 422)["details"]["field"] == "columns"
    _nothing_imported(http, auth)


def _multipart(filename: bytes, content: bytes, options: str) -> tuple[bytes, str]:
    """A multipart body written by hand, so the file name reaches the server byte for byte."""
    boundary = "mo-hostile-boundary"
    parts = [
        f"--{boundary}\r\n".encode(),
        b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n',
        b"Content-Type: text/csv\r\n\r\n" + content + b"\r\n",
        f"--{boundary}\r\n".encode(),
        b'Content-Disposition: form-data; name="options"\r\n\r\n' + options.encode() + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    "filename",
    [b"..", b"a/..", b"a\x00.csv", b"x" * 300 + b".csv", "\u00e9".encode() * 130 + b".csv"],
    ids=["dot-dot", "dir-dot-dot", "nul", "300-bytes", "260-bytes-utf8"],
)
def test_upload_names_no_file_can_have_are_refused(
    http: httpx.Client, auth: dict[str, str], filename: bytes
) -> None:
    for n, route in enumerate(ROUTES):
        content, kind = _multipart(filename, PRICE_CSV.encode(), json.dumps(ROUTES[route]))
        headers = {**auth, "Idempotency-Key": f"name-{n}", "Content-Type": kind}
        error = _error(http.post(route, headers=headers, content=content), 422)
        assert (error["code"], error["details"]["field"]) == ("validation_error", "file"), error
    assert http.get("/v1/health").status_code == 200
    _nothing_imported(http, auth)


def test_an_upload_name_of_255_bytes_imports(http: httpx.Client, auth: dict[str, str]) -> None:
    content, kind = _multipart(b"p" * 251 + b".csv", PRICE_CSV.encode(), '{"supplier": "A"}')
    headers = {**auth, "Idempotency-Key": "long-name", "Content-Type": kind}
    response = http.post("/v1/imports", headers=headers, content=content)
    assert response.status_code == 200 and response.json()["created"] == 2, response.text


@pytest.mark.parametrize(
    "name", ["a" * 250, "b" * 250 + ".csv", "a\x00b.csv", "..", "../.."], ids=lambda n: n[:6]
)
def test_export_names_no_file_can_have_are_refused(
    http: httpx.Client, auth: dict[str, str], name: str
) -> None:
    params = {"since": "2000-01-01", "until": "2100-01-01", "format": "csv", "name": name}
    response = http.get("/v1/events/export", headers=auth, params=params)
    error = _error(response, 422)
    assert (error["code"], error["details"]["field"]) == ("validation_error", "name"), error
    assert str(scratch.scratch_root()) not in response.text and "/tmp" not in response.text


def test_an_export_name_of_the_longest_length_exports(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    name = "e" * (scratch.MAX_EXPORT_NAME_BYTES - 4) + ".csv"
    params = {"since": "2000-01-01", "until": "2100-01-01", "name": name}
    response = http.get("/v1/events/export", headers=auth, params=params)
    assert response.status_code == 200 and int(response.headers["x-mo-rows"]) >= 0, response.text


# ---- finding 8: idempotency keys, driver messages, request heads, scratch folders ---------------


def test_idempotency_keys_that_are_not_utf8_or_blank_are_400(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    rows = {"supplier": "A", "rows": [{"item": "Flour", "price": "1", "pack": "1 kg"}]}
    for key in (b"caf\xe9-1", b"caf\xe8-1", b"\xff\xfe", b'" "', b'"  "'):
        response = http.post("/v1/imports", headers={**auth, "Idempotency-Key": key}, json=rows)
        assert _error(response, 400)["details"]["field"] == "idempotency_key", key
    _nothing_imported(http, auth)
    # UTF-8 keys still work, and two of them that differ stay two keys.
    for n, key in enumerate(["café-1", "cafè-1"]):
        body = {**rows, "rows": [{"item": "Flour", "price": str(n + 1), "pack": "1 kg"}]}
        response = http.post(
            "/v1/imports", headers={**auth, "Idempotency-Key": key.encode()}, json=body
        )
        assert response.status_code == 200 and not response.json()["replayed"], response.text


BAD_SQL = {
    # A parameterless DO block still gets CONTEXT lines quoting the statement.
    "postgres": "DO $$ BEGIN PERFORM 1 / 0; END $$",
    # DuckDB follows its reason with "LINE 1: <statement>".
    "duckdb": "SELECT 'abc'::INTEGER",
}


def test_driver_errors_carry_the_reason_without_sql(db_url: str, backend: str) -> None:
    with connect_store(db_url) as store, pytest.raises(MOError) as caught:
        with store.transaction() as tx:
            tx.script(BAD_SQL[backend])
    err = caught.value
    assert err.code.value == "validation_error", err
    text = json.dumps(err.to_dict())
    for leak in ("CONTEXT", "LINE 1", "SELECT", "PERFORM", "$1", "portal", "\\n"):
        assert leak not in text, (leak, text)
    assert err.details["problem"] in ("division by zero", "Conversion Error: Could not convert string 'abc' to INT32"), err.details


def test_a_value_the_database_refuses_names_no_statement(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    # PostgreSQL refused this density with CONTEXT: unnamed portal parameter $1 = '...'.
    body = {"name": "Vanilla", "unit": "g", "density": "1e-999999"}
    response = http.post("/v1/ingredients", headers=auth, json=body)
    assert response.status_code < 500, response.text
    for leak in ("CONTEXT", "portal", "$1", "LINE 1", "SELECT", "INSERT"):
        assert leak not in response.text, (leak, response.text)


def _raw_exchange(base_url: str, request: bytes) -> bytes:
    """Send bytes on a fresh connection; what the server answers before it closes (or 30 s)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        try:
            conn.sendall(request)
        except OSError:  # the server may close before reading everything it was sent
            pass
        received = b""
        while True:
            try:
                chunk = conn.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            received += chunk
    return received


def _refused_head(answer: bytes) -> bool:
    """A head over the limit: 431 in the error shape, or, when the parser stopped reading it
    before it was whole, uvicorn's own plain-text 400."""
    status, _, rest = answer.partition(b"\r\n")
    if status.startswith(b"HTTP/1.1 400 "):
        return True
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    return status.startswith(b"HTTP/1.1 431 ") and body["error"]["details"]["field"] == "headers"


def test_the_server_refuses_a_70kb_header_and_keeps_serving(
    api_server: BackgroundServer, auth: dict[str, str]
) -> None:
    key = auth["Authorization"].encode()
    for name in (b"X-Big", b"Authorization"):
        value = b"a" * 70_000 if name == b"X-Big" else key + b"a" * 70_000
        line = b"GET /v1/tenant HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        head = line + name + b": " + value + b"\r\n\r\n"
        assert _refused_head(_raw_exchange(api_server.base_url, head)), name
    for garbage in (
        b"\x16\x03\x01 not http at all\r\n\r\n",
        b"GET /v1/he\x00alth HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /v1/imports HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ):
        answer = _raw_exchange(api_server.base_url, garbage)  # uvicorn's, as the README says
        assert answer.startswith(b"HTTP/1.1 400 "), garbage
        assert b"text/plain" in answer and b"Invalid HTTP request received." in answer, answer
    tenant = httpx.get(api_server.base_url + "/v1/tenant", headers=auth, timeout=30)
    assert tenant.json() == {"tenant": TENANT}


def test_the_head_limit_is_a_setting(
    db_url: str, api_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MO_MAX_HEADER_KB", "8")
    with BackgroundServer(db_url=db_url) as server:
        auth = f"Authorization: Bearer {api_keys[TENANT]}\r\n".encode()

        def head(size: int) -> bytes:
            padding = b"X-Pad: " + b"a" * size + b"\r\n"
            line = b"GET /v1/tenant HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            return line + auth + padding + b"\r\n"

        assert _raw_exchange(server.base_url, head(6_000)).startswith(b"HTTP/1.1 200 ")
        assert _refused_head(_raw_exchange(server.base_url, head(10_000)))


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_scratch_folders_of_dead_servers_are_removed_at_start(db_url: str) -> None:
    root = scratch.scratch_root()
    # Names of this run's own: the other xdist worker runs the same test (other backend) on the
    # same scratch root at the same time, and must not remove these folders under it.
    tag = uuid.uuid4().hex[:8]
    stale = root / f"upload-{_dead_pid()}-hostile{tag}"
    stale_export = root / f"export-{_dead_pid()}-hostile{tag}"
    live = root / f"upload-{os.getpid()}-hostile{tag}"
    foreign = root / f"not-mo-123-hostile{tag}"
    for folder in (stale, stale_export, live, foreign):
        folder.mkdir(exist_ok=True)
        (folder / "prices.csv").write_text(PRICE_CSV)
    try:
        with BackgroundServer(db_url=db_url):
            assert not stale.exists() and not stale_export.exists()
            assert (live / "prices.csv").exists() and foreign.exists()
    finally:
        for folder in (stale, stale_export, live, foreign):
            scratch.remove_folder(folder)


def _own_scratch() -> list[str]:
    return sorted(
        p.name for p in scratch.scratch_root().iterdir() if f"-{os.getpid()}-" in p.name
    )


def test_nothing_uploaded_stays_on_disk(http: httpx.Client, auth: dict[str, str]) -> None:
    before = _own_scratch()
    cases = [
        ("p.csv", PRICE_CSV.encode(), 200),
        ("p.csv", b"item,price,pack\nFlour,-1,1 kg\n", 422),  # refused by the service
        ("p.json", b"{}", 422),  # refused for its suffix
        ("p.xlsx", b"\x00 no workbook", 422),
    ]
    for n, (name, content, status) in enumerate(cases):
        for route in ROUTES:
            response = http.post(
                route,
                headers={**auth, "Idempotency-Key": f"disk-{n}"},
                files={"file": (name, content)},
                data={"options": json.dumps(ROUTES[route])},
            )
            assert response.status_code in (status, 422), response.text
            assert str(scratch.scratch_root()) not in response.text, response.text
            assert _own_scratch() == before, (route, name)


# ---- HttpClient: a source the server does not take gets the service's own error ----------------

CLIENT_SOURCES: dict[str, Any] = {
    "none": None,
    "number": 42,
    "bytes": b"item,price\n",
    "list of numbers": [1, 2],
    "mixed list": [{"item": "Flour"}, "row"],
    "generator": (row for row in [{"item": "Flour"}]),
}


@pytest.mark.parametrize("kind", list(CLIENT_SOURCES))
def test_http_client_refuses_other_sources_as_local_client_does(
    api_server: BackgroundServer, api_keys: dict[str, str], db_url: str, kind: str
) -> None:
    from client_fixtures import error_of, error_tuple

    import mo

    source = CLIENT_SOURCES[kind]
    with (
        mo.HttpClient(api_server.base_url, api_key=api_keys[TENANT]) as remote,
        mo.LocalClient(TENANT, db_url=db_url) as local,
    ):
        calls = [
            lambda c: c.import_price_list(source, idempotency_key="s", supplier="A"),
            lambda c: c.import_price_list(source, idempotency_key="s", supplier=" "),
            lambda c: c.import_recipes(source, idempotency_key="s"),
        ]
        for call in calls:
            ours, reference = error_of(lambda: call(remote)), error_of(lambda: call(local))
            assert error_tuple(ours) == error_tuple(reference)
