"""Hostile HTTP against a real `mo serve` process (issue #14), on DuckDB and PostgreSQL.

Each entry of CASES builds one hostile request, sends it as tenant acme and says what the
answer must be. After every case the bystander tenant (rival) must still get answers, the
attacker's import log must not have moved when the request was refused, and at the end the
server's peak RSS must be under 1 GB. `make test` sizes every payload just over its cap;
MO_FUZZ=1 (`make fuzz`) uses the sizes the attack used (2 MB header, 200k-cell sheet, 100 MB).

Other findings add their cases by appending HostileCase entries to CASES: a `send` function
taking the ServedProcess and returning an Answer, and the status and code expected.
"""

from __future__ import annotations

import json
import os
import select
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from reliability_support import knob
from serve_process import ServedProcess, served  # noqa: F401  (the fixture)
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


@dataclass(frozen=True)
class HostileCase:
    """One hostile request: `send` builds and sends it; the answer must have `status` and, for
    an error, the error shape with `code`. `refused` cases must write nothing."""

    name: str
    finding: int  # issue #14's finding it reproduces
    send: Callable[[ServedProcess], Answer]
    status: int
    code: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # what the error details must hold

    @property
    def refused(self) -> bool:
        return self.status >= 400


# ---- request builders -------------------------------------------------------------------------


def _answer(response: httpx.Response) -> Answer:
    try:
        return Answer(response.status_code, response.json())
    except ValueError:
        return Answer(response.status_code, response.text)


def upload(
    path: str, name: str, data: bytes, options: dict[str, Any] | None = None
) -> Callable[[ServedProcess], Answer]:
    """A multipart file upload, as HttpClient sends it."""

    def send(server: ServedProcess) -> Answer:
        response = httpx.post(
            server.base_url + path,
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
    except ConnectionResetError:
        pass
    head, _, body = received.partition(b"\r\n\r\n")
    if not head:
        return Answer(0, "no answer")
    status = int(head.split(b" ", 2)[1])
    try:
        return Answer(status, json.loads(body))
    except ValueError:
        return Answer(status, body.decode(errors="replace"))


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


# ---- the run ----------------------------------------------------------------------------------


def _selected(cases: list[HostileCase]) -> list[HostileCase]:
    """The cases whose name holds one of MO_HOSTILE_CASES' comma-separated words (all if unset)."""
    words = [w.strip() for w in os.environ.get("MO_HOSTILE_CASES", "").split(",") if w.strip()]
    return [c for c in cases if not words or any(w in c.name for w in words)]



def _imports_of(server: ServedProcess, slug: str) -> int:
    response = httpx.get(server.base_url + "/v1/imports", headers=server.headers(slug), timeout=60)
    assert response.status_code == 200, response.text
    return len(response.json()["data"])


def _problems(case: HostileCase, answer: Answer) -> list[str]:
    found = []
    if answer.status != case.status:
        found.append(f"status {answer.status}, expected {case.status}: {str(answer.body)[:300]}")
    if case.code is not None:
        error = answer.body.get("error") if isinstance(answer.body, dict) else None
        if not isinstance(error, dict) or set(error) != {"code", "message", "details"}:
            found.append(f"not the error shape: {str(answer.body)[:300]}")
        elif error["code"] != case.code:
            found.append(f"code {error['code']}, expected {case.code}: {error['message']}")
        elif any(error["details"].get(k) != v for k, v in case.details.items()):
            found.append(f"details {str(error['details'])[:300]}, expected {case.details}")
    return found


def test_hostile_requests_leave_the_server_answering_and_bounded(served: ServedProcess) -> None:
    failures: list[str] = []
    cases = _selected(CASES)
    for case in cases:
        before = _imports_of(served, served.attacker)
        answer = case.send(served)
        problems = _problems(case, answer)
        if not served.alive():
            pytest.fail(f"{case.name}: the server died\n{served.log_tail()}")
        bystander = httpx.get(
            f"{served.base_url}/v1/ingredients",
            headers=served.headers(served.bystander),
            timeout=60,
        )
        if bystander.status_code != 200:
            problems.append(f"the bystander got {bystander.status_code} afterwards")
        if case.refused and _imports_of(served, served.attacker) != before:
            problems.append("a refused request wrote an import")
        failures += [f"{case.name} (finding {case.finding}): {p}" for p in problems]
    peak = served.peak_rss_bytes()
    print(f"\nmo serve peak RSS after {len(cases)} hostile cases: {peak / _MB:.0f} MB")
    assert peak < PEAK_RSS_LIMIT, f"peak RSS {peak / _MB:.0f} MB"
    assert not failures, "\n".join(failures)
