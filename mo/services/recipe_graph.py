"""The recipe graph's two rules, kept at write time: no recipe uses itself through its sub-recipes
(cycle_detected), and no chain of sub-recipes nests deeper than recompute can cost
(validation_error naming max_depth).

Each check reads one snapshot, so two saves running at once could each pass and together break a
rule. claim_and_bound makes such saves conflict: see recipes.lock_below.
"""

from __future__ import annotations

from collections.abc import Sequence

from mo.domain.context import TenantContext
from mo.errors import ErrorCode, MOError, validation_error
from mo.services.recompute import MAX_DEPTH
from mo.store.base import Tx


def refuse_cycles(tx: Tx, ctx: TenantContext, recipe_id: int, name: str, sub_ids: Sequence[int]) -> None:
    """cycle_detected when a sub-recipe is the recipe itself or one of its stored ancestors."""
    edges = tx.all("recipes.ancestor_edges", {"tenant_id": ctx.tenant_id, "recipe_id": recipe_id})
    down: dict[int, list[int]] = {}
    names = {recipe_id: name}
    for edge in edges:
        down.setdefault(int(edge["parent"]), []).append(int(edge["child"]))
        names[int(edge["parent"])] = edge["parent_name"]
    for sub_id in sub_ids:
        if sub_id in names:
            path = _path_down(sub_id, recipe_id, down)
            chain = [name, *(names[node] for node in path)]
            raise MOError(
                ErrorCode.CYCLE_DETECTED,
                "recipes would use each other in a cycle: " + " → ".join(chain),
                {"path": chain},
            )


def _path_down(start: int, goal: int, down: dict[int, list[int]]) -> list[int]:
    """Breadth-first: the shortest parent→child path from start to goal (both included)."""
    previous: dict[int, int | None] = {start: None}
    queue = [start]
    for node in queue:
        if node == goal:
            break
        for child in down.get(node, ()):
            if child not in previous:
                previous[child] = node
                queue.append(child)
    path, node_or_none = [], goal if goal in previous else None
    while node_or_none is not None:
        path.append(node_or_none)
        node_or_none = previous[node_or_none]
    return path[::-1]


def claim_and_bound(tx: Tx, ctx: TenantContext, recipe_ids: Sequence[int]) -> None:
    """After writing recipes and their lines: claim every recipe at or below them, so a
    concurrent save whose lines meet these on one path conflicts (and is retried) instead of
    closing a cycle or an over-long chain; then refuse a chain through them deeper than
    recompute's MAX_DEPTH levels, which would otherwise be stored and make every later update
    of its bottom ingredients fail."""
    params = {"tenant_id": ctx.tenant_id, "ids": [int(i) for i in recipe_ids]}
    if not params["ids"]:
        return
    tx.run("recipes.lock_below", params)
    levels = int(tx.scalar("recipes.chain_levels", {**params, "max_depth": MAX_DEPTH}) or 0)
    if levels >= MAX_DEPTH:
        raise validation_error(
            f"recipes would nest deeper than {MAX_DEPTH} levels", max_depth=MAX_DEPTH, levels=levels
        )
