"""A unique-rule clash inside idempotent work, while the key is not committed.

A racing duplicate can get past its claim and break another unique rule while the first caller
is still in flight (DuckDB). run_idempotent tries again, so the duplicate meets the committed
key or waits on its claim; a clash that is the request's own comes back every time and is
raised as conflict, with nothing written.
"""

from __future__ import annotations

from typing import Any

import pytest

from mo.domain.context import TenantContext
from mo.errors import ErrorCode, MOError
from mo.services.idempotency import CONFLICT_RETRIES, run_idempotent
from mo.store import Store
from mo.store.base import Tx


def _insert_salt(tx: Tx, ctx: TenantContext) -> int:
    return int(tx.scalar("ingredients.insert", {
        "tenant_id": ctx.tenant_id, "name": "Salt", "name_key": "salt", "family": "mass",
        "base_unit": "g", "category": None, "density": None, "yield_pct": 100}))


def _ingredients(store: Store, ctx: TenantContext) -> list[Any]:
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        return tx.all("testing.ingredients", {"tenant_id": ctx.tenant_id})


def _salt_exists(store: Store, ctx: TenantContext) -> None:
    store.atomic(lambda tx: _insert_salt(tx, ctx), tenant_id=ctx.tenant_id)


def test_a_clash_that_clears_is_tried_again_and_applied_once(store: Store, ctx: TenantContext) -> None:
    _salt_exists(store, ctx)
    attempts: list[int] = []

    def work(tx: Tx) -> dict[str, Any]:
        attempts.append(1)
        if len(attempts) == 1:
            _insert_salt(tx, ctx)  # breaks the active-name rule, as a duplicate's work would
        tx.run("ingredients.insert", {
            "tenant_id": ctx.tenant_id, "name": "Pepper", "name_key": "pepper", "family": "mass",
            "base_unit": "g", "category": None, "density": None, "yield_pct": 100})
        return {"done": len(attempts)}

    outcome = run_idempotent(store, ctx, key="k1", operation="probe", request={}, work=work)
    assert (outcome.result, outcome.replayed) == ({"done": 2}, False)
    assert len(_ingredients(store, ctx)) == 2
    again = run_idempotent(store, ctx, key="k1", operation="probe", request={}, work=work)
    assert (again.result, again.replayed, len(attempts)) == ({"done": 2}, True, 2)


def test_a_clash_of_the_request_s_own_is_raised_as_conflict_and_writes_nothing(
    store: Store, ctx: TenantContext
) -> None:
    _salt_exists(store, ctx)
    attempts: list[int] = []

    def work(tx: Tx) -> dict[str, Any]:
        attempts.append(1)
        _insert_salt(tx, ctx)
        return {}

    with pytest.raises(MOError) as caught:
        run_idempotent(store, ctx, key="k2", operation="probe", request={}, work=work)
    assert caught.value.code is ErrorCode.CONFLICT
    assert len(attempts) == 1 + CONFLICT_RETRIES
    assert len(_ingredients(store, ctx)) == 1
    # The key was never committed: the same request may run again.
    outcome = run_idempotent(store, ctx, key="k2", operation="probe", request={},
                             work=lambda tx: {"ok": True})
    assert (outcome.result, outcome.replayed) == ({"ok": True}, False)
