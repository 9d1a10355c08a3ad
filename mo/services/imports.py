"""Supplier price lists in: one file, validated whole, imported all-or-nothing and set-based.

The file is read as text (prices never pass through float), mapped onto the canonical columns
item, price, pack (required) and sku, category, unit (optional), and validated in pandas —
each distinct price and pack text is parsed once. Rows that pass are bulk-loaded into temporary
tables and matched, created and costed with joins in one transaction, together with the batch
row, the events and the idempotency record. Nothing runs once per row against the database.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from mo.context import TenantContext
from mo.errors import MOError, not_found, validation_error
from mo.events import EVENT_TYPES, emit_event
from mo.idempotency import check_key
from mo.measure import Measure, parse_quantity
from mo.names import clean_name, name_key
from mo.results import ImportResult
from mo.services.costs import (decimal_text, idempotent, iso, pack_in_base, parse_effective_at, read_price,
                               recompute_changed, to_scale, typed_frame, unit_cost_of)
from mo.services.ingredients import BASE_UNITS_ALLOWED, base_unit_for
from mo.store.base import Row, Store, Tx

CANONICAL = ("item", "price", "pack", "sku", "category", "unit")
REQUIRED = ("item", "price", "pack")
MAX_LISTED = 1000  # bad rows listed in an error (all of them are counted)
MAX_SKU_LENGTH = 200
BATCH_COLUMNS = ["batch_id", "kind", "supplier", "status", "rows", "created", "changed", "unchanged",
                 "recomputed", "duplicate_of", "effective_at", "created_at", "idempotency_key"]
SUPPLIER_ITEM_COLUMNS = ["supplier_key", "sku", "ingredient", "ingredient_id"]
_LOADED = ["row_no", "item", "item_key", "sku", "category", "family", "base", "new_family", "new_base",
           "price", "pack", "pack_qty", "unit_cost"]
_PROBLEM = ["row", "column", "value", "problem"]
_STAGING = ("imports.create_rows", "imports.create_match", "imports.create_conv", "imports.create_chosen")
assert {"ingredient.created", "ingredient.cost.updated", "import.completed"} <= EVENT_TYPES  # SQL emits them

Source = str | os.PathLike[str] | pd.DataFrame | Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class PriceList:
    """A price list read and checked without the database: the rows that passed, and the rest."""

    rows: pd.DataFrame  # _LOADED columns, one per good row, decimals as exact text
    count: int  # data rows, blank rows excepted
    problems: pd.DataFrame  # _PROBLEM columns, one per bad cell
    content_hash: str


@dataclass(frozen=True)
class _Plan:
    ctx: TenantContext
    prices: PriceList
    supplier: str
    key: str
    at: datetime | None
    create_missing: bool
    step: Callable[[str], None]

    @property
    def supplier_key(self) -> str:
        return name_key(self.supplier)


# ---------------------------------------------------------------------------------- the import


def import_price_list(
    store: Store,
    ctx: TenantContext,
    source: Source,
    *,
    idempotency_key: str,
    supplier: str,
    effective_at: datetime | str | None = None,
    columns: Mapping[str, str] | None = None,
    create_missing: bool = True,
    progress: bool = False,
) -> ImportResult:
    """Import a supplier's price list (.csv/.xlsx path, DataFrame or list of row mappings).

    Every row is checked before anything is written; all bad rows are reported together as a
    validation_error with details {"rows": [{"row", "column", "value", "problem"}, …] (first
    1000, spreadsheet numbering: the header is row 1), "bad_rows": n}. Missing or duplicated
    columns are a validation_error with "missing_columns" / "duplicate_columns". Rows match an
    ingredient by (supplier, sku), else by name or alias; unknown items are created, or are bad
    rows when create_missing=False. A row's identity is its sku, else its item name: the same
    one twice is a bad row. Several rows for one ingredient: the lowest unit cost wins.
    The same key again replays the result (replayed=True); the same content as the supplier's
    latest completed list under a new key is recorded as a "duplicate" batch and changes nothing.

    Raises validation_error, not_found (no such file), idempotency_conflict.
    """
    check_key(idempotency_key)
    supplier_name = clean_name(supplier, field="supplier")
    at = parse_effective_at(effective_at)
    with tqdm(total=5, desc="price list", unit="step", disable=not progress) as bar:
        step = _stepper(bar)
        prices = read_price_list(source, columns=columns)
        step("validated")
        plan = _Plan(ctx, prices, supplier_name, idempotency_key, at, bool(create_missing), step)
        request = {"supplier": name_key(supplier_name), "content_hash": prices.content_hash,
                   "effective_at": None if at is None else iso(at), "columns": _mapping(columns),
                   "create_missing": bool(create_missing)}
        outcome = idempotent(store, ctx, key=idempotency_key, operation="import_price_list", request=request,
                             work=lambda tx: _import(tx, plan).to_dict())
    return replace(ImportResult.from_dict(outcome.result), replayed=outcome.replayed)


def _stepper(bar: Any) -> Callable[[str], None]:
    def step(name: str) -> None:
        bar.set_postfix_str(name, refresh=False)
        bar.update()
    return step


def _import(tx: Tx, plan: _Plan) -> ImportResult:
    now = tx.scalar("costs.now")
    at = plan.at or now
    duplicate_of = _duplicate_of(tx, plan)
    if duplicate_of is not None:
        batch_id = _insert_batch(tx, plan, at, status="duplicate", duplicate_of=duplicate_of)
        return ImportResult(batch_id, "duplicate", plan.prices.count, 0, 0, 0, 0, False, duplicate_of)
    _stage(tx, plan)
    _refuse_bad_rows(tx, plan, _convert_units(tx, plan))
    plan.step("checked")
    batch_id = _insert_batch(tx, plan, at, status="completed", duplicate_of=None)
    _create_missing(tx, plan, batch_id)
    _map_skus(tx, plan)
    counts = _write_costs(tx, plan, batch_id, at)
    plan.step("written")
    changed_now = [r["ingredient_id"] for r in tx.all("imports.changed_ids")] if at <= now else []
    recomputed = recompute_changed(tx, plan.ctx, changed_now, cause="import.completed").recomputed
    result = ImportResult(batch_id, "completed", plan.prices.count, counts["created"], counts["changed"],
                          counts["unchanged"], recomputed, False, None)
    _finish_batch(tx, plan, result)
    plan.step("recomputed")
    return result


def _duplicate_of(tx: Tx, plan: _Plan) -> int | None:
    latest = tx.one("imports.latest_completed", {"tenant_id": plan.ctx.tenant_id, "supplier_key": plan.supplier_key})
    same = latest is not None and latest["content_hash"] == plan.prices.content_hash
    return int(latest["id"]) if same else None  # type: ignore[index]


def _insert_batch(tx: Tx, plan: _Plan, at: datetime, *, status: str, duplicate_of: int | None) -> int:
    return int(tx.scalar("imports.insert_batch", {
        "tenant_id": plan.ctx.tenant_id, "idempotency_key": plan.key, "supplier": plan.supplier,
        "supplier_key": plan.supplier_key, "content_hash": plan.prices.content_hash, "status": status,
        "rows": plan.prices.count, "duplicate_of": duplicate_of, "effective_at": at}))


def _finish_batch(tx: Tx, plan: _Plan, result: ImportResult) -> None:
    tx.run("imports.finish_batch", {"tenant_id": plan.ctx.tenant_id, "id": result.batch_id,
                                    "created": result.created, "changed": result.changed,
                                    "unchanged": result.unchanged, "recomputed": result.recomputed})
    emit_event(tx, plan.ctx, "import.completed", "import_batch", result.batch_id, {
        "batch_id": result.batch_id, "supplier": plan.supplier, "rows": result.rows, "created": result.created,
        "changed": result.changed, "unchanged": result.unchanged}, idempotency_key=plan.key,
        batch_id=result.batch_id)


def _stage(tx: Tx, plan: _Plan) -> None:
    """Load the good rows into the staging tables and match each to an ingredient, if any."""
    for query in _STAGING:
        tx.run(query)
    if len(plan.prices.rows):
        tx.load("price_import_rows", plan.prices.rows)
    tx.run("imports.match", {"tenant_id": plan.ctx.tenant_id, "supplier_key": plan.supplier_key})


def _convert_units(tx: Tx, plan: _Plan) -> pd.DataFrame:
    """Re-cost rows priced by volume for a mass ingredient (or back) via its density.

    Returns the rows that cannot be costed (their unit cost rounds to zero) as problems.
    """
    converted, problems = [], []
    for row in tx.all("imports.to_convert", {"tenant_id": plan.ctx.tenant_id}):
        measure = _measure(row["pack"])
        qty = pack_in_base(measure, ingredient=row["name"], base=row["base_unit"], density=row["density"])
        try:
            cost = unit_cost_of(row["price"], qty)
        except MOError as err:
            problems.append((row["row_no"], "price", decimal_text(row["price"]), err.message))
            continue
        converted.append((row["row_no"], format(to_scale(qty), "f"), format(cost, "f")))
    if converted:
        tx.load("price_import_conv", pd.DataFrame(converted, columns=["row_no", "pack_qty", "unit_cost"]))
    return pd.DataFrame(problems, columns=_PROBLEM)


def _refuse_bad_rows(tx: Tx, plan: _Plan, found: pd.DataFrame) -> None:
    """Raise one validation_error listing the file's bad rows and those the database reveals."""
    params = {"tenant_id": plan.ctx.tenant_id, "create_missing": plan.create_missing, "limit": MAX_LISTED}
    clashes = tx.all("imports.unit_clashes", params)
    unknown = [] if plan.create_missing else tx.all("imports.unknown_items", params)
    extra = sum(int(rows[0]["total"]) for rows in (clashes, unknown) if rows)
    listed = pd.concat([plan.prices.problems, found, _clash_problems(clashes), _unknown_problems(unknown)])
    bad_rows = plan.prices.problems["row"].nunique() + found["row"].nunique() + extra
    if bad_rows:
        raise _bad_rows_error(listed, bad_rows)


def _clash_problems(rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame([(r["row_no"], "pack", r["pack"],
                          f"a pack in {r['base']} cannot price {r['ingredient']!r}, measured in {r['unit']}")
                         for r in rows], columns=_PROBLEM)


def _unknown_problems(rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame([(r["row_no"], "item", r["item"], "unknown item (create_missing is off)") for r in rows],
                        columns=_PROBLEM)


def _bad_rows_error(problems: pd.DataFrame, bad_rows: int) -> MOError:
    listed = problems.sort_values(["row"], kind="stable").head(MAX_LISTED)
    rows = [{"row": int(r.row), "column": r.column, "value": None if r.value is None else str(r.value)[:100],
             "problem": r.problem} for r in listed.itertuples(index=False)]
    return validation_error(f"{bad_rows} row(s) of the price list cannot be imported; nothing was imported",
                            rows=rows, bad_rows=int(bad_rows))


def _create_missing(tx: Tx, plan: _Plan, batch_id: int) -> None:
    params = {"tenant_id": plan.ctx.tenant_id}
    tx.run("imports.create_ingredients", params)
    tx.run("imports.link_created", params)
    tx.run("imports.name_created", params)
    tx.run("imports.created_events", {**params, "idempotency_key": plan.key, "batch_id": batch_id})


def _map_skus(tx: Tx, plan: _Plan) -> None:
    params = {"tenant_id": plan.ctx.tenant_id, "supplier_key": plan.supplier_key}
    tx.run("imports.add_supplier_items", params)
    tx.run("imports.remap_supplier_items", params)


def _write_costs(tx: Tx, plan: _Plan, batch_id: int, at: datetime) -> Row:
    params = {"tenant_id": plan.ctx.tenant_id, "at": at, "supplier": plan.supplier, "batch_id": batch_id}
    tx.run("imports.choose_costs", {"tenant_id": plan.ctx.tenant_id, "at": at})
    tx.run("imports.insert_costs", params)
    tx.run("imports.cost_events", {**params, "effective_at": iso(at), "idempotency_key": plan.key})
    counts = tx.one("imports.counts")
    assert counts is not None
    return {name: int(value) for name, value in counts.items()}


# ------------------------------------------------------------------------------------ reading


def read_price_list(source: Source, *, columns: Mapping[str, str] | None = None) -> PriceList:
    """Read and check a price list without the database (see import_price_list for the rules).

    Raises validation_error for an unreadable or empty source and missing/duplicated columns;
    bad rows are returned in PriceList.problems, not raised.
    """
    headers, cells, mojibake = _read_source(source)
    positions = _canonical_columns(headers, columns)
    frame = pd.DataFrame({name: cells[pos].str.strip() for name, pos in positions.items()})
    frame["row_no"] = np.arange(2, len(frame) + 2, dtype="int64")  # the header is row 1
    frame = frame[(frame[list(positions)] != "").any(axis=1)]  # blank rows count for numbering only
    if frame.empty:
        raise validation_error("the price list has no data rows", rows=[], bad_rows=0)
    encoding = _encoding_problems(headers, cells, mojibake)
    rows, problems = _validated(frame.reset_index(drop=True))
    rows = rows[~rows["row_no"].isin(encoding["row"])].reset_index(drop=True)
    return PriceList(rows, len(frame), pd.concat([encoding, problems]), _content_hash(frame, list(positions)))


def _read_source(source: Source) -> tuple[list[str], list[pd.Series], bool]:
    """Header texts, each column's cells as text ("" when empty), and whether bytes were bad."""
    if isinstance(source, pd.DataFrame):
        return _from_frame(source)
    if isinstance(source, str | os.PathLike):
        return _from_file(Path(source))
    if isinstance(source, Sequence) and all(isinstance(row, Mapping) for row in source):
        return _from_frame(pd.DataFrame(list(source)))
    raise validation_error("source must be a .csv or .xlsx path, a DataFrame or a list of rows", field="source")


def _from_file(path: Path) -> tuple[list[str], list[pd.Series], bool]:
    if not path.is_file():
        raise not_found("file", str(path))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _split_header(_read_xlsx(path), mojibake=False)
    if suffix not in (".csv", ".txt"):
        raise validation_error("a price list file is .csv or .xlsx", field="source", value=path.name)
    data = path.read_bytes()
    try:
        text, mojibake = data.decode("utf-8-sig"), False
    except UnicodeDecodeError:  # keep reading, so the rows holding the bad bytes can be named
        text, mojibake = data.decode("utf-8-sig", errors="replace"), True
    return _split_header(_read_csv(text), mojibake=mojibake)


def _read_csv(text: str) -> pd.DataFrame:
    if not text.strip():
        raise validation_error("the price list is empty", rows=[], bad_rows=0)
    try:
        return pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False,
                           skip_blank_lines=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise validation_error(f"the CSV cannot be read: {exc}".strip(), field="source") from exc


def _read_xlsx(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_excel(path, header=None, dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise validation_error(f"the .xlsx file cannot be read: {type(exc).__name__}", field="source") from exc
    if frame.empty:
        raise validation_error("the price list is empty", rows=[], bad_rows=0)
    return frame.fillna("")


def _from_frame(frame: pd.DataFrame) -> tuple[list[str], list[pd.Series], bool]:
    if frame.columns.empty:
        raise validation_error("the price list is empty", rows=[], bad_rows=0)
    cells = [_as_text(frame.iloc[:, pos]) for pos in range(frame.shape[1])]
    return [str(c) for c in frame.columns], cells, False


def _as_text(column: pd.Series) -> pd.Series:
    # Numbers handed over in a DataFrame become their shortest text ("12.5"), never binary floats.
    return column.astype(object).where(column.notna(), "").astype(str).reset_index(drop=True)


def _split_header(frame: pd.DataFrame, *, mojibake: bool) -> tuple[list[str], list[pd.Series], bool]:
    body = frame.iloc[1:].reset_index(drop=True)
    return [str(h) for h in frame.iloc[0]], [body[c].astype(str) for c in body.columns], mojibake


def _norm(header: object) -> str:
    return " ".join(str(header).split()).casefold()


def _mapping(columns: Mapping[str, str] | None) -> dict[str, str]:
    mapping = {_norm(header): _norm(target) for header, target in (columns or {}).items()}
    wrong = sorted({target for target in mapping.values() if target not in CANONICAL})
    if wrong:
        raise validation_error(f"columns can map onto {', '.join(CANONICAL)} only", field="columns", value=wrong)
    return mapping


def _canonical_columns(headers: list[str], columns: Mapping[str, str] | None) -> dict[str, int]:
    """Canonical name -> column position. A header mapped explicitly wins over a same-named one."""
    mapping = _mapping(columns)
    found: dict[str, list[int]] = {}
    for pos, header in enumerate(headers):
        key = _norm(header)
        target = mapping.get(key) or (key if key in CANONICAL and key not in mapping.values() else None)
        if target:
            found.setdefault(target, []).append(pos)
    missing = [name for name in REQUIRED if name not in found]
    duplicated = {name: [headers[p] for p in pos] for name, pos in found.items() if len(pos) > 1}
    if missing or duplicated:
        raise validation_error("the price list's columns are not usable", missing_columns=missing,
                               duplicate_columns=duplicated, headers=headers[:50])
    return {name: pos[0] for name, pos in found.items()}


def _encoding_problems(headers: list[str], cells: list[pd.Series], mojibake: bool) -> pd.DataFrame:
    if not mojibake:
        return pd.DataFrame(columns=_PROBLEM)
    found = [pd.DataFrame({"row": 1, "column": h, "value": h, "problem": "not valid UTF-8"}, index=[0])
             for h in headers if "\ufffd" in h]
    for header, column in zip(headers, cells):
        bad = column.str.contains("\ufffd", regex=False)
        found.append(pd.DataFrame({"row": np.flatnonzero(bad) + 2, "column": header, "value": column[bad].values,
                                   "problem": "not valid UTF-8 text"}))
    return pd.concat(found)


def _content_hash(frame: pd.DataFrame, names: list[str]) -> str:
    """sha256 of the canonical content (not the bytes): CSV and XLSX of one list hash alike."""
    digest = hashlib.sha256(json.dumps(sorted(names)).encode())
    for name in sorted(names):
        digest.update(b"\x1e" + "\x1f".join(frame[name].tolist()).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


# --------------------------------------------------------------------------------- validation


def _validated(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(loadable good rows, problems) for the canonical frame; each distinct text parsed once."""
    for optional in ("sku", "category", "unit"):
        if optional not in frame:
            frame[optional] = ""
    checks: list[pd.DataFrame] = []
    names, checks_item = _parsed(frame, "item", lambda t: clean_name(t, field="item"), empty="item name is empty")
    prices, checks_price = _parsed(frame, "price", read_price, empty="price is missing")
    packs, checks_pack = _parsed(frame, "pack", _purchase_measure, empty="pack is missing")
    categories, checks_cat = _parsed(frame, "category", lambda t: clean_name(t, field="category"))
    units, checks_unit = _parsed(frame, "unit", base_unit_for)
    checks += [checks_item, checks_price, checks_pack, checks_cat, checks_unit, _sku_problems(frame)]
    keys = pd.Series([None if n is None else n.casefold() for n in names], index=frame.index, dtype=object)
    checks.append(_duplicates(frame, keys))
    costs, checks_cost = _unit_costs(frame, prices, packs)
    checks.append(checks_cost)
    problems = pd.concat(checks)
    good = ~frame["row_no"].isin(problems["row"])
    rows = _loadable(frame[good], names[good], keys[good], categories[good], units[good], prices[good],
                     packs[good], costs[good])
    return rows, problems


def _parsed(frame: pd.DataFrame, column: str, parse: Callable[[str], Any],
            *, empty: str | None = None) -> tuple[pd.Series, pd.DataFrame]:
    """Parse each distinct text of a column once: (values, problems). Empty is None, or a problem."""
    codes, uniques = pd.factorize(frame[column])
    results, messages = [], []
    for text in uniques:
        value, message = _attempt(parse, text) if text != "" else (None, empty)
        results.append(value)
        messages.append(message)
    values = pd.Series(np.array(results + [None], dtype=object)[codes], index=frame.index, dtype=object)
    message = pd.Series(np.array(messages + [None], dtype=object)[codes], index=frame.index, dtype=object)
    bad = message.notna()
    return values, pd.DataFrame({"row": frame["row_no"][bad], "column": column, "value": frame[column][bad],
                                 "problem": message[bad]}, columns=_PROBLEM)


def _attempt(parse: Callable[[str], Any], text: str) -> tuple[Any, str | None]:
    try:
        return parse(text), None
    except MOError as err:
        return None, str(err.details.get("problem") or err.message) if isinstance(err.details, dict) else err.message


def _purchase_measure(text: str) -> Measure:
    measure = _measure(text)
    if measure.base not in BASE_UNITS_ALLOWED:
        raise validation_error(f"{measure.base!r} is a recipe yield, not a purchase unit (g, ml or each)",
                               text=text, problem=f"{measure.base!r} is a recipe yield, not a purchase unit")
    return measure


@lru_cache(maxsize=65536)
def _measure(text: str) -> Measure:
    return parse_quantity(text)


def _sku_problems(frame: pd.DataFrame) -> pd.DataFrame:
    bad = frame["sku"].str.len() > MAX_SKU_LENGTH
    return pd.DataFrame({"row": frame["row_no"][bad], "column": "sku", "value": frame["sku"][bad],
                         "problem": f"sku is longer than {MAX_SKU_LENGTH} characters"}, columns=_PROBLEM)


def _duplicates(frame: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    """A row is identified by its sku, or by its item name when it has none: once per file."""
    has_sku = frame["sku"] != ""
    identity = pd.Series(np.where(has_sku, "sku\x1f" + frame["sku"], "item\x1f" + keys.fillna("").astype(str)),
                         index=frame.index)
    identity[~has_sku & keys.isna()] = None
    repeated = identity.notna() & identity.duplicated(keep="first")
    first = frame["row_no"].groupby(identity).transform("first")
    column = np.where(has_sku, "sku", "item")[repeated]
    return pd.DataFrame({"row": frame["row_no"][repeated], "column": column,
                         "value": np.where(has_sku, frame["sku"], frame["item"])[repeated],
                         "problem": [f"the same {c} as row {int(r)}" for c, r in zip(column, first[repeated])]},
                        columns=_PROBLEM)


def _unit_costs(frame: pd.DataFrame, prices: pd.Series, packs: pd.Series) -> tuple[pd.Series, pd.DataFrame]:
    """price ÷ pack quantity per row, in the pack's base unit; computed once per distinct pair."""
    pairs = frame["price"] + "\x1f" + frame["pack"]
    usable = prices.notna() & packs.notna()
    codes, _ = pd.factorize(pairs.where(usable))
    firsts = pd.Series(np.arange(len(frame)), index=frame.index).groupby(codes).first()
    results, messages = {}, {}
    for code, position in firsts.items():
        if code >= 0:
            results[code], messages[code] = _attempt(lambda p: unit_cost_of(p, packs.iloc[position].qty),
                                                     prices.iloc[position])
    costs = pd.Series([results.get(c) for c in codes], index=frame.index, dtype=object)
    message = pd.Series([messages.get(c) for c in codes], index=frame.index, dtype=object)
    bad = message.notna()
    return costs, pd.DataFrame({"row": frame["row_no"][bad], "column": "price", "value": frame["price"][bad],
                                "problem": message[bad]}, columns=_PROBLEM)


def _loadable(frame: pd.DataFrame, names: pd.Series, keys: pd.Series, categories: pd.Series, units: pd.Series,
              prices: pd.Series, packs: pd.Series, costs: pd.Series) -> pd.DataFrame:
    """The good rows as the staging table's columns; decimals travel as exact text."""
    family = packs.map(lambda m: m.family)
    base = packs.map(lambda m: m.base)
    declared = units.notna()
    return pd.DataFrame({
        "row_no": frame["row_no"], "item": names, "item_key": keys,
        "sku": frame["sku"].where(frame["sku"] != "", None).astype(object), "category": categories,
        "family": family, "base": base,
        "new_family": units.map(lambda u: u and u[0]).where(declared, family),
        "new_base": units.map(lambda u: u and u[1]).where(declared, base),
        "price": prices.map(lambda p: format(p, "f")), "pack": frame["pack"],
        "pack_qty": packs.map(lambda m: format(to_scale(m.qty), "f")), "unit_cost": costs.map(lambda c: format(c, "f")),
    }, columns=_LOADED).reset_index(drop=True)


# ------------------------------------------------------------------------------------- frames


def imports_frame(store: Store, ctx: TenantContext) -> pd.DataFrame:
    """Every import batch of the tenant, oldest first (BATCH_COLUMNS)."""
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        rows = tx.all("imports.batches", {"tenant_id": ctx.tenant_id})
    return typed_frame(rows, BATCH_COLUMNS, times=("effective_at", "created_at"),
                       ints=("batch_id", "rows", "created", "changed", "unchanged", "recomputed", "duplicate_of"))


def supplier_items_frame(store: Store, ctx: TenantContext) -> pd.DataFrame:
    """Which active ingredient each supplier's sku maps to (SUPPLIER_ITEM_COLUMNS)."""
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        rows = tx.all("imports.supplier_items", {"tenant_id": ctx.tenant_id})
    return typed_frame(rows, SUPPLIER_ITEM_COLUMNS, ints=("ingredient_id",))
