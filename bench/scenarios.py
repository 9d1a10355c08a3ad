"""The benchmark scenarios. Each runs in its own process (peak RSS is per scenario) and prints
one Measurement as JSON: `python -m bench.scenarios NAME --mode quick|full`."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb

from bench import bare
from bench.generate import price_list_csv, recipe_book, sanity_world
from bench.harness import Measurement, median_seconds, peak_rss_mb
from mo.domain.context import TenantContext
from mo.domain.results import ImportResult
from mo.services import event_reads, export, imports, recompute, sanity, tenants
from mo.services.recipe_import import import_recipes
from mo.store import Store, open_store

IMPORT_ROUNDS = 3  # mo and the bare load alternate; medians of each

SIZES = {
    "quick": {"recipes": 20_000, "price_rows": 200_000, "price_items": 20_000, "events": 200_000,
              "count_events": 2_000_000, "per_recipe_sample": 200, "updates": 60, "http_per_client": 15,
              "sanity_events": 200_000, "sanity_cost_rows": 40_000},
    "full": {"recipes": 100_000, "price_rows": 1_000_000, "price_items": 100_000, "events": 1_000_000,
             "count_events": 10_000_000, "per_recipe_sample": 1_000, "updates": 60, "http_per_client": 60,
             "sanity_events": 1_000_000, "sanity_cost_rows": 200_000},
}


def _fresh_store(folder: Path) -> tuple[Store, TenantContext, str]:
    url = f"duckdb:///{folder / 'bench.duckdb'}"
    store = open_store(url)
    return store, _bench_tenant(store), url


def _bench_tenant(store: Store) -> TenantContext:
    tenants.create_tenant(store, "bench")
    return tenants.resolve_tenant(store, "bench")


def _timed_import(store: Store, ctx: TenantContext, path: Path, *,
                  replay: bool) -> tuple[float, ImportResult, tuple[float, ImportResult] | None]:
    """mo's import of `path` (seconds, result) and, when asked, its replay under the same key."""
    def run() -> tuple[float, ImportResult]:
        started = time.perf_counter()
        result = imports.import_price_list(store, ctx, path, idempotency_key="big", supplier="Big Supplier")
        return time.perf_counter() - started, result

    seconds, result = run()
    return seconds, result, run() if replay else None


def _seed_recipes(store: Store, ctx: TenantContext, recipes: int) -> dict[str, float]:
    book = recipe_book(recipes=recipes)
    started = time.perf_counter()
    imports.import_price_list(store, ctx, book.costs, idempotency_key="bench-costs", supplier="Bench Foods")
    priced = time.perf_counter()
    import_recipes(store, ctx, book.lines, idempotency_key="bench-recipes")
    return {"seed_price_list_s": priced - started, "seed_import_recipes_s": time.perf_counter() - priced,
            "lines": len(book.lines)}


def full_recompute(folder: Path, size: dict) -> Measurement:
    store, ctx, url = _fresh_store(folder)
    notes = _seed_recipes(store, ctx, size["recipes"])
    mo_s = median_seconds(lambda: recompute.recompute(store, ctx), repeat=3)
    store.close()
    con = duckdb.connect(url.removeprefix("duckdb:///"), read_only=True)
    bare_s = median_seconds(lambda: bare.recursive_totals(con, ctx.tenant_id), repeat=3)
    sample = size["per_recipe_sample"]
    per_recipe_s = bare.one_query_per_recipe(con, ctx.tenant_id, sample) * size["recipes"] / sample
    notes.update(agreement=bare.totals_agree(con, ctx.tenant_id), recipes=size["recipes"],
                 per_recipe_extrapolated_s=per_recipe_s, speedup_vs_per_recipe=per_recipe_s / mo_s)
    con.close()
    return Measurement("full recompute", mo_s, bare_s, "<= 3x bare CTE; >= 1000x per-recipe",
                       mo_s <= 3 * bare_s and per_recipe_s / mo_s >= 1000, peak_rss_mb(), notes)


def incremental(folder: Path, size: dict) -> Measurement:
    """mo's cost update through LocalClient, alternating with the bare engine doing the same
    work (bare.incremental_update) on a copy of the same seeded database; p50 of each."""
    import mo

    store, ctx, url = _fresh_store(folder)
    _seed_recipes(store, ctx, size["recipes"])
    store.close()
    shutil.copy(folder / "bench.duckdb", folder / "bare.duckdb")
    con = duckdb.connect(str(folder / "bare.duckdb"))
    (ingredient_id,) = con.execute("SELECT id FROM ingredients WHERE name = $n", {"n": _UPDATED}).fetchone()
    client = mo.LocalClient("bench", db_url=url)
    try:
        return _alternate_updates(
            size, client, lambda ingredient_id, price, key: bare.incremental_update(
                con, ctx.tenant_id, ingredient_id, price, key),
            ingredient_id, scenario="incremental cost update (p50)")
    finally:
        client.close()
        con.close()


_UPDATED = "ingredient 000007"


def _alternate_updates(size: dict, client: Any, bare_update: Callable[[int, str, str], int],
                       ingredient_id: int, *, scenario: str) -> Measurement:
    """mo's cost update through the client, then the bare engine's (price per g), `updates`
    times; p50 of each, against the target of 1.2x the bare engine."""
    latencies, scopes, bare_latencies = [], [], []
    for i in range(size["updates"]):
        price = f"{10 + i % 7}.{i:02d}"
        started = time.perf_counter()
        result = client.update_cost(_UPDATED, price, per="kg", idempotency_key=f"inc-{i}")
        latencies.append(time.perf_counter() - started)
        scopes.append(result.recomputed)
        started = time.perf_counter()
        bare_scope = bare_update(ingredient_id, f"{price}e-3", f"inc-{i}")
        bare_latencies.append(time.perf_counter() - started)
    p50, bare_p50 = statistics.median(latencies), statistics.median(bare_latencies)
    return Measurement(scenario, p50, bare_p50, "p50 <= 1.2x bare", p50 <= 1.2 * bare_p50,
                       peak_rss_mb(), {"recipes_recomputed_median": statistics.median(scopes),
                                       "share_of_recipes": statistics.median(scopes) / size["recipes"],
                                       "bare_recipes_recosted": bare_scope, "updates": size["updates"],
                                       "p90_s": sorted(latencies)[int(0.9 * len(latencies))],
                                       "bare_p90_s": sorted(bare_latencies)[int(0.9 * len(bare_latencies))],
                                       "first_update_s": latencies[0],
                                       "footnote": f"{statistics.median(scopes):.0f} recipes re-costed; the bare "
                                                   "engine's recursive CTE, cost row, UPDATE and events for "
                                                   f"the same update: p50 {bare_p50 * 1000:.1f} ms"})


def incremental_pg(folder: Path, size: dict) -> Measurement:
    """As incremental, against PostgreSQL: mo seeds one schema, the bare engine updates a copy
    of its tables in another (bare.incremental_update_postgres); p50 of each, alternating."""
    import psycopg

    import mo
    from bench.http_load import PG_URL, drop_schema, fresh_schema

    schema, url = fresh_schema(PG_URL)
    bare_schema, bare_url = fresh_schema(PG_URL)
    try:
        store = open_store(url)
        ctx = _bench_tenant(store)
        _seed_recipes(store, ctx, size["recipes"])
        store.close()
        bare.copy_schema_data(PG_URL, schema, bare_schema)
        with psycopg.connect(bare_url, autocommit=True) as con, mo.LocalClient("bench", db_url=url) as client:
            return _alternate_updates(
                size, client, lambda ingredient_id, price, key: bare.incremental_update_postgres(
                    con, ctx.tenant_id, ingredient_id, price, key),
                con.execute("SELECT id FROM ingredients WHERE name = %s", (_UPDATED,)).fetchone()[0],
                scenario="incremental cost update (PostgreSQL, p50)")
    finally:
        drop_schema(PG_URL, schema)
        drop_schema(PG_URL, bare_schema)


def import_price_list(folder: Path, size: dict) -> Measurement:
    """Rounds of: the bare load, then mo's import into a fresh database, so that both see the
    same load on a shared machine; medians of each. The first round also replays the import."""
    path = price_list_csv(folder / "prices.csv", rows=size["price_rows"], items=size["price_items"])
    runs: dict[str, list[float]] = {"mo": [], "bare": []}
    for round_no in range(IMPORT_ROUNDS):
        runs["bare"].append(median_seconds(lambda: bare.load_csv(path, folder / "bare.duckdb"), repeat=1))
        (folder / f"round{round_no}").mkdir()
        store, ctx, _ = _fresh_store(folder / f"round{round_no}")
        seconds, result, replayed = _timed_import(store, ctx, path, replay=round_no == 0)
        runs["mo"].append(seconds)
        if replayed is not None:
            replay_s, replay = replayed
        store.close()
        (folder / f"round{round_no}" / "bench.duckdb").unlink()
    mo_s, bare_s = statistics.median(runs["mo"]), statistics.median(runs["bare"])
    rss = peak_rss_mb()
    return Measurement("import price list", mo_s, bare_s, "<= 3x bare load; RSS <= 1 GB; replay <= 0.2 s",
                       mo_s <= 3 * bare_s and rss <= 1024 and replay_s <= 0.2, rss,
                       {"rows": result.rows, "created": result.created, "replay_s": replay_s,
                        "replayed": replay.replayed, **{f"{k}_runs_s": v for k, v in runs.items()}})


def import_price_list_pg(folder: Path, size: dict) -> Measurement:
    """As import_price_list, against PostgreSQL and its bare COPY, a fresh schema per round.

    Each round also times the writes mo cannot avoid (bare.required_writes_postgres) in a schema
    of their own: the PostgreSQL floor for this import, beside the bare COPY of the file."""
    from bench.http_load import PG_URL, drop_schema, fresh_schema

    path = price_list_csv(folder / "prices.csv", rows=size["price_rows"], items=size["price_items"])
    runs: dict[str, list[float]] = {"mo": [], "bare": [], "required_writes": []}
    for round_no in range(IMPORT_ROUNDS):
        runs["required_writes"].append(_required_writes_pg(size))
        schema, url = fresh_schema(PG_URL)
        try:
            runs["bare"].append(median_seconds(lambda: bare.copy_csv_postgres(path, url), repeat=1))
            store = open_store(url)
            seconds, result, replayed = _timed_import(store, _bench_tenant(store), path, replay=round_no == 0)
            runs["mo"].append(seconds)
            if replayed is not None:
                replay_s, replay = replayed
            store.close()
        finally:
            drop_schema(PG_URL, schema)
    mo_s, bare_s = statistics.median(runs["mo"]), statistics.median(runs["bare"])
    floor_s = statistics.median(runs["required_writes"])
    return Measurement("import price list (PostgreSQL)", mo_s, bare_s, "<= 3x bare COPY; replay <= 0.2 s",
                       mo_s <= 3 * bare_s and replay_s <= 0.2, peak_rss_mb(),
                       {"rows": result.rows, "created": result.created, "replay_s": replay_s,
                        "replayed": replay.replayed, "required_writes_s": floor_s,
                        "footnote": f"the rows it must write take {floor_s:.2f} s alone "
                                    f"({floor_s / bare_s:.1f}x the bare COPY); mo takes "
                                    f"{mo_s / floor_s:.1f}x that",
                        "required_writes_vs_bare": floor_s / bare_s, "mo_vs_required_writes": mo_s / floor_s,
                        **{f"{k}_runs_s": v for k, v in runs.items()}})


def _required_writes_pg(size: dict) -> float:
    from bench.http_load import PG_URL, drop_schema, fresh_schema

    schema, url = fresh_schema(PG_URL)
    try:
        store = open_store(url)
        tenant_id = _bench_tenant(store).tenant_id
        store.close()
        return median_seconds(lambda: bare.required_writes_postgres(
            url, tenant_id, rows=size["price_rows"], items=size["price_items"]), repeat=1)
    finally:
        drop_schema(PG_URL, schema)


def export_window(folder: Path, size: dict) -> Measurement:
    """Rounds of: the bare COPY TO, mo's CSV export, mo's JSONL export, so that all three see
    the same load on a shared machine; medians per kind. Events are stored as mo writes them
    (bare.fill_events): a third need the export's Python re-serialising pass."""
    store, ctx, url = _fresh_store(folder)
    store.close()
    since, until = bare.fill_events(folder / "bench.duckdb", ctx.tenant_id, size["events"], days=1)
    store = open_store(url)
    con = duckdb.connect(url.removeprefix("duckdb:///"))  # the same database instance as the store
    runs: dict[str, list[float]] = {"bare": [], "csv": [], "jsonl": []}
    work = {"bare": lambda: bare.copy_to(con, ctx.tenant_id, folder / "bare.csv", since, until),
            **{fmt: (lambda fmt=fmt: export.export_events(store, ctx, folder / f"events.{fmt}", since=since,
                                                          until=until)) for fmt in ("csv", "jsonl")}}
    for _ in range(5):
        for kind, run in work.items():
            runs[kind].append(median_seconds(run, repeat=1))
    marked = con.execute("SELECT avg(CAST(payload_canonical AS INTEGER)) FROM event_log WHERE tenant_id = $t",
                         {"t": ctx.tenant_id}).fetchone()[0]
    con.close()
    store.close()
    timings = {kind: statistics.median(times) for kind, times in runs.items()}
    mo_s, bare_s = max(timings["csv"], timings["jsonl"]), timings["bare"]
    return Measurement("export 1 window (csv, jsonl)", mo_s, bare_s, "<= 2x COPY TO", mo_s <= 2 * bare_s,
                       peak_rss_mb(), {"events": size["events"], "share_stored_canonical": marked,
                                       **{f"{k}_s": v for k, v in timings.items()},
                                       **{f"{k}_runs_s": v for k, v in runs.items()}})


def count_events(folder: Path, size: dict) -> Measurement:
    store, ctx, url = _fresh_store(folder)
    store.close()
    bare.fill_events(folder / "bench.duckdb", ctx.tenant_id, size["count_events"], days=30)
    store = open_store(url)
    mo_s = median_seconds(lambda: event_reads.event_counts(store, ctx, window="1h"), repeat=7)
    store.close()
    return Measurement("event_counts (last hour)", mo_s, None, "<= 50 ms", mo_s <= 0.050, peak_rss_mb(),
                       {"events": size["count_events"]})


def sanity_checks(folder: Path, size: dict) -> Measurement:
    """sanity() over a consistent tenant of `sanity_events` events and `sanity_cost_rows` cost
    rows on the embedded DuckDB file (issue #14: a correlated subplan made it quadratic)."""
    store, ctx, _ = _fresh_store(folder)
    try:
        return _time_sanity(store, ctx, size, "sanity checks")
    finally:
        store.close()


def sanity_checks_pg(folder: Path, size: dict) -> Measurement:
    """As sanity_checks, on PostgreSQL (a fresh schema)."""
    from bench.http_load import PG_URL, drop_schema, fresh_schema

    schema, url = fresh_schema(PG_URL)
    try:
        with open_store(url) as store:
            return _time_sanity(store, _bench_tenant(store), size, "sanity checks (PostgreSQL)",
                                analyze=lambda: _analyze_pg(url))
    finally:
        drop_schema(PG_URL, schema)


def _analyze_pg(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def _time_sanity(store: Store, ctx: TenantContext, size: dict, title: str, *,
                 analyze: Callable[[], None] | None = None) -> Measurement:
    """Fill the tenant (untimed), then: sanity() once on fresh rows, once more per check after
    statistics are current, and the median of three whole runs."""
    tables = sanity_world(ctx.tenant_id, events=size["sanity_events"], cost_rows=size["sanity_cost_rows"])
    started = time.perf_counter()
    with store.transaction() as tx:
        for table, frame in tables.items():
            tx.load(table, frame)
    load_s = time.perf_counter() - started
    first_s = median_seconds(lambda: sanity.sanity(store, ctx), repeat=1)
    if analyze is not None:
        analyze()
    per_check = {}
    for check in sanity.CHECKS:
        with store.transaction(tenant_id=ctx.tenant_id) as tx:
            tx.plan_for_whole_tables()  # as sanity() does
            per_check[f"{check.name}_s"] = median_seconds(
                lambda: tx.all(check.query, {"tenant_id": ctx.tenant_id}), repeat=1)
    frame = sanity.sanity(store, ctx)
    mo_s = median_seconds(lambda: sanity.sanity(store, ctx), repeat=3)
    return Measurement(title, mo_s, None, "seconds (<= 10 s); every check holds",
                       mo_s <= 10 and bool(frame["ok"].all()), peak_rss_mb(),
                       {"events": size["sanity_events"], "cost_rows": size["sanity_cost_rows"],
                        "load_s": load_s, "first_run_s": first_s, "all_ok": bool(frame["ok"].all()),
                        **per_check})


def http_load(folder: Path, size: dict) -> Measurement:
    from bench.http_load import http_update_cost

    return http_update_cost(size["http_per_client"])


SCENARIOS: dict[str, Callable[[Path, dict], Measurement]] = {
    "full_recompute": full_recompute,
    "incremental": incremental,
    "incremental_pg": incremental_pg,
    "import_price_list": import_price_list,
    "import_price_list_pg": import_price_list_pg,
    "export_window": export_window,
    "count_events": count_events,
    "http_load": http_load,
    "sanity_checks": sanity_checks,
    "sanity_checks_pg": sanity_checks_pg,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scenarios")
    parser.add_argument("name", choices=sorted(SCENARIOS))
    parser.add_argument("--mode", choices=sorted(SIZES), default="quick")
    args = parser.parse_args(argv)
    os.environ.setdefault("TQDM_DISABLE", "1")
    with tempfile.TemporaryDirectory(prefix="mo-bench-") as folder:
        result = SCENARIOS[args.name](Path(folder), SIZES[args.mode])
    print(json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
