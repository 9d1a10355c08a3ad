"""Crash safety: a process importing a large price list is SIGKILLed at a random moment.

Afterwards the whole batch with its events exists, or nothing at all does (every table's row count
as before); importing again with the same key completes (replayed when the killed one had
committed); the DuckDB file reopens cleanly (open_store replays its WAL and finds the schema
current). mo's sanity checks are not run here: one of them is quadratic in cost rows × events
(74 s for a 20k-row list on DuckDB), so the counts and events are checked directly instead.

`make test` runs MO_CRASH_TRIALS=3 trials of MO_CRASH_ROWS=10000 rows per backend; `make soak`
(MO_SOAK=1) runs 20 trials of 200000 rows per backend. Each trial gets a fresh database, and the
kill lands uniformly in [0, 1.25 × the import time measured just before] after the child is
ready, so most kills hit the import's one transaction and some land after its commit.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from database_support import with_schema
from reliability_support import (
    events_by_type,
    knob,
    record,
    row_counts,
    write_price_list,
)

from mo.services import imports, tenants
from mo.store import Store, connect_store, migrations, open_store

TRIALS = knob("MO_CRASH_TRIALS", 3, 20)
ROWS = knob("MO_CRASH_ROWS", 10_000, 200_000)
KEY = "nightly-list"
SUPPLIER = "Bulk Foods"
READY_TIMEOUT = 180.0

# The child: open the store, say "ready", import. Nothing else runs in it.
CHILD = """
import sys, time
from mo.services import imports, tenants
from mo.store import connect_store
url, path, key, supplier = sys.argv[1:5]
store = connect_store(url)
ctx = tenants.resolve_tenant(store, "acme")
print("ready", flush=True)
started = time.perf_counter()
imports.import_price_list(store, ctx, path, idempotency_key=key, supplier=supplier)
print("done", time.perf_counter() - started, flush=True)
store.close()
"""


# ---- one fresh database per trial ---------------------------------------------------------------


@contextmanager
def _fresh_database(backend: str, folder: Path, pg_url: str | None, trial: int) -> Iterator[str]:
    """A migrated database holding tenant "acme" only; its URL (PostgreSQL: a schema)."""
    if backend == "duckdb":
        url = f"duckdb:///{folder / f'trial{trial}.duckdb'}"
        _prepare(url)
        yield url
        return
    if pg_url is None:
        pytest.fail("PostgreSQL is not reachable")
    schema = f"mo_crash_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = with_schema(pg_url, schema)
        _prepare(url)
        yield url
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _prepare(url: str) -> None:
    with connect_store(url) as store:
        migrations.migrate(store)
        tenants.create_tenant(store, "acme")


# ---- the child and its kill ---------------------------------------------------------------------


def _run_child(url: str, path: Path, *, kill_after: float | None, app_name: str) -> dict:
    """Start the importing child; SIGKILL it `kill_after` seconds after it is ready (None: let it
    finish). Returns what happened: killed or not, and the import's own time if it finished."""
    if url.startswith("postgresql"):
        url = f"{url}&application_name={app_name}"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(path), KEY, SUPPLIER],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TQDM_DISABLE": "1"},
    )
    try:
        ready, _, _ = select.select([child.stdout], [], [], READY_TIMEOUT)
        line = child.stdout.readline() if ready else ""  # type: ignore[union-attr]
        assert line.strip() == "ready", f"child did not start: {line!r} {child.stderr.read()!r}"  # type: ignore[union-attr]
        if kill_after is not None:
            try:
                child.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=600)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    killed = child.returncode == -signal.SIGKILL
    assert killed or child.returncode == 0, f"the child failed by itself: {err}"
    seconds = float(out.split()[1]) if out.startswith("done") else None
    return {"killed": killed, "import_seconds": seconds}


def _wait_for_backend_to_go(pg_url: str | None, app_name: str, *, timeout: float = 300) -> None:
    """A killed client's server backend lives until it next talks to the socket: wait it out,
    so that what the checks see is final (its transaction committed or rolled back)."""
    if pg_url is None:
        return
    deadline = time.monotonic() + timeout
    with psycopg.connect(pg_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (app_name,)
            ).fetchone()
            if row is not None and row[0] == 0:
                return
            time.sleep(0.1)
    pytest.fail(f"the killed child's backend {app_name} is still running after {timeout}s")


# ---- what must hold after the kill --------------------------------------------------------------


def _committed_delta(rows: int) -> dict[str, int]:
    """What one completed import of `rows` new items adds to each table."""
    return {
        "ingredients": rows,
        "ingredient_names": rows,
        "supplier_items": rows,
        "ingredient_costs": rows,
        "import_batches": 1,
        "idempotency_keys": 1,
        "event_log": 2 * rows + 1,
    }


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {t: after[t] - before[t] for t in after if after[t] != before[t]}


def _state_after_kill(store: Store, before: dict[str, int]) -> str:
    """"committed" (the whole batch and its events) or "nothing"; anything else fails."""
    changed = _delta(before, row_counts(store))
    if not changed:
        return "nothing"
    assert changed == _committed_delta(ROWS), f"a partial import survived the kill: {changed}"
    ctx = tenants.resolve_tenant(store, "acme")
    assert events_by_type(store, ctx.tenant_id, idempotency_key=KEY) == {
        "ingredient.created": ROWS,
        "ingredient.cost.updated": ROWS,
        "import.completed": 1,
    }
    [batch] = imports.imports_frame(store, ctx).to_dict("records")
    assert (batch["status"], batch["rows"], batch["created"]) == ("completed", ROWS, ROWS)
    return "committed"


def _rerun_completes(store: Store, path: Path, before: dict[str, int], state: str) -> float:
    """Import again with the same key; how long that took (a whole import, unless replayed)."""
    ctx = tenants.resolve_tenant(store, "acme")
    started = time.perf_counter()
    again = imports.import_price_list(store, ctx, path, idempotency_key=KEY, supplier=SUPPLIER)
    seconds = time.perf_counter() - started
    assert again.replayed is (state == "committed")
    assert (again.status, again.rows, again.created) == ("completed", ROWS, ROWS)
    assert _delta(before, row_counts(store)) == _committed_delta(ROWS)
    assert {m.state for m in migrations.status(store)} == {"applied"}
    return seconds


def test_a_killed_import_leaves_all_or_nothing_and_a_rerun_completes(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    pg_url = request.getfixturevalue("pg_url") if backend == "postgres" else None
    path = write_price_list(tmp_path / "big.csv", ROWS)
    seed = int(os.environ.get("MO_CRASH_SEED") or random.randrange(10**6))
    rng = random.Random(seed)  # MO_CRASH_SEED=<seed> replays a run's kill times

    # Calibration: one uncut run measures how long the import takes on this machine, now.
    with _fresh_database(backend, tmp_path, pg_url, trial=-1) as url:
        timing = _run_child(url, path, kill_after=None, app_name=f"mo-crash-{uuid.uuid4().hex}")
    import_seconds = timing["import_seconds"]
    assert import_seconds is not None
    estimate = import_seconds  # follows the machine's load: a shared machine slows down

    outcomes: list[dict] = []
    for trial in range(TRIALS):
        with _fresh_database(backend, tmp_path, pg_url, trial) as url:
            with connect_store(url) as store:
                before = row_counts(store)
            app_name = f"mo-crash-{uuid.uuid4().hex}"
            kill_after = rng.uniform(0, 1.25 * estimate)
            ran = _run_child(url, path, kill_after=kill_after, app_name=app_name)
            _wait_for_backend_to_go(pg_url, app_name)
            with open_store(url) as store:  # DuckDB: reopens the killed writer's file
                state = _state_after_kill(store, before)
                rerun_seconds = _rerun_completes(store, path, before, state)
            if state == "nothing":  # the rerun was a whole import: how long one takes right now
                estimate = max(import_seconds, rerun_seconds)
            outcomes.append({"kill_after_s": round(kill_after, 3), "state": state, **ran})
        for leftover in tmp_path.glob(f"trial{trial}.duckdb*"):
            leftover.unlink()  # 200k-row trials: keep the disk use to one database at a time

    record(
        f"crash_safety_{backend}",
        trials=TRIALS,
        rows=ROWS,
        import_seconds=round(import_seconds, 2),
        killed_before_commit=sum(o["state"] == "nothing" for o in outcomes),
        killed_after_commit=sum(o["state"] == "committed" and o["killed"] for o in outcomes),
        finished_before_kill=sum(not o["killed"] for o in outcomes),
        failures=0,
        seed=seed,
        outcomes=outcomes,
    )
