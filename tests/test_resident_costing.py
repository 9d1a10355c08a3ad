"""The embedded DuckDB store's resident recipe graph, and the Python costing that uses it, give
exactly what the set-based SQL path gives: the same stored figures, the same rows rewritten and
the same events, on random recipe books under random edits. And the copy is never stale: every
write to recipes, recipe_lines or ingredients, through any store on the file in this process,
retires it, and a transaction that wrote them (or runs beside one that is writing) gets none.
DuckDB only: PostgreSQL keeps no copy (any number of processes write it)."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mo.context import TenantContext
from mo.errors import MOError
from mo.services import recipes as rec
from mo.services import resident_costing, tenants
from mo.services.costs import update_cost
from mo.services.ingredients import add_ingredient, delete_ingredient, restore_ingredient
from mo.services.recompute import recompute, recompute_for
from mo.store import Store, open_store
from mo.store import duckdb_store
from mo.store.resident_graph import MAX_COPIES

UNITS = {"g": ("g", "kg"), "ml": ("ml", "l"), "each": ("each", "dozen")}
PACKS = {"g": ("1 kg", "500 g", "6 x 1 kg"), "ml": ("1 l", "750 ml"), "each": ("1 each", "case of 24")}


class Book:
    """A random recipe book, and random edits to it, applied the same way to any store."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.items: list[tuple[str, str]] = []
        self.recipes: list[tuple[str, str]] = []  # (name, yield unit)

    def build(self) -> list[Callable[[Store, TenantContext], Any]]:
        rng, steps = self.rng, []
        for i in range(rng.randint(6, 12)):
            unit = rng.choice(sorted(UNITS))
            density = rng.choice([None, "0.92", "1.03"]) if unit != "each" else None
            yield_pct = rng.choice(["100", "100", "80", "72.5"])
            self.items.append((f"Item {i}", unit))
            steps.append(_add(f"Item {i}", unit, density, yield_pct))
            if rng.random() < 0.85:
                steps.append(self.reprice(f"Item {i}", unit))
        for r in range(rng.randint(15, 30)):
            steps.append(self.save(f"Recipe {r}", len(self.recipes)))
        return steps

    def reprice(self, name: str, unit: str) -> Callable[[Store, TenantContext], Any]:
        price, pack = f"{self.rng.randint(1, 4000) / 100}", self.rng.choice(PACKS[unit])
        key = uuid.uuid4().hex  # one key per step, the same on both stores
        return lambda store, ctx: update_cost(store, ctx, name, price, per=pack, idempotency_key=key)

    def save(self, name: str, earlier: int) -> Callable[[Store, TenantContext], Any]:
        rng = self.rng
        lines = []
        for _ in range(rng.randint(1, 5)):
            if earlier and rng.random() < 0.45:
                sub, sub_unit = self.recipes[rng.randrange(earlier)]
                qty = rng.choice(["0.25", "1", "2", "0.333"])
                lines.append({"recipe": sub, "qty": qty, "unit": sub_unit})
            else:
                item, unit = rng.choice(self.items)
                line_unit = rng.choice(UNITS[unit] if unit == "each" else UNITS["g"] + UNITS["ml"])
                lines.append({"ingredient": item, "qty": rng.choice(["1", "2.5", "100", "0.333"]),
                              "unit": line_unit, "waste_pct": rng.choice(["0", "0", "5", "12.5"])})
        yield_unit = rng.choice(["portion", "tray", "g", "kg"])
        yield_qty = rng.choice(["1", "2", "4", "0.5", "1.5"])
        menu_price = rng.choice([None, "12.50", "3"])
        if name not in {n for n, _ in self.recipes}:
            self.recipes.append((name, yield_unit))

        def apply(store: Store, ctx: TenantContext) -> Any:
            return rec.save_recipe(store, ctx, name, yield_qty=yield_qty, yield_unit=yield_unit,
                                   lines=lines, menu_price=menu_price)
        return apply

    def edit(self) -> Callable[[Store, TenantContext], Any]:
        """Mostly cost updates (the resident path); now and then an edit that retires the copy."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.7:
            return self.reprice(*rng.choice(self.items))
        name = rng.choice(self.items)[0] if roll < 0.8 else rng.choice(self.recipes)[0]
        if roll < 0.8:
            return _toggle(delete_ingredient, restore_ingredient, name)
        if roll < 0.9:
            return _toggle(rec.delete_recipe, rec.restore_recipe, name)
        return lambda store, ctx: recompute(store, ctx, recipes=[name])


def _add(name: str, unit: str, density: str | None, yield_pct: str) -> Callable[..., Any]:
    return lambda store, ctx: add_ingredient(store, ctx, name, unit=unit, density=density,
                                             yield_pct=yield_pct)


def _toggle(delete: Callable[..., Any], restore: Callable[..., Any], name: str) -> Callable[..., Any]:
    def apply(store: Store, ctx: TenantContext) -> Any:
        try:
            return delete(store, ctx, name)
        except MOError:  # already deleted (or in use): bring it back instead
            return restore(store, ctx, name)
    return apply


def _state(store: Store, ctx: TenantContext) -> tuple[list[tuple[Any, ...]], list[str]]:
    """Every stored recipe cost and every event, as comparable rows (computed_at as an order)."""
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        costs = tx.all("testing.recipe_costs", {"tenant_id": ctx.tenant_id})
        events = tx.all("testing.events", {"tenant_id": ctx.tenant_id})
    stamps = sorted({row["computed_at"] for row in costs})
    return (
        [(r["recipe_id"], r["total_cost"], r["unit_cost"], r["food_cost_pct"], r["complete"],
          r["missing"], stamps.index(r["computed_at"])) for r in costs],
        # One statement writes a recompute's events in no particular order: compare them as a set.
        sorted(json.dumps([e["event_type"], e["aggregate_id"].replace(ctx.tenant_id, "T"),
                           _timeless(e["payload"])], sort_keys=True) for e in events),
    )


def _timeless(payload: str) -> dict[str, Any]:
    """A payload without its clock readings, which two stores cannot share."""
    return {k: v for k, v in json.loads(payload).items() if not k.endswith("_at")}


@pytest.fixture
def twin(tmp_path: Path) -> Iterator[tuple[tuple[Store, TenantContext], tuple[Store, TenantContext]]]:
    """Two fresh DuckDB files: the first costs from its resident graph, the second never does."""
    pair = []
    for name in ("resident", "sql"):
        store = open_store(f"duckdb:///{tmp_path / name}.duckdb")
        tenants.create_tenant(store, "t")
        pair.append((store, tenants.resolve_tenant(store, "t")))
    yield pair[0], pair[1]
    for store, _ in pair:
        store.close()


@pytest.fixture
def used(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each resident recompute's outcome: True when it costed, False when it left it to SQL."""
    outcomes: list[bool] = []
    real = resident_costing.recompute_resident

    def spy(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        outcomes.append(result is not None)
        return result

    monkeypatch.setattr("mo.services.recompute.recompute_resident", spy)
    return outcomes


def _without_copy(store: Store, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Make `store` take the SQL path (its transactions get no copy) until the returned undo."""
    real = duckdb_store.DuckDBTx.recipe_graph

    def choose(tx: duckdb_store.DuckDBTx, tenant_id: str) -> Any:
        return None if tx._watch is store._watch else real(tx, tenant_id)  # type: ignore[attr-defined]

    monkeypatch.setattr(duckdb_store.DuckDBTx, "recipe_graph", choose)
    return lambda: monkeypatch.setattr(duckdb_store.DuckDBTx, "recipe_graph", real)


@pytest.mark.parametrize("seed", range(8))
def test_the_resident_path_gives_exactly_what_sql_gives(
    seed: int, twin: Any, used: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    (resident, ctx_r), (sql, ctx_s) = twin
    _without_copy(sql, monkeypatch)
    book = Book(seed)
    steps = book.build() + [book.edit() for _ in range(60)]
    for step in steps:
        outcomes = []
        for store, ctx in ((resident, ctx_r), (sql, ctx_s)):
            try:
                outcomes.append(("ok", step(store, ctx)))
            except MOError as err:
                outcomes.append(("error", err.code, err.details))
        assert _comparable(outcomes[0]) == _comparable(outcomes[1])
        assert _state(resident, ctx_r) == _state(sql, ctx_s)
    assert sum(used) >= 10, f"the resident path costed {sum(used)} of {len(used)} recomputes"


def _comparable(outcome: tuple[Any, ...]) -> tuple[Any, ...]:
    if outcome[0] == "ok" and hasattr(outcome[1], "to_dict"):
        fields = outcome[1].to_dict()
        return ("ok", {k: v for k, v in fields.items() if k not in ("created_at", "updated_at")})
    return outcome if outcome[0] == "error" else ("ok", outcome[1])


def _cake(store: Store, ctx: TenantContext) -> None:
    add_ingredient(store, ctx, "Flour", unit="g")
    add_ingredient(store, ctx, "Sugar", unit="g")
    update_cost(store, ctx, "Flour", "2", per="1 kg", idempotency_key="f1")
    update_cost(store, ctx, "Sugar", "4", per="1 kg", idempotency_key="s1")
    rec.save_recipe(store, ctx, "Sponge", yield_qty=1, yield_unit="kg",
                    lines=[{"ingredient": "flour", "qty": 500, "unit": "g"}])
    rec.save_recipe(store, ctx, "Cake", yield_qty=1, yield_unit="cake",
                    lines=[{"recipe": "sponge", "qty": 1, "unit": "kg"}])


@pytest.fixture
def cake(tmp_path: Path) -> Iterator[tuple[Store, TenantContext]]:
    """A DuckDB file with Flour and Sugar priced, Sponge (flour) and Cake (a kilo of sponge)."""
    store = open_store(f"duckdb:///{tmp_path / 'cake.duckdb'}")
    tenants.create_tenant(store, "t")
    ctx = tenants.resolve_tenant(store, "t")
    _cake(store, ctx)
    yield store, ctx


def _total(store: Store, ctx: TenantContext, name: str) -> str:
    frame = rec.recipes_frame(store, ctx)
    return str(frame.set_index("name").loc[name, "total_cost"])


def test_an_edit_retires_the_copy(cake: tuple[Store, TenantContext], used: list[bool]) -> None:
    store, ctx = cake
    used.clear()
    update_cost(store, ctx, "Flour", "3", per="1 kg", idempotency_key="f2")  # builds the copy
    assert used == [True]
    assert _total(store, ctx, "Cake") == "1.5"
    rec.save_recipe(store, ctx, "Sponge", yield_qty=1, yield_unit="kg",
                    lines=[{"ingredient": "flour", "qty": 500, "unit": "g"},
                           {"ingredient": "sugar", "qty": 250, "unit": "g"}])
    update_cost(store, ctx, "Sugar", "8", per="1 kg", idempotency_key="s2")
    assert used[-1] is True and _total(store, ctx, "Cake") == "3.5"  # 1.5 + 0.25 kg × 8
    delete_ingredient(store, ctx, "Sugar")
    update_cost(store, ctx, "Flour", "4", per="1 kg", idempotency_key="f3")
    frame = rec.recipes_frame(store, ctx).set_index("name")
    assert str(frame.loc["Cake", "total_cost"]) == "2" and not frame.loc["Cake", "complete"]


def test_every_store_on_the_file_sees_the_others_writes(tmp_path: Path, used: list[bool]) -> None:
    url = f"duckdb:///{tmp_path / 'shared.duckdb'}"
    first = open_store(url)
    tenants.create_tenant(first, "t")
    ctx = tenants.resolve_tenant(first, "t")
    _cake(first, ctx)
    update_cost(first, ctx, "Flour", "3", per="1 kg", idempotency_key="f2")  # first's copy
    second = open_store(url)  # DuckDB shares one database between connections in a process
    rec.save_recipe(second, ctx, "Sponge", yield_qty=2, yield_unit="kg",
                    lines=[{"ingredient": "flour", "qty": 500, "unit": "g"}])
    update_cost(first, ctx, "Flour", "4", per="1 kg", idempotency_key="f3")
    assert used[-1] is True and _total(first, ctx, "Cake") == "1"  # 0.5 kg × 4 ÷ 2 kg
    second.close()
    first.close()


def test_a_transaction_beside_a_graph_writer_gets_no_copy(cake: tuple[Store, TenantContext]) -> None:
    store, ctx = cake
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        assert tx.recipe_graph(ctx.tenant_id) is not None
    with store.transaction(tenant_id=ctx.tenant_id) as writer:
        writer.run("testing.touch_recipes", {"tenant_id": ctx.tenant_id})
        assert writer.recipe_graph(ctx.tenant_id) is None  # it wrote the graph itself
        with store.transaction(tenant_id=ctx.tenant_id) as beside:
            assert beside.recipe_graph(ctx.tenant_id) is None  # a writer is in flight
    with store.transaction(tenant_id=ctx.tenant_id) as after:
        assert after.recipe_graph(ctx.tenant_id) is not None


def test_a_rolled_back_write_still_retires_the_copy(cake: tuple[Store, TenantContext]) -> None:
    store, ctx = cake
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        copy = tx.recipe_graph(ctx.tenant_id)
    with pytest.raises(RuntimeError), store.transaction(tenant_id=ctx.tenant_id) as tx:
        tx.run("testing.touch_recipes", {"tenant_id": ctx.tenant_id})
        raise RuntimeError("abandon")
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        fresh = tx.recipe_graph(ctx.tenant_id)
    assert copy is not None and fresh is not None and fresh is not copy


def test_amounts_beyond_the_copy_fall_back_to_sql(cake: tuple[Store, TenantContext], used: list[bool]) -> None:
    """A price past int64 at 12 places is left to the SQL path, which costs it the same way."""
    store, ctx = cake
    used.clear()
    update_cost(store, ctx, "Flour", "99999999999", per="1 g", idempotency_key="huge")
    assert used == [False]
    assert _total(store, ctx, "Cake") == "49999999999500"


def test_both_kinds_of_recompute_share_one_transaction(cake: tuple[Store, TenantContext], used: list[bool]) -> None:
    """The resident path stages its rows as views named like the SQL path's work tables: each
    must make way for the other within one transaction, in either order."""
    store, ctx = cake
    salt = add_ingredient(store, ctx, "Salt", unit="g").id  # used by nothing: an empty scope
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        ids = {r["name"]: r["id"] for r in tx.all("testing.ingredients", {"tenant_id": ctx.tenant_id})}
    flour = ids["Flour"]
    used.clear()

    def work(tx: Any) -> list[int]:
        return [recompute_for(tx, ctx, ingredient_ids=[i], cause="test").recomputed
                for i in (salt, flour, salt, flour)]

    assert store.atomic(work, tenant_id=ctx.tenant_id) == [0, 2, 0, 2]
    assert used == [False, True, False, True]


def test_a_file_keeps_a_bounded_number_of_copies(tmp_path: Path) -> None:
    store = open_store(f"duckdb:///{tmp_path / 'many.duckdb'}")
    tenants_made = []
    for n in range(MAX_COPIES + 2):
        tenants.create_tenant(store, f"t{n}")
        tenants_made.append(tenants.resolve_tenant(store, f"t{n}"))
    copies = []
    for ctx in tenants_made:
        with store.transaction(tenant_id=ctx.tenant_id) as tx:
            copies.append(tx.recipe_graph(ctx.tenant_id))
    watch = store._watch  # type: ignore[attr-defined]
    assert len(watch.copies) == MAX_COPIES
    assert list(watch.copies) == [ctx.tenant_id for ctx in tenants_made[-MAX_COPIES:]]
    with store.transaction(tenant_id=tenants_made[-1].tenant_id) as tx:
        assert tx.recipe_graph(tenants_made[-1].tenant_id) is copies[-1]  # still held
    store.close()
