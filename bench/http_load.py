"""Scenario 7: update_cost through HttpClient, 16 concurrent clients, against a real `mo serve`
on PostgreSQL — and the same load through one in-process LocalClient, for the ratio."""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from urllib.parse import quote

import httpx
import psycopg

from bench.harness import Measurement, peak_rss_mb
from mo.store import connect_store, migrations

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
CLIENTS = 16


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_schema(base: str) -> tuple[str, str]:
    """A new migrated schema on `base`, and the URL that selects it."""
    schema = f"mo_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{base}?options={quote(f'-csearch_path={schema}')}"
    with connect_store(url) as store:
        migrations.migrate(store)
    return schema, url


def drop_schema(base: str, schema: str) -> None:
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _seed(url: str) -> str:
    import mo

    mo.create_tenant("bench", db_url=url)
    with mo.LocalClient("bench", db_url=url) as client:
        for i in range(CLIENTS):
            client.add_ingredient(f"item {i:02d}", unit="g")
    return mo.create_api_key("bench", db_url=url)


def _load(make_call: Callable[[int], Callable[[int], object]], per_client: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        call = make_call(index)
        for n in range(per_client):
            started = time.perf_counter()
            call(n)
            with lock:
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - started


def _stats(latencies: list[float], elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {"rps": len(ordered) / elapsed, "p50_s": statistics.median(ordered),
            "p99_s": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]}


def http_update_cost(per_client: int) -> Measurement:
    import mo

    schema, url = fresh_schema(PG_URL)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "mo", "--db-url", url, "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        key = _seed(url)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(base + "/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)

        def http_call(i: int) -> Callable[[int], object]:
            client = mo.HttpClient(base, api_key=key)
            return lambda n: client.update_cost(f"item {i:02d}", f"{1 + n}.00", per="kg",
                                                idempotency_key=f"http-{i}-{n}")

        http = _stats(*_load(http_call, per_client))
        local_client = mo.LocalClient("bench", db_url=url)

        def local_call(i: int) -> Callable[[int], object]:
            return lambda n: local_client.update_cost(f"item {i:02d}", f"{1 + n}.50", per="kg",
                                                      idempotency_key=f"local-{i}-{n}")

        local = _stats(*_load(local_call, per_client))
        local_client.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        drop_schema(PG_URL, schema)
    notes = {"clients": CLIENTS, "requests": CLIENTS * per_client,
             **{f"http_{k}": v for k, v in http.items()}, **{f"local_{k}": v for k, v in local.items()}}
    return Measurement("HTTP update_cost, 16 clients (PG p50)", http["p50_s"], local["p50_s"],
                       "report rps, p50/p99 (ratio = HTTP / Local)", True, peak_rss_mb(), notes)
