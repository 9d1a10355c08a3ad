"""LocalClient: the MOClient that calls mo's services in this process.

It opens the store its database URL names, resolves the tenant once, and passes that explicit
context to every service call. The HTTP API serves each request through a LocalClient bound to
the store it already holds and the tenant of the request's API key (`LocalClient.bound`), so the
two adapters share one code path below the wire.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Self, Unpack

from mo.client import frames
from mo.client.base import Number, Source, When, check_as_of, require_text
from mo.domain.context import TenantContext
from mo.domain.price_list_options import FormatArgs, PriceListArgs
from mo.errors import validation_error
from mo.services import (
    conversions,
    costs,
    event_reads,
    export,
    explain,
    history,
    imports,
    ingredients,
    offers,
    recipes,
    recompute,
    sanity,
    suppliers,
    tenants,
    what_if,
)
from mo.settings import load_settings
from mo.store import open_store

if TYPE_CHECKING:
    import pandas as pd

    from mo.domain import results
    from mo.services.paging import FramePage, PageRequest
    from mo.store.base import Store


def show_progress() -> bool:
    """Whether long calls draw a tqdm bar: only for a person in a Jupyter kernel (JupyterLab).

    Off under papermill and `mo run` (TQDM_DISABLE=1), in CI (CI set) and in plain scripts and
    servers, where a bar would only litter logs.
    """
    if os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false"):
        return False
    if os.environ.get("CI") or os.environ.get("MO_HEADLESS") == "1":
        return False
    shell = sys.modules.get("IPython")
    ipython = getattr(shell, "get_ipython", lambda: None)() if shell else None
    return ipython is not None and "IPKernelApp" in getattr(ipython, "config", {})


class LocalClient:
    """MOClient over a store opened in this process.

    LocalClient(tenant, db_url=None): db_url defaults to MO_DB_URL (or var/mo.duckdb).
    Raises tenant_required / tenant_not_found for a missing or unknown tenant, and whatever
    open_store raises (migration_required, unavailable, validation_error for a bad URL).
    """

    def __init__(self, tenant: str | None, *, db_url: str | None = None) -> None:
        self._store: Store = open_store(db_url or load_settings().db_url)
        self._owns_store = True
        try:
            self._ctx = tenants.resolve_tenant(self._store, tenant, actor="local")
        except BaseException:
            self._store.close()
            raise

    @classmethod
    def bound(cls, store: Store, ctx: TenantContext) -> LocalClient:
        """A client over a store someone else owns (the API's); close() leaves the store open."""
        client = cls.__new__(cls)
        client._store, client._ctx, client._owns_store = store, ctx, False
        return client

    @property
    def tenant(self) -> str:
        return self._ctx.slug

    def _read(self, read: str, frame: pd.DataFrame, *, exact: bool) -> pd.DataFrame:
        return frames.conform(frame, frames.READ_SCHEMAS[read], read=read, exact=exact)

    # ---- ingredients --------------------------------------------------------------------------
    def add_ingredient(
        self,
        name: str,
        *,
        unit: str,
        category: str | None = None,
        density: Number | None = None,
        yield_pct: Number | None = None,
    ) -> results.IngredientRecord:
        return ingredients.add_ingredient(
            self._store,
            self._ctx,
            name,
            unit=unit,
            category=category,
            density=density,
            yield_pct=yield_pct,
        )

    def add_alias(self, ingredient: str, alias: str) -> results.IngredientRecord:
        require_text(ingredient, field="ingredient")
        return ingredients.add_alias(self._store, self._ctx, ingredient, alias)

    def ingredients(self, *, include_deleted: bool = False, exact: bool = False) -> pd.DataFrame:
        frame = costs.ingredients_frame(
            self._store, self._ctx, include_deleted=include_deleted
        )
        return self._read("ingredients", frame, exact=exact)

    def delete_ingredient(self, name: str) -> results.IngredientRecord:
        require_text(name, field="ingredient")
        return ingredients.delete_ingredient(self._store, self._ctx, name)

    def restore_ingredient(self, name: str) -> results.IngredientRecord:
        require_text(name, field="ingredient")
        return ingredients.restore_ingredient(self._store, self._ctx, name)

    # ---- costs and imports --------------------------------------------------------------------
    def update_cost(
        self,
        ingredient: str,
        price: Number,
        *,
        per: str,
        idempotency_key: str,
        effective_at: When | None = None,
        supplier: str | None = None,
        note: str | None = None,
    ) -> results.CostUpdate:
        require_text(ingredient, field="ingredient")
        return costs.update_cost(
            self._store,
            self._ctx,
            ingredient,
            price,
            per=per,
            idempotency_key=idempotency_key,
            effective_at=effective_at,
            supplier=supplier,
            note=note,
        )

    def cost_history(
        self, ingredient: str | None = None, *, exact: bool = False
    ) -> pd.DataFrame:
        if ingredient is not None:
            require_text(ingredient, field="ingredient")
        return self._read(
            "cost_history", costs.cost_history(self._store, self._ctx, ingredient), exact=exact
        )

    def import_price_list(
        self, source: Source, *, idempotency_key: str, **options: Unpack[PriceListArgs]
    ) -> results.ImportResult:
        return imports.import_price_list(
            self._store,
            self._ctx,
            source,
            idempotency_key=idempotency_key,
            progress=show_progress(),
            **options,
        )

    def imports(self, *, exact: bool = False) -> pd.DataFrame:
        return self._read("imports", imports.imports_frame(self._store, self._ctx), exact=exact)

    def import_rejections(self, batch_id: int, *, exact: bool = False) -> pd.DataFrame:
        frame = imports.import_rejections_frame(self._store, self._ctx, batch_id)
        return self._read("import_rejections", frame, exact=exact)

    # ---- offers, cost policies, conversions ---------------------------------------------------
    def offers(self, ingredient: str | None = None, *, exact: bool = False) -> pd.DataFrame:
        if ingredient is not None:
            require_text(ingredient, field="ingredient")
        frame = offers.offers_frame(self._store, self._ctx, ingredient)
        return self._read("offers", frame, exact=exact)

    def set_cost_policy(
        self, ingredient: str, policy: str, *, supplier: str | None = None, idempotency_key: str
    ) -> results.CostPolicyRecord:
        require_text(ingredient, field="ingredient")
        return offers.set_cost_policy(
            self._store, self._ctx, ingredient, policy, supplier=supplier,
            idempotency_key=idempotency_key,
        )

    def add_conversion(
        self, ingredient: str, from_qty: str, to_qty: str, *, idempotency_key: str
    ) -> results.ConversionRecord:
        require_text(ingredient, field="ingredient")
        return conversions.add_conversion(
            self._store, self._ctx, ingredient, from_qty, to_qty, idempotency_key=idempotency_key
        )

    def conversions(self, ingredient: str | None = None, *, exact: bool = False) -> pd.DataFrame:
        if ingredient is not None:
            require_text(ingredient, field="ingredient")
        frame = conversions.conversions_frame(self._store, self._ctx, ingredient)
        return self._read("conversions", frame, exact=exact)

    def delete_conversion(
        self, ingredient: str, unit: str, *, idempotency_key: str
    ) -> results.ConversionRecord:
        require_text(ingredient, field="ingredient")
        require_text(unit, field="unit")
        return conversions.delete_conversion(
            self._store, self._ctx, ingredient, unit, idempotency_key=idempotency_key
        )

    # ---- suppliers ----------------------------------------------------------------------------
    def save_supplier(self, supplier: str, **options: Unpack[FormatArgs]) -> results.SupplierRecord:
        return suppliers.save_supplier(self._store, self._ctx, supplier, **options)

    def suppliers(self, *, exact: bool = False) -> pd.DataFrame:
        return self._read(
            "suppliers", suppliers.suppliers_frame(self._store, self._ctx), exact=exact
        )

    def delete_supplier(self, supplier: str) -> results.SupplierRecord:
        require_text(supplier, field="supplier")
        return suppliers.delete_supplier(self._store, self._ctx, supplier)

    # ---- recipes ------------------------------------------------------------------------------
    def save_recipe(
        self,
        name: str,
        *,
        yield_qty: Number,
        yield_unit: str,
        lines: Sequence[Any],
        menu_price: Number | None = None,
    ) -> results.RecipeRecord:
        return recipes.save_recipe(
            self._store,
            self._ctx,
            name,
            yield_qty=yield_qty,
            yield_unit=yield_unit,
            lines=lines,
            menu_price=menu_price,
        )

    def import_recipes(self, source: Source, *, idempotency_key: str) -> results.RecipeImportResult:
        return recipes.import_recipes(
            self._store, self._ctx, source, idempotency_key=idempotency_key
        )

    def recipes(
        self, *, include_deleted: bool = False, as_of: When | None = None, exact: bool = False
    ) -> pd.DataFrame:
        if as_of is not None:
            check_as_of(include_deleted=include_deleted)
            frame = what_if.recipes_as_of(self._store, self._ctx, as_of=as_of)
            return self._read("recipes", frame, exact=exact)
        frame = recipes.recipes_frame(
            self._store, self._ctx, include_deleted=include_deleted
        )
        return self._read("recipes", frame, exact=exact)

    def what_if(self, prices: Mapping[str, str], *, exact: bool = False) -> pd.DataFrame:
        return self._read("what_if", what_if.what_if(self._store, self._ctx, prices), exact=exact)

    def recipe_breakdown(self, name: str, *, exact: bool = False) -> pd.DataFrame:
        require_text(name, field="recipe")
        return self._read(
            "recipe_breakdown",
            recipes.recipe_breakdown(self._store, self._ctx, name),
            exact=exact,
        )

    def recipe_history(self, name: str, *, exact: bool = False) -> pd.DataFrame:
        require_text(name, field="recipe")
        return self._read(
            "recipe_history", history.recipe_history(self._store, self._ctx, name), exact=exact
        )

    def price_changes(
        self, *, since: When, until: When | None = None, exact: bool = False
    ) -> pd.DataFrame:
        return self._read(
            "price_changes",
            history.price_changes(self._store, self._ctx, since=since, until=until),
            exact=exact,
        )

    def explain_change(
        self, recipe: str, *, since: When, until: When | None = None, exact: bool = False
    ) -> pd.DataFrame:
        require_text(recipe, field="recipe")
        return self._read(
            "explain_change",
            explain.explain_change(self._store, self._ctx, recipe, since=since, until=until),
            exact=exact,
        )

    def delete_recipe(self, name: str) -> results.RecipeRecord:
        require_text(name, field="recipe")
        return recipes.delete_recipe(self._store, self._ctx, name)

    def restore_recipe(self, name: str) -> results.RecipeRecord:
        require_text(name, field="recipe")
        return recipes.restore_recipe(self._store, self._ctx, name)

    def recompute(self, *, recipes: Sequence[str] | None = None) -> results.RecomputeResult:
        if recipes is not None and (
            isinstance(recipes, str | bytes) or not isinstance(recipes, Sequence)
        ):  # checked here, so that HTTP callers (any JSON) get the same answer
            raise validation_error(
                "recipes must be a list of recipe names", field="recipes", value=repr(recipes)[:100]
            )
        names = None if recipes is None else list(recipes)
        return recompute.recompute(self._store, self._ctx, recipes=names, progress=show_progress())

    # ---- events -------------------------------------------------------------------------------
    def events(
        self,
        *,
        since: When | None = None,
        until: When | None = None,
        types: Sequence[str] | None = None,
        limit: int | None = None,
        exact: bool = False,
    ) -> pd.DataFrame:
        frame = event_reads.events_frame(
            self._store, self._ctx, since=since, until=until, types=types, limit=limit
        )
        return self._read("events", frame, exact=exact)

    def event_counts(self, *, window: str = "1h", exact: bool = False) -> pd.DataFrame:
        return self._read(
            "event_counts",
            event_reads.event_counts(self._store, self._ctx, window=window),
            exact=exact,
        )

    def sanity(self, *, exact: bool = False) -> pd.DataFrame:
        return self._read("sanity", sanity.sanity(self._store, self._ctx), exact=exact)

    def export_events(
        self,
        path: str | os.PathLike[str],
        *,
        since: When,
        until: When,
        format: str | None = None,
        types: Sequence[str] | None = None,
    ) -> results.ExportResult:
        return self.export_events_under(
            path, since=since, until=until, format=format, types=types, base_dir=None
        )

    def export_events_under(
        self,
        path: str | os.PathLike[str],
        *,
        since: When,
        until: When,
        format: str | None,
        types: Sequence[str] | None,
        base_dir: str | os.PathLike[str] | None,
    ) -> results.ExportResult:
        """export_events confined to base_dir (the API writes into a scratch directory)."""
        return export.export_events(
            self._store,
            self._ctx,
            path,
            since=since,
            until=until,
            format=format,
            types=types,
            base_dir=base_dir,
        )

    # ---- pages: what the HTTP API's list routes send, one page per request --------------------
    def ingredients_page(self, *, include_deleted: bool = False, page: PageRequest) -> FramePage:
        return costs.ingredients_page(
            self._store, self._ctx, include_deleted=include_deleted, page=page
        )

    def cost_history_page(self, ingredient: str | None = None, *, page: PageRequest) -> FramePage:
        if ingredient is not None:
            require_text(ingredient, field="ingredient")
        return costs.cost_history_page(self._store, self._ctx, ingredient, page=page)

    def imports_page(self, *, page: PageRequest) -> FramePage:
        return imports.imports_page(self._store, self._ctx, page=page)

    def recipes_page(self, *, include_deleted: bool = False, page: PageRequest) -> FramePage:
        return recipes.recipes_page(
            self._store, self._ctx, include_deleted=include_deleted, page=page
        )

    def events_page(
        self,
        *,
        since: When | None = None,
        until: When | None = None,
        types: Sequence[str] | None = None,
        limit: int | None = None,
        page: PageRequest,
    ) -> FramePage:
        return event_reads.events_page(
            self._store, self._ctx, since=since, until=until, types=types, limit=limit, page=page
        )

    # ---- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Close the store this client opened (a bound client leaves its owner's store open)."""
        if self._owns_store:
            self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LocalClient(tenant={self.tenant!r}, backend={self._store.dialect!r})"
