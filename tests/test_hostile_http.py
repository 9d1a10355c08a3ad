"""Hostile HTTP against a real `mo serve` process (issue #14), on DuckDB and PostgreSQL.

Each entry of CASES builds one hostile request, sends it as tenant acme and says what the
answer must be. After every case the bystander tenant (rival) must still get answers, the
attacker's import log must not have moved when the request was refused, and at the end the
server's peak RSS must be under 1 GB. `make test` sizes every payload just over its cap;
MO_FUZZ=1 (`make fuzz`) uses the sizes the attack used (2 MB header, 200k-cell sheet, 100 MB).

The table replays every finding of the issue: rows that are no list of objects (1), shapes and
bodies past their caps (2), dates outside the window (3), a breakdown of 2^k paths (4), sanity
after an import (5), list routes over thousands of rows (6), numbers, nesting, names and recipe
lengths (7), idempotency keys and what uvicorn refuses before mo sees a request (8). A case
may have a `setup` (data it needs, built through the API and idempotent, so cases can share it)
and a `check` of the answer beyond its status and error code. The server runs with a small
MO_PAGE_SIZE so that a page of the seeded rows is small and easy to bound.
"""

from __future__ import annotations

import json
import os
import select
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from reliability_support import knob
from serve_process import ROOT, ServedProcess, start_server, stop_server
from xlsx_bomb import wide_row_xlsx

from mo.settings import load_input_limits

PEAK_RSS_LIMIT = 1 << 30
# The server inherits this process's environment, so both read the same caps: the defaults
# unless MO_MAX_* are set (a smaller MO_MAX_BODY_MB makes the body cases quicker).
LIMITS = load_input_limits()
_MB = 1 << 20

# Sizes: `make test` just over each cap, `make fuzz` as large as the reported attack.
HEADER_BYTES = knob("MO_HOSTILE_HEADER_BYTES", LIMITS.max_line_bytes + 1024, 2 * _MB)
XLSX_CELLS = knob("MO_HOSTILE_XLSX_CELLS", 20_000, 200_000)
BIG_BODY_BYTES = knob("MO_HOSTILE_BODY_BYTES", LIMITS.max_body_bytes + _MB, 100 * _MB)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # the JSON body, or the raw text when it is not JSON
    size: int = 0  # bytes of the body as sent


@dataclass(frozen=True)
class HostileCase:
    """One hostile request: `send` builds and sends it; the answer must have `status` (one of
    them, for a tuple) and, for an error, the error shape with `code`. `refused` cases must
    write nothing. `setup` runs first (idempotent: several cases may share it); `check` returns
    what else is wrong with the answer."""

    name: str
    finding: int  # issue #14's finding it reproduces
    send: Callable[[ServedProcess], Answer]
    status: int | tuple[int, ...]
    code: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # what the error details must hold
    setup: Callable[[ServedProcess], None] | None = None
    check: Callable[[Answer], list[str]] | None = None

    @property
    def statuses(self) -> tuple[int, ...]:
        return self.status if isinstance(self.status, tuple) else (self.status,)

    @property
    def refused(self) -> bool:
        return min(self.statuses) >= 400


# ---- request builders -------------------------------------------------------------------------

_CLIENTS: dict[str, httpx.Client] = {}


def http(server: ServedProcess) -> httpx.Client:
    """One keep-alive client per server: a new httpx.Client per request costs more than most
    of these requests (its SSL context), and the suite sends hundreds."""
    if server.base_url not in _CLIENTS:
        _CLIENTS[server.base_url] = httpx.Client(base_url=server.base_url, timeout=300)
    return _CLIENTS[server.base_url]



def _answer(response: httpx.Response) -> Answer:
    size = len(response.content)
    try:
        return Answer(response.status_code, response.json(), size)
    except ValueError:
        return Answer(response.status_code, response.text, size)


def upload(
    path: str, name: str, data: bytes, options: dict[str, Any] | None = None
) -> Callable[[ServedProcess], Answer]:
    """A multipart file upload, as HttpClient sends it."""

    def send(server: ServedProcess) -> Answer:
        response = http(server).post(
            path,
            headers=server.headers(server.attacker, **{"Idempotency-Key": f"hostile-{name}"}),
            files={"file": (name, data)},
            data={"options": json.dumps(options or {})},
            timeout=300,
        )
        return _answer(response)

    return send


def price_list(name: str, data: bytes) -> Callable[[ServedProcess], Answer]:
    return upload("/v1/imports", name, data, {"supplier": "Hostile"})


def streamed(
    path: str,
    content_type: str,
    chunks: Callable[[], Iterable[bytes]],
    *,
    declared: int | None = None,
) -> Callable[[ServedProcess], Answer]:
    """A POST whose body is streamed over a raw socket: with `declared` as its Content-Length
    (even if less is sent), else chunked. Sending stops as soon as the server answers, so an
    early refusal is read rather than lost to a reset connection."""

    def send(server: ServedProcess) -> Answer:
        address = urlsplit(server.base_url)
        headers = server.headers(server.attacker, **{"Idempotency-Key": f"hostile-{path}"})
        framing = (
            f"Content-Length: {declared}" if declared is not None else "Transfer-Encoding: chunked"
        )
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: {content_type}\r\n"
            f"{head}{framing}\r\nConnection: close\r\n\r\n"
        )
        with socket.create_connection((address.hostname, address.port), timeout=300) as sock:
            sock.sendall(request.encode())
            _send_until_answered(sock, chunks(), chunked=declared is None)
            return _read_response(sock)

    return send


def _send_until_answered(sock: socket.socket, chunks: Iterable[bytes], *, chunked: bool) -> None:
    try:
        for chunk in chunks:
            if select.select([sock], [], [], 0)[0]:
                return  # the server has answered (or closed): stop writing
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        if chunked:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server closed a body it refused; its answer is read next


def _read_response(sock: socket.socket) -> Answer:
    received = b""
    try:
        while block := sock.recv(1 << 16):
            received += block
    except (ConnectionResetError, TimeoutError):
        pass
    head, _, body = received.partition(b"\r\n\r\n")
    if not head:
        return Answer(0, "no answer")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        body = _dechunked(body)
    try:
        return Answer(status, json.loads(body), len(body))
    except ValueError:
        return Answer(status, body.decode(errors="replace"), len(body))


def _dechunked(data: bytes) -> bytes:
    body = b""
    while data:
        size, _, data = data.partition(b"\r\n")
        length = int(size.split(b";")[0] or b"0", 16)
        if length == 0:
            break
        body, data = body + data[:length], data[length + 2 :]
    return body


def multipart_chunks(size: int, boundary: str = "hostile") -> Callable[[], Iterator[bytes]]:
    """A multipart upload (options, then a `size`-byte CSV file), produced in 64 KiB pieces."""

    def chunks() -> Iterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="options"\r\n\r\n'
            '{"supplier": "Hostile"}\r\n'
        ).encode()
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"'
            "\r\nContent-Type: text/csv\r\n\r\nitem,price,pack\n"
        ).encode()
        line = b"flour,1.00,1 kg\n" * 4096
        for _ in range(size // len(line) + 1):
            yield line
        yield f"\r\n--{boundary}--\r\n".encode()

    return chunks


def json_chunks(size: int) -> Callable[[], Iterator[bytes]]:
    """A JSON body of rows, `size` bytes and more, produced in pieces."""

    def chunks() -> Iterator[bytes]:
        yield b'{"supplier": "Hostile", "rows": ['
        row = b'{"item": "flour", "price": "1.00", "pack": "1 kg"},' * 1024
        for _ in range(size // len(row) + 1):
            yield row
        yield b'{"item": "flour", "price": "1.00", "pack": "1 kg"}]}'

    return chunks


MULTIPART = "multipart/form-data; boundary=hostile"
CR_ONLY_LIST = b"item,price,pack\rflour,1.20,1 kg\rsugar,2.10,500 g\r"

# ---- the table --------------------------------------------------------------------------------

CASES: list[HostileCase] = [
    HostileCase(
        name="csv header-only, very many columns (one long line)",
        finding=2,
        send=price_list("wide.csv", b"c," * (HEADER_BYTES // 2)),
        status=422,
        code="validation_error",
        details={"limit_name": "line_bytes"},
    ),
    HostileCase(
        name="csv header over the column cap within the line cap",
        finding=2,
        send=price_list("wide.csv", b"c," * (LIMITS.max_columns * 4) + b"c\n"),
        status=422,
        code="validation_error",
        details={"limit_name": "columns"},
    ),
    HostileCase(
        name="csv with one line over the line cap",
        finding=2,
        send=price_list("long.csv", b"item,price,pack\n" + b"x" * HEADER_BYTES + b",1,1 kg\n"),
        status=422,
        code="validation_error",
        details={"limit_name": "line_bytes"},
    ),
    HostileCase(
        name="recipe csv header-only, very many columns",
        finding=2,
        send=upload("/v1/recipes/import", "wide.csv", b"c," * (HEADER_BYTES // 2)),
        status=422,
        code="validation_error",
        details={"limit_name": "line_bytes"},
    ),
    HostileCase(
        name="xlsx: one row of very many cells, lying dimension",
        finding=2,
        send=price_list("bomb.xlsx", wide_row_xlsx(XLSX_CELLS, dimension="A1:C2")),
        status=422,
        code="validation_error",
        details={"limit_name": "columns"},
    ),
    HostileCase(
        name="xlsx: one row of very many cells, no dimension",
        finding=2,
        send=price_list("bomb.xlsx", wide_row_xlsx(XLSX_CELLS, dimension=None)),
        status=422,
        code="validation_error",
        details={"limit_name": "columns"},
    ),
    HostileCase(
        name="recipe xlsx: one row of very many cells",
        finding=2,
        send=upload("/v1/recipes/import", "bomb.xlsx", wide_row_xlsx(XLSX_CELLS, dimension=None)),
        status=422,
        code="validation_error",
        details={"limit_name": "columns"},
    ),
    HostileCase(
        name="multipart body declaring more than the body cap",
        finding=2,
        send=streamed(
            "/v1/imports", MULTIPART, multipart_chunks(BIG_BODY_BYTES), declared=BIG_BODY_BYTES
        ),
        status=413,
        code="payload_too_large",
    ),
    HostileCase(
        name="chunked multipart body growing past the body cap",
        finding=2,
        send=streamed("/v1/imports", MULTIPART, multipart_chunks(BIG_BODY_BYTES)),
        status=413,
        code="payload_too_large",
    ),
    HostileCase(
        name="chunked JSON body growing past the body cap",
        finding=2,
        send=streamed("/v1/imports", "application/json", json_chunks(BIG_BODY_BYTES)),
        status=413,
        code="payload_too_large",
    ),
    HostileCase(
        name="csv with CR-only (old Mac) line ends reads as any other",
        finding=7,
        send=price_list("mac.csv", CR_ONLY_LIST),
        status=200,
    ),
]


# ---- requests of the other findings -----------------------------------------------------------
# Sizes: `make test` enough to show each defect (a breakdown of 2^24 paths, a few thousand rows
# behind a page), `make fuzz` the sizes of the report (2^30 paths, 150k rows, 100k lines).

PAGE_SIZE = knob("MO_HOSTILE_PAGE_SIZE", 100, 1_000)  # the served MO_PAGE_SIZE
SEED_ROWS = knob("MO_HOSTILE_SEED_ROWS", 3_000, 150_000)  # a price list behind pages and sanity
CHAIN_K = knob("MO_HOSTILE_CHAIN_K", 24, 30)  # D_k uses D_{k-1} twice: 2^k paths
RECIPE_LINES = knob("MO_HOSTILE_RECIPE_LINES", 10_000, 100_000)
DEEP = 100_000  # nesting of the JSON bodies that raised RecursionError
# A page of ingredients or events is a few hundred bytes a row; an unpaged answer is
# SEED_ROWS rows or more (events: several per row).
PAGE_BYTES = 2_048 * PAGE_SIZE
LEAF_G = 3  # D_0 uses 3 g of the chain's flour


def request(
    method: str,
    path: str,
    *,
    key: str | bytes | None = None,
    content_type: str | None = None,
    **options: Any,
) -> Callable[[ServedProcess], Answer]:
    """One request as the attacker, with httpx; `key` becomes the Idempotency-Key header."""

    def send(server: ServedProcess) -> Answer:
        headers: dict[str, Any] = server.headers(server.attacker)
        if key is not None:
            headers["Idempotency-Key"] = key
        if content_type is not None:
            headers["Content-Type"] = content_type
        try:
            response = http(server).request(method, path, headers=headers, **options)
        except httpx.HTTPError as exc:  # the server dropped the connection instead of answering
            return Answer(0, repr(exc))
        return _answer(response)

    return send


def raw_request(head: Callable[[ServedProcess], bytes]) -> Callable[[ServedProcess], Answer]:
    """Bytes written as they are on a fresh connection (what httpx would refuse to send)."""

    def send(server: ServedProcess) -> Answer:
        address = urlsplit(server.base_url)
        with socket.create_connection((address.hostname, address.port), timeout=60) as sock:
            try:
                sock.sendall(head(server))
            except OSError:  # the server may close before reading all of it
                pass
            return _read_response(sock)

    return send


def _authorised(line: bytes, *extra: bytes) -> Callable[[ServedProcess], bytes]:
    def head(server: ServedProcess) -> bytes:
        auth = f"Authorization: Bearer {server.keys[server.attacker]}\r\n".encode()
        return line + b"\r\nHost: x\r\nConnection: close\r\n" + auth + b"".join(extra) + b"\r\n"

    return head


def hand_multipart(
    path: str, filename: bytes, options: dict[str, Any]
) -> Callable[[ServedProcess], Answer]:
    """A multipart upload written by hand, so the file name reaches the server byte for byte."""
    boundary = "mo-hostile"
    body = b"".join([
        f"--{boundary}\r\n".encode(),
        b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n',
        b"Content-Type: text/csv\r\n\r\n" + PRICE_CSV + b"\r\n",
        f"--{boundary}\r\n".encode(),
        b'Content-Disposition: form-data; name="options"\r\n\r\n',
        json.dumps(options).encode() + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ])
    kind = f"multipart/form-data; boundary={boundary}"
    return request("POST", path, key="hand", content=body, content_type=kind)


def _error_field(field_name: str) -> dict[str, Any]:
    return {"field": field_name}


def _no_leak(*texts: str) -> Callable[[Answer], list[str]]:
    """The answer holds none of `texts` (a server file's contents, its path)."""

    def check(answer: Answer) -> list[str]:
        shown = json.dumps(answer.body) if not isinstance(answer.body, str) else answer.body
        return [f"the answer shows {t!r}" for t in texts if t in shown]

    return check


# ---- setups: data through the API, each idempotent ----------------------------------------------


def _post(
    server: ServedProcess, path: str, *, ok: tuple[int, ...] = (200,), key: str = "", **options: Any
) -> None:
    headers = server.headers(server.attacker, **({"Idempotency-Key": key} if key else {}))
    response = http(server).post(path, headers=headers, **options)
    assert response.status_code in ok, (path, response.status_code, response.text[:300])


def with_flour(server: ServedProcess) -> None:
    _post(server, "/v1/ingredients", ok=(200, 409), json={"name": "Flour", "unit": "g"})


def with_chain(server: ServedProcess) -> None:
    """D_0 uses LEAF_G g of ChainFlour; D_k uses D_{k-1} twice, up to CHAIN_K (2^k paths)."""
    _post(server, "/v1/ingredients", ok=(200, 409), json={"name": "ChainFlour", "unit": "g"})
    _post(server, "/v1/ingredients/ChainFlour/costs", json={"price": "0.01", "per": "1 g"},
          key="chain-flour")
    for level in range(CHAIN_K + 1):
        below = f"D_{level - 1}"
        lines = (
            [{"ingredient": "ChainFlour", "qty": LEAF_G, "unit": "g"}]
            if level == 0
            else [{"recipe": below, "qty": 1, "unit": "each"}] * 2
        )
        body = {"name": f"D_{level}", "yield_qty": 1, "yield_unit": "each", "lines": lines}
        _post(server, "/v1/recipes", json=body)


def with_seeded_rows(server: ServedProcess) -> None:
    """A price list of SEED_ROWS new items (an ingredient, a cost and events each); the same
    key each time, so a second call replays it."""
    lines = [f"Seed {n},{1 + n % 97}.{n % 100:02d},1 kg" for n in range(SEED_ROWS)]
    data = ("item,price,pack\n" + "\n".join(lines) + "\n").encode()
    _post(server, "/v1/imports", files={"file": ("seed.csv", data)},
          data={"options": json.dumps({"supplier": "Seeder"})}, key="seed-rows")


# ---- checks of answers that are not refusals ----------------------------------------------------


def _column(answer: Answer, name: str) -> list[Any]:
    names = [c["name"] for c in answer.body["columns"]]
    return list(answer.body["data"][names.index(name)])


def chain_summed(answer: Answer) -> list[str]:
    if answer.status != 200:
        return []
    found = list(zip(_column(answer, "ingredient"), _column(answer, "qty"), strict=True))
    expected = [("ChainFlour", LEAF_G * 2**CHAIN_K)]
    return [] if [(i, int(q)) for i, q in found] == expected else [f"breakdown {found}"]


def one_page(answer: Answer) -> list[str]:
    if answer.status != 200:
        return []
    rows = len(answer.body["data"][0]) if answer.body["data"] else 0
    problems = [] if rows == PAGE_SIZE else [f"{rows} rows, not a page of {PAGE_SIZE}"]
    if answer.body.get("next") is None:
        problems.append("no cursor to the next page")
    if answer.size > PAGE_BYTES:
        problems.append(f"{answer.size} bytes for one page (bound {PAGE_BYTES})")
    return problems


def every_check_holds(answer: Answer) -> list[str]:
    if answer.status != 200:
        return []
    failed = [c for c, ok in zip(_column(answer, "check"), _column(answer, "ok"), strict=True)
              if not ok]
    return [f"sanity checks failed: {failed}"] if failed else []


def plain_uvicorn_400(answer: Answer) -> list[str]:
    """What uvicorn answers itself (README): a plain-text 400, or mo's 431 in the error shape
    for a head that arrived whole before it was refused."""
    if answer.status == 400 and answer.body == "Invalid HTTP request received.":
        return []
    if answer.status == 431 and isinstance(answer.body, dict):
        return [] if answer.body["error"]["details"].get("field") == "headers" else [
            f"431 naming {answer.body['error']['details']}"]
    return [f"not uvicorn's 400 nor mo's 431: {str(answer.body)[:200]}"]


# ---- finding 1: rows that are no list of objects, on both routes --------------------------------

PRICE_CSV = b"item,price,pack\nFlour,20.00,25 kg\n"
ROWS_ROUTES = {"/v1/imports": {"supplier": "Hostile"}, "/v1/recipes/import": {}}
SERVER_FILES = {"/v1/imports": ROOT / "demo" / "supplier_freshco.csv",
                "/v1/recipes/import": ROOT / "demo" / "recipes.csv"}
NOT_ROWS: dict[str, Any] = {
    "string": "prices.csv", "empty string": "", "integer": 7, "float": 1.5, "true": True,
    "false": False, "null": None, "object": {"item": "Flour", "price": "1", "pack": "1 kg"},
    "empty object": {}, "list of strings": ["prices.csv"], "list of numbers": [1, 2],
    "list of nulls": [None], "list of lists": [["Flour", "1", "1 kg"]],
    "list of booleans": [True], "mixed list": [{"item": "Flour"}, "row"],
}


def _server_path_rows(path: Path) -> dict[str, Any]:
    return {"server path": str(path), "server path in a list": [str(path)],
            "server path in an object": {"path": str(path)}, "server file URI": path.as_uri()}


CASES += [
    HostileCase(
        name=f"rows as {kind} on {route}",
        finding=1,
        send=request("POST", route, key=f"rows-{route}-{kind}", json={**options, "rows": rows}),
        status=422,
        code="validation_error",
        details=_error_field("rows"),
        # The demo files hold these; an answer quoting them read a server file.
        check=_no_leak(str(SERVER_FILES[route]), "FC-1001", "Chicken Stock"),
    )
    for route, options in ROWS_ROUTES.items()
    for kind, rows in {**NOT_ROWS, **_server_path_rows(SERVER_FILES[route])}.items()
]

# ---- finding 3: instants outside the window -----------------------------------------------------

OUT_OF_WINDOW = ["1500-01-01", "9999-12-31", "1899-12-31T23:59:59Z",
                 "2200-01-01T00:00:00.000001+00:00", "0001-01-01T00:00:00+01:00",
                 "9999-12-31T23:59:59-01:00"]
_ROW = {"item": "Flour", "price": "2", "pack": "1 kg"}

CASES += [
    case
    for when in OUT_OF_WINDOW
    for case in (
        HostileCase(
            name=f"cost effective_at {when}", finding=3, setup=with_flour,
            send=request("POST", "/v1/ingredients/Flour/costs", key=f"cost-{when}",
                         json={"price": "1", "per": "1 kg", "effective_at": when}),
            status=422, code="validation_error", details=_error_field("effective_at"),
        ),
        HostileCase(
            name=f"import effective_at {when}", finding=3,
            send=request("POST", "/v1/imports", key=f"import-{when}",
                         json={"supplier": "Hostile", "rows": [_ROW], "effective_at": when}),
            status=422, code="validation_error", details=_error_field("effective_at"),
        ),
        HostileCase(
            name=f"events since {when}", finding=3,
            send=request("GET", "/v1/events", params={"since": when}),
            status=422, code="validation_error", details=_error_field("since"),
        ),
        HostileCase(
            name=f"events until {when}", finding=3,
            send=request("GET", "/v1/events", params={"until": when}),
            status=422, code="validation_error", details=_error_field("until"),
        ),
        HostileCase(
            name=f"export until {when}", finding=3,
            send=request("GET", "/v1/events/export", params={"since": "2024-01-01", "until": when}),
            status=422, code="validation_error", details=_error_field("until"),
        ),
    )
]

# ---- findings 4, 5, 6: work that grows with the data --------------------------------------------

CASES += [
    HostileCase(
        name=f"breakdown of D_{CHAIN_K} (2^{CHAIN_K} paths)", finding=4, setup=with_chain,
        send=request("GET", f"/v1/recipes/D_{CHAIN_K}/breakdown"), status=200,
        check=chain_summed,
    ),
    HostileCase(
        name=f"sanity after a {SEED_ROWS}-row import", finding=5, setup=with_seeded_rows,
        send=request("GET", "/v1/sanity"), status=200, check=every_check_holds,
    ),
    *(
        HostileCase(
            name=f"GET {path} over {SEED_ROWS} rows answers one page", finding=6,
            setup=with_seeded_rows, send=request("GET", path), status=200, check=one_page,
        )
        for path in ("/v1/events", "/v1/ingredients", "/v1/costs")
    ),
    HostileCase(
        name="page_size over MO_MAX_PAGE_SIZE", finding=6,
        send=request("GET", "/v1/events", params={"page_size": 10**9}),
        status=422, code="validation_error", details=_error_field("page_size"),
    ),
]

# ---- finding 7: numbers, nesting, columns, names, recipe length ---------------------------------

_NESTED = b"[" * DEEP + b"]" * DEEP
_FLOUR_LINE = {"ingredient": "Flour", "qty": 1, "unit": "g"}

CASES += [
    *(
        HostileCase(
            name=f"ingredient {field_name} {value}", finding=7,
            send=request("POST", "/v1/ingredients",
                         json={"name": "Oil", "unit": "ml", field_name: value}),
            status=422, code="validation_error", details=_error_field(field_name),
        )
        for field_name in ("density", "yield_pct")
        for value in ("1e-13", "5e-13", "1e-999999")
    ),
    HostileCase(
        name="cost price 1e-999999", finding=7, setup=with_flour,
        send=request("POST", "/v1/ingredients/Flour/costs", key="tiny-price",
                     json={"price": "1e-999999", "per": "1 kg"}),
        status=422, code="validation_error", details=_error_field("price"),
    ),
    HostileCase(
        name=f"JSON body nested {DEEP} deep", finding=7,
        send=request("POST", "/v1/imports", key="deep-body", content=_NESTED,
                     content_type="application/json"),
        status=422, code="validation_error",
    ),
    HostileCase(
        name=f"JSON rows nested {DEEP} deep", finding=7,
        send=request("POST", "/v1/imports", key="deep-rows",
                     content=b'{"supplier": "A", "rows": ' + _NESTED + b"}",
                     content_type="application/json"),
        status=422, code="validation_error",
    ),
    HostileCase(
        name=f"multipart options nested {DEEP} deep", finding=7,
        send=request("POST", "/v1/imports", key="deep-options",
                     files={"file": ("p.csv", PRICE_CSV)}, data={"options": _NESTED.decode()}),
        status=422, code="validation_error", details=_error_field("options"),
    ),
    HostileCase(
        name='JSON columns ["a"]', finding=7,
        send=request("POST", "/v1/imports", key="columns-json",
                     json={"supplier": "A", "rows": [_ROW], "columns": ["a"]}),
        status=422, code="validation_error", details=_error_field("columns"),
    ),
    HostileCase(
        name='multipart columns ["a"]', finding=7,
        send=request("POST", "/v1/imports", key="columns-upload",
                     files={"file": ("p.csv", PRICE_CSV)},
                     data={"options": json.dumps({"supplier": "A", "columns": ["a"]})}),
        status=422, code="validation_error", details=_error_field("columns"),
    ),
    *(
        HostileCase(
            name=f"upload named {label} on {route}", finding=7,
            send=hand_multipart(route, filename, ROWS_ROUTES[route]),
            status=422, code="validation_error", details=_error_field("file"),
        )
        for route in ROWS_ROUTES
        for label, filename in {"..": b"..", "with a NUL": b"a\x00.csv",
                                "of 300 bytes": b"x" * 296 + b".csv"}.items()
    ),
    *(
        HostileCase(
            name=f"export named {label}", finding=7,
            send=request("GET", "/v1/events/export", params={
                "since": "2000-01-01", "until": "2100-01-01", "name": name}),
            status=422, code="validation_error", details=_error_field("name"),
            check=_no_leak("/tmp", "mo-scratch"),
        )
        for label, name in {"of 250 characters": "a" * 250, "with a NUL": "a\x00b.csv",
                            "..": ".."}.items()
    ),
    HostileCase(
        name=f"recipe of {RECIPE_LINES} lines", finding=7, setup=with_flour,
        send=request("POST", "/v1/recipes", json={
            "name": "Long", "yield_qty": 1, "yield_unit": "each",
            "lines": [_FLOUR_LINE] * RECIPE_LINES}),
        status=422, code="validation_error", details=_error_field("lines"),
    ),
]

# ---- finding 8: idempotency keys, and what uvicorn refuses itself -------------------------------

_BIG = b"a" * 70_000
_ROW_BODY = json.dumps({"supplier": "Hostile", "rows": [_ROW]}).encode()

CASES += [
    *(
        HostileCase(
            name=f"Idempotency-Key {key!r}", finding=8,
            send=request("POST", "/v1/imports", key=key,
                         json={"supplier": "Hostile", "rows": [_ROW]}),
            status=400, code="validation_error", details=_error_field("idempotency_key"),
        )
        for key in (b"caf\xe9-1", b"caf\xe8-1", b"\xff\xfe", b'" "')
    ),
    HostileCase(
        name="a blank Idempotency-Key", finding=8,
        send=raw_request(lambda s: _authorised(
            b"POST /v1/imports HTTP/1.1", b"Idempotency-Key:   \r\n",
            b"Content-Type: application/json\r\n",
            b"Content-Length: %d\r\n" % len(_ROW_BODY))(s) + _ROW_BODY),
        status=400, code="validation_error", details=_error_field("idempotency_key"),
    ),
    HostileCase(
        name="a 70 KB header", finding=8,
        send=raw_request(_authorised(b"GET /v1/tenant HTTP/1.1", b"X-Big: " + _BIG + b"\r\n")),
        status=(400, 431), check=plain_uvicorn_400,
    ),
    HostileCase(
        name="a 70 KB Authorization header", finding=8,
        send=raw_request(lambda s: _authorised(b"GET /v1/tenant HTTP/1.1")(s).replace(
            b"\r\n\r\n", _BIG + b"\r\n\r\n")),
        status=(400, 431), check=plain_uvicorn_400,
    ),
    HostileCase(
        name="a garbage request line", finding=8,
        send=raw_request(lambda s: b"\x16\x03\x01 not http at all\r\n\r\n"),
        status=400, check=plain_uvicorn_400,
    ),
    HostileCase(
        name="a NUL in the path", finding=8,
        send=raw_request(_authorised(b"GET /v1/ingre\x00dients HTTP/1.1")),
        status=400, check=plain_uvicorn_400,
    ),
    HostileCase(
        name="bad chunked encoding", finding=8,
        send=raw_request(lambda s: _authorised(
            b"POST /v1/imports HTTP/1.1", b"Transfer-Encoding: chunked\r\n",
            b"Content-Type: application/json\r\nIdempotency-Key: chunks\r\n")(s) + b"zz\r\n"),
        status=400, check=plain_uvicorn_400,
    ),
]


# ---- the run ----------------------------------------------------------------------------------


def _selected(cases: list[HostileCase]) -> list[HostileCase]:
    """The cases whose name holds one of MO_HOSTILE_CASES' comma-separated words (all if unset)."""
    words = [w.strip() for w in os.environ.get("MO_HOSTILE_CASES", "").split(",") if w.strip()]
    return [c for c in cases if not words or any(w in c.name for w in words)]


@pytest.fixture
def served(db_url: str, api_keys: dict[str, str], tmp_path: Path) -> Iterator[ServedProcess]:
    """A real `mo serve` process over the parametrized backend, tenants acme and rival, with
    pages of PAGE_SIZE rows."""
    env = {"MO_PAGE_SIZE": str(PAGE_SIZE)}
    server = start_server(db_url, api_keys, tmp_path / "mo-serve.log", env=env)
    try:
        yield server
    finally:
        client = _CLIENTS.pop(server.base_url, None)
        if client is not None:
            client.close()
        stop_server(server)


def _events_of(server: ServedProcess, slug: str) -> int:
    """The tenant's events of the last day: every write adds at least one (the outbox rule), so
    an unchanged count means nothing was written."""
    response = http(server).get("/v1/events/counts", params={"window": "24h"},
                                headers=server.headers(slug))
    assert response.status_code == 200, response.text
    names = [c["name"] for c in response.json()["columns"]]
    return sum(response.json()["data"][names.index("events")])


# The attacker's own reads that finding 3's stored dates broke for good (500 ever after).
READS = ("/v1/ingredients", "/v1/costs", "/v1/imports", "/v1/recipes", "/v1/events")


def _problems(case: HostileCase, answer: Answer) -> list[str]:
    found = []
    if answer.status not in case.statuses:
        found.append(f"status {answer.status}, expected {case.status}: {str(answer.body)[:300]}")
    if case.code is not None:
        error = answer.body.get("error") if isinstance(answer.body, dict) else None
        if not isinstance(error, dict) or set(error) != {"code", "message", "details"}:
            found.append(f"not the error shape: {str(answer.body)[:300]}")
        elif error["code"] != case.code:
            found.append(f"code {error['code']}, expected {case.code}: {error['message']}")
        elif any(error["details"].get(k) != v for k, v in case.details.items()):
            found.append(f"details {str(error['details'])[:300]}, expected {case.details}")
    if case.check is not None and not found:
        found += case.check(answer)
    return found


def _afterwards(server: ServedProcess, *, reads: tuple[str, ...] = ()) -> list[str]:
    """The bystander still gets its ingredients; the attacker each of `reads`."""
    found = []
    for slug, paths in ((server.bystander, ("/v1/ingredients",)), (server.attacker, reads)):
        for path in paths:
            try:
                response = http(server).get(path, headers=server.headers(slug))
            except httpx.HTTPError as exc:  # a dropped connection is an answer too, a bad one
                found.append(f"{slug} got {exc!r} from {path} afterwards")
                continue
            if response.status_code != 200:
                found.append(f"{slug} got {response.status_code} from {path} afterwards")
    return found


def test_hostile_requests_leave_the_server_answering_and_bounded(served: ServedProcess) -> None:
    failures: list[str] = []
    cases = _selected(CASES)
    for case in cases:
        started = time.monotonic()
        if case.setup is not None:
            case.setup(served)
        before = _events_of(served, served.attacker)
        answer = case.send(served)
        problems = _problems(case, answer)
        if not served.alive():
            pytest.fail(f"{case.name}: the server died\n{served.log_tail()}")
        # Finding 3's dates broke the attacker's own reads: check them after its cases.
        problems += _afterwards(served, reads=READS if case.finding == 3 else ())
        if case.refused and _events_of(served, served.attacker) != before:
            problems.append("a refused request wrote something (the attacker's events moved)")
        failures += [f"{case.name} (finding {case.finding}): {p}" for p in problems]
        print(f"{time.monotonic() - started:6.2f} s  {case.name}")  # shown with -s or -rP
    failures += [f"after every case: {p}" for p in _afterwards(served, reads=READS)]
    peak = served.peak_rss_bytes()
    print(f"\nmo serve peak RSS after {len(cases)} hostile cases: {peak / _MB:.0f} MB")
    assert peak < PEAK_RSS_LIMIT, f"peak RSS {peak / _MB:.0f} MB"
    assert not failures, "\n".join(failures)


def test_every_finding_has_a_case() -> None:
    assert {c.finding for c in CASES} == set(range(1, 9))
