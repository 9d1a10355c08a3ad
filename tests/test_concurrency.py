"""Concurrent duplicates: many callers submit the same write with the same idempotency key at once.

DuckDB: 32 threads over one store (one process, one file). PostgreSQL: 8 processes, each with its
own store. Exactly one effect and one set of events; every caller gets the original result
(replayed=True for all but one) or idempotency_in_progress (retryable), never a driver error or
another code. With different keys on the same ingredient, every write is applied, none lost.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eventlog_support import raw
from reliability_support import (
    events_by_type,
    knob,
    outcome_of,
    record,
    retrying,
    together,
    write_price_list,
)

from mo.domain.context import TenantContext
from mo.domain.results import CostUpdate, ImportResult
from mo.errors import ErrorCode, MOError
from mo.services import costs, imports, recipes, tenants
from mo.services import ingredients as ing
from mo.store import Store, connect_store

THREADS = 32
PROCESSES = 8
ROUNDS = knob("MO_CONCURRENCY_ROUNDS", 1, 5)  # `make soak` repeats every race five times
repeated = pytest.mark.parametrize("round_", range(ROUNDS))
LIST_ROWS = 400  # long enough for the first import to be still running when the others arrive
SAME_KEY_OUTCOMES = "one original result; the rest replayed or idempotency_in_progress"


def own_price(n: int) -> str:
    """Caller n's own price per kg: unlike the seed's (1.00) and the duplicates' (3.00)."""
    return f"{n + 10}.00"


def _check_same_key_outcomes(outcomes: list[Any]) -> Any:
    """Every outcome is the original result or idempotency_in_progress; returns the original."""
    unexpected = [
        o
        for o in outcomes
        if not isinstance(o, ImportResult | CostUpdate)
        and not (isinstance(o, MOError) and o.code is ErrorCode.IDEMPOTENCY_IN_PROGRESS)
    ]
    assert unexpected == [], f"{SAME_KEY_OUTCOMES}; also got {unexpected!r}"
    assert all(o.retryable for o in outcomes if isinstance(o, MOError))
    results = [o for o in outcomes if not isinstance(o, MOError)]
    originals = [r for r in results if not r.replayed]
    assert len(originals) == 1, f"{len(originals)} callers did the work: {results}"
    (original,) = originals
    assert {replace(r, replayed=False) for r in results} == {original}
    return original


def _race_on_one_key(send: Callable[[], Any], *, metric: str) -> Any:
    """THREADS callers sending one request under one key at once, checked as
    _check_same_key_outcomes and tallied as `metric`; returns the original result."""
    outcomes = together([send] * THREADS)
    original = _check_same_key_outcomes(outcomes)
    record(metric, **_tally(outcomes), failures=0)
    # A caller told "in progress" retries and gets the original result, replayed.
    assert retrying(send) == replace(original, replayed=True)
    return original


def _tally(outcomes: list[Any]) -> dict[str, int]:
    """How the callers fared: did the work, got it replayed, or were told to retry."""
    return {
        "callers": len(outcomes),
        "original": sum(not isinstance(o, MOError) and not o.replayed for o in outcomes),
        "replayed": sum(not isinstance(o, MOError) and o.replayed for o in outcomes),
        "in_progress": sum(isinstance(o, MOError) for o in outcomes),
    }


def _check_one_import(store: Store, ctx: TenantContext, key: str, result: ImportResult) -> None:
    batches = raw(
        store,
        "SELECT id, status, rows FROM import_batches WHERE tenant_id = %s AND idempotency_key = %s",
        (ctx.tenant_id, key),
    )
    assert batches == [(result.batch_id, "completed", LIST_ROWS)]
    assert events_by_type(store, ctx.tenant_id, idempotency_key=key) == {
        "ingredient.created": LIST_ROWS,
        "ingredient.cost.updated": LIST_ROWS,
        "import.completed": 1,
    }
    assert (result.created, result.changed) == (LIST_ROWS, LIST_ROWS)
    [(cost_rows,)] = raw(
        store,
        "SELECT count(*) FROM ingredient_costs WHERE tenant_id = %s AND batch_id = %s",
        (ctx.tenant_id, result.batch_id),
    )
    assert cost_rows == LIST_ROWS
    [(items,)] = raw(
        store,
        "SELECT count(*) FROM ingredients WHERE tenant_id = %s AND name LIKE 'Item %%'",
        (ctx.tenant_id,),
    )
    assert items == LIST_ROWS


def _check_one_cost(store: Store, ctx: TenantContext, key: str, result: CostUpdate) -> None:
    rows = raw(
        store,
        "SELECT id FROM ingredient_costs WHERE tenant_id = %s AND idempotency_key = %s",
        (ctx.tenant_id, key),
    )
    assert rows == [(result.cost_id,)]
    assert events_by_type(store, ctx.tenant_id, idempotency_key=key) == {
        "ingredient.cost.updated": 1
    }


def _keys_recorded(store: Store, ctx: TenantContext, key: str) -> int:
    [(count,)] = raw(
        store,
        "SELECT count(*) FROM idempotency_keys WHERE tenant_id = %s AND idempotency_key = %s",
        (ctx.tenant_id, key),
    )
    return int(count)


@pytest.fixture
def pie(store: Store, ctx: TenantContext) -> str:
    """Flour, with a cost, used by a recipe: every cost update also rewrites the recipe's cost."""
    ing.add_ingredient(store, ctx, "Flour", unit="g")
    costs.update_cost(store, ctx, "Flour", "1.00", per="1 kg", idempotency_key="seed")
    line = {"ingredient": "Flour", "qty": 200, "unit": "g"}
    recipes.save_recipe(store, ctx, "Pie", yield_qty=1, yield_unit="each", lines=[line])
    return "Flour"


# ---- DuckDB: 32 threads, one store --------------------------------------------------------------


# Each variant pins the `backend` fixture of conftest.py by direct parametrization.
on_duckdb = pytest.mark.parametrize("backend", ["duckdb"])
on_postgres = pytest.mark.parametrize("backend", ["postgres"])


@repeated
@on_duckdb
def test_32_threads_importing_the_same_list_with_one_key_import_it_once(
    round_: int, store: Store, ctx: TenantContext, tmp_path: Path
) -> None:
    path = write_price_list(tmp_path / "list.csv", LIST_ROWS)

    def send() -> ImportResult:
        return imports.import_price_list(store, ctx, path, idempotency_key="dup", supplier="Acme")

    original = _race_on_one_key(send, metric="concurrency_duckdb_same_import")
    _check_one_import(store, ctx, "dup", original)
    assert _keys_recorded(store, ctx, "dup") == 1


@repeated
@on_duckdb
def test_32_threads_sending_the_same_cost_update_apply_it_once(
    round_: int, store: Store, ctx: TenantContext, pie: str
) -> None:
    def send() -> CostUpdate:
        return costs.update_cost(store, ctx, pie, "3.00", per="1 kg", idempotency_key="same")

    original = _race_on_one_key(send, metric="concurrency_duckdb_same_cost")
    assert original.changed and original.unit_cost == Decimal("0.003")
    _check_one_cost(store, ctx, "same", original)


@repeated
@on_duckdb
def test_32_threads_with_different_keys_on_one_ingredient_all_apply(
    round_: int, store: Store, ctx: TenantContext, pie: str
) -> None:
    """Every update conflicts on the recipe's cost row; Store.atomic retries the losers (with a
    bound), and a caller that still sees the retryable `unavailable` retries as a client would."""
    exhausted: list[MOError] = []

    def submit(n: int) -> CostUpdate:
        def once() -> CostUpdate:
            try:
                return costs.update_cost(store, ctx, pie, own_price(n), per="1 kg",
                                         idempotency_key=f"k{n}")
            except MOError as err:
                exhausted.append(err)
                raise

        return retrying(once)

    outcomes = together([lambda n=n: submit(n) for n in range(THREADS)])
    record("concurrency_duckdb_distinct_keys", writers=THREADS, applied=THREADS,
           calls_that_exhausted_atomic_retries=len(exhausted), failures=0)
    assert [o for o in outcomes if not isinstance(o, CostUpdate)] == []
    assert all(o.changed and not o.replayed for o in outcomes)
    # Only the retryable "lost a race" error may reach a caller, and only after atomic's retries.
    assert {(e.code, e.details.get("reason")) for e in exhausted} <= {
        (ErrorCode.UNAVAILABLE, "transaction_conflict")
    }
    _check_all_keys_applied(store, ctx, THREADS)


def _check_all_keys_applied(store: Store, ctx: TenantContext, count: int) -> None:
    keys = [f"k{n}" for n in range(count)]
    rows = raw(
        store,
        "SELECT idempotency_key, unit_cost FROM ingredient_costs WHERE tenant_id = %s"
        " AND idempotency_key LIKE 'k%%'",
        (ctx.tenant_id,),
    )
    assert sorted(k for k, _ in rows) == sorted(keys)
    assert {k: Decimal(c) for k, c in rows} == {
        f"k{n}": Decimal(own_price(n)) / 1000 for n in range(count)
    }
    events = raw(
        store,
        "SELECT idempotency_key FROM event_log WHERE tenant_id = %s"
        " AND event_type = 'ingredient.cost.updated' AND idempotency_key LIKE 'k%%'",
        (ctx.tenant_id,),
    )
    assert Counter(k for (k,) in events) == Counter(keys)
    # The recipe follows whichever cost is current now: recomputed from the last writer's cost.
    current = costs.current_costs_frame(store, ctx).set_index("ingredient").loc["Flour"]
    pie = recipes.recipes_frame(store, ctx).set_index("name").loc["Pie"]
    assert pie["total_cost"] == current["unit_cost"] * 200, "the recipe missed the current cost"


# ---- PostgreSQL: 8 processes, a store each ------------------------------------------------------


def _process_worker(url: str, slug: str, path: str, n: int, barrier: Any, out: Any) -> None:
    """One caller process: the same import, the same cost update, then its own cost update."""
    store = connect_store(url)
    try:
        ctx = tenants.resolve_tenant(store, slug)
        calls = {
            "import": lambda: imports.import_price_list(
                store, ctx, path, idempotency_key="dup", supplier="Acme"
            ),
            "same_cost": lambda: costs.update_cost(
                store, ctx, "Flour", "3.00", per="1 kg", idempotency_key="same"
            ),
            "own_cost": lambda: costs.update_cost(
                store, ctx, "Flour", own_price(n), per="1 kg", idempotency_key=f"k{n}"
            ),
        }
        for phase, call in calls.items():
            barrier.wait(timeout=120)
            result = outcome_of(call)
            if not isinstance(result, ImportResult | CostUpdate | MOError):
                result = RuntimeError(f"{type(result).__name__}: {result}")  # picklable
            out.put((phase, n, result))
    finally:
        store.close()


# What the callers import, loaded once by the fork server. Not this module by name: Python
# 3.11's fork server ignores the sys.path it is given, so the tests folder is not on its path;
# each caller then imports only this module and its two helper modules.
FORKSERVER_PRELOAD = [
    "pytest", "hypothesis", "duckdb", "psycopg", "pandas", "mo.services.costs",
    "mo.services.imports", "mo.services.ingredients", "mo.services.recipes",
    "mo.services.tenants", "mo.store.postgres_store",
]


def _forkserver() -> Any:
    """Fresh processes (no inherited connection, lock or thread: not a bare fork of this
    one) that do not each import mo, pandas and psycopg again: they are forked from a server
    that imported them once. Spawned, each caller cost ~3.2 s of CPU, mostly imports; 8 of
    them made this the suite's costliest PostgreSQL test."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(FORKSERVER_PRELOAD)
    return context


@repeated
@on_postgres
def test_8_processes_submitting_duplicates_have_one_effect_and_distinct_keys_all_apply(
    round_: int, store: Store, db_url: str, ctx: TenantContext, pie: str, tmp_path: Path
) -> None:
    path = write_price_list(tmp_path / "list.csv", LIST_ROWS)
    forked = _forkserver()
    barrier, out = forked.Barrier(PROCESSES), forked.Queue()
    workers = [
        forked.Process(target=_process_worker, args=(db_url, ctx.slug, str(path), n, barrier, out))
        for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    got: dict[str, list[Any]] = {"import": [], "same_cost": [], "own_cost": []}
    for _ in range(3 * PROCESSES):
        phase, _n, result = out.get(timeout=300)
        got[phase].append(result)
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0

    imported = _check_same_key_outcomes(got["import"])
    _check_one_import(store, ctx, "dup", imported)
    updated = _check_same_key_outcomes(got["same_cost"])
    _check_one_cost(store, ctx, "same", updated)
    assert _keys_recorded(store, ctx, "dup") == _keys_recorded(store, ctx, "same") == 1

    own = got["own_cost"]
    assert [o for o in own if not isinstance(o, CostUpdate)] == [], own
    record("concurrency_postgres", processes=PROCESSES, same_import=_tally(got["import"]),
           same_cost=_tally(got["same_cost"]), distinct_keys_applied=len(own), failures=0)
    _check_all_keys_applied(store, ctx, PROCESSES)
