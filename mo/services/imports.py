"""Supplier price lists in: one list, validated whole, imported all-or-nothing and set-based.

mo.services.price_lists reads and checks the list without the database; what passes is
bulk-loaded into temporary tables — the rows as codes, beside small tables of the distinct
items, packs, prices and unit costs — then matched, created and costed with joins in one
transaction with the batch row, the events and the idempotency record. No statement runs once
per row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Unpack

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from mo.domain.checks import check_batch_id
from mo.domain.context import TenantContext
from mo.domain.conversions import Conversion, conversion_factor
from mo.domain.import_checks import (
    check_import_options,
    checked_price_per,
    checked_sheet,
    column_mapping,
)
from mo.domain.names import name_key
from mo.domain.price_list_options import FormatOptions, PriceListArgs, PriceListOptions
from mo.domain.prices import to_scale, unit_cost_of
from mo.domain.results import ImportResult
from mo.domain.unicode_cells import not_unicode
from mo.errors import ErrorCode, MOError, not_found, validation_error
from mo.services.conversions import scaled
from mo.services.costs import decimal_text, iso, recompute_changed, typed_frame
from mo.services.events import EVENT_TYPES, emit_event
from mo.services.idempotency import replay, request_hash, run_idempotent
from mo.services.paging import EVERY_ROW, FramePage, PageRequest, cut
from mo.services.price_lists import (
    PROBLEM_COLUMNS,
    PriceList,
    ReadOptions,
    Source,
    load_source,
    pack_measure,
    read_loaded,
    read_options,
    read_price_list,
)
from mo.services.suppliers import SupplierFormat, saved_format
from mo.store.base import Row, Store, Tx, transaction_conflict
from mo.util.memory import give_back_memory

__all__ = [
    "import_price_list",
    "import_rejections_frame",
    "imports_frame",
    "read_price_list",
    "supplier_items_frame",
]

OPERATION = "import_price_list"
MAX_LISTED = 1000  # bad rows listed in an error (all of them are counted)
ANALYZE_FROM_ROWS = 10_000  # a list this long changes table sizes enough to refresh statistics
BATCH_COLUMNS = [
    "batch_id",
    "kind",
    "supplier",
    "status",
    "rows",
    "created",
    "changed",
    "unchanged",
    "recomputed",
    "duplicate_of",
    "effective_at",
    "created_at",
    "idempotency_key",
]
SUPPLIER_ITEM_COLUMNS = ["supplier_key", "sku", "ingredient", "ingredient_id", "description"]
REJECTION_COLUMNS = ["row", "column", "value", "problem"]
_CREATE_STAGING = (
    "rows", "items", "packs", "prices", "costs", "match", "new", "conv", "chosen", "rejected",
    "moved",
)
# The tables a large list fills: fresh statistics for them, so the next import's joins (and the
# recompute that follows) are planned for their real size.
_WRITTEN_TABLES = ("ingredients", "ingredient_names", "supplier_items", "ingredient_costs")
assert {
    "ingredient.created",
    "ingredient.cost.updated",
    "import.completed",
} <= EVENT_TYPES  # SQL emits them


@dataclass(frozen=True, kw_only=True)
class _Plan:
    ctx: TenantContext
    prices: PriceList
    supplier: str
    key: str
    at: datetime | None
    create_missing: bool
    on_bad_rows: str
    step: Callable[[str], None]

    @property
    def supplier_key(self) -> str:
        return name_key(self.supplier)

    @property
    def skipping(self) -> bool:
        return self.on_bad_rows == "skip"


@dataclass(frozen=True)
class _Rejected:
    """The bad rows of a list: their problems (PROBLEM_COLUMNS) and how many rows they are."""

    problems: pd.DataFrame
    rows: int


# ---------------------------------------------------------------------------------- the import


def import_price_list(
    store: Store,
    ctx: TenantContext,
    source: Source,
    *,
    idempotency_key: str,
    progress: bool = False,
    **options: Unpack[PriceListArgs],
) -> ImportResult:
    """Import a supplier's price list (.csv/.xlsx path, DataFrame or list of row mappings).

    Every row is checked before anything is written; all bad rows are reported together as a
    validation_error with details {"rows": [{"row", "column", "value", "problem"}, …] (first
    1000, spreadsheet numbering: the header is row 1), "bad_rows": n}. With on_bad_rows="skip"
    the good rows are imported instead, and the bad ones returned in ImportResult.rejected
    (the same listing) and kept with the batch (import_rejections_frame); a list without one
    good row is still that validation_error. Missing or duplicated
    columns are a validation_error with "missing_columns" / "duplicate_columns". Rows match an
    ingredient by (supplier, sku), else by name or alias; unknown items are created (shaped by
    their first row), or are bad rows when create_missing=False. A row's identity is its sku,
    else its item name: the same one twice is a bad row. Several rows for one ingredient: the
    lowest unit cost wins. A matched sku records the row's item text as the supplier's
    description; the ingredient keeps its name. columns, decimal, sheet and price_per not given
    come from the supplier's saved format (mo.services.suppliers), if any: `decimal=","` reads
    12,50 as 12.50; `sheet` picks an .xlsx sheet (name or 0-based position; the first by
    default); `price_per` says what every price is for when the list has no price_per column.
    on_bad_rows="skip" imports the good rows and keeps the bad ones with the batch. The same key
    again replays the result (replayed=True) without parsing the file; the same content as the
    supplier's latest completed list under a new key is recorded as a "duplicate" batch and
    changes nothing. The result's header_row is the line the header was found on.

    Raises validation_error, not_found (no such file), idempotency_conflict.
    """
    given = PriceListOptions(**options)
    supplier_name, at = check_import_options(idempotency_key=idempotency_key, options=given)
    fmt = _effective_format(store, ctx, supplier_name, given)
    request = {
        "supplier": name_key(supplier_name),
        "columns": column_mapping(fmt.columns),
        "effective_at": None if at is None else iso(at),
        "create_missing": given.create_missing,
        **_optional_request(fmt, given.on_bad_rows),
    }
    try:
        raw = load_source(source)
    except UnicodeEncodeError as exc:  # a row list whose text pandas cannot hold
        raise not_unicode(source) from exc
    if (
        raw.data is not None
    ):  # a file: its bytes identify the request, so a replay skips the parsing
        request["content_hash"] = "sha256:" + hashlib.sha256(raw.data).hexdigest()
        stored = _stored_result(store, ctx, idempotency_key, request)
        if stored is not None:
            return stored
    with tqdm(total=4, desc="price list", unit="step", disable=not progress) as bar:
        try:
            prices = read_loaded(raw, fmt.columns, options=_reader_options(fmt))
        except UnicodeEncodeError as exc:  # a DataFrame cell Arrow cannot hold
            raise not_unicode(source) from exc
        del raw  # the file's bytes: not needed while the database works
        give_back_memory()  # nor the parser's and the checks' scratch memory
        bar.update()
        request.setdefault("content_hash", prices.content_hash)
        plan = _Plan(
            ctx=ctx,
            prices=prices,
            supplier=supplier_name,
            key=idempotency_key,
            at=at,
            create_missing=given.create_missing,
            on_bad_rows=given.on_bad_rows,
            step=_stepper(bar),
        )
        outcome = run_idempotent(
            store,
            ctx,
            key=idempotency_key,
            operation=OPERATION,
            request=request,
            work=lambda tx: _import(tx, plan).to_dict(),
        )
    return replace(ImportResult.from_dict(outcome.result), replayed=outcome.replayed)


def _effective_format(
    store: Store, ctx: TenantContext, supplier: str, given: FormatOptions
) -> SupplierFormat:
    """The options given, and for those not given the supplier's saved format's."""
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        saved = saved_format(tx, ctx, name_key(supplier))
    saved = saved or SupplierFormat(None, ".", None, None)
    return SupplierFormat(
        saved.columns if given.columns is None else dict(given.columns),
        saved.decimal if given.decimal is None else given.decimal,
        saved.price_per if given.price_per is None else checked_price_per(given.price_per),
        saved.sheet if given.sheet is None else checked_sheet(given.sheet),
    )


def _optional_request(fmt: SupplierFormat, on_bad_rows: str) -> dict[str, Any]:
    """The options that joined the request later, only when not at their default: a retry of
    an import made before they existed keeps the request it had."""
    optional = {
        "decimal": None if fmt.decimal == "." else fmt.decimal,
        "sheet": fmt.sheet,
        "price_per": fmt.price_per,
        "on_bad_rows": None if on_bad_rows == "fail" else on_bad_rows,
    }
    return {name: value for name, value in optional.items() if value is not None}


def _reader_options(fmt: SupplierFormat) -> ReadOptions:
    """How the reader reads the list, from the import's format (given or saved)."""
    return read_options(decimal=fmt.decimal, sheet=fmt.sheet, price_per=fmt.price_per)


def _stored_result(
    store: Store, ctx: TenantContext, key: str, request: dict[str, Any]
) -> ImportResult | None:
    """The finished import stored under `key`, if any; idempotency_conflict for another request."""
    fingerprint = request_hash({"operation": OPERATION, **request})  # as run_idempotent computes it
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        stored = replay(tx, ctx, key=key, operation=OPERATION, fingerprint=fingerprint)
    return None if stored is None else replace(ImportResult.from_dict(stored), replayed=True)


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
        return ImportResult(
            batch_id, "duplicate", plan.prices.count, 0, 0, 0, 0, False, duplicate_of,
            header_row=plan.prices.header_row,
        )
    _stage(tx, plan)
    rejected = _bad_rows(tx, plan, _convert_units(tx, plan))
    _refuse_or_drop(tx, plan, rejected)
    plan.step("checked")
    batch_id = _insert_batch(tx, plan, at, status="completed", duplicate_of=None)
    _keep_rejections(tx, plan, batch_id, rejected)
    _retrying_races(lambda: (_create_missing(tx, plan, batch_id), _map_skus(tx, plan)))
    counts = _write_costs(tx, plan, batch_id, at)
    if plan.prices.count >= ANALYZE_FROM_ROWS:
        tx.analyze(_WRITTEN_TABLES)
    plan.step("written")
    changed_now = [r["ingredient_id"] for r in tx.all("imports.changed_ids")] if at <= now else []
    recomputed = recompute_changed(tx, plan.ctx, changed_now, cause="import.completed").recomputed
    result = ImportResult(
        batch_id,
        "completed",
        plan.prices.count,
        counts["created"],
        counts["changed"],
        counts["unchanged"],
        recomputed,
        False,
        None,
        rejected.rows,
        tuple(_listed(rejected.problems)),
        header_row=plan.prices.header_row,
    )
    _finish_batch(tx, plan, result)
    plan.step("recomputed")
    return result


def _retrying_races(write: Callable[[], Any]) -> None:
    """Run `write`; a unique rule broken by a concurrent import (it created the same new name or
    sku first) becomes a transaction conflict, so the whole import is retried and matches them."""
    try:
        write()
    except MOError as err:
        if err.code is ErrorCode.CONFLICT:
            raise transaction_conflict(err) from err
        raise


def _duplicate_of(tx: Tx, plan: _Plan) -> int | None:
    latest = tx.one(
        "imports.latest_completed",
        {"tenant_id": plan.ctx.tenant_id, "supplier_key": plan.supplier_key},
    )
    same = latest is not None and latest["content_hash"] == plan.prices.content_hash
    return int(latest["id"]) if same else None  # type: ignore[index]


def _insert_batch(
    tx: Tx, plan: _Plan, at: datetime, *, status: str, duplicate_of: int | None
) -> int:
    return int(
        tx.scalar(
            "imports.insert_batch",
            {
                "tenant_id": plan.ctx.tenant_id,
                "idempotency_key": plan.key,
                "supplier": plan.supplier,
                "supplier_key": plan.supplier_key,
                "content_hash": plan.prices.content_hash,
                "status": status,
                "rows": plan.prices.count,
                "duplicate_of": duplicate_of,
                "effective_at": at,
            },
        )
    )


def _finish_batch(tx: Tx, plan: _Plan, result: ImportResult) -> None:
    tx.run(
        "imports.finish_batch",
        {
            "tenant_id": plan.ctx.tenant_id,
            "id": result.batch_id,
            "created": result.created,
            "changed": result.changed,
            "unchanged": result.unchanged,
            "recomputed": result.recomputed,
        },
    )
    emit_event(
        tx,
        plan.ctx,
        "import.completed",
        "import_batch",
        result.batch_id,
        {
            "batch_id": result.batch_id,
            "supplier": plan.supplier,
            "rows": result.rows,
            "created": result.created,
            "changed": result.changed,
            "unchanged": result.unchanged,
            "rejected": result.rejected_rows,
        },
        idempotency_key=plan.key,
        batch_id=result.batch_id,
    )


def _stage(tx: Tx, plan: _Plan) -> None:
    """Load the good rows into the staging tables and match each to an ingredient, if any."""
    for name in _CREATE_STAGING:
        tx.create_temp_table(f"imports.create_{name}")
    for name, frame in plan.prices.staging.items():
        if len(frame):
            tx.load(f"price_import_{name}", frame)
    # What the match reads; chosen and rejected are filled later.
    tx.analyze([f"price_import_{name}" for name in _CREATE_STAGING if name not in ("chosen", "rejected", "moved")], staging=True)
    tx.run("imports.match", {"tenant_id": plan.ctx.tenant_id, "supplier_key": plan.supplier_key})
    # Only the table match just filled: re-analysing all eight after each step cost about
    # 0.4 s per 200k rows, twice.
    tx.analyze(["price_import_match"], staging=True)


def _convert_units(tx: Tx, plan: _Plan) -> tuple[pd.DataFrame, int]:
    """Cost packs in another unit than their ingredient's, via its density or its conversions.

    Done once per distinct (price, pack, ingredient), with the conversions of those ingredients
    read in one statement. A pack no conversion reaches is left to imports.unit_clashes (it has
    no price_import_conv row); one that cannot be costed (a unit cost rounding to zero) gets a
    row without unit cost and is returned as a problem listed at its first row, with how many
    rows that concerns.
    """
    converted, problems, bad_rows = [], [], 0
    todo = tx.all("imports.to_convert", {"tenant_id": plan.ctx.tenant_id})
    known = _staged_conversions(tx, plan) if todo else {}
    for row in todo:
        factor = conversion_factor(
            row["pack_base"], row["base_unit"],
            conversions=known.get(int(row["ingredient_id"]), []), density=row["density"],
        )
        if factor is None:
            continue
        qty = scaled(pack_measure(row["pack"]).qty, factor)
        codes = (row["price_code"], row["pack_code"], row["ingredient_id"])
        try:
            cost = unit_cost_of(row["price"], qty)
        except MOError as err:
            problems.append((row["row_no"], "price", decimal_text(row["price"]), err.message))
            bad_rows += int(row["rows"])
            converted.append((*codes, None, None))
            continue
        converted.append((*codes, format(to_scale(qty), "f"), format(cost, "f")))
    if converted:
        columns = ["price_code", "pack_code", "ingredient_id", "pack_qty", "unit_cost"]
        tx.load("price_import_conv", pd.DataFrame(converted, columns=columns))
    return pd.DataFrame(problems, columns=PROBLEM_COLUMNS), bad_rows


def _staged_conversions(tx: Tx, plan: _Plan) -> dict[int, list[Conversion]]:
    """The active conversions of the ingredients this list prices, by ingredient id."""
    found: dict[int, list[Conversion]] = {}
    for r in tx.all("imports.staged_conversions", {"tenant_id": plan.ctx.tenant_id}):
        found.setdefault(int(r["ingredient_id"]), []).append(
            Conversion(r["from_base"], Decimal(r["from_qty"]), r["to_base"], Decimal(r["to_qty"]))
        )
    return found


def _bad_rows(tx: Tx, plan: _Plan, found: tuple[pd.DataFrame, int]) -> _Rejected:
    """The file's bad rows and those the database reveals (when failing, the first 1000 are
    listed; when skipping, every one, as every one is kept with the batch)."""
    params = {
        "tenant_id": plan.ctx.tenant_id,
        "create_missing": plan.create_missing,
        "limit": plan.prices.count if plan.skipping else MAX_LISTED,
    }
    clashes = tx.all("imports.unit_clashes", params)
    unknown = [] if plan.create_missing else tx.all("imports.unknown_items", params)
    in_database = found[1] + sum(int(rows[0]["total"]) for rows in (clashes, unknown) if rows)
    bad_rows = (
        plan.prices.problems["row"].nunique() + in_database
    )  # disjoint: bad rows are not loaded
    listed = [
        plan.prices.problems,
        found[0],
        _clash_problems(clashes),
        _unknown_problems(unknown),
    ]
    problems = pd.concat([frame for frame in listed if len(frame)] or [listed[0]])
    return _Rejected(problems.sort_values(["row"], kind="stable"), int(bad_rows))


def _refuse_or_drop(tx: Tx, plan: _Plan, rejected: _Rejected) -> None:
    """Failing: one validation_error listing the bad rows. Skipping: the rows the database found
    bad leave the staged import (the file's were never staged), unless no good row is left."""
    if not rejected.rows:
        return
    if not plan.skipping or rejected.rows >= plan.prices.count:
        raise _bad_rows_error(rejected.problems, rejected.rows, none_left=plan.skipping)
    tx.run("imports.drop_bad_rows", {"create_missing": plan.create_missing})


def _keep_rejections(tx: Tx, plan: _Plan, batch_id: int, rejected: _Rejected) -> None:
    """Every problem of the skipped rows, with the batch: staged in bulk, then copied under the
    tenant (COPY cannot write through row-level security)."""
    if not rejected.rows:
        return
    problems = rejected.problems
    staged = pd.DataFrame(
        {
            "seq": np.arange(len(problems), dtype=np.int64),
            "row_no": problems["row"].to_numpy(dtype=np.int64),
            "column_name": problems["column"].astype(str).to_numpy(dtype=object),
            "value": [_shown(v) for v in problems["value"]],
            "problem": problems["problem"].astype(str).to_numpy(dtype=object),
        }
    )
    tx.load("price_import_rejected", staged)
    tx.run("imports.keep_rejections", {"tenant_id": plan.ctx.tenant_id, "batch_id": batch_id})


def _shown(value: Any) -> str | None:
    return None if value is None or value is pd.NA else str(value)[:100]


def _clash_problems(rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (
                r["row_no"],
                "pack",
                r["pack"],
                f"a pack in {r['base']} cannot price {r['ingredient']!r}, measured in "
                f"{r['unit']}: add a conversion: "
                f"add_conversion({r['ingredient']!r}, '1 {r['base']}', '… {r['unit']}')",
            )
            for r in rows
        ],
        columns=PROBLEM_COLUMNS,
    )


def _unknown_problems(rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame(
        [(r["row_no"], "item", r["item"], "unknown item (create_missing is off)") for r in rows],
        columns=PROBLEM_COLUMNS,
    )


def _listed(problems: pd.DataFrame) -> list[dict[str, Any]]:
    """The first MAX_LISTED problems as an error's details list them."""
    return [
        {"row": int(r.row), "column": r.column, "value": _shown(r.value), "problem": r.problem}
        for r in problems.head(MAX_LISTED).itertuples(index=False)
    ]


def _bad_rows_error(problems: pd.DataFrame, bad_rows: int, *, none_left: bool) -> MOError:
    rows = _listed(problems.sort_values(["row"], kind="stable"))
    message = (
        f"none of the {bad_rows} row(s) of the price list can be imported; nothing was imported"
        if none_left
        else f"{bad_rows} row(s) of the price list cannot be imported; nothing was imported"
    )
    return validation_error(message, rows=rows, bad_rows=int(bad_rows))


def _create_missing(tx: Tx, plan: _Plan, batch_id: int) -> None:
    params = {"tenant_id": plan.ctx.tenant_id}
    tx.run("imports.number_created")
    tx.analyze(["price_import_new", "price_import_conv"], staging=True)
    tx.run("imports.create_ingredients", params)
    tx.run("imports.name_created", params)
    tx.run("imports.created_events", {**params, "idempotency_key": plan.key, "batch_id": batch_id})


def _map_skus(tx: Tx, plan: _Plan) -> None:
    params = {"tenant_id": plan.ctx.tenant_id, "supplier_key": plan.supplier_key}
    tx.run("imports.add_supplier_items", params)
    tx.run("imports.remap_supplier_items", params)
    tx.run("imports.describe_supplier_items", params)


def _write_costs(tx: Tx, plan: _Plan, batch_id: int, at: datetime) -> Row:
    params = {
        "tenant_id": plan.ctx.tenant_id,
        "at": at,
        "supplier": plan.supplier,
        "batch_id": batch_id,
    }
    tx.run(
        "imports.choose_costs",
        {"tenant_id": plan.ctx.tenant_id, "at": at, "supplier": plan.supplier},
    )
    tx.run("imports.insert_costs", params)
    tx.run("imports.moved", {"tenant_id": plan.ctx.tenant_id, "at": at})
    tx.run("imports.cost_events", {**params, "effective_at": iso(at), "idempotency_key": plan.key})
    counts = tx.one("imports.counts")
    assert counts is not None
    return {name: int(value) for name, value in counts.items()}


# ------------------------------------------------------------------------------------- frames


def imports_frame(store: Store, ctx: TenantContext) -> pd.DataFrame:
    """Every import batch of the tenant, oldest first (BATCH_COLUMNS)."""
    return imports_page(store, ctx).frame


def imports_page(store: Store, ctx: TenantContext, *, page: PageRequest = EVERY_ROW) -> FramePage:
    """One keyset page of imports_frame, keyed by (created_at, batch_id)."""
    params = {"tenant_id": ctx.tenant_id, **page.params("after_at", "after_id")}
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        rows = tx.all("imports.batches", params)
    rows, after = cut(rows, page, lambda r: (r["created_at"], r["batch_id"]))
    frame = typed_frame(
        rows,
        BATCH_COLUMNS,
        times=("effective_at", "created_at"),
        ints=("batch_id", "rows", "created", "changed", "unchanged", "recomputed", "duplicate_of"),
    )
    return FramePage(frame, after)


def supplier_items_frame(store: Store, ctx: TenantContext) -> pd.DataFrame:
    """Which active ingredient each supplier's sku maps to (SUPPLIER_ITEM_COLUMNS)."""
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        rows = tx.all("imports.supplier_items", {"tenant_id": ctx.tenant_id})
    return typed_frame(rows, SUPPLIER_ITEM_COLUMNS, ints=("ingredient_id",))


def import_rejections_frame(store: Store, ctx: TenantContext, batch_id: int) -> pd.DataFrame:
    """The rows a skipping import left out, with their problems (REJECTION_COLUMNS), by row.

    Raises not_found for a batch the tenant does not have, validation_error for a bad id.
    """
    check_batch_id(batch_id)
    params = {"tenant_id": ctx.tenant_id, "batch_id": batch_id}
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        if tx.one("imports.batch_exists", params) is None:
            raise not_found("import batch", batch_id)
        rows = tx.all("imports.rejections", params)
    return typed_frame(rows, REJECTION_COLUMNS, ints=("row",))
