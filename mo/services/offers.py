"""Offers and cost policies: which supplier's price an ingredient's cost follows.

An offer is one supplier's latest cost for an ingredient effective at an instant (a cost without
supplier is the "manual" offer). The rule choosing one offer per ingredient (latest, preferred,
lowest with a 30-day window) is cost_offers(tenant, as_of, ids), defined once per dialect by migration
V017; this module reads it and changes the policy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from mo.domain.context import TenantContext
from mo.domain.names import clean_name, name_key
from mo.domain.results import CostPolicyRecord, money
from mo.errors import validation_error
from mo.services.events import cost_updated_payload, emit_event
from mo.services.idempotency import run_idempotent
from mo.services.ingredients import find_active
from mo.store.base import Row, Store, Tx

POLICIES = ("latest", "preferred", "lowest")
STALE_DAYS = 30  # said in V017's cost_offers: an offer older than the newest by more never wins
OFFER_COLUMNS = [
    "ingredient", "supplier", "sku", "pack", "price", "unit_cost", "unit", "effective_at",
    "chosen", "source",
]


@dataclass(frozen=True)
class Chosen:
    """The chosen offer of one ingredient at an instant."""

    cost_id: int
    unit_cost: Decimal
    supplier: str | None

    def is_same_offer(self, other: Chosen | None) -> bool:
        """Whether `other` is what this one is: the same unit cost from the same supplier
        (compared case-insensitively, as cost_offers groups offers). A re-listing writes a new
        cost row, so the cost_id of an unchanged offer moves: it says nothing of the cost."""
        return (
            other is not None
            and other.unit_cost == self.unit_cost
            and (other.supplier or "").lower() == (self.supplier or "").lower()
        )


def moved(before: Chosen | None, after: Chosen | None) -> bool:
    """Whether the chosen offer moved from `before` to `after`: another unit cost or supplier."""
    return after is not None and not after.is_same_offer(before)


def chosen_at(
    tx: Tx, ctx: TenantContext, ingredient_id: int, *, at: datetime, now: datetime
) -> tuple[Chosen | None, Chosen | None]:
    """The ingredient's chosen offer at `at` and at `now` (None where it has none): one
    evaluation of the rule when the two instants are one, as they are for most writes."""
    if at == now:
        chosen = chosen_offer_now(tx, ctx, ingredient_id, now=now)
        return chosen, chosen
    params = {"tenant_id": ctx.tenant_id, "ingredient_id": ingredient_id, "at": at, "now": now}
    found = {r["instant"]: chosen_of(r) for r in tx.all("offers.chosen_at", params)}
    return found.get("at"), found.get("now")


def chosen_offer_now(
    tx: Tx, ctx: TenantContext, ingredient_id: int, *, now: datetime
) -> Chosen | None:
    """The ingredient's chosen offer at `now` (the transaction's clock), if it has one."""
    params = {"tenant_id": ctx.tenant_id, "ingredient_id": ingredient_id, "at": now}
    return chosen_of(tx.one("offers.chosen", params))


def chosen_of(row: Row | None) -> Chosen | None:
    """The Chosen offer in a row of cost_id, unit_cost and supplier (None: no row, or a NULL
    cost_id from an outer join)."""
    if row is None or row["cost_id"] is None:
        return None
    return Chosen(int(row["cost_id"]), Decimal(row["unit_cost"]), row["supplier"])


def emit_if_moved(
    tx: Tx,
    ctx: TenantContext,
    row: Row,
    *,
    before: Chosen | None,
    after: Chosen | None,
    at: datetime,
    source: str,
    key: str | None,
) -> bool:
    """ingredient.cost.updated when the chosen offer moved (naming the supplier now chosen)."""
    if after is None or after.is_same_offer(before):
        return False
    payload = cost_updated_payload(
        ingredient=row["name"],
        ingredient_id=int(row["id"]),
        old_unit_cost=None if before is None else before.unit_cost,
        new_unit_cost=after.unit_cost,
        effective_at=at,
        source=source,
        supplier=after.supplier,
    )
    emit_event(
        tx, ctx, "ingredient.cost.updated", "ingredient", row["id"], payload, idempotency_key=key
    )
    return True


# ------------------------------------------------------------------------------ set_cost_policy


def set_cost_policy(
    store: Store,
    ctx: TenantContext,
    ingredient: str,
    policy: str,
    *,
    supplier: str | None = None,
    idempotency_key: str,
) -> CostPolicyRecord:
    """Choose how `ingredient`'s cost is picked among its offers: "latest", "preferred" (needs
    `supplier`) or "lowest". When the chosen offer moves, ingredient.cost.updated is written and
    the recipes using it are recomputed, in the same transaction.

    Raises validation_error (policy, supplier), not_found (ingredient), idempotency_conflict.
    """
    name = clean_name(ingredient, field="ingredient")
    checked = _checked_policy(policy, supplier)
    request = {"ingredient": name_key(name), "policy": checked[0], "supplier": checked[1]}

    def work(tx: Tx) -> dict[str, Any]:
        return _apply_policy(tx, ctx, name, *checked, key=idempotency_key).to_dict()

    outcome = run_idempotent(
        store, ctx, key=idempotency_key, operation="set_cost_policy", request=request, work=work
    )
    return replace(CostPolicyRecord.from_dict(outcome.result), replayed=outcome.replayed)


def _checked_policy(policy: object, supplier: object) -> tuple[str, str | None]:
    if not isinstance(policy, str) or policy.strip().lower() not in POLICIES:
        raise validation_error(
            f"policy must be one of {', '.join(POLICIES)}", field="policy",
            value=str(policy)[:100], allowed=list(POLICIES),
        )
    chosen = policy.strip().lower()
    if chosen == "preferred" and supplier is None:
        raise validation_error("policy 'preferred' needs a supplier", field="supplier")
    if chosen != "preferred" and supplier is not None:
        raise validation_error(
            f"a supplier goes with policy 'preferred' only, not {chosen!r}", field="supplier"
        )
    return chosen, None if supplier is None else clean_name(supplier, field="supplier")


def _apply_policy(
    tx: Tx, ctx: TenantContext, name: str, policy: str, supplier: str | None, *, key: str
) -> CostPolicyRecord:
    from mo.services.costs import recompute_changed  # costs imports this module

    row = find_active(tx, ctx, name)
    ingredient_id = int(row["id"])
    now = tx.scalar("costs.now")
    before = chosen_offer_now(tx, ctx, ingredient_id, now=now)
    params = {"tenant_id": ctx.tenant_id, "ingredient_id": ingredient_id}
    tx.run("offers.set_policy", {**params, "policy": policy, "supplier": supplier})
    emit_event(
        tx, ctx, "ingredient.cost_policy.set", "ingredient", ingredient_id,
        {"ingredient": row["name"], "ingredient_id": ingredient_id, "policy": policy,
         "supplier": supplier},
        idempotency_key=key,
    )
    after = chosen_offer_now(tx, ctx, ingredient_id, now=now)
    emitted = emit_if_moved(
        tx, ctx, row, before=before, after=after, at=now, source="policy", key=key
    )
    recomputed = (
        recompute_changed(tx, ctx, [ingredient_id], cause="ingredient.cost.updated").recomputed
        if emitted else 0
    )
    return CostPolicyRecord(
        ingredient=row["name"], policy=policy, supplier=supplier,
        cost_supplier=None if after is None else after.supplier,
        unit_cost=None if after is None else money(after.unit_cost),
        changed=emitted, recomputed=recomputed, replayed=False,
    )


# ------------------------------------------------------------------------------------- reads


def offers_frame(store: Store, ctx: TenantContext, ingredient: str | None = None) -> pd.DataFrame:
    """Every offer in effect now (OFFER_COLUMNS), of one ingredient or all, by ingredient then
    newest first; `chosen` marks the one the ingredient's policy picks."""
    from mo.services.costs import typed_frame

    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        ingredient_id = None if ingredient is None else find_active(tx, ctx, ingredient)["id"]
        rows = tx.all("offers.listed", {"tenant_id": ctx.tenant_id, "ingredient_id": ingredient_id})
    frame = typed_frame(
        rows, OFFER_COLUMNS, decimals=("price", "unit_cost"), times=("effective_at",)
    )
    frame["chosen"] = frame["chosen"].astype("boolean")
    return frame
