"""Saved supplier formats: how one supplier's price lists read, so a weekly import needs only
the file and the supplier's name.

A format is a column mapping (supplier header -> canonical column), the decimal mark, a price
basis (price_per) and the sheet of an .xlsx file. Saving again replaces the format: the active
row is soft-deleted and a new one written, so names are unique among active rows only and the
history stays. Each save emits supplier.saved in its transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Unpack

import pandas as pd

from mo.domain.context import TenantContext
from mo.domain.import_checks import (
    checked_decimal,
    checked_price_per,
    checked_sheet,
    column_mapping,
)
from mo.domain.names import clean_name, name_key
from mo.domain.price_list_options import FormatArgs, FormatOptions
from mo.domain.results import SupplierRecord
from mo.errors import ErrorCode, MOError, not_found, validation_error
from mo.services.costs import typed_frame
from mo.services.events import emit_event
from mo.store.base import Row, Store, Tx, transaction_conflict

SUPPLIER_COLUMNS = ["supplier", "columns", "decimal", "price_per", "sheet", "saved_at"]


@dataclass(frozen=True)
class SupplierFormat:
    """How a supplier's files read; None where nothing was saved."""

    columns: dict[str, str] | None
    decimal: str
    price_per: str | None
    sheet: str | int | None


def save_supplier(
    store: Store,
    ctx: TenantContext,
    supplier: str,
    **options: Unpack[FormatArgs],
) -> SupplierRecord:
    """Store (or replace) how `supplier`'s price lists read (mo.domain.price_list_options
    .FormatOptions). Raises validation_error."""
    name = clean_name(supplier, field="supplier")
    fmt = checked_format(FormatOptions(**options))

    def work(tx: Tx) -> SupplierRecord:
        params = {"tenant_id": ctx.tenant_id, "name_key": name_key(name)}
        tx.run("suppliers.retire", params)
        try:
            row = tx.one("suppliers.insert", {**params, "name": name, **_stored(fmt)})
        except MOError as err:  # a concurrent save of the same name won: retry after it
            if err.code is ErrorCode.CONFLICT:
                raise transaction_conflict(err) from err
            raise
        assert row is not None
        record = SupplierRecord(int(row["id"]), name, fmt.columns, fmt.decimal, fmt.price_per, fmt.sheet)
        payload = {k: v for k, v in record.to_dict().items() if k != "id"}
        emit_event(tx, ctx, "supplier.saved", "supplier", record.id, payload)
        return record

    return store.atomic(work, tenant_id=ctx.tenant_id)


def delete_supplier(store: Store, ctx: TenantContext, supplier: str) -> SupplierRecord:
    """Soft-delete a supplier's saved format. Raises not_found, validation_error."""
    key = name_key(supplier, field="supplier")

    def work(tx: Tx) -> SupplierRecord:
        row = tx.one("suppliers.active", {"tenant_id": ctx.tenant_id, "name_key": key})
        if row is None:
            raise not_found("supplier", supplier)
        tx.run("suppliers.retire", {"tenant_id": ctx.tenant_id, "name_key": key})
        fmt = _format_of(row)
        record = SupplierRecord(int(row["id"]), row["name"], fmt.columns, fmt.decimal, fmt.price_per, fmt.sheet)
        emit_event(tx, ctx, "supplier.deleted", "supplier", record.id, {"supplier": record.supplier})
        return record

    return store.atomic(work, tenant_id=ctx.tenant_id)


def saved_format(tx: Tx, ctx: TenantContext, supplier_key: str) -> SupplierFormat | None:
    """The supplier's active format, if one was saved."""
    row = tx.one("suppliers.active", {"tenant_id": ctx.tenant_id, "name_key": supplier_key})
    return None if row is None else _format_of(row)


def suppliers_frame(store: Store, ctx: TenantContext) -> pd.DataFrame:
    """Every active supplier format of the tenant, by name (SUPPLIER_COLUMNS)."""
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        rows = tx.all("suppliers.listed", {"tenant_id": ctx.tenant_id})
    listed = []
    for row in rows:
        fmt = _format_of(row)
        listed.append(
            {
                "supplier": row["name"],
                "columns": fmt.columns,
                "decimal": fmt.decimal,
                "price_per": fmt.price_per,
                "sheet": fmt.sheet,
                "saved_at": row["created_at"],
            }
        )
    return typed_frame(listed, SUPPLIER_COLUMNS, times=("saved_at",))


# ------------------------------------------------------------------------------------- checks


def checked_format(given: FormatOptions) -> SupplierFormat:
    """The import options a format holds, checked as an import checks them."""
    return SupplierFormat(
        checked_columns(given.columns), checked_decimal(given.decimal),
        checked_price_per(given.price_per), checked_sheet(given.sheet),
    )


def checked_columns(columns: object) -> dict[str, str] | None:
    """A mapping of supplier headers (text) onto canonical columns; {} means none."""
    if columns is None:
        return None
    if not isinstance(columns, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
    ):
        raise validation_error(
            "columns must map supplier headers (text) to column names (text)",
            field="columns",
            value=repr(columns)[:100],
        )
    column_mapping(columns)  # refuses targets that are no canonical column
    return dict(columns) or None


def _stored(fmt: SupplierFormat) -> dict[str, Any]:
    return {
        "column_map": None if fmt.columns is None else json.dumps(fmt.columns, sort_keys=True),
        "decimal_mark": fmt.decimal,
        "price_per": fmt.price_per,
        "sheet": None if fmt.sheet is None else json.dumps(fmt.sheet),  # keeps 0 apart from "0"
    }


def _format_of(row: Row) -> SupplierFormat:
    columns, sheet = row["column_map"], row["sheet"]
    return SupplierFormat(
        None if columns is None else json.loads(columns),
        str(row["decimal_mark"]),
        row["price_per"],
        None if sheet is None else json.loads(sheet),
    )
