"""Events are written in the writer's transaction: both commit, or neither does."""

from __future__ import annotations

import pytest

from mo.domain.context import TenantContext
from mo.errors import MOError
from mo.services.events import emit_event
from mo.store import Store
from mo.store.base import Tx


def _count(store: Store, ctx: TenantContext, query: str) -> int:
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        return len(tx.all(query, {"tenant_id": ctx.tenant_id}))


class Boom(Exception):
    pass


def test_a_write_that_raises_after_emit_event_leaves_neither_row_nor_event(store: Store, ctx: TenantContext) -> None:
    events_before = _count(store, ctx, "testing.events")

    def work(tx: Tx) -> None:
        tx.run("ingredients.insert", {"tenant_id": ctx.tenant_id, "name": "Salt", "name_key": "salt",
                                      "family": "mass", "base_unit": "g", "category": None,
                                      "density": None, "yield_pct": 100})
        emit_event(tx, ctx, "ingredient.created", "ingredient", 1, {"name": "Salt"})
        raise Boom("after the event")

    with pytest.raises(Boom):
        store.atomic(work, tenant_id=ctx.tenant_id)
    assert _count(store, ctx, "testing.ingredients") == 0
    assert _count(store, ctx, "testing.events") == events_before


def test_a_committed_write_has_its_event(store: Store, ctx: TenantContext) -> None:
    from mo.services.ingredients import add_ingredient

    before = _count(store, ctx, "testing.events")
    add_ingredient(store, ctx, "Salt", unit="g")
    assert _count(store, ctx, "testing.ingredients") == 1
    assert _count(store, ctx, "testing.events") == before + 1


def test_unknown_event_types_are_refused(store: Store, ctx: TenantContext) -> None:
    with pytest.raises(MOError) as caught:
        store.atomic(lambda tx: emit_event(tx, ctx, "ingredient.teleported", "ingredient", 1, {}),
                     tenant_id=ctx.tenant_id)
    assert caught.value.code.value == "validation_error"
    assert caught.value.details == {"event_type": "ingredient.teleported"}
