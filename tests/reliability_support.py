"""Shared helpers for the reliability suites (concurrency, crash safety, hostile input, tenant
walls, API fuzzing): table counts read past the store, bounded sizes that `make soak` and
`make fuzz` raise through the environment, and the hypothesis settings those suites use.

Sizes: every suite runs a small, bounded version in plain `pytest` (`make test`).
MO_SOAK=1 (`make soak`) raises trial counts and file sizes; MO_FUZZ=1 (`make fuzz`) selects the
"mo-fuzz" hypothesis profile (more examples) instead of "mo-fast". Each knob can also be set on
its own (MO_CRASH_TRIALS, MO_CRASH_ROWS, MO_FUZZ_EXAMPLES, MO_WALK_STEPS, ...).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from eventlog_support import raw
from hypothesis import HealthCheck, settings

from mo.errors import MOError
from mo.store import Store

T = TypeVar("T")

SOAK = os.environ.get("MO_SOAK") == "1"
FUZZ = os.environ.get("MO_FUZZ") == "1"

# Every table holding tenant rows (a tenant_id column). `tenants` is the directory itself.
TENANT_TABLES = (
    "api_keys",
    "event_log",
    "idempotency_keys",
    "import_batches",
    "import_rejections",
    "ingredient_conversions",
    "ingredient_cost_policies",
    "ingredient_costs",
    "ingredient_names",
    "ingredients",
    "recipe_costs",
    "recipe_lines",
    "recipes",
    "supplier_items",
    "suppliers",
)
ALL_TABLES = ("tenants", *TENANT_TABLES)


def knob(name: str, fast: int, soak: int) -> int:
    """An integer size: the environment's value, else the soak/fuzz value, else the fast one."""
    value = os.environ.get(name)
    if value:
        return int(value)
    return soak if (SOAK or FUZZ) else fast


# ---- hypothesis -------------------------------------------------------------------------------
# Profiles are registered here and applied per test (settings(parent=...)), never loaded
# globally: other suites keep their own hypothesis defaults whatever MO_FUZZ says.
_COMMON: dict[str, Any] = {
    "deadline": None,  # a shared 2-core machine: time limits would only measure the neighbours
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,  # the database is meant to persist across examples
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    "print_blob": True,
}
# mo-fast: 15 examples per property in `make test` (25 until it had to fit its 6 minutes: the
# hostile-input, API-fuzz and export-safety files then took 66 s instead of 56 s, in one process).
settings.register_profile("mo-fast", max_examples=knob("MO_FUZZ_EXAMPLES", 15, 15), **_COMMON)
settings.register_profile("mo-fuzz", max_examples=knob("MO_FUZZ_EXAMPLES", 400, 400), **_COMMON)
PROFILE = os.environ.get("MO_HYPOTHESIS_PROFILE") or ("mo-fuzz" if FUZZ else "mo-fast")


def examples(*, fast: int, fuzz: int) -> int:
    """max_examples for a property outside the profiles: `fast` in `make test`, `fuzz` in
    `make fuzz` (MO_FUZZ=1)."""
    return fuzz if FUZZ else fast


def fuzz_settings(*, scale: float = 1.0) -> settings:
    """The selected profile, with max_examples scaled (a slow property runs fewer)."""
    parent = settings.get_profile(PROFILE)
    return settings(parent=parent, max_examples=max(1, int(parent.max_examples * scale)))


# ---- looking under the store ------------------------------------------------------------------


def row_counts(store: Store) -> dict[str, int]:
    """Rows per table, every tenant together, read with the raw driver (past the services,
    and on PostgreSQL as the connecting superuser, so row-level security hides nothing)."""
    union = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM {t}" for t in ALL_TABLES)
    return {str(name): int(n) for name, n in raw(store, union)}


def tenant_counts(store: Store, tenant_id: str) -> dict[str, int]:
    """Rows per tenant table that belong to one tenant (raw driver, as row_counts)."""
    union = " UNION ALL ".join(
        f"SELECT '{t}' AS t, count(*) AS n FROM {t} WHERE tenant_id = %s" for t in TENANT_TABLES
    )
    rows = raw(store, union, (tenant_id,) * len(TENANT_TABLES))
    return {str(name): int(n) for name, n in rows}


def events_by_type(store: Store, tenant_id: str, **where: Any) -> dict[str, int]:
    """How many events of each type the tenant has (optionally: idempotency_key=…, batch_id=…)."""
    clauses = "".join(f" AND {column} = %s" for column in where)
    rows = raw(
        store,
        f"SELECT event_type, count(*) FROM event_log WHERE tenant_id = %s{clauses}"
        " GROUP BY event_type",
        (tenant_id, *where.values()),
    )
    return {str(kind): int(n) for kind, n in rows}


# ---- inputs -----------------------------------------------------------------------------------


def price_list_frame(rows: int, *, tag: str = "", price_shift: int = 0) -> pd.DataFrame:
    """A plausible supplier price list: `rows` distinct items, each with a sku and a pack."""
    return pd.DataFrame(
        {
            "item": [f"{tag}Item {i}" for i in range(rows)],
            "sku": [f"{tag}S{i}" for i in range(rows)],
            "price": [f"{1 + (i + price_shift) % 97}.{i % 100:02d}" for i in range(rows)],
            "pack": [("1 kg", "6 x 1 kg", "500 g", "2 l", "12 each")[i % 5] for i in range(rows)],
        }
    )


def write_price_list(path: Path, rows: int, **shape: Any) -> Path:
    price_list_frame(rows, **shape).to_csv(path, index=False)
    return path


# ---- calling like a client would --------------------------------------------------------------


def outcome_of(call: Callable[[], T]) -> T | MOError | BaseException:
    """The call's result, or what it raised (kept, not re-raised): the caller inspects both."""
    try:
        return call()
    except BaseException as exc:  # noqa: BLE001 - an unexpected type is exactly what tests look for
        return exc


def together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls on threads released at the same instant; their outcomes, in order (see
    outcome_of)."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        outcomes[n] = outcome_of(calls[n])

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a caller hung"
    return outcomes


def retrying(call: Callable[[], T], *, attempts: int = 20, pause: float = 0.05) -> T:
    """Call again while mo answers a retryable error (what a well-behaved client does)."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except MOError as err:
            if not err.retryable or attempt == attempts:
                raise
            time.sleep(min(1.0, pause * attempt))
    raise AssertionError("unreachable")


# ---- figures for the README ----------------------------------------------------------------------

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "reliability"


def record(name: str, **figures: Any) -> None:
    """Write a run's figures (trials, inputs tried, failures) to test-artifacts/reliability/,
    and print them (`pytest -s` or `-rP` shows them): the README quotes a real run."""
    import json

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    entry = {"test": name, "soak": SOAK, "fuzz": FUZZ, "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
             **figures}
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(entry, indent=2, default=str) + "\n")
    print(f"\n[reliability] {json.dumps(entry, default=str)}")
