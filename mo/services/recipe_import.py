"""Bulk recipe import: long format (one row per line), all or nothing, idempotent, set-based.

Python checks each *distinct* text once (names, numbers, units), then the rows go to temporary
tables with one bulk load, the database checks items and units with a few set-based queries,
and recipes and lines are written with INSERT…SELECT. Every bad row is reported at once in one
validation_error: details {"rows": [{"row", "column", "value", "problem"}], "bad_rows": n},
rows numbered as in a spreadsheet (header = row 1).
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mo.domain.context import TenantContext
from mo.domain.import_checks import check_recipe_file, is_rows, not_a_recipe_source
from mo.domain.measure import MAX_QTY, Measure, parse_unit, parse_yield_unit
from mo.domain.names import clean_name
from mo.domain.results import RecipeImportResult
from mo.domain.unicode_cells import not_unicode
from mo.errors import MOError, validation_error
from mo.services.events import emit_event
from mo.services.idempotency import run_idempotent
from mo.services.recipe_graph import claim_and_bound
from mo.services.recipe_input import MAX_PRICE, exact_number, in_base
from mo.services.recompute import open_work, recompute_seeded
from mo.services.source_shape import check_xlsx, checked_csv
from mo.settings import max_recipe_lines
from mo.store.base import Store, Tx

REQUIRED = ("recipe", "yield_qty", "yield_unit", "kind", "item", "qty", "unit")
OPTIONAL = ("menu_price", "waste_pct")
KINDS = ("ingredient", "recipe")
# An import this long changes the recipe tables enough to refresh their statistics (PostgreSQL).
ANALYZE_FROM_LINES = 2_000
Problem = str | None


def import_recipes(
    store: Store, ctx: TenantContext, source: str | Path | pd.DataFrame, *, idempotency_key: str
) -> RecipeImportResult:
    """Import recipes from a .csv/.xlsx path or a DataFrame with columns recipe, yield_qty,
    yield_unit, menu_price, kind (ingredient|recipe), item, qty, unit, waste_pct — one row per
    line. Recipes are upserted by normalised name (their lines replaced), then every imported
    recipe and its ancestors are recomputed; one recipes.imported event. Same key again: the
    original result with replayed=True, nothing written.

    Raises validation_error (all bad rows in details, or a missing column), cycle_detected
    (details {"path"}), idempotency_conflict (the key was used for different content).
    """
    try:
        text = read_source(source)
        digest = content_hash(text)
    except UnicodeEncodeError as exc:  # raised by pandas, Arrow or hashlib, wherever met first
        raise not_unicode(source) from exc

    def work(tx: Tx) -> dict[str, Any]:
        return _import(tx, ctx, text, key=idempotency_key, digest=digest).to_dict()

    outcome = run_idempotent(
        store,
        ctx,
        key=idempotency_key,
        operation="import_recipes",
        request={"content_hash": digest},
        work=work,
    )
    return replace(RecipeImportResult.from_dict(outcome.result), replayed=outcome.replayed)


# ------------------------------------------------------------------------------ reading


def read_source(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """The rows as text (blank for empty cells), columns lower-cased; validation_error when a
    required column is missing, the file type is unknown or there are no rows."""
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
    elif isinstance(source, str | os.PathLike):
        frame = _read_file(Path(source))
    elif is_rows(source):
        frame = pd.DataFrame(list(source))  # rows as mappings, as MOClient.import_recipes allows
    else:
        raise not_a_recipe_source()
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        rows = [{"row": 1, "column": c, "value": "", "problem": "missing column"} for c in missing]
        raise validation_error(f"missing columns: {', '.join(missing)}", rows=rows, bad_rows=1)
    if frame.empty:
        raise validation_error("the import has no rows", rows=[], bad_rows=0)
    return pd.DataFrame(
        {c: _as_text(frame[c]) if c in frame.columns else "" for c in REQUIRED + OPTIONAL}
    )


def _read_file(path: Path) -> pd.DataFrame:
    check_recipe_file(path)
    suffix = path.suffix.lower()
    data = path.read_bytes()
    # The shape first: a parser's memory grows with columns and line length, not file size.
    if suffix == ".csv":
        data = checked_csv(data.removeprefix(codecs.BOM_UTF8))
    else:
        check_xlsx(data)
    try:
        if suffix == ".csv":
            return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
        return pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False)
    except Exception as exc:  # empty, not UTF-8, ragged, not a workbook: pandas/openpyxl vary
        raise validation_error(
            f"the import file cannot be read: {type(exc).__name__}",
            field="source",
            value=path.name,
        ) from exc


def _as_text(column: pd.Series) -> pd.Series:
    """Cells as stripped text, '' for empty ones; numbers keep their shortest exact repr."""
    column = column.reset_index(drop=True)
    if column.dtype != object or pd.api.types.infer_dtype(column, skipna=False) != "string":
        column = column.astype(object).where(column.notna(), "").astype(str)
    return column.str.strip()


def content_hash(text: pd.DataFrame) -> str:
    """A fingerprint of the rows' text (pandas' stable per-row hashes, then SHA-256)."""
    digest = hashlib.sha256("\x1f".join(text.columns).encode())
    digest.update(pd.util.hash_pandas_object(text, index=True).to_numpy().tobytes())
    return digest.hexdigest()


# ------------------------------------------------------------------------------ checking


class Problems:
    """Row problems gathered column by column, reported together."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def add(self, text: pd.DataFrame, column: str, problem: pd.Series) -> None:
        bad = problem.notna()
        if bad.any():
            self.parts.append(
                pd.DataFrame(
                    {
                        "row": text.index[bad] + 2,
                        "column": column,
                        "value": text.loc[bad, column].str.slice(0, 100),
                        "problem": problem[bad],
                    }
                )
            )

    def add_rows(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.parts.append(pd.DataFrame(rows, columns=["row", "column", "value", "problem"]))

    def raise_if_any(self) -> None:
        if not self.parts:
            return
        order = {c: i for i, c in enumerate(REQUIRED + OPTIONAL)}
        found = pd.concat(self.parts, ignore_index=True)
        found = found.assign(_o=found["column"].map(order)).sort_values(
            ["row", "_o"], kind="stable"
        )
        rows = [
            {"row": int(r.row), "column": r.column, "value": r.value, "problem": r.problem}
            for r in found.itertuples(index=False)
        ]
        raise validation_error(
            f"{found['row'].nunique()} rows cannot be imported",
            rows=rows,
            bad_rows=int(found["row"].nunique()),
        )


@dataclass(frozen=True)
class Parsed:
    """A column checked once per distinct text: each row's code into the distinct results."""

    codes: np.ndarray
    values: np.ndarray  # per distinct text: the checked value, None when it is bad
    problems: np.ndarray  # per distinct text: the reason it is bad, None when it is fine

    def value(self) -> pd.Series:
        return pd.Series(self.values[self.codes], dtype=object)

    def problem(self) -> pd.Series:
        return pd.Series(self.problems[self.codes], dtype=object)

    def derive(self, make: Callable[[Any], Any]) -> pd.Series:
        """make(value) per row, computed once per distinct value (None stays None)."""
        derived = np.array(
            [None if v is None else make(v) for v in self.values] or [None], dtype=object
        )
        return pd.Series(derived[self.codes], dtype=object)


def parse_column(column: pd.Series, check: Callable[[str], Any]) -> Parsed:
    """Call `check` once per distinct text of the column; an MOError makes that text bad."""
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    values = np.empty(len(uniques), dtype=object)
    problems = np.empty(len(uniques), dtype=object)
    for i, text in enumerate(uniques):
        try:
            values[i] = check(text)
        except MOError as err:
            # The checks name a generic field; the report names the column: keep the reason.
            problems[i] = err.message.removeprefix("value ")
    return Parsed(codes, values, problems)


def _required(check: Callable[[str], Any]) -> Callable[[str], Any]:
    def checked(text: str) -> Any:
        if not text:
            raise validation_error("required")
        return check(text)

    return checked


def _optional(check: Callable[[str], Any]) -> Callable[[str], Any]:
    return lambda text: check(text) if text else None


def _kind(text: str) -> str:
    if text.lower() not in KINDS:
        raise validation_error("kind must be 'ingredient' or 'recipe'")
    return text.lower()


def _measure(text: str) -> Measure:
    try:
        return parse_unit(text)
    except MOError as err:
        raise validation_error(str(err.details.get("problem", "unknown unit"))) from err


def _yield_measure(text: str) -> Measure:
    """A yield as kitchens write it: any word is a count of that thing (parse_yield_unit)."""
    try:
        return parse_yield_unit(text)
    except MOError as err:
        raise validation_error(str(err.details.get("problem", "unknown unit"))) from err


def _positive(maximum: Decimal) -> Callable[[str], Decimal]:
    return lambda text: exact_number(text, field="value", maximum=maximum)


def _waste(text: str) -> Decimal:
    if not text:
        return Decimal(0)
    waste = exact_number(text, field="value", allow_zero=True)
    if waste >= 100:
        raise validation_error("must be below 100")
    return waste


def _qty_base(pair: str) -> Decimal:
    qty, unit = pair.split("\x00")
    return in_base(exact_number(qty, field="qty"), parse_unit(unit), field="value")


def _where(mask: pd.Series, problem: str) -> pd.Series:
    return pd.Series(problem, index=mask.index, dtype=object).where(mask)


def check_rows(text: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    """Per-row fields, checked; every problem goes to `problems` (None where a cell is bad).

    Columns: key (recipe name key), recipe, kind, item, item_key, qty, unit (text), family,
    base_unit, qty_base, waste_pct (Decimals as exact text, ready to stage)."""
    parsed = {
        column: parse_column(text[column], check)
        for column, check in {
            "recipe": _required(clean_name),
            "kind": _required(_kind),
            "item": _required(clean_name),
            "qty": _required(_positive(MAX_QTY)),
            "unit": _required(_measure),
            "waste_pct": _waste,
        }.items()
    }
    for column, result in parsed.items():
        problems.add(text, column, result.problem())
    rows = pd.DataFrame(
        {
            "recipe": parsed["recipe"].value(),
            "key": parsed["recipe"].derive(str.casefold),
            "kind": parsed["kind"].value(),
            "item": parsed["item"].value(),
            "item_key": parsed["item"].derive(str.casefold),
            "qty": parsed["qty"].derive(str),
            "unit": text["unit"].where(parsed["unit"].problem().isna(), None),
            "family": parsed["unit"].derive(lambda m: m.family),
            "base_unit": parsed["unit"].derive(lambda m: m.base),
            "waste_pct": parsed["waste_pct"].derive(str),
        }
    )
    waste_given = parsed["waste_pct"].derive(lambda w: w != 0).fillna(False).astype(bool)
    problems.add(
        text,
        "waste_pct",
        _where(
            (rows["kind"] == "recipe") & waste_given, "waste_pct applies to ingredient lines only"
        ),
    )
    both = parsed["qty"].problem().isna() & parsed["unit"].problem().isna()
    qty_base = parse_column(text["qty"] + "\x00" + text["unit"], _qty_base)
    problems.add(text, "qty", qty_base.problem().where(both))
    rows["qty_base"] = qty_base.derive(str)
    return rows


# ------------------------------------------------------------------------- recipe-level fields

HEAD_CHECKS: dict[str, Callable[[str], Any]] = {
    "yield_qty": _positive(MAX_QTY),
    "yield_unit": _yield_measure,
    "menu_price": _positive(MAX_PRICE),
}


def _sameness(value: Any) -> str:
    # Units compare by meaning ("portion" = "portions", "kg" = "kilo"), numbers by value.
    return f"{value.base}|{value.qty}" if isinstance(value, Measure) else str(value.normalize())


def check_heads(text: pd.DataFrame, rows: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    """One row per recipe key (index): name, first row, yield and menu price. A value may be left
    blank on later rows of a recipe; a different value is a problem, and so is a missing yield."""
    key = rows["key"]
    named = key.notna()
    heads = pd.DataFrame(
        {"key": key[named], "name": rows.loc[named, "recipe"], "row_no": text.index[named] + 2}
    )
    heads = heads.drop_duplicates("key").set_index("key")
    for column, check in HEAD_CHECKS.items():
        parsed = parse_column(text[column], _optional(check))
        problem = parsed.problem()
        problems.add(text, column, problem)
        value = parsed.value()
        given = value.notna() & named
        first_at = pd.Series(text.index[given], index=text.index[given]).groupby(key[given]).first()
        heads[column] = first_at.map(value).reindex(heads.index)
        _refuse_differences(text, key, parsed.derive(_sameness), given, first_at, column, problems)
        if column != "menu_price":
            _require(
                heads, column, keys_with_bad=set(key[problem.notna()].dropna()), problems=problems
            )
    heads["yield_text"] = first_at_text(text, key, index=heads.index)
    return _yield_in_base(heads, problems)


def _refuse_differences(
    text: pd.DataFrame,
    key: pd.Series,
    sameness: pd.Series,
    given: pd.Series,
    first_at: pd.Series,
    column: str,
    problems: Problems,
) -> None:
    expected = key.map(first_at.map(sameness))
    differs = given & (sameness != expected)
    if differs.any():
        first_row = key[differs].map(first_at + 2).astype(int).astype(str)
        problems.add(
            text, column, ("differs from row " + first_row + " of this recipe").reindex(text.index)
        )


def _require(
    heads: pd.DataFrame, column: str, *, keys_with_bad: set[str], problems: Problems
) -> None:
    unset = heads[column].isna() & ~heads.index.isin(list(keys_with_bad))
    problems.add_rows(
        [
            {"row": int(r), "column": column, "value": "", "problem": "required"}
            for r in heads.loc[unset, "row_no"]
        ]
    )


def first_at_text(text: pd.DataFrame, key: pd.Series, *, index: pd.Index) -> pd.Series:
    """The yield unit as first written for each recipe (what the recipe shows)."""
    given = (text["yield_unit"] != "") & key.notna()
    return text.loc[given, "yield_unit"].groupby(key[given]).first().reindex(index)


def _yield_in_base(heads: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    bases, bad = [], []
    for head in heads.itertuples():
        value = None
        if isinstance(head.yield_qty, Decimal) and isinstance(head.yield_unit, Measure):
            try:
                value = in_base(head.yield_qty, head.yield_unit, field="yield_qty")
            except MOError as err:
                bad.append(
                    {
                        "row": int(head.row_no),
                        "column": "yield_qty",
                        "value": str(head.yield_qty),
                        "problem": err.message.removeprefix("yield_qty "),
                    }
                )
        bases.append(value)
    problems.add_rows(bad)
    return heads.assign(yield_base_qty=bases)


def _refuse_long_recipes(rows: pd.DataFrame, problems: Problems) -> None:
    """One problem per recipe with more lines than MO_MAX_RECIPE_LINES, at its first row past it."""
    cap, key = max_recipe_lines(), rows["key"]
    position = key.groupby(key).cumcount()  # 0 for a recipe's first row, 1 for its second, …
    counts = key.map(key.value_counts())
    past = key.notna() & (position == cap)
    problems.add_rows([
        {"row": int(row) + 2, "column": "recipe", "value": str(rows.at[row, "recipe"])[:100],
         "problem": f"a recipe has at most {cap} lines (MO_MAX_RECIPE_LINES); this one has "
                    f"{int(counts[row])}"}
        for row in key.index[past]
    ])


# ------------------------------------------------------------------------------ writing


def _import(
    tx: Tx, ctx: TenantContext, text: pd.DataFrame, *, key: str, digest: str
) -> RecipeImportResult:
    problems = Problems()
    rows = check_rows(text, problems)
    heads = check_heads(text, rows, problems)
    _refuse_long_recipes(rows, problems)
    _stage(tx, text, rows, heads)
    # Without statistics PostgreSQL takes the staging tables for a few rows and joins them by
    # nested loops, comparing every line with every ingredient name and recipe: 2,000 recipes
    # (16,000 lines) took 30 s, 4,000 took 85 s.
    tx.analyze(["ri_recipes", "ri_lines"], staging=True)
    problems.add_rows(tx.all("recipes.import_problems", {"tenant_id": ctx.tenant_id}))
    problems.raise_if_any()
    params = {"tenant_id": ctx.tenant_id}
    replaced = max(tx.run("recipes.import_update_recipes", params), 0)
    created = len(heads) - replaced
    tx.run("recipes.import_insert_recipes", params)
    large = len(text) >= ANALYZE_FROM_LINES
    if large:
        # Planned from statistics taken before the import (an empty recipes table, say), the
        # line insert takes the recipes for one row: 800,000 lines into 100,000 recipes ran past
        # a 900 s statement limit on PostgreSQL, and takes 19 s with statistics (load ~10).
        tx.analyze(["recipes"])
    tx.run("recipes.import_delete_lines", params)
    tx.run("recipes.import_insert_lines", params)
    tx.run("recipes.import_set_shares", params)
    if large:
        # Likewise the cycle and depth checks scan every recipe once per line without them:
        # minutes for a few thousand.
        tx.analyze(["recipe_lines"])
    batch_id = int(
        tx.scalar(
            "recipes.import_batch",
            {
                **params,
                "idempotency_key": key,
                "content_hash": digest,
                "rows": len(text),
                "created": created,
                "changed": replaced,
            },
        )
    )
    emit_event(
        tx,
        ctx,
        "recipes.imported",
        "import_batch",
        batch_id,
        {
            "batch_id": batch_id,
            "recipes": len(heads),
            "lines": len(text),
            "created": created,
            "replaced": replaced,
        },
        idempotency_key=key,
        batch_id=batch_id,
    )
    recomputed = _recompute_imported(tx, ctx)  # refuses a cycle, naming its path
    claim_and_bound(tx, ctx, [int(row["id"]) for row in tx.all("recipes.import_ids", params)])
    tx.run("recipes.import_batch_recomputed", {**params, "id": batch_id, "recomputed": recomputed})
    return RecipeImportResult(
        batch_id=batch_id, recipes=len(heads), lines=len(text), replayed=False
    )


def _recompute_imported(tx: Tx, ctx: TenantContext) -> int:
    open_work(tx)
    tx.run("recipes.import_seed", {"tenant_id": ctx.tenant_id})
    return recompute_seeded(tx, ctx, cause="recipes.imported").recomputed


def _stage(tx: Tx, text: pd.DataFrame, rows: pd.DataFrame, heads: pd.DataFrame) -> None:
    """Bulk-load the checked rows (bad cells as NULL) into the ri_* temporary tables."""
    tx.create_temp_table("recipes.create_ri_recipes")
    tx.create_temp_table("recipes.create_ri_lines")
    lines = rows[
        [
            "key",
            "kind",
            "item",
            "item_key",
            "qty",
            "unit",
            "family",
            "base_unit",
            "qty_base",
            "waste_pct",
        ]
    ].rename(columns={"key": "recipe_key"})
    lines.insert(0, "row_no", (text.index + 2).astype("int64"))
    lines.insert(
        2, "position", rows.groupby(rows["key"].fillna(""), sort=False).cumcount().astype("int64")
    )
    tx.load("ri_lines", lines)
    tx.load(
        "ri_recipes",
        pd.DataFrame(
            {
                "recipe_key": heads.index,
                "name": heads["name"].to_numpy(),
                "row_no": heads["row_no"].astype("int64").to_numpy(),
                "yield_qty": _texts(heads["yield_qty"]),
                "yield_unit": heads["yield_text"].to_numpy(),
                "yield_family": [getattr(u, "family", None) for u in heads["yield_unit"]],
                "yield_base": [getattr(u, "base", None) for u in heads["yield_unit"]],
                "yield_base_qty": _texts(heads["yield_base_qty"]),
                "menu_price": _texts(heads["menu_price"]),
            }
        ),
    )


def _texts(values: pd.Series) -> list[str | None]:
    return [str(v) if isinstance(v, Decimal) else None for v in values]
