"""Sanity: the platform's cross-table invariants checked in SQL over one tenant.

The checks live in sql/queries/sanity.sql (the "sanity SQL"), one named query each, so an
operator can run the same statements by hand. Each returns the rows that break its rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from mo.domain.context import TenantContext
from mo.store.base import Row, Store, Tx

SAMPLE = 5  # offending rows each check query returns; `problems` gives the full count


@dataclass(frozen=True)
class Check:
    name: str
    query: str
    rule: str  # the detail when the check holds
    describe: Callable[[Row], str]  # one offending row, in words


CHECKS: tuple[Check, ...] = (
    Check("completed_imports_have_one_event", "sanity.imports_without_one_completed_event",
          "every completed price-list import has exactly one import.completed event",
          lambda r: f"batch {r['batch_id']} has {r['events']} import.completed events"),
    Check("cost_rows_have_events", "sanity.costs_without_event",
          "every ingredient cost row has its ingredient.cost.updated event",
          lambda r: f"cost {r['cost_id']} (ingredient {r['ingredient_id']}, batch {r['batch_id']}, "
                    f"key {r['idempotency_key']!r}) has no ingredient.cost.updated event"),
    Check("recipe_costs_current", "sanity.stale_recipe_costs",
          "no recipe cost is older than the latest cost change of an ingredient it uses",
          lambda r: f"recipe {r['recipe_id']} computed {r['computed_at']} "
                    f"before a cost change at {r['latest_cost_change']}"),
    Check("events_point_at_rows", "sanity.events_without_row",
          "every ingredient, recipe and import_batch event names an existing row",
          lambda r: f"{r['events']} event(s) name missing {r['aggregate_type']} {r['aggregate_id']}"),
)


def sanity(store: Store, ctx: TenantContext) -> pd.DataFrame:
    """Run every invariant check for the tenant in one read transaction.

    Returns columns check (str), ok (bool), detail (str): first an informational
    "event_counts" row (events per type in the last hour), then one row per CHECKS entry,
    ok False with the offending rows described when its rule is broken. Raises MOError only
    when the database fails.
    """
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        tx.plan_for_whole_tables()
        rows = [_event_counts(tx, ctx)] + [_run(tx, ctx, check) for check in CHECKS]
    frame = pd.DataFrame(rows, columns=["check", "ok", "detail"])
    return frame.astype({"check": "str", "ok": "bool", "detail": "str"})


def _event_counts(tx: Tx, ctx: TenantContext) -> tuple[str, bool, str]:
    counts = tx.all("sanity.event_counts_last_hour", {"tenant_id": ctx.tenant_id})
    listed = ", ".join(f"{r['event_type']}={r['events']}" for r in counts)
    return "event_counts", True, f"last hour: {listed}" if listed else "last hour: no events"


def _run(tx: Tx, ctx: TenantContext, check: Check) -> tuple[str, bool, str]:
    offending = tx.all(check.query, {"tenant_id": ctx.tenant_id})
    if not offending:
        return check.name, True, check.rule
    total = int(offending[0]["problems"])
    listed = "; ".join(check.describe(r) for r in offending)
    more = f"; and {total - len(offending)} more" if total > len(offending) else ""
    return check.name, False, f"{total} problem(s): {listed}{more}"
