"""The /v1 routes: one per MOClient method, each a thin call through a LocalClient bound to the
caller's tenant, so HTTP and in-process callers go down the very same path.

Names that address a row sit in the path (percent-encoded by HttpClient); everything else is a
JSON body or a query parameter. Writes that carry an idempotency key take it from the
Idempotency-Key header.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from mo.api.app import Caller, caller, idempotency_key, in_flight
from mo.api.models import (
    ERROR_RESPONSES,
    AliasIn,
    ConversionIn,
    CostIn,
    IngredientIn,
    PolicyIn,
    PriceListRowsIn,
    RecipeIn,
    RecipeRowsIn,
    RecomputeIn,
    SupplierIn,
    Table,
    TenantOut,
    WhatIfIn,
    wire_model,
)
from mo.api.paging import PageQuery, page_query, paged_table
from mo.api.scratch import export_name, new_folder, remove_folder
from mo.api.uploads import uploaded_source
from mo.client import frames
from mo.domain.results import (
    ConversionRecord,
    CostPolicyRecord,
    CostUpdate,
    ImportResult,
    IngredientRecord,
    RecipeImportResult,
    RecipeRecord,
    RecomputeResult,
    Result,
    SupplierRecord,
)
from mo.services.paging import FramePage

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
Who = Annotated[Caller, Depends(caller)]
Key = Annotated[str, Depends(idempotency_key)]
# A list route sends one page: page_size rows at most (default MO_PAGE_SIZE), after `cursor`.
Paging = Annotated[PageQuery, Depends(page_query)]


def result(value: Result) -> JSONResponse:
    return JSONResponse(value.to_dict())


def listing(
    read: str, who: Caller, paging: PageQuery, fetch: Callable[..., FramePage], **filters: Any
) -> JSONResponse:
    """One page of a list route: fetch(**filters, page=…) after the cursor, which is bound to
    the read, the tenant and these filters."""
    cursor = paging.open(read, who.ctx, filters)
    page = fetch(**filters, page=paging.request(cursor))
    return paged_table(read, page, ctx=who.ctx, filters=filters)


def table(read: str, frame: pd.DataFrame) -> JSONResponse:
    # The frame is conformed already (LocalClient did it, exact=True: the wire carries exact
    # text, never floats); encode keeps kinds with the columns.
    return JSONResponse(frames.encode(frame, frames.READ_SCHEMAS[read], read=read))


@router.get("/health", tags=["service"], include_in_schema=True, responses={})
def health() -> dict[str, str]:
    """Liveness: answers without an API key."""
    return {"status": "ok"}


@router.get("/tenant", tags=["service"], response_model=TenantOut)
def whoami(who: Who) -> dict[str, str]:
    """The tenant the API key belongs to."""
    return {"tenant": who.ctx.slug}


# ---- ingredients --------------------------------------------------------------------------------


@router.post("/ingredients", tags=["ingredients"], response_model=wire_model(IngredientRecord))
def add_ingredient(who: Who, body: IngredientIn) -> JSONResponse:
    return result(who.client.add_ingredient(body.name, **body.model_dump(exclude={"name"})))


@router.get("/ingredients", tags=["ingredients"], response_model=Table)
def ingredients(who: Who, paging: Paging, include_deleted: bool = False) -> JSONResponse:
    return listing(
        "ingredients", who, paging, who.client.ingredients_page, include_deleted=include_deleted
    )


@router.post(
    "/ingredients/{name:path}/aliases",
    tags=["ingredients"],
    response_model=wire_model(IngredientRecord),
)
def add_alias(who: Who, name: str, body: AliasIn) -> JSONResponse:
    return result(who.client.add_alias(name, body.alias))


@router.post(
    "/ingredients/{name:path}/restore",
    tags=["ingredients"],
    response_model=wire_model(IngredientRecord),
)
def restore_ingredient(who: Who, name: str) -> JSONResponse:
    return result(who.client.restore_ingredient(name))


@router.post(
    "/ingredients/{name:path}/costs", tags=["costs"], response_model=wire_model(CostUpdate)
)
def update_cost(request: Request, who: Who, key: Key, name: str, body: CostIn) -> JSONResponse:
    with in_flight(request, who, key):
        return result(
            who.client.update_cost(
                name,
                body.price,
                per=body.per,
                idempotency_key=key,
                effective_at=body.effective_at,
                supplier=body.supplier,
                note=body.note,
            )
        )


# ---- offers, cost policies, conversions (before DELETE /ingredients/{name:path}, which would
# otherwise take ".../conversions/each" for a name) ----------------------------------------------


@router.get("/offers", tags=["costs"], response_model=Table)
def offers(who: Who, ingredient: str | None = None) -> JSONResponse:
    """Each supplier's current offer; `chosen` marks the one the cost policy picks."""
    return table("offers", who.client.offers(ingredient, exact=True))


@router.put(
    "/ingredients/{name:path}/policy", tags=["costs"], response_model=wire_model(CostPolicyRecord)
)
def set_cost_policy(
    request: Request, who: Who, key: Key, name: str, body: PolicyIn
) -> JSONResponse:
    with in_flight(request, who, key):
        return result(
            who.client.set_cost_policy(
                name, body.policy, supplier=body.supplier, idempotency_key=key
            )
        )


@router.post(
    "/ingredients/{name:path}/conversions",
    tags=["ingredients"],
    response_model=wire_model(ConversionRecord),
)
def add_conversion(
    request: Request, who: Who, key: Key, name: str, body: ConversionIn
) -> JSONResponse:
    with in_flight(request, who, key):
        return result(
            who.client.add_conversion(name, body.from_qty, body.to_qty, idempotency_key=key)
        )


@router.get("/conversions", tags=["ingredients"], response_model=Table)
def conversions(who: Who, ingredient: str | None = None) -> JSONResponse:
    return table("conversions", who.client.conversions(ingredient, exact=True))


@router.delete(
    "/ingredients/{name:path}/conversions/{unit}",
    tags=["ingredients"],
    response_model=wire_model(ConversionRecord),
)
def delete_conversion(request: Request, who: Who, key: Key, name: str, unit: str) -> JSONResponse:
    with in_flight(request, who, key):
        return result(who.client.delete_conversion(name, unit, idempotency_key=key))


@router.delete(
    "/ingredients/{name:path}", tags=["ingredients"], response_model=wire_model(IngredientRecord)
)
def delete_ingredient(who: Who, name: str) -> JSONResponse:
    return result(who.client.delete_ingredient(name))


@router.get("/costs", tags=["costs"], response_model=Table)
def cost_history(who: Who, paging: Paging, ingredient: str | None = None) -> JSONResponse:
    return listing("cost_history", who, paging, who.client.cost_history_page, ingredient=ingredient)


# ---- recipes ------------------------------------------------------------------------------------


@router.post("/recipes", tags=["recipes"], response_model=wire_model(RecipeRecord))
def save_recipe(who: Who, body: RecipeIn) -> JSONResponse:
    return result(who.client.save_recipe(body.name, **body.model_dump(exclude={"name"})))


@router.get("/recipes", tags=["recipes"], response_model=Table)
def recipes(
    who: Who, paging: Paging, include_deleted: bool = False, as_of: str | None = None
) -> JSONResponse:
    """Recipes with their stored cost, a page at a time; with as_of, every active recipe
    costed with the costs in effect then (one table, nothing written)."""
    if as_of is not None:
        frame = who.client.recipes(include_deleted=include_deleted, as_of=as_of, exact=True)
        return table("recipes", frame)
    return listing(
        "recipes", who, paging, who.client.recipes_page, include_deleted=include_deleted
    )


@router.get("/recipes/{name:path}/breakdown", tags=["recipes"], response_model=Table)
def recipe_breakdown(who: Who, name: str) -> JSONResponse:
    return table("recipe_breakdown", who.client.recipe_breakdown(name, exact=True))


@router.get("/recipes/{name:path}/history", tags=["recipes"], response_model=Table)
def recipe_history(who: Who, name: str) -> JSONResponse:
    return table("recipe_history", who.client.recipe_history(name, exact=True))


@router.get("/recipes/{name:path}/explain", tags=["recipes"], response_model=Table)
def explain_change(who: Who, name: str, since: str, until: str | None = None) -> JSONResponse:
    frame = who.client.explain_change(name, since=since, until=until, exact=True)
    return table("explain_change", frame)


@router.post("/what-if", tags=["recipes"], response_model=Table)
def what_if(who: Who, body: WhatIfIn) -> JSONResponse:
    """What the asked prices would do to every recipe using them; nothing is written."""
    return table("what_if", who.client.what_if(body.prices, exact=True))


@router.get("/price-changes", tags=["costs"], response_model=Table)
def price_changes(who: Who, since: str, until: str | None = None) -> JSONResponse:
    return table("price_changes", who.client.price_changes(since=since, until=until, exact=True))


@router.delete("/recipes/{name:path}", tags=["recipes"], response_model=wire_model(RecipeRecord))
def delete_recipe(who: Who, name: str) -> JSONResponse:
    return result(who.client.delete_recipe(name))


@router.post(
    "/recipes/{name:path}/restore", tags=["recipes"], response_model=wire_model(RecipeRecord)
)
def restore_recipe(who: Who, name: str) -> JSONResponse:
    return result(who.client.restore_recipe(name))


@router.post("/recompute", tags=["recipes"], response_model=wire_model(RecomputeResult))
def recompute(who: Who, body: RecomputeIn) -> JSONResponse:
    return result(who.client.recompute(recipes=body.recipes))


# ---- events -------------------------------------------------------------------------------------


@router.get("/events", tags=["events"], response_model=Table)
def events(
    who: Who,
    paging: Paging,
    since: str | None = None,
    until: str | None = None,
    types: Annotated[list[str] | None, Query()] = None,
    limit: int | None = None,
) -> JSONResponse:
    """`limit` caps the events of the whole listing; each page sends page_size at most."""
    filters = {"since": since, "until": until, "types": types, "limit": limit}
    cursor = paging.open("events", who.ctx, filters)
    wanted = limit if cursor.after is None else cursor.left  # the rows still owed under limit
    page = who.client.events_page(
        since=since, until=until, types=types, limit=wanted, page=paging.request(cursor)
    )
    left = None if wanted is None else wanted - len(page.frame)
    return paged_table("events", page, ctx=who.ctx, filters=filters, left=left)


@router.get("/events/counts", tags=["events"], response_model=Table)
def event_counts(who: Who, window: str = "1h") -> JSONResponse:
    return table("event_counts", who.client.event_counts(window=window, exact=True))


@router.get("/sanity", tags=["events"], response_model=Table)
def sanity(who: Who) -> JSONResponse:
    return table("sanity", who.client.sanity(exact=True))


@router.get(
    "/events/export",
    tags=["events"],
    response_class=FileResponse,
    responses={
        200: {
            "description": "the export file (CSV or JSONL); X-MO-Rows, X-MO-Sha256 and "
            "X-MO-Manifest (base64 of the manifest JSON) describe it",
            "content": {"text/csv": {}, "application/x-ndjson": {}},
        }
    },
)
def export_events(
    who: Who,
    since: str | None = None,
    until: str | None = None,
    format: str | None = None,
    types: Annotated[list[str] | None, Query()] = None,
    name: str | None = None,
) -> FileResponse:
    """Export the window [since, until) of the event log and stream the file; `name` is the file
    name the manifest records (default events.<format>)."""
    file_name = export_name(name, format)
    folder = new_folder("export")
    try:
        target = folder / file_name
        done = who.client.export_events_under(
            target, since=since, until=until, format=format, types=types, base_dir=folder
        )
        manifest = Path(done.manifest_path).read_bytes()
    except BaseException:
        remove_folder(folder)
        raise
    headers = {
        "X-MO-Rows": str(done.rows),
        "X-MO-Sha256": done.sha256,
        "X-MO-Manifest": base64.b64encode(manifest).decode(),
    }
    media = "text/csv" if done.path.endswith(".csv") else "application/x-ndjson"
    return FileResponse(
        done.path,
        headers=headers,
        media_type=media,
        filename=target.name,
        background=BackgroundTask(remove_folder, folder),
    )


# ---- imports: a file upload or JSON rows --------------------------------------------------------


def _upload_doc(model: type[BaseModel], options: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": model.model_json_schema(ref_template="#/components/schemas/{model}")
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": "a .csv or .xlsx file",
                            },
                            "options": {
                                "type": "string",
                                "description": f"JSON object of the options: {options}",
                            },
                        },
                    }
                },
            },
        }
    }


@router.post(
    "/imports",
    tags=["costs"],
    response_model=wire_model(ImportResult),
    openapi_extra=_upload_doc(
        PriceListRowsIn,
        "supplier, effective_at, columns, create_missing, decimal, sheet, price_per, on_bad_rows",
    ),
)
async def import_price_list(request: Request, who: Who, key: Key) -> JSONResponse:
    """Import a supplier price list: a multipart file upload, or JSON rows."""
    async with uploaded_source(request, PriceListRowsIn) as (source, options):

        def run() -> ImportResult:
            with in_flight(request, who, key):
                return who.client.import_price_list(source, idempotency_key=key, **options)

        return result(await run_in_threadpool(run))


@router.get("/imports", tags=["costs"], response_model=Table)
def imports(who: Who, paging: Paging) -> JSONResponse:
    return listing("imports", who, paging, who.client.imports_page)


@router.get("/imports/{batch_id}/rejections", tags=["costs"], response_model=Table)
def import_rejections(who: Who, batch_id: int) -> JSONResponse:
    """The rows an import with on_bad_rows="skip" left out, with their problems."""
    return table("import_rejections", who.client.import_rejections(batch_id, exact=True))


# ---- suppliers ----------------------------------------------------------------------------------


@router.post("/suppliers", tags=["suppliers"], response_model=wire_model(SupplierRecord))
def save_supplier(who: Who, body: SupplierIn) -> JSONResponse:
    """Store (or replace) how a supplier's price lists read."""
    return result(
        who.client.save_supplier(body.supplier, **body.model_dump(exclude={"supplier"}))
    )


@router.get("/suppliers", tags=["suppliers"], response_model=Table)
def suppliers(who: Who) -> JSONResponse:
    return table("suppliers", who.client.suppliers(exact=True))


@router.delete(
    "/suppliers/{name:path}", tags=["suppliers"], response_model=wire_model(SupplierRecord)
)
def delete_supplier(who: Who, name: str) -> JSONResponse:
    return result(who.client.delete_supplier(name))


@router.post(
    "/recipes/import",
    tags=["recipes"],
    response_model=wire_model(RecipeImportResult),
    openapi_extra=_upload_doc(RecipeRowsIn, "none yet"),
)
async def import_recipes(request: Request, who: Who, key: Key) -> JSONResponse:
    """Import recipes in long format: a multipart file upload, or JSON rows."""
    async with uploaded_source(request, RecipeRowsIn) as (source, _):

        def run() -> RecipeImportResult:
            with in_flight(request, who, key):
                return who.client.import_recipes(source, idempotency_key=key)

        return result(await run_in_threadpool(run))
