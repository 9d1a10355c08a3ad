"""Request and response models of the HTTP API (what /openapi.json documents).

Request fields are typed `Any` on purpose: the services validate every value, so a bad value
gets the same validation_error over HTTP as in-process. Response models are derived from the
result dataclasses themselves (decimals travel as exact strings), so they cannot drift.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from decimal import Decimal
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from mo.errors import ErrorCode


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IngredientIn(_Body):
    name: Any = Field(
        description="display name; unique among active names and aliases", examples=["Flour"]
    )
    unit: Any = Field(
        description="base unit: g, ml or each (or a unit of that family)", examples=["g"]
    )
    category: Any = Field(None, examples=["dry goods"])
    density: Any = Field(
        None, description="g per ml, as a decimal string or number", examples=["0.53"]
    )
    yield_pct: Any = Field(
        None, description="usable share in percent (default 100)", examples=["92.5"]
    )


class AliasIn(_Body):
    alias: Any = Field(description="another name for the ingredient", examples=["plain flour"])


class CostIn(_Body):
    price: Any = Field(
        description="price of one pack, as a decimal string or number", examples=["12.50"]
    )
    per: Any = Field(
        description="the pack the price buys, e.g. '25 kg' or 'each'", examples=["25 kg"]
    )
    effective_at: Any = Field(
        None, description="ISO 8601 time the price applies from (default now)"
    )
    supplier: Any = None
    note: Any = None


class PolicyIn(_Body):
    policy: Any = Field(description='"latest", "preferred" or "lowest"', examples=["preferred"])
    supplier: Any = Field(None, description="the preferred supplier (policy preferred only)")


class ConversionIn(_Body):
    from_qty: Any = Field(description="an amount of the ingredient", examples=["1 each"])
    to_qty: Any = Field(description="the same amount in another unit", examples=["120 g"])


class RecipeIn(_Body):
    name: Any = Field(examples=["Sourdough loaf"])
    yield_qty: Any = Field(examples=["2"])
    yield_unit: Any = Field(examples=["each"])
    lines: Any = Field(description="ingredient or sub-recipe lines with quantity and unit")
    menu_price: Any = None


class RecomputeIn(_Body):
    recipes: Any = Field(None, description="names of recipes to recompute (default: all)")


class WhatIfIn(_Body):
    prices: Any = Field(
        description='ingredient → change: "+20%", "-5%" or a new price per pack ("9.50/kg")'
    )


class PriceListRowsIn(_Body):
    rows: Any = Field(description="rows as objects; or, with `header`, as arrays of cells")
    header: Any = Field(None, description="column names, when rows are arrays (a table)")
    supplier: Any
    effective_at: Any = None
    columns: Any = Field(None, description="mapping of mo's column names to the file's")
    create_missing: Any = True
    decimal: Any = Field(None, description='"." or ","; default: the saved format\'s, else "."')
    sheet: Any = Field(None, description="an .xlsx sheet's name or position from 0")
    price_per: Any = Field(None, description="the unit prices are per (lb, kg, ea) or CS")
    on_bad_rows: Any = Field(
        "fail", description='"fail": nothing is imported when a row is bad; "skip": the good rows'
    )


class SupplierIn(_Body):
    supplier: Any = Field(examples=["Metro"])
    columns: Any = Field(
        None,
        description="mapping of the supplier's headers to mo's column names",
        examples=[{"Description": "item", "Case Price": "price", "Pack Size": "pack"}],
    )
    decimal: Any = Field(".", description='"." or ","')
    price_per: Any = Field(None, description="the unit prices are per (lb, kg, ea) or CS")
    sheet: Any = Field(None, description="an .xlsx sheet's name or position from 0")


class RecipeRowsIn(_Body):
    rows: Any = Field(description="recipe lines as objects; or, with `header`, as arrays of cells")
    header: Any = Field(None, description="column names, when rows are arrays (a table)")


class TableColumn(BaseModel):
    name: str
    kind: str = Field(description="int | float | decimal | str | bool | datetime | date | json")


class Table(BaseModel):
    """A DataFrame: column names with their kinds, then each column's values in row order."""

    columns: list[TableColumn]
    data: list[list[Any]]
    next: str | None = Field(
        None,
        description="list routes: the cursor of the next page (pass it as `cursor`); "
        "null or absent on the last page",
    )


class ErrorDetail(BaseModel):
    code: ErrorCode
    message: str
    details: Any


class ErrorBody(BaseModel):
    error: ErrorDetail


class TenantOut(BaseModel):
    tenant: str


def _wire_type(annotation: Any) -> Any:
    """The JSON type a dataclass field travels as: Decimal → str, tuple[...] → list[...]."""
    if annotation is Decimal:
        return str
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        wired = tuple(_wire_type(arg) for arg in typing.get_args(annotation))
        union: Any = wired[0]
        for arg in wired[1:]:
            union = union | arg
        return union
    if origin is tuple:
        return list[typing.get_args(annotation)[0]]  # type: ignore[index]
    return annotation


@cache
def wire_model(result_class: type) -> type[BaseModel]:
    """A pydantic model of result_class.to_dict(), for the OpenAPI document."""
    hints = typing.get_type_hints(result_class)
    fields: dict[str, Any] = {
        f.name: (_wire_type(hints[f.name]), ...) for f in dataclasses.fields(result_class)
    }
    return create_model(result_class.__name__, **fields)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "missing, blank or not UTF-8 Idempotency-Key"),
        (401, "missing or unknown API key"),
        (404, "not found"),
        (409, "conflict or request in progress"),
        (422, "invalid request"),
        (431, "request line and headers over MO_MAX_HEADER_KB"),
        (500, "unexpected failure"),
    )
}
