"""A resident copy of each tenant's recipe graph, kept by the embedded DuckDB store.

Why: a cost update re-costs the recipes above one ingredient (about 1% of them at 100k recipes),
but finding them and their lines in SQL reads recipe_lines twice (800k rows) and plans a dozen
operators: about 45 of a 75 ms update. DuckDB uses no index for a few thousand scattered keys.
An embedded DuckDB file has one writer process, and in it every write goes through mo's
stores, so the store can keep the tenant's lines, recipes and ingredients in memory (numpy:
about 80 MB for 100k recipes / 800k lines) and knows when a transaction may have changed them.
The costing that uses the copy is mo/services/resident_costing.py.

Validity (GraphWatch, one per database file in the process): `generation` moves when a
transaction first writes one of GRAPH_TABLES and again when that transaction ends, committed or
not; `writers` counts such transactions in flight. A transaction may build or use a copy only
if, when it began (before its snapshot), no such writer was in flight, and the generation is
still the one it saw then: no commit can have changed those tables between the copy's snapshot
and its own. A write with the driver behind the store's back (duckdb.connect on the same file
in the same process) is not seen: mo's stores are the file's only writers.

The walk mirrors recompute.scope_walk step for step; tests/test_resident_costing.py compares
the two paths on random recipe books.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# The tables a copy holds rows of: a transaction writing any of them retires every copy.
GRAPH_TABLES = ("recipes", "recipe_lines", "ingredients")
# Copies kept per database, least recently built dropped first: one is ~80 MB at 100k recipes,
# and `mo serve` may cost updates for many tenants.
MAX_COPIES = 4


@dataclass
class GraphWatch:
    """Generation and writers of one database's graph tables, and its copies (one per tenant)."""

    generation: int = 0
    writers: int = 0
    # tenant → (generation, copy); None when the tenant's graph holds what no copy can (TooWide).
    copies: dict[str, tuple[int, RecipeGraph | None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def state(self) -> tuple[int, bool]:
        with self.lock:
            return self.generation, self.writers == 0

    def writer_started(self) -> None:
        with self.lock:
            self.writers += 1
            self._moved()

    def writer_ended(self) -> None:
        with self.lock:
            self.writers -= 1
            self._moved()

    def _moved(self) -> None:
        self.generation += 1
        self.copies.clear()

    def copy_for(self, tenant_id: str, generation: int) -> tuple[bool, RecipeGraph | None]:
        """(whether a copy was made at `generation`, and the copy)."""
        with self.lock:
            held = self.copies.get(tenant_id)
            return (True, held[1]) if held is not None and held[0] == generation else (False, None)

    def keep(self, tenant_id: str, generation: int, graph: RecipeGraph | None) -> bool:
        """Keep a copy built at `generation` if nothing moved since; True when it was kept."""
        with self.lock:
            if self.generation != generation or self.writers:
                return False
            self.copies.pop(tenant_id, None)
            while len(self.copies) >= MAX_COPIES:
                del self.copies[next(iter(self.copies))]
            self.copies[tenant_id] = (generation, graph)
            return True


_WATCHES: weakref.WeakValueDictionary[str, GraphWatch] = weakref.WeakValueDictionary()
_WATCHES_LOCK = threading.Lock()


def watch_for(database: str) -> GraphWatch:
    """The one watch of a database file in this process: DuckDB connections to the same file in
    one process share one database, so every store on it must see the others' writes."""
    with _WATCHES_LOCK:
        watch = _WATCHES.get(database)
        if watch is None:
            watch = GraphWatch()
            _WATCHES[database] = watch
        return watch


@dataclass(frozen=True)
class Scope:
    """The active recipes a walk found (ascending ids), with their levels (the order costing
    needs)."""

    recipe_ids: np.ndarray
    levels: np.ndarray

    @property
    def size(self) -> int:
        return len(self.recipe_ids)

    def by_level(self) -> list[tuple[int, int]]:
        """(recipe id, level), lowest level first."""
        order = np.argsort(self.levels, kind="stable")
        return list(zip(self.recipe_ids[order].tolist(), self.levels[order].tolist()))


@dataclass(frozen=True)
class _Index:
    """keys (sorted) → values: the values of keys[i] are values[starts[i]:ends[i]]."""

    keys: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, keys: np.ndarray, values: np.ndarray) -> _Index:
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], values[order])

    def lookup(self, wanted: np.ndarray) -> np.ndarray:
        """Every value of the wanted keys, as distinct sorted values."""
        starts = np.searchsorted(self.keys, wanted, side="left")
        ends = np.searchsorted(self.keys, wanted, side="right")
        return np.unique(self.values[_ranges(starts, ends)])


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The concatenated positions of [starts[i], ends[i]) for every i, without a Python loop."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(total, dtype=np.int64)


def _ids(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """An id column as int64, nulls as -1 (ids are positive)."""
    return np.asarray(pc.fill_null(column, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


class TooWide(ValueError):
    """A DECIMAL(38,12) amount beyond int64's range: the copy cannot hold it as a scaled int."""


def scaled_values(column: pa.ChunkedArray | pa.Array) -> list[int | None]:
    """A DECIMAL(38,12) column as exact Python ints (value × 10^12), whatever their size."""
    try:
        values, valid = scaled_ints(column)
    except TooWide:
        return [None if v is None else int(v.scaleb(12)) for v in column.to_pylist()]
    return [v if ok else None for v, ok in zip(values.tolist(), valid.tolist())]


def scaled_ints(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A DECIMAL(38,12) column as (value × 10^12 as int64, is-not-null), read straight from
    Arrow's 16-byte little-endian two's-complement words. Raises TooWide past int64 (an
    amount of 9.2 million units or more: the copy then refuses, and SQL costs the graph)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_decimal(array.type) or array.type.scale != 12:
        raise TypeError(f"expected DECIMAL(38, 12), got {array.type}")
    count = len(array)
    words = np.frombuffer(array.buffers()[1], dtype="<i8", count=2 * (array.offset + count))
    pairs = words[2 * array.offset:].reshape(-1, 2)
    low, high = pairs[:, 0], pairs[:, 1]
    valid = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    if not np.all((high == (low >> 63)) | ~valid):
        raise TooWide("an amount is too large for the resident graph")
    return np.where(valid, low, 0), valid


class _Codes:
    """Short texts (units, families) as small ints, one table for every column."""

    def __init__(self) -> None:
        self._code: dict[str | None, int] = {}

    def code_of(self, text: str | None) -> int:
        return self._code.get(text, -1)

    def encode(self, column: pa.ChunkedArray | pa.Array) -> np.ndarray:
        encoded = pc.dictionary_encode(column)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.unify_dictionaries().combine_chunks()
        codes = np.array([self._code.setdefault(text, len(self._code))
                          for text in encoded.dictionary.to_pylist()] + [-1], dtype=np.int32)
        indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
        return codes[indices]


@dataclass(frozen=True)
class IngredientLines:
    """The scope's ingredient lines, grouped by recipe; units and families as codes."""

    recipe_id: np.ndarray
    ingredient_id: np.ndarray
    family: np.ndarray
    base_unit: np.ndarray
    qty_base: np.ndarray  # value × 10^12
    waste_pct: np.ndarray  # value × 10^12


@dataclass(frozen=True)
class SubLines:
    """The scope's lines whose sub-recipe exists (deleted or not), as Python lists."""

    recipe_id: list[int]
    sub_id: list[int]
    share: list[int | None]  # None: the line could not be costed when saved
    usable: list[bool]  # the sub is active and yields in the line's unit
    qty_base: list[int]
    sub_yield_base_qty: list[int]
    sub_name: list[str]
    outside: list[bool]  # the sub is not in the scope


@dataclass(frozen=True)
class Ingredients:
    """The tenant's ingredients (deleted ones too), by id; units and families as codes."""

    ids: np.ndarray  # sorted
    names: list[str]
    family: np.ndarray
    base_unit: np.ndarray
    density: np.ndarray  # value × 10^12; 0 where has_density is false
    has_density: np.ndarray
    yield_pct: np.ndarray  # value × 10^12
    deleted: np.ndarray

    def rows(self, ingredient_ids: np.ndarray) -> np.ndarray:
        """Each id's row, -1 where the tenant has no such ingredient."""
        return rows_of(self.ids, ingredient_ids)


def rows_of(sorted_ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Each wanted id's position in sorted_ids, -1 where it is absent."""
    if not len(sorted_ids):
        return np.full(len(wanted), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_ids, wanted), len(sorted_ids) - 1)
    return np.where(sorted_ids[pos] == wanted, pos, -1)


@dataclass(frozen=True)
class ScopeLines:
    ingredients: IngredientLines
    subs: SubLines


class RecipeGraph:
    """One tenant's recipe lines and recipes, as of one snapshot, indexed for walking up and
    holding what costing needs of them."""

    @classmethod
    def build(cls, lines: pa.Table, recipes: pa.Table, ingredients: pa.Table) -> RecipeGraph | None:
        """The copy, or None when an amount is too large for it (SQL then costs the graph)."""
        try:
            return cls(lines, recipes, ingredients)
        except TooWide:
            return None

    def __init__(self, lines: pa.Table, recipes: pa.Table, ingredients: pa.Table) -> None:
        """lines ordered by recipe_id, recipes and ingredients by id (the graph_* queries)."""
        codes = _Codes()
        self._codes = codes
        owner = _ids(lines["recipe_id"])
        if np.any(owner[1:] < owner[:-1]):  # every lookup below relies on the order
            raise ValueError("recipe lines must come ordered by recipe_id")
        self._line_owner = owner
        self._ingredient, self._sub = _ids(lines["ingredient_id"]), _ids(lines["sub_recipe_id"])
        self._family, self._base_unit = codes.encode(lines["family"]), codes.encode(lines["base_unit"])
        self._qty, _ = scaled_ints(lines["qty_base"])
        self._waste, _ = scaled_ints(lines["waste_pct"])
        self._share, self._has_share = scaled_ints(lines["share"])
        uses = self._ingredient >= 0
        self._users = _Index.of(self._ingredient[uses], owner[uses])
        subs = self._sub >= 0
        self._parents = _Index.of(self._sub[subs], owner[subs])
        self._recipes = recipes.select(["name", "yield_qty", "menu_price", "updated_at"])
        self._recipe_ids = _ids(recipes["id"])
        if np.any(self._recipe_ids[1:] <= self._recipe_ids[:-1]):
            raise ValueError("recipes must come ordered by id")
        self._deleted = np.asarray(recipes["deleted"].to_numpy(zero_copy_only=False), dtype=bool)
        self._names = np.asarray(recipes["name"].to_pylist(), dtype=object)
        self._yield_base = codes.encode(recipes["yield_base"])
        self._yield_base_qty, _ = scaled_ints(recipes["yield_base_qty"])
        self.ingredients = _ingredients(ingredients, codes)

    def walk_up(self, *, recipe_ids: Sequence[int], ingredient_ids: Sequence[int],
                max_depth: int) -> Scope:
        """The seed recipes, the recipes using a seed ingredient and every recipe above them,
        as recompute.scope_walk finds them: step d holds the parents of step d-1 (through
        deleted recipes too); a recipe's level ranks its last step densely among the active
        ones. Empty when nothing is active or the walk reaches max_depth (a cycle?)."""
        step = np.unique(np.concatenate([
            np.asarray(recipe_ids, dtype=np.int64),
            self._users.lookup(np.asarray(ingredient_ids, dtype=np.int64)),
        ]))
        last_step: dict[int, int] = {}
        depth = 0
        while step.size:
            if depth >= max_depth:
                return Scope(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
            last_step.update(dict.fromkeys(step.tolist(), depth))
            step = self._parents.lookup(step)
            depth += 1
        return self._active_levels(last_step)

    def _active_levels(self, last_step: dict[int, int]) -> Scope:
        ids = np.fromiter(last_step.keys(), dtype=np.int64, count=len(last_step))
        steps = np.fromiter(last_step.values(), dtype=np.int64, count=len(last_step))
        found = self._positions(ids)
        active = found >= 0
        active[active] = ~self._deleted[found[active]]
        ids, steps = ids[active], steps[active]
        order = np.argsort(ids)  # sorted ids make every later lookup cache-friendly
        return Scope(ids[order], np.searchsorted(np.unique(steps), steps[order]))

    def _positions(self, ids: np.ndarray) -> np.ndarray:
        """Each id's row in the recipes table, -1 where the tenant has no such recipe."""
        return rows_of(self._recipe_ids, ids)

    def scope_recipes(self, scope: Scope) -> pa.Table:
        """Each scoped recipe's id and level, and what the writes need of it (rc_scope)."""
        rows = self._recipes.take(pa.array(self._positions(scope.recipe_ids)))
        return pa.table({"recipe_id": pa.array(scope.recipe_ids),
                         "lvl": pa.array(scope.levels, pa.int32()),
                         **{name: rows[name] for name in rows.column_names}})

    def scope_lines(self, scope: Scope) -> ScopeLines:
        """Every line of the scoped recipes, with what costing a sub-recipe line needs of its
        sub: the rows scope_lines reads in SQL."""
        starts = np.searchsorted(self._line_owner, scope.recipe_ids, side="left")
        ends = np.searchsorted(self._line_owner, scope.recipe_ids, side="right")
        at = _ranges(starts, ends)
        uses = at[self._ingredient[at] >= 0]
        ingredients = IngredientLines(
            self._line_owner[uses], self._ingredient[uses], self._family[uses],
            self._base_unit[uses], self._qty[uses], self._waste[uses])
        return ScopeLines(ingredients, self._sub_lines(at, scope))

    def _sub_lines(self, at: np.ndarray, scope: Scope) -> SubLines:
        at = at[self._sub[at] >= 0]
        sub = self._sub[at]
        pos = self._positions(sub)
        at, sub, pos = at[pos >= 0], sub[pos >= 0], pos[pos >= 0]  # SQL: sub_name IS NOT NULL
        usable = ~self._deleted[pos] & (self._yield_base[pos] == self._base_unit[at])
        shares = self._share[at].tolist()
        return SubLines(
            recipe_id=self._line_owner[at].tolist(),
            sub_id=sub.tolist(),
            share=[v if known else None for v, known in zip(shares, self._has_share[at].tolist())],
            usable=usable.tolist(),
            qty_base=self._qty[at].tolist(),
            sub_yield_base_qty=self._yield_base_qty[pos].tolist(),
            sub_name=self._names[pos].tolist(),
            outside=(~np.isin(sub, scope.recipe_ids)).tolist(),
        )

    def code_of(self, text: str | None) -> int:
        """The code of a unit or family text, -1 when nothing the copy holds uses it."""
        return self._codes.code_of(text)


def _ingredients(table: pa.Table, codes: _Codes) -> Ingredients:
    ids = _ids(table["id"])
    if np.any(ids[1:] <= ids[:-1]):
        raise ValueError("ingredients must come ordered by id")
    density, has_density = scaled_ints(table["density"])
    return Ingredients(
        ids=ids, names=table["name"].to_pylist(),
        family=codes.encode(table["family"]), base_unit=codes.encode(table["base_unit"]),
        density=density, has_density=has_density, yield_pct=scaled_ints(table["yield_pct"])[0],
        deleted=np.asarray(table["deleted"].to_numpy(zero_copy_only=False), dtype=bool),
    )
