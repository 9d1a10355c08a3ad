"""MOClient: the one interface notebooks, jobs and programs use, whichever adapter serves it.

LocalClient calls the services in-process; HttpClient calls the HTTP API, which calls the same
services through a LocalClient bound to the request's tenant. Both satisfy this Protocol with
identical signatures; read methods return DataFrames conformed to the schemas in
mo.client.frames, write methods return the frozen result dataclasses of mo.domain.results.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeAlias, Unpack, runtime_checkable

from mo.domain.price_list_options import FormatArgs, PriceListArgs
from mo.errors import validation_error

if TYPE_CHECKING:
    import pandas as pd

    from mo.domain import results

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
    def add_ingredient(
        self,
        name: str,
        *,
        unit: str,
        category: str | None = None,
        density: Number | None = None,
        yield_pct: Number | None = None,
    ) -> results.IngredientRecord:
        """Create an ingredient (unit g, ml or each, or one of their family). Raises
        validation_error, conflict (the name is an active name or alias)."""

    def add_alias(self, ingredient: str, alias: str) -> results.IngredientRecord:
        """Give an active ingredient another name. Raises not_found, conflict, validation_error."""

    def ingredients(self, *, include_deleted: bool = False, exact: bool = False) -> pd.DataFrame:
        """Ingredients with their current unit cost (READ_SCHEMAS["ingredients"]), by name."""

    def delete_ingredient(self, name: str) -> results.IngredientRecord:
        """Soft-delete an ingredient and its names. Raises not_found."""

    def restore_ingredient(self, name: str) -> results.IngredientRecord:
        """Bring back the latest deleted ingredient of that name. Raises not_found, conflict."""

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
        """Record a pack price from effective_at (default now). Idempotent on the key: the
        same call again replays (replayed=True). Raises validation_error, not_found,
        unit_mismatch, idempotency_conflict, idempotency_in_progress."""

    def cost_history(
        self, ingredient: str | None = None, *, exact: bool = False
    ) -> pd.DataFrame:
        """Every cost row (READ_SCHEMAS["cost_history"]), of one ingredient or all. Raises not_found."""

    def import_price_list(
        self,
        source: Source,
        *,
        idempotency_key: str,
        **options: Unpack[PriceListArgs],
    ) -> results.ImportResult:
        """Import a supplier price list (options: mo.domain.price_list_options.PriceListOptions), all or nothing (on_bad_rows="skip": the good rows,
        the bad ones in results.ImportResult.rejected and kept with the batch); idempotent on the key,
        and a repeat of the supplier's latest list is recorded as a "duplicate". Options not
        given come from the supplier's saved format. Raises validation_error (every bad row in
        details), not_found (no such file), idempotency_conflict."""

    def imports(self, *, exact: bool = False) -> pd.DataFrame:
        """Every import batch, oldest first (READ_SCHEMAS["imports"])."""

    def import_rejections(self, batch_id: int, *, exact: bool = False) -> pd.DataFrame:
        """The rows an import with on_bad_rows="skip" left out, with their problems
        (READ_SCHEMAS["import_rejections"]). Raises not_found, validation_error."""

    # ---- offers, cost policies, conversions ---------------------------------------------------
    def offers(self, ingredient: str | None = None, *, exact: bool = False) -> pd.DataFrame:
        """Each supplier's current offer (READ_SCHEMAS["offers"]), of one ingredient or all;
        `chosen` marks the one the ingredient's cost policy picks. Raises not_found."""

    def set_cost_policy(
        self, ingredient: str, policy: str, *, supplier: str | None = None, idempotency_key: str
    ) -> results.CostPolicyRecord:
        """How the ingredient's cost is chosen among its offers: "latest" (default), "preferred"
        (with `supplier`; the latest when that supplier has no offer) or "lowest" (among offers
        within 30 days of the newest). Idempotent on the key. Raises validation_error,
        not_found, idempotency_conflict."""

    def add_conversion(
        self, ingredient: str, from_qty: str, to_qty: str, *, idempotency_key: str
    ) -> results.ConversionRecord:
        """Say that from_qty of the ingredient is to_qty ("1 each", "120 g"); replaces the one
        for the same pair of units. Idempotent on the key. Raises validation_error, not_found,
        idempotency_conflict."""

    def conversions(self, ingredient: str | None = None, *, exact: bool = False) -> pd.DataFrame:
        """The active conversions (READ_SCHEMAS["conversions"]). Raises not_found."""

    def delete_conversion(
        self, ingredient: str, unit: str, *, idempotency_key: str
    ) -> results.ConversionRecord:
        """Remove the ingredient's conversion for `unit` ("each"). Idempotent on the key.
        Raises validation_error, not_found, idempotency_conflict."""

    # ---- suppliers ----------------------------------------------------------------------------
    def save_supplier(
        self,
        supplier: str,
        **options: Unpack[FormatArgs],
    ) -> results.SupplierRecord:
        """Store (or replace) how a supplier's price lists read (options: mo.domain
        .price_list_options.FormatOptions), so an import needs only the file
        and the supplier. Raises validation_error."""

    def suppliers(self, *, exact: bool = False) -> pd.DataFrame:
        """The saved supplier formats, by name (READ_SCHEMAS["suppliers"])."""

    def delete_supplier(self, supplier: str) -> results.SupplierRecord:
        """Soft-delete a supplier's saved format. Raises not_found."""

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
        """Create or replace a recipe; lines are mappings with ingredient or recipe, qty, unit
        (and waste_pct). Raises validation_error, not_found, unit_mismatch, cycle_detected."""

    def import_recipes(self, source: Source, *, idempotency_key: str) -> results.RecipeImportResult:
        """Import recipes in long format (one row per line), all or nothing; idempotent on the
        key. Raises validation_error, cycle_detected, idempotency_conflict."""

    def recipes(
        self, *, include_deleted: bool = False, as_of: When | None = None, exact: bool = False
    ) -> pd.DataFrame:
        """Recipes with their current cost (READ_SCHEMAS["recipes"]), by name. With as_of:
        every active recipe costed now, over its current lines, with the costs in effect at
        that instant, nothing written (`complete`/`missing` as of then, computed_at = as_of).
        Raises validation_error (an as_of that is no instant, or with include_deleted)."""

    def what_if(self, prices: Mapping[str, str], *, exact: bool = False) -> pd.DataFrame:
        """Every recipe using the ingredients in `prices` (and every recipe above them) costed
        as is and with the asked prices, nothing written (READ_SCHEMAS["what_if"]). A price is
        "+20%" / "-5%" of the current unit cost or a new price per pack ("9.50/kg"). Sorted by
        the rise in food-cost % (new_food_cost_pct − food_cost_pct), biggest first; recipes
        without a food-cost % after them, by the biggest change in total. Raises
        validation_error (field prices), not_found (an ingredient), unit_mismatch (a pack)."""

    def recipe_history(self, name: str, *, exact: bool = False) -> pd.DataFrame:
        """A recipe's stored cost after each recompute, oldest first (READ_SCHEMAS["recipe_history"]).
        Raises not_found."""

    def price_changes(
        self, *, since: When, until: When | None = None, exact: bool = False
    ) -> pd.DataFrame:
        """Each move of an ingredient's chosen cost (its cost policy's pick) at an instant in
        [since, until), biggest change_pct first (READ_SCHEMAS["price_changes"]); an offer not
        chosen and a re-listing at the same price are no row. Raises validation_error for an
        empty window."""

    def explain_change(
        self, recipe: str, *, since: When, until: When | None = None, exact: bool = False
    ) -> pd.DataFrame:
        """Why the recipe's total cost moved from since to until (None: now): one row per path
        to a leaf ingredient with qty, unit, old/new unit cost and contribution, plus a
        "(recipe changed)" row when its structure was edited in between
        (READ_SCHEMAS["explain_change"]; the rules in mo.services.explain). Raises not_found,
        validation_error (a bound that is no instant, since not before until)."""

    def recipe_breakdown(self, name: str, *, exact: bool = False) -> pd.DataFrame:
        """A recipe's leaf ingredients over all levels (READ_SCHEMAS["recipe_breakdown"]). Raises not_found."""

    def delete_recipe(self, name: str) -> results.RecipeRecord:
        """Soft-delete a recipe; recipes using it become incomplete. Raises not_found."""

    def restore_recipe(self, name: str) -> results.RecipeRecord:
        """Bring back the latest deleted recipe of that name; it and its users are recomputed.
        Raises not_found, conflict (the name is active), cycle_detected."""

    def recompute(self, *, recipes: Sequence[str] | None = None) -> results.RecomputeResult:
        """Recompute the named recipes and their users (None: all). Raises not_found."""

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
        """Events in [since, until), oldest first (READ_SCHEMAS["events"]). Raises validation_error."""

    def event_counts(self, *, window: str = "1h", exact: bool = False) -> pd.DataFrame:
        """Events per type over the last window ("15m", "1h", "7d"). Raises validation_error."""

    def sanity(self, *, exact: bool = False) -> pd.DataFrame:
        """The platform's invariant checks for this tenant (READ_SCHEMAS["sanity"])."""

    def export_events(
        self,
        path: str | os.PathLike[str],
        *,
        since: When,
        until: When,
        format: str | None = None,
        types: Sequence[str] | None = None,
    ) -> results.ExportResult:
        """Write events in [since, until) to `path` on this machine (CSV or JSONL, by format or
        suffix) and a manifest beside it. Raises validation_error (window, path, format)."""

    # ---- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Release what the client opened (a store, a connection pool)."""

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


def check_as_of(*, include_deleted: object) -> None:
    """recipes(as_of=...) costs the active recipes only: a deleted one has no lines to cost.
    Raises validation_error naming both options."""
    if include_deleted:
        raise validation_error("as_of costs the active recipes: it cannot include deleted ones",
                               field="as_of", include_deleted=True)


def require_text(value: object, *, field: str) -> str:
    """A name that addresses a row must be text; both clients check it the same way.

    HttpClient puts such names in the URL path, where every value turns into text, so the
    check runs in the client layer of both adapters to keep their errors identical.
    Raises validation_error (the same shape mo.domain.names.clean_name gives).
    """
    if not isinstance(value, str):
        raise validation_error(f"{field} must be text", field=field, value=repr(value)[:100])
    return value
