"""Hostile input: price lists and recipes built to break the checks, on both backends.

Every input is either handled correctly or refused with the right code (validation_error naming
the rows and columns or the field and line; cycle_detected; unit_mismatch; not_found for a line
naming nothing) — never an unhandled exception — and a refusal writes nothing: every table's row
count is what it was. Properties draw each hostile cell from a list whose verdict is known, so
the expected answer is exact (which rows, which columns), not just "some error".

Examples per property: the "mo-fast" hypothesis profile in `make test`, "mo-fuzz" under
`make fuzz` (MO_FUZZ=1); see reliability_support.
"""

from __future__ import annotations

import codecs
import itertools
import uuid
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reliability_support import fuzz_settings, knob, record, row_counts

from mo.domain.context import TenantContext
from mo.domain.instants import EARLIEST, LATEST
from mo.domain.names import clean_name
from mo.errors import ErrorCode, MOError
from mo.services import costs, event_reads, imports, recipe_import, recipes
from mo.services import ingredients as ing
from mo.store import Store

_examples = itertools.count()
TALLY: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _record_inputs_tried() -> Any:
    """After the module: how many hostile inputs it tried and refused (for the README)."""
    yield
    record("hostile_input", **dict(sorted(TALLY.items())), failures=0)

# ---- price-list cells whose verdict is known ----------------------------------------------------

BAD_PRICES = [
    "NaN", "nan", "inf", "-inf", "Infinity", "-12.00", "0", "0.00", "-0", "1e400",
    "1" + "0" * 16, "9" * 10_000, "abc", "=1+1", '=HYPERLINK("http://evil")', "@SUM(A1)", "",
    "   ", "1,50", "0.0000000000001", "1e-20", "true", "12.5.1", "5\x00", "0x10", "\x01",
]
OK_PRICES = ["+1", "1e3", " 5 ", "$5", "€5.00", "0.5", "1000000000000000", "12.000000000001"]
BAD_ITEMS = ["", "   ", "x" * 10_000, "a\x01b", "a\x7fb", "bell\x07", "nul\x00here", "\x1b[31mred"]
OK_ITEMS = [
    '=HYPERLINK("http://evil","x")', "+1-1", "@SUM(A1)", "-2+3", "\u202eevil", "  spaced   out  ",
    "café ✓", "\t=cmd", "line\nbreak", "'quoted'", '"double"', "comma, inside", "½ & ¼",
]
BAD_PACKS = [
    "", "0 kg", "-1 kg", "1e400 kg", "1" * 10_000 + " kg", "abc", "1 portion", "NaN kg",
    "inf kg", "1 kg\x00", "=1+1",
]
OK_PACKS = ["6 x 1 kg", "12/500ml", "case of 24", "2 l", "12 each", "1 kg", "500 g", " 1 kg "]
BAD_SKUS = ["s" * 201, "s" * 10_000]
OK_SKUS = ["=cmd()", "@x", "+1", "-1", "sku with spaces", "ünï"]
# A pair no cell shows alone: a top price for a minute pack (the unit cost would overflow).
BAD_PAIRS = [("1000000000000000", "0.0000000000001 g"), ("999999999999999", "0.000000000001 g")]
NOT_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xfe\xff", b"\x80abc"]
COLUMNS = ("item", "price", "pack", "sku")
HEADER_SPELLINGS = {
    "item": ["item", "Item", " ITEM "], "price": ["price", "Price", "PRICE "],
    "pack": ["pack", "Pack", " pack"], "sku": ["sku", "SKU", "Sku "],
}


@st.composite
def price_rows(draw: Any, *, clean: bool = False) -> dict[str, Any]:
    """One row: good cells, or exactly one hostile cell (its verdict says if the row is bad);
    `clean`: only hostile cells mo must accept."""
    row: dict[str, Any] = {
        "item": "Item", "price": str(draw(st.decimals("0.01", "99999", places=2))),
        "pack": draw(st.sampled_from(OK_PACKS)), "sku": "", "bad": None, "raw": None,
    }
    kinds = ["good", "ok"] if clean else ["good", "good", "bad", "ok", "pair", "bytes"]
    kind = draw(st.sampled_from(kinds))
    column = draw(st.sampled_from(COLUMNS))
    if kind == "pair":
        row["price"], row["pack"] = draw(st.sampled_from(BAD_PAIRS))
        row["bad"] = "price"
    elif kind in ("bad", "ok"):
        pool = {
            ("bad", "item"): BAD_ITEMS, ("bad", "price"): BAD_PRICES, ("bad", "pack"): BAD_PACKS,
            ("bad", "sku"): BAD_SKUS, ("ok", "item"): OK_ITEMS, ("ok", "price"): OK_PRICES,
            ("ok", "pack"): OK_PACKS, ("ok", "sku"): OK_SKUS,
        }[(kind, column)]
        row[column] = draw(st.sampled_from(pool))
        row["bad"] = column if kind == "bad" else None
    elif kind == "bytes":
        row["raw"] = (column, draw(st.sampled_from(NOT_UTF8)))
        row["bad"] = column
    return row


def _csv_cell(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    if any(ch in data for ch in (b",", b'"', b"\n", b"\r")) or data != data.strip():
        return b'"' + data.replace(b'"', b'""') + b'"'
    return data


@st.composite
def price_list_files(draw: Any) -> tuple[bytes, list[dict[str, Any]]]:
    """A CSV file (bytes) of hostile rows, and the rows with their verdicts."""
    rows = draw(st.lists(price_rows(clean=draw(st.booleans())), min_size=1, max_size=12))
    order = draw(st.permutations(COLUMNS))
    headers = [draw(st.sampled_from(HEADER_SPELLINGS[c])) for c in order]
    if draw(st.booleans()):  # a column mo does not know is ignored, whatever it holds
        order, headers = (*order, "junk"), [*headers, "=evil()"]
    newline = draw(st.sampled_from([b"\n", b"\r\n"]))
    prefix = f"h{next(_examples)}-{uuid.uuid4().hex[:6]} "
    lines = [b",".join(_csv_cell(h) for h in headers)]
    for n, row in enumerate(rows):
        if row["bad"] != "item":  # every good item is unique: the list creates one per row
            row["item"] = f"{prefix}{row['item']} #{n}"
        if row["sku"]:  # and so is every sku (a repeated one is a bad row of its own)
            row["sku"] = f"{row['sku']}-{n}"
        cells = []
        for column in order:
            value: str | bytes = "=junk()" if column == "junk" else row[column]
            if row["raw"] and row["raw"][0] == column:
                value = str(value).encode() + row["raw"][1]
            cells.append(_csv_cell(value))
        lines.append(b",".join(cells))
    bom = codecs.BOM_UTF8 if draw(st.booleans()) else b""
    return bom + newline.join(lines) + newline, rows


def _expect_refusal_naming(err: MOError, rows: list[dict[str, Any]]) -> None:
    bad = {n + 2: row["bad"] for n, row in enumerate(rows) if row["bad"]}  # header = row 1
    assert err.code is ErrorCode.VALIDATION_ERROR, err
    assert err.details["bad_rows"] == len(bad), (err.details, bad)
    named: dict[int, set[str]] = {}
    for problem in err.details["rows"]:
        named.setdefault(problem["row"], set()).add(problem["column"].strip().casefold())
    assert set(named) == set(bad), (err.details["rows"], bad)
    for row_no, column in bad.items():
        assert column in named[row_no], (row_no, column, named[row_no])


def _refused_cleanly(store: Store, call: Any) -> MOError:
    """The MOError `call` raises, having written nothing (every table's row count unchanged)."""
    before = row_counts(store)
    with pytest.raises(MOError) as caught:
        call()
    assert row_counts(store) == before, "a refused call wrote rows"
    return caught.value


@fuzz_settings(scale=1.0)
@given(listing=price_list_files())
def test_hostile_price_list_cells_are_imported_or_refused_by_row(
    store: Store, ctx: TenantContext, tmp_path_factory: pytest.TempPathFactory, listing: Any
) -> None:
    data, rows = listing
    path = tmp_path_factory.mktemp("hostile") / "list.csv"
    path.write_bytes(data)
    key, supplier = f"k-{uuid.uuid4().hex}", f"Supplier {uuid.uuid4().hex[:8]}"

    def call() -> Any:
        return imports.import_price_list(store, ctx, path, idempotency_key=key, supplier=supplier)

    TALLY["price list files"] += 1
    if any(row["bad"] for row in rows):
        TALLY["refused"] += 1
        _expect_refusal_naming(_refused_cleanly(store, call), rows)
        return
    result = call()
    TALLY["imported"] += 1
    assert (result.status, result.rows, result.created) == ("completed", len(rows), len(rows))
    names = set(costs.ingredients_frame(store, ctx)["name"])
    assert {clean_name(row["item"]) for row in rows} <= names


# ---- whole files that are not price lists -------------------------------------------------------

WHOLE_FILES = {
    "empty": b"",
    "bom only": codecs.BOM_UTF8,
    "whitespace": b"  \r\n\n\t\n",
    "header only": b"item,price,pack\n",
    "header and blank lines": b"item,price,pack\n\n\n",
    "duplicated price column": b"item,price,pack,Price\nFlour,1,1 kg,2\n",
    "missing pack column": b"item,price\nFlour,1\n",
    "not a csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "nul bytes": b"item,price,pack\n\x00\x00\x00,\x00,\x00\n",
    "ragged rows": b'item,price,pack\nFlour,1,1 kg,extra,cells\n"unclosed,1,1 kg\n',
    "bad utf-8 header": b"it\xffem,price,pack\nFlour,1,1 kg\n",
    "utf-16": "item,price,pack\nFlour,1,1 kg\n".encode("utf-16"),
    "one giant cell": b"item,price,pack\n" + b"x" * 2_000_000 + b",1,1 kg\n",
}


@pytest.mark.parametrize("name", list(WHOLE_FILES))
def test_files_that_are_not_usable_price_lists_are_refused(
    store: Store, ctx: TenantContext, tmp_path: Any, name: str
) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(WHOLE_FILES[name])
    err = _refused_cleanly(store, lambda: imports.import_price_list(
        store, ctx, path, idempotency_key="k", supplier="S"))
    assert err.code is ErrorCode.VALIDATION_ERROR, err
    if name.startswith("duplicated"):
        assert list(err.details["duplicate_columns"]) == ["price"], err.details
    if name == "missing pack column":
        assert err.details["missing_columns"] == ["pack"], err.details
    if name == "one giant cell":  # over MO_MAX_LINE_KB: refused before parsing, naming the line
        assert (err.details["limit_name"], err.details["line"]) == ("line_bytes", 2), err.details
    if name == "nul bytes":
        assert err.details["bad_rows"] == 1 and err.details["rows"][0]["row"] == 2, err.details


@fuzz_settings(scale=1.0)
@given(data=st.binary(max_size=2_000) | st.text(max_size=500).map(str.encode))
def test_arbitrary_bytes_never_escape_as_anything_but_an_moerror(
    store: Store, ctx: TenantContext, tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("bytes") / "list.csv"
    path.write_bytes(b"item,price,pack\n" + data)
    before = row_counts(store)
    TALLY["arbitrary byte files"] += 1
    try:
        imports.import_price_list(store, ctx, path, idempotency_key=uuid.uuid4().hex,
                                  supplier=f"S{uuid.uuid4().hex[:8]}")
    except MOError as err:
        TALLY["refused"] += 1
        assert err.code is ErrorCode.VALIDATION_ERROR, err
        assert row_counts(store) == before


# ---- in-memory rows of the wrong types ----------------------------------------------------------

# (value, bad?) — pandas turns a list of row dicts into typed columns first, whatever they hold.
PRICE_VALUES = [
    (float("nan"), True), (float("inf"), True), (-1, True), (0, True), (10**30, True),
    (True, True), (None, True), (Decimal("NaN"), True), ([1, 2], True), ({"a": 1}, True),
    (b"bytes", True), (Decimal("-0"), True), ("1e999", True), (3.5, False), (7, False),
    (Decimal("2.50"), False), ("2.50", False), (10**15, False),
]
PACK_VALUES = [
    (None, True), (float("nan"), True), (True, True), ([1], True), (0, True), (-5.5, True),
    ({"kg": 1}, True), *((pack, False) for pack in OK_PACKS),
]


@fuzz_settings(scale=1.0)
@given(
    values=st.lists(
        st.tuples(st.sampled_from(PRICE_VALUES), st.sampled_from(PACK_VALUES)),
        min_size=1,
        max_size=8,
    )
)
def test_rows_of_the_wrong_types_are_refused_by_row(
    store: Store, ctx: TenantContext, values: list[tuple[Any, Any]]
) -> None:
    prefix = f"t{next(_examples)}-{uuid.uuid4().hex[:6]}"
    rows = [
        {"item": f"{prefix} {n}", "price": price, "pack": pack}
        for n, ((price, _), (pack, _)) in enumerate(values)
    ]
    bad = {n + 2 for n, ((_, bad_price), (_, bad_pack)) in enumerate(values) if bad_price or bad_pack}
    key = uuid.uuid4().hex
    TALLY["wrong-type row lists"] += 1

    def call() -> Any:
        return imports.import_price_list(store, ctx, rows, idempotency_key=key, supplier=prefix)

    if not bad:
        assert call().created == len(rows)
        TALLY["imported"] += 1
        return
    TALLY["refused"] += 1
    err = _refused_cleanly(store, call)
    assert err.code is ErrorCode.VALIDATION_ERROR, err
    assert {p["row"] for p in err.details["rows"]} == bad, (err.details, values)


# ---- recipes ------------------------------------------------------------------------------------

GOOD_NUMBERS = [1, 2, "0.5", Decimal("3"), 250, "1e3"]
BAD_NUMBERS = [0, -1, "-0.5", "NaN", float("nan"), float("inf"), "inf", 10**13, "abc", None, True,
               "0.0000000000001", "", [1]]
POOL = ["R0", "R1", "R2", "R3"]


@pytest.fixture
def pantry(store: Store, ctx: TenantContext) -> None:
    """Flour (g) and Eggs (each), with costs."""
    ing.add_ingredient(store, ctx, "Flour", unit="g")
    ing.add_ingredient(store, ctx, "Eggs", unit="each")
    costs.update_cost(store, ctx, "Flour", "2.00", per="1 kg", idempotency_key="flour")
    costs.update_cost(store, ctx, "Eggs", "3.00", per="12 each", idempotency_key="eggs")


@st.composite
def recipe_saves(draw: Any) -> dict[str, Any]:
    """One save_recipe call: a name from a small pool, a yield, and lines that may name other
    recipes of the pool (so cycles and self-references happen), with hostile numbers."""
    def number() -> Any:  # mostly good numbers, so that saves get far enough to meet cycles
        return draw(st.sampled_from(GOOD_NUMBERS if draw(st.integers(0, 9)) else BAD_NUMBERS))

    def unit(right: list[str], wrong: list[str]) -> str:
        return draw(st.sampled_from(right if draw(st.integers(0, 5)) else wrong))

    lines = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 2)):
            item = draw(st.sampled_from(["Flour", "Eggs"]))
            mass = item == "Flour"
            lines.append({"ingredient": item, "qty": number(),
                          "unit": unit(["g", "kg"] if mass else ["each"],
                                       ["each"] if mass else ["g", "kg"])})
        else:
            lines.append({"recipe": draw(st.sampled_from(POOL)), "qty": number(),
                          "unit": unit(["each"], ["g", "portion"])})
    return {"name": draw(st.sampled_from(POOL)), "yield_qty": number(), "lines": lines}


def _bad_number(value: Any) -> bool:
    return not any(value is good or (type(value) is type(good) and value == good)
                   for good in GOOD_NUMBERS)


def _expected(save: dict[str, Any], graph: dict[str, set[str]]) -> tuple[str, dict[str, Any]]:
    """What save_recipe must answer, in the order it checks: numbers (head, then each line),
    then each sub-recipe line (self-reference, existence, unit), then cycles through stored ones."""
    if _bad_number(save["yield_qty"]):
        return "validation_error", {"field": "yield_qty"}
    for n, line in enumerate(save["lines"]):
        if _bad_number(line["qty"]):
            return "validation_error", {"field": "qty", "line": n}
    # An ingredient line in another family is saved (the recipe incomplete, saying why).
    for n, line in enumerate(save["lines"]):
        if "ingredient" in line:
            continue
        if line["recipe"] == save["name"]:
            return "cycle_detected", {"line": n}
        elif line["recipe"] not in graph:
            return "not_found", {}
        elif line["unit"] != "each":
            return "unit_mismatch", {"line": n}
    uses = {line["recipe"] for line in save["lines"] if "recipe" in line}
    if save["name"] in graph and any(_reaches(graph, sub, save["name"]) for sub in uses):
        return "cycle_detected", {}
    return "ok", {}


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return False


@fuzz_settings(scale=0.6)
@given(saves=st.lists(recipe_saves(), min_size=1, max_size=12))
def test_recipe_saves_with_cycles_and_hostile_numbers_are_saved_or_refused_exactly(
    store: Store, ctx: TenantContext, pantry: None, saves: list[dict[str, Any]]
) -> None:
    prefix = f"e{next(_examples)}-{uuid.uuid4().hex[:6]} "  # each example has its own pool
    graph: dict[str, set[str]] = {}
    for save in saves:
        expected, where = _expected(save, graph)
        lines = [{**line, "recipe": prefix + line["recipe"]} if "recipe" in line else line
                 for line in save["lines"]]

        def call(save: dict[str, Any] = save, lines: list[Any] = lines) -> Any:
            return recipes.save_recipe(store, ctx, prefix + save["name"],
                                       yield_qty=save["yield_qty"], yield_unit="each",
                                       lines=lines)

        TALLY["recipe saves"] += 1
        if expected == "ok":
            TALLY["recipes saved"] += 1
            record_ = call()
            assert record_.lines == len(lines)
            graph[save["name"]] = {line["recipe"] for line in save["lines"] if "recipe" in line}
            continue
        TALLY["refused"] += 1
        TALLY[f"recipe saves refused: {expected}"] += 1
        err = _refused_cleanly(store, call)
        assert err.code.value == expected, (save, graph, err, err.details)
        for name, value in where.items():
            assert err.details.get(name) == value, (save, err.details)
    stored = recipes.recipes_frame(store, ctx)
    mine = {n.removeprefix(prefix) for n in stored["name"] if n.startswith(prefix)}
    assert mine == set(graph)


def _chain(store: Store, ctx: TenantContext, depth: int, *, prefix: str) -> None:
    recipes.save_recipe(store, ctx, f"{prefix}0", yield_qty=1, yield_unit="each",
                        lines=[{"ingredient": "Flour", "qty": 100, "unit": "g"}])
    for level in range(1, depth):
        recipes.save_recipe(store, ctx, f"{prefix}{level}", yield_qty=2, yield_unit="each",
                            lines=[{"recipe": f"{prefix}{level - 1}", "qty": 2, "unit": "each"}])


def test_a_chain_50_recipes_deep_is_costed_exactly(
    store: Store, ctx: TenantContext, pantry: None
) -> None:
    _chain(store, ctx, 50, prefix="L")
    frame = recipes.recipes_frame(store, ctx).set_index("name")
    # 100 g of flour at 2.00/kg is 0.2; each level makes 2 from 2 of the one below: 0.2 × 2.
    assert frame.loc["L0", "total_cost"] == Decimal("0.2")
    assert frame.loc["L49", "total_cost"] == Decimal("0.4")
    assert frame.loc["L49", "complete"]
    breakdown = recipes.recipe_breakdown(store, ctx, "L49")
    assert breakdown.to_dict("records") == [
        {"ingredient": "Flour", "qty": Decimal("200"), "unit": "g", "cost": Decimal("0.4"),
         "reason": None}
    ]
    # A change at the bottom reaches the top, 49 levels up.
    costs.update_cost(store, ctx, "Flour", "4.00", per="1 kg", idempotency_key="dearer")
    assert recipes.recipes_frame(store, ctx).set_index("name").loc["L49", "total_cost"] == Decimal(
        "0.8"
    )


def test_nesting_past_the_depth_limit_is_refused_at_save_and_the_chain_stays_costable(
    store: Store, ctx: TenantContext, pantry: None
) -> None:
    """A chain is built bottom-up one save at a time. The save that would make it deeper than
    recompute.MAX_DEPTH levels is a validation_error naming max_depth and writes nothing; so a
    cost update of the bottom ingredient, which recomputes the whole chain, still goes through."""
    limit = recipes.MAX_DEPTH
    _chain(store, ctx, limit, prefix="D")  # D0..D{limit-1}: levels 0 to limit - 1, the most
    deepest = recipes.recipes_frame(store, ctx)["name"].tolist()
    assert f"D{limit - 1}" in deepest and f"D{limit}" not in deepest
    err = _refused_cleanly(store, lambda: recipes.save_recipe(
        store, ctx, f"D{limit}", yield_qty=2, yield_unit="each",
        lines=[{"recipe": f"D{limit - 1}", "qty": 2, "unit": "each"}]))
    assert (err.code, err.details.get("max_depth")) == (ErrorCode.VALIDATION_ERROR, limit)
    # Lengthening the chain from below is refused too: D0 taking a sub-recipe of its own.
    recipes.save_recipe(store, ctx, "Base", yield_qty=1, yield_unit="each",
                        lines=[{"ingredient": "Flour", "qty": 100, "unit": "g"}])
    err = _refused_cleanly(store, lambda: recipes.save_recipe(
        store, ctx, "D0", yield_qty=1, yield_unit="each",
        lines=[{"recipe": "Base", "qty": 1, "unit": "each"}]))
    assert (err.code, err.details.get("max_depth")) == (ErrorCode.VALIDATION_ERROR, limit)
    costs.update_cost(store, ctx, "Flour", "9.00", per="1 kg", idempotency_key="deep")
    top = recipes.recipes_frame(store, ctx).set_index("name").loc[f"D{limit - 1}"]
    assert top["complete"] and top["total_cost"] == Decimal("1.8")


def _recipe_rows(*rows: tuple[Any, ...]) -> pd.DataFrame:
    columns = ["recipe", "yield_qty", "yield_unit", "kind", "item", "qty", "unit"]
    return pd.DataFrame([[("" if v is None else str(v)) for v in row] for row in rows],
                        columns=columns)


RECIPE_IMPORTS = {
    "two recipes using each other": (
        _recipe_rows(("A", 1, "each", "recipe", "B", 1, "each"),
                     ("B", 1, "each", "recipe", "A", 1, "each")),
        "cycle_detected", None),
    "a recipe using itself": (
        _recipe_rows(("A", 1, "each", "recipe", "A", 1, "each")), "cycle_detected", None),
    "zero and negative yields": (
        _recipe_rows(("A", 0, "each", "ingredient", "Flour", 1, "g"),
                     ("B", -2, "each", "ingredient", "Flour", 1, "g")),
        "validation_error", {2: "yield_qty", 3: "yield_qty"}),
    "zero and negative quantities": (
        _recipe_rows(("A", 1, "each", "ingredient", "Flour", 0, "g"),
                     ("B", 1, "each", "ingredient", "Flour", -5, "g"),
                     ("C", 1, "each", "ingredient", "Flour", "NaN", "g")),
        "validation_error", {2: "qty", 3: "qty", 4: "qty"}),
    "formula and control characters in names": (
        _recipe_rows(("=cmd()", 1, "each", "ingredient", "Flour", 1, "g"),
                     ("bell\x07", 1, "each", "ingredient", "Flour", 1, "g"),
                     ("x" * 10_000, 1, "each", "ingredient", "Flour", 1, "g")),
        "validation_error", {3: "recipe", 4: "recipe"}),
    # (A known unit of another family is saved, the recipe incomplete saying why: test_recipes.)
    "an item in no unit at all": (
        _recipe_rows(("A", 1, "each", "ingredient", "Eggs", 100, "furlongs")), "validation_error",
        {2: "unit"}),
}


@pytest.mark.parametrize("name", list(RECIPE_IMPORTS))
def test_hostile_recipe_imports_are_refused_and_write_nothing(
    store: Store, ctx: TenantContext, pantry: None, name: str
) -> None:
    frame, code, bad = RECIPE_IMPORTS[name]
    err = _refused_cleanly(store, lambda: recipes.import_recipes(
        store, ctx, frame, idempotency_key=f"k-{name}"))
    assert err.code.value == code, (err, err.details)
    if bad is not None:
        named: dict[int, set[str]] = {}
        for problem in err.details["rows"]:
            named.setdefault(problem["row"], set()).add(problem["column"])
        assert set(named) == set(bad), err.details
        assert all(bad[row] in named[row] for row in bad), err.details


def test_a_chain_50_deep_imports_in_one_file(store: Store, ctx: TenantContext, pantry: None) -> None:
    rows = [("C0", 1, "each", "ingredient", "Flour", 100, "g")]
    rows += [(f"C{n}", 2, "each", "recipe", f"C{n - 1}", 2, "each") for n in range(1, 50)]
    result = recipes.import_recipes(store, ctx, _recipe_rows(*reversed(rows)), idempotency_key="c")
    assert (result.recipes, result.lines) == (50, 50)
    assert recipes.recipes_frame(store, ctx).set_index("name").loc["C49", "total_cost"] == Decimal(
        "0.4"
    )



RECIPE_FILES = {
    "empty.csv": b"",
    "not-utf8.csv": b"recipe,yield_qty,yield_unit,kind,item,qty,unit\n\xff\xfe,1,each,x,y,1,g\n",
    "ragged.csv": b'recipe,yield_qty\n"unclosed,1\n',
    "header-only.csv": b"recipe,yield_qty,yield_unit,kind,item,qty,unit\n",
    "not-a-workbook.xlsx": b"\x00\x01 this is no zip",
    "notes.txt": b"recipe\nA\n",
}


@pytest.mark.parametrize("name", list(RECIPE_FILES))
def test_recipe_files_that_cannot_be_read_are_refused(
    store: Store, ctx: TenantContext, tmp_path: Any, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(RECIPE_FILES[name])
    err = _refused_cleanly(store, lambda: recipes.import_recipes(store, ctx, path,
                                                                 idempotency_key="k"))
    assert err.code is ErrorCode.VALIDATION_ERROR, err


@pytest.mark.parametrize("source", [None, 5, b"bytes", b"", [1, 2], [{"recipe": "A"}, "row"]])
def test_recipe_sources_of_the_wrong_kind_are_refused(
    store: Store, ctx: TenantContext, source: Any
) -> None:
    err = _refused_cleanly(store, lambda: recipes.import_recipes(store, ctx, source,
                                                                 idempotency_key="k"))
    assert (err.code, err.details.get("field")) == (ErrorCode.VALIDATION_ERROR, "source"), err


def test_recipe_rows_as_mappings_import_like_a_frame(
    store: Store, ctx: TenantContext, pantry: None
) -> None:
    rows = [{"recipe": "Toast", "yield_qty": "1", "yield_unit": "each", "kind": "ingredient",
             "item": "Flour", "qty": "50", "unit": "g"}]
    assert recipes.import_recipes(store, ctx, rows, idempotency_key="rows").recipes == 1


# ---- text that is not Unicode: lone surrogates (JSON's "\ud800" decodes to one) -----------------

LONE = "\ud800"


@pytest.mark.parametrize(
    "call",
    [
        lambda s, c: ing.add_ingredient(s, c, f"Sugar{LONE}", unit="g"),
        lambda s, c: ing.add_ingredient(s, c, "Sugar", unit="g", category=f"dry{LONE}"),
        lambda s, c: ing.add_alias(s, c, "Flour", f"Farine{LONE}"),
        lambda s, c: costs.update_cost(s, c, "Flour", "1", per="kg", idempotency_key="n",
                                       note=f"note{LONE}"),
        lambda s, c: costs.update_cost(s, c, "Flour", "1", per="kg", idempotency_key="s",
                                       supplier=f"Mill{LONE}"),
        lambda s, c: recipes.save_recipe(s, c, f"Pie{LONE}", yield_qty=1, yield_unit="each",
                                         lines=[{"ingredient": "Flour", "qty": 1, "unit": "g"}]),
        lambda s, c: imports.import_price_list(s, c, [{"item": "a", "price": "1", "pack": "kg"}],
                                               idempotency_key="p", supplier=f"S{LONE}"),
    ],
    ids=["name", "category", "alias", "note", "supplier", "recipe", "list supplier"],
)
def test_lone_surrogates_are_refused_as_validation_errors(
    store: Store, ctx: TenantContext, pantry: None, call: Any
) -> None:
    err = _refused_cleanly(store, lambda: call(store, ctx))
    assert err.code is ErrorCode.VALIDATION_ERROR, err


RECIPE_ROW = {"recipe": "Pie", "yield_qty": "1", "yield_unit": "each", "kind": "ingredient",
              "item": "Flour", "qty": "50", "unit": "g"}
PRICE_ROW = {"item": "Flour", "price": "2.00", "pack": "1 kg"}


def _with_lone(row: dict[str, str], column: str) -> dict[str, str]:
    return {**row, column: f"{row[column]}{LONE}"}


def _as_frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    # object dtype: pandas' default Arrow strings could not even hold a lone surrogate.
    return pd.DataFrame(rows, dtype=object)


@pytest.mark.parametrize("shape", [list, _as_frame], ids=["rows", "frame"])
@pytest.mark.parametrize(
    ("kind", "row", "column"),
    [("recipes", RECIPE_ROW, "recipe"), ("recipes", RECIPE_ROW, "qty"),
     ("prices", PRICE_ROW, "item"), ("prices", PRICE_ROW, "price")],
)
def test_lone_surrogates_in_in_memory_tables_name_their_cell(
    store: Store, ctx: TenantContext, pantry: None, shape: Any, kind: str, row: dict[str, str],
    column: str,
) -> None:
    """A DataFrame or list of rows handed to an import (as LocalClient does) holding a lone
    surrogate: a validation_error naming the row and column, nothing written."""
    table = shape([row, _with_lone(row, column)])
    if kind == "recipes":
        call = lambda: recipe_import.import_recipes(store, ctx, table, idempotency_key="u")  # noqa: E731
    else:
        call = lambda: imports.import_price_list(store, ctx, table, idempotency_key="u", supplier="S")  # noqa: E731
    err = _refused_cleanly(store, call)
    assert err.code is ErrorCode.VALIDATION_ERROR, err
    assert [(r["row"], r["column"]) for r in err.details["rows"]] == [(3, column)]
    assert err.details["rows"][0]["value"].endswith("\\ud800")
    err.to_dict()  # the error itself serialises (no surrogate left in it)


@pytest.mark.parametrize(
    "call",
    [
        lambda s, c: costs.update_cost(s, c, "Flour", "1_000", per="1 kg", idempotency_key="u"),
        lambda s, c: imports.import_price_list(
            s, c, [{"item": "Flour", "price": "1_000", "pack": "1 kg"}], idempotency_key="u",
            supplier="S"),
        lambda s, c: recipes.save_recipe(s, c, "Pie", yield_qty="1_0", yield_unit="each",
                                         lines=[{"ingredient": "Flour", "qty": 1, "unit": "g"}]),
        lambda s, c: recipes.save_recipe(s, c, "Pie", yield_qty=1, yield_unit="each",
                                         lines=[{"ingredient": "Flour", "qty": "1_0", "unit": "g"}]),
        lambda s, c: ing.add_ingredient(s, c, "Oil", unit="ml", density="0_9"),
    ],
    ids=["cost", "price list", "yield", "line qty", "density"],
)
def test_digit_group_underscores_are_not_numbers(
    store: Store, ctx: TenantContext, pantry: None, call: Any
) -> None:
    """Python's Decimal reads "1_000" as 1000; no spreadsheet does, so mo refuses it."""
    err = _refused_cleanly(store, lambda: call(store, ctx))
    assert err.code is ErrorCode.VALIDATION_ERROR, err
    assert "1_" in str(err.details) or "0_9" in str(err.details)


def test_other_scripts_digits_are_read_as_the_number_they_write(
    store: Store, ctx: TenantContext, pantry: None
) -> None:
    update = costs.update_cost(store, ctx, "Flour", "١٢٫٥".replace("٫", "."), per="1 kg",
                               idempotency_key="arabic")
    assert update.unit_cost == Decimal("0.0125")


@pytest.mark.parametrize("value", [[], "no", 0, None])
def test_create_missing_must_be_a_bool(
    store: Store, ctx: TenantContext, pantry: None, value: Any
) -> None:
    err = _refused_cleanly(store, lambda: imports.import_price_list(
        store, ctx, [{"item": "Sugar", "price": "1", "pack": "1 kg"}], idempotency_key="m",
        supplier="S", create_missing=value))
    assert (err.code, err.details["field"]) == (ErrorCode.VALIDATION_ERROR, "create_missing")


# ---- calendar edges: instants near the ends of the window, at odd offsets -----------------------
# Every input naming an instant accepts exactly [EARLIEST, LATEST] in UTC (mo/domain/instants.py), from
# any text a caller can write: local times a day either side of each end (and at year 1 and
# 9999, where shifting to UTC overflows datetime), with any offset to the minute, Z, or none.

_EPOCH = datetime(1970, 1, 1)
_NEAR = timedelta(days=2)
_LOCAL_TIMES = st.one_of(
    st.datetimes(min_value=EARLIEST.replace(tzinfo=None) - _NEAR,
                 max_value=EARLIEST.replace(tzinfo=None) + _NEAR),
    st.datetimes(min_value=LATEST.replace(tzinfo=None) - _NEAR,
                 max_value=LATEST.replace(tzinfo=None) + _NEAR),
    st.datetimes(max_value=datetime(1, 1, 3)),
    st.datetimes(min_value=datetime(9999, 12, 29)),
    st.sampled_from([EARLIEST.replace(tzinfo=None), LATEST.replace(tzinfo=None)]),
)
_OFFSETS = st.one_of(st.none(), st.just("Z"), st.integers(-(24 * 60 - 1), 24 * 60 - 1))


def _instant_text(local: datetime, offset: str | int | None) -> tuple[str, timedelta]:
    """ISO text of `local` at `offset` (minutes, "Z" or none: UTC), and the instant it names as
    time since 1970 UTC (a timedelta, which holds instants datetime cannot at year 1 or 9999)."""
    minutes = 0 if offset in (None, "Z") else int(offset)
    if offset is None or offset == "Z":
        suffix = "" if offset is None else "Z"
    else:
        sign = "+" if minutes >= 0 else "-"
        suffix = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return local.isoformat() + suffix, (local - _EPOCH) - timedelta(minutes=minutes)


def _in_window(since_epoch: timedelta) -> bool:
    return (EARLIEST.replace(tzinfo=None) - _EPOCH <= since_epoch
            <= LATEST.replace(tzinfo=None) - _EPOCH)


@fuzz_settings(scale=1.0)
@given(local=_LOCAL_TIMES, offset=_OFFSETS)
def test_instants_near_the_window_ends_are_taken_exactly_inside_it(
    store: Store, ctx: TenantContext, pantry: None, local: datetime, offset: str | int | None
) -> None:
    text, since_epoch = _instant_text(local, offset)
    inside = _in_window(since_epoch)
    TALLY["instants inside" if inside else "instants refused"] += 1
    for name, read in (("since", {"since": text}), ("until", {"until": text})):
        if inside:
            event_reads.events_frame(store, ctx, **read)
        else:
            err = _refused_cleanly(store, lambda r=read: event_reads.events_frame(store, ctx, **r))
            assert (err.code, err.details["field"]) == (ErrorCode.VALIDATION_ERROR, name), text
    price = f"{3 + next(_examples)}.00"  # another price each time: never an unchanged cost
    update = lambda: costs.update_cost(  # noqa: E731
        store, ctx, "Flour", price, per="1 kg", idempotency_key=uuid.uuid4().hex,
        effective_at=text)
    if not inside:
        err = _refused_cleanly(store, update)
        assert (err.code, err.details["field"]) == (ErrorCode.VALIDATION_ERROR, "effective_at")
        return
    cost_id = update().cost_id
    history = costs.cost_history(store, ctx).set_index("cost_id")
    stored = history.loc[cost_id, "effective_at"].to_pydatetime()
    assert stored.replace(tzinfo=None) - _EPOCH == since_epoch, (text, stored)


# ---- shared sub-recipes: a breakdown sums every path, exactly -----------------------------------
# Each recipe uses leaves and the recipes saved just before it, often the same one several times
# (diamonds, repeated lines), so the paths multiply as in issue #14's D_k. Yields of 1, 2, 5 and
# 10 make every factor 1/yield a one-place decimal: any path of up to 12 levels is exact at the
# 12 places mo stores, so mo's quantities must equal the Fraction model's, digit for digit.

DAG_YIELDS = (1, 2, 5, 10)
DAG_LEAVES = ("Rye", "Salt", "Malt")  # g, at 2 per g: costs stay exact too
DAG_RECIPES = knob("MO_FUZZ_DAG_RECIPES", 6, 12)

DagRecipe = tuple[str, int, list[tuple[str, str, int]]]  # name, yield, (kind, item, qty) lines


@st.composite
def shared_dags(draw: Any) -> list[DagRecipe]:
    plan: list[DagRecipe] = []
    for index in range(draw(st.integers(2, DAG_RECIPES))):
        below = [name for name, _, _ in plan][-3:]
        kinds = st.sampled_from(["recipe", "recipe", "ingredient"] if below else ["ingredient"])
        lines = []
        for _ in range(draw(st.integers(1, 4))):
            if draw(kinds) == "recipe":
                lines.append(("recipe", draw(st.sampled_from(below)), draw(st.integers(1, 3))))
            else:
                lines.append(("ingredient", draw(st.sampled_from(DAG_LEAVES)),
                              draw(st.integers(1, 9))))
        plan.append((f"G{index}", draw(st.sampled_from(DAG_YIELDS)), lines))
    return plan


def dag_model(plan: list[DagRecipe], gone: str | None = None
              ) -> tuple[dict[str, dict[str, Fraction]], dict[str, set[str]]]:
    """Grams of each leaf in each recipe's whole yield: a sub-recipe line brings qty/yield of
    the sub's whole yield, summed over every line (so over every path); and the deleted
    sub-recipe (`gone`) each recipe reaches, where those paths stop and bring nothing."""
    yields = {name: produced for name, produced, _ in plan}
    leaves: dict[str, dict[str, Fraction]] = {}
    stops: dict[str, set[str]] = {}
    for name, _, lines in plan:
        total: dict[str, Fraction] = {}
        stops[name] = set()
        for kind, item, qty in lines:
            if item == gone:
                stops[name].add(item)
                continue
            stops[name] |= stops.get(item, set())
            parts = ({item: Fraction(1)} if kind == "ingredient"
                     else {k: v / yields[item] for k, v in leaves[item].items()})
            for leaf, grams in parts.items():
                total[leaf] = total.get(leaf, Fraction(0)) + qty * grams
        leaves[name] = total
    return leaves, stops


@fuzz_settings(scale=0.4)
@given(plan=shared_dags())
def test_breakdowns_of_shared_sub_recipes_equal_an_exact_model(
    store: Store, ctx: TenantContext, plan: list[DagRecipe]
) -> None:
    tag = f"g{next(_examples)}-{uuid.uuid4().hex[:6]} "
    for leaf in DAG_LEAVES:
        ing.add_ingredient(store, ctx, tag + leaf, unit="g")
        costs.update_cost(store, ctx, tag + leaf, "2", per="1 g", idempotency_key=uuid.uuid4().hex)
    for name, produced, lines in plan:
        recipes.save_recipe(store, ctx, tag + name, yield_qty=produced, yield_unit="each", lines=[
            {kind: tag + item, "qty": qty, "unit": "g" if kind == "ingredient" else "each"}
            for kind, item, qty in lines])
    TALLY["shared-sub-recipe graphs"] += 1
    _check_dag(store, ctx, plan, tag, None)
    gone = plan[0][0]  # used by the most recipes above it: its paths stop, with why
    recipes.delete_recipe(store, ctx, tag + gone)
    _check_dag(store, ctx, plan, tag, gone)


def _check_dag(store: Store, ctx: TenantContext, plan: list[DagRecipe], tag: str,
               gone: str | None) -> None:
    frame = recipes.recipes_frame(store, ctx).set_index("name")
    leaves, stops = dag_model(plan, gone)
    for name, grams_of in leaves.items():
        if name == gone:
            continue
        rows = recipes.recipe_breakdown(store, ctx, tag + name).to_dict("records")
        got = {row["ingredient"].removeprefix(tag): (
            None if row["qty"] is None else Fraction(row["qty"]),
            None if row["cost"] is None else Fraction(row["cost"]),
            None if pd.isna(row["reason"]) else row["reason"].removeprefix(tag))
            for row in rows}
        expected = {leaf: (grams, 2 * grams, None) for leaf, grams in grams_of.items()}
        expected |= {sub: (None, None, f"{sub}: deleted") for sub in stops[name]}
        assert got == expected, name
        assert Fraction(frame.loc[tag + name, "total_cost"]) == sum(
            2 * g for g in grams_of.values()), name
        assert frame.loc[tag + name, "missing"] == "; ".join(
            f"{tag}{sub}: deleted" for sub in sorted(stops[name])), name
