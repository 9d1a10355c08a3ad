"""MOClient: the one interface notebooks, jobs and programs use, whichever adapter serves it.

LocalClient calls the services in-process; HttpClient calls the HTTP API, which calls the same
services through a LocalClient bound to the request's tenant. Both satisfy this Protocol with
identical signatures; read methods return DataFrames conformed to the schemas in
mo.client.frames, write methods return the frozen result dataclasses of mo.results (and the
ingredient record of mo.services.ingredients).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

from mo.errors import validation_error

if TYPE_CHECKING:
    import pandas as pd

    from mo.results import (CostUpdate, ExportResult, ImportResult, RecipeImportResult, RecipeRecord,
                            RecomputeResult)
    from mo.services.ingredients import IngredientRecord

Number: TypeAlias = Decimal | int | float | str
When: TypeAlias = datetime | str
# A price list or recipe file: a path to CSV/XLSX, a DataFrame, or rows as dicts.
Source: TypeAlias = "str | os.PathLike[str] | pd.DataFrame | Sequence[Mapping[str, Any]]"


@runtime_checkable
class MOClient(Protocol):
    """Everything a caller may do with mo for one tenant. Every failure raises mo.MOError."""

    @property
    def tenant(self) -> str:
        """The tenant slug this client acts for."""

    # ---- ingredients --------------------------------------------------------------------------
    def add_ingredient(self, name: str, *, unit: str, category: str | None = None,
                       density: Number | None = None, yield_pct: Number | None = None) -> IngredientRecord: ...

    def add_alias(self, ingredient: str, alias: str) -> IngredientRecord: ...

    def ingredients(self, *, include_deleted: bool = False) -> pd.DataFrame: ...

    def delete_ingredient(self, name: str) -> IngredientRecord: ...

    def restore_ingredient(self, name: str) -> IngredientRecord: ...

    # ---- costs and imports --------------------------------------------------------------------
    def update_cost(self, ingredient: str, price: Number, *, per: str, idempotency_key: str,
                    effective_at: When | None = None, supplier: str | None = None,
                    note: str | None = None) -> CostUpdate: ...

    def cost_history(self, ingredient: str | None = None) -> pd.DataFrame: ...

    def import_price_list(self, source: Source, *, idempotency_key: str, supplier: str,
                          effective_at: When | None = None, columns: Mapping[str, str] | None = None,
                          create_missing: bool = True) -> ImportResult: ...

    def imports(self) -> pd.DataFrame: ...

    # ---- recipes ------------------------------------------------------------------------------
    def save_recipe(self, name: str, *, yield_qty: Number, yield_unit: str, lines: Sequence[Any],
                    menu_price: Number | None = None) -> RecipeRecord: ...

    def import_recipes(self, source: Source, *, idempotency_key: str) -> RecipeImportResult: ...

    def recipes(self, *, include_deleted: bool = False) -> pd.DataFrame: ...

    def recipe_breakdown(self, name: str) -> pd.DataFrame: ...

    def delete_recipe(self, name: str) -> RecipeRecord: ...

    def recompute(self, *, recipes: Sequence[str] | None = None) -> RecomputeResult: ...

    # ---- events -------------------------------------------------------------------------------
    def events(self, *, since: When | None = None, until: When | None = None,
               types: Sequence[str] | None = None, limit: int | None = None) -> pd.DataFrame: ...

    def event_counts(self, *, window: str = "1h") -> pd.DataFrame: ...

    def sanity(self) -> pd.DataFrame: ...

    def export_events(self, path: str | os.PathLike[str], *, since: When, until: When,
                      format: str | None = None, types: Sequence[str] | None = None) -> ExportResult: ...

    # ---- lifetime -----------------------------------------------------------------------------
    def close(self) -> None: ...

    def __enter__(self) -> MOClient: ...

    def __exit__(self, *exc: object) -> None: ...


def require_text(value: object, *, field: str) -> str:
    """A name that addresses a row must be text; both clients check it the same way.

    HttpClient puts such names in the URL path, where every value turns into text, so the
    check runs in the client layer of both adapters to keep their errors identical.
    Raises validation_error (the same shape mo.names.clean_name gives).
    """
    if not isinstance(value, str):
        raise validation_error(f"{field} must be text", field=field, value=repr(value)[:100])
    return value
