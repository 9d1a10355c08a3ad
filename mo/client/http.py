"""HttpClient: the MOClient that talks to `mo serve` over HTTP.

The seam is an httpx.Client (injected in tests, as httpx itself recommends). Every method sends
what the caller passed as JSON (decimals as exact strings, times as ISO 8601), and rebuilds what
comes back: tables with mo.client.frames.decode, results with their from_dict, and failures with
MOError.from_dict — so callers see the same values and the same errors as from LocalClient.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, Unpack

import httpx

from mo.client import frames
from mo.client.base import Number, Source, When, check_as_of, require_text
from mo.client.wire import (
    dumps,
    events_query,
    idempotency_header,
    is_path,
    is_table,
    query_value,
    segment,
    source_body,
    window_text,
)
from mo.domain import results
from mo.domain.checks import check_batch_id, check_window
from mo.domain.import_checks import (
    check_import_options,
    check_recipe_file,
    not_a_price_list_source,
    not_a_recipe_source,
    price_list_kind,
)
from mo.domain.instants import parse_instant
from mo.domain.price_list_options import (
    FormatArgs,
    FormatOptions,
    PriceListArgs,
    PriceListOptions,
)
from mo.errors import ErrorCode, MOError
from mo.util.files import atomic_file, pick_format, resolve_target
from mo.util.tls import tls_context

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_TIMEOUT = httpx.Timeout(
    300.0, connect=10.0
)  # imports, recomputes and exports can take a while


def _record(data: dict[str, Any]) -> results.IngredientRecord:
    return results.IngredientRecord.from_dict(data)


class HttpClient:
    """MOClient over the HTTP API at base_url, authenticated by an API key.

    The tenant is the API key's; `tenant` asks the server which one that is. Raises MOError for
    every failure: the server's own error rebuilt from its body, `unavailable` when the server
    cannot be reached, `internal_error` for a response that is not mo's error shape.
    """

    def __init__(self, base_url: str, *, api_key: str, http: httpx.Client | None = None) -> None:
        self._base = base_url.rstrip("/")
        self._auth = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = http if http is not None else httpx.Client(timeout=DEFAULT_TIMEOUT,
                                                                 verify=tls_context())
        self._owns_http = http is None
        self._tenant: str | None = None

    @property
    def tenant(self) -> str:
        if self._tenant is None:
            self._tenant = str(self._json("GET", "/v1/tenant")["tenant"])
        return self._tenant

    # ---- the wire -----------------------------------------------------------------------------
    def _send(
        self, method: str, path: str, *, idempotency_key: object = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {**self._auth, **idempotency_header(idempotency_key), **kwargs.pop("headers", {})}
        try:
            response = self._http.request(method, self._base + path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise self._unreachable() from exc
        if response.is_error:
            raise _error_from(response)
        return response

    def _json(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        idempotency_key: object = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs.update(content=dumps(body), headers={"Content-Type": "application/json"})
        if params:
            kwargs["params"] = {k: query_value(v) for k, v in params.items() if v is not None}
        return self._send(method, path, idempotency_key=idempotency_key, **kwargs).json()

    def _table(self, path: str, *, exact: bool, **params: Any) -> pd.DataFrame:
        """The whole table: list routes send it in pages, followed here by their `next` cursor."""
        body = self._json("GET", path, params=params)
        whole = {"columns": body.get("columns"), "data": body.get("data")}
        while body.get("next"):
            body = self._json("GET", path, params={**params, "cursor": body["next"]})
            _append_page(whole, body)
        return frames.decode(whole, exact=exact)

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
        body = {
            "name": name,
            "unit": unit,
            "category": category,
            "density": density,
            "yield_pct": yield_pct,
        }
        return _record(self._json("POST", "/v1/ingredients", body=body))

    def add_alias(self, ingredient: str, alias: str) -> results.IngredientRecord:
        path = f"/v1/ingredients/{segment(require_text(ingredient, field='ingredient'))}/aliases"
        return _record(self._json("POST", path, body={"alias": alias}))

    def ingredients(self, *, include_deleted: bool = False, exact: bool = False) -> pd.DataFrame:
        return self._table(
            "/v1/ingredients", exact=exact, include_deleted=bool(include_deleted)
        )

    def delete_ingredient(self, name: str) -> results.IngredientRecord:
        return _record(
            self._json(
                "DELETE", f"/v1/ingredients/{segment(require_text(name, field='ingredient'))}"
            )
        )

    def restore_ingredient(self, name: str) -> results.IngredientRecord:
        path = f"/v1/ingredients/{segment(require_text(name, field='ingredient'))}/restore"
        return _record(self._json("POST", path))

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
        path = f"/v1/ingredients/{segment(require_text(ingredient, field='ingredient'))}/costs"
        body = {
            "price": price,
            "per": per,
            "effective_at": effective_at,
            "supplier": supplier,
            "note": note,
        }
        return results.CostUpdate.from_dict(
            self._json("POST", path, body=body, idempotency_key=idempotency_key)
        )

    def cost_history(
        self, ingredient: str | None = None, *, exact: bool = False
    ) -> pd.DataFrame:
        if ingredient is not None:
            require_text(ingredient, field="ingredient")
        return self._table("/v1/costs", exact=exact, ingredient=ingredient)

    def import_price_list(
        self, source: Source, *, idempotency_key: str, **options: Unpack[PriceListArgs]
    ) -> results.ImportResult:
        given = PriceListOptions(**options)

        def check_file(file: Path) -> None:
            if not file.is_file():  # the service's checks, in its order, up to its not_found
                check_import_options(idempotency_key=idempotency_key, options=given)
                price_list_kind(file)

        def refuse_source() -> None:
            check_import_options(idempotency_key=idempotency_key, options=given)
            raise not_a_price_list_source()

        data = self._upload(
            "/v1/imports",
            source,
            given.to_body(),
            idempotency_key=idempotency_key,
            check_file=check_file,
            refuse_source=refuse_source,
        )
        return results.ImportResult.from_dict(data)

    def imports(self, *, exact: bool = False) -> pd.DataFrame:
        return self._table("/v1/imports", exact=exact)

    def import_rejections(self, batch_id: int, *, exact: bool = False) -> pd.DataFrame:
        return self._table(f"/v1/imports/{check_batch_id(batch_id)}/rejections", exact=exact)

    # ---- offers, cost policies, conversions ---------------------------------------------------
    def offers(self, ingredient: str | None = None, *, exact: bool = False) -> pd.DataFrame:
        if ingredient is not None:
            require_text(ingredient, field="ingredient")
        return self._table("/v1/offers", exact=exact, ingredient=ingredient)

    def set_cost_policy(
        self, ingredient: str, policy: str, *, supplier: str | None = None, idempotency_key: str
    ) -> results.CostPolicyRecord:
        path = f"/v1/ingredients/{segment(require_text(ingredient, field='ingredient'))}/policy"
        body = {"policy": policy, "supplier": supplier}
        return results.CostPolicyRecord.from_dict(
            self._json("PUT", path, body=body, idempotency_key=idempotency_key)
        )

    def add_conversion(
        self, ingredient: str, from_qty: str, to_qty: str, *, idempotency_key: str
    ) -> results.ConversionRecord:
        path = (
            f"/v1/ingredients/{segment(require_text(ingredient, field='ingredient'))}/conversions"
        )
        body = {"from_qty": from_qty, "to_qty": to_qty}
        return results.ConversionRecord.from_dict(
            self._json("POST", path, body=body, idempotency_key=idempotency_key)
        )

    def conversions(self, ingredient: str | None = None, *, exact: bool = False) -> pd.DataFrame:
        if ingredient is not None:
            require_text(ingredient, field="ingredient")
        return self._table("/v1/conversions", exact=exact, ingredient=ingredient)

    def delete_conversion(
        self, ingredient: str, unit: str, *, idempotency_key: str
    ) -> results.ConversionRecord:
        name = segment(require_text(ingredient, field="ingredient"))
        path = f"/v1/ingredients/{name}/conversions/{segment(require_text(unit, field='unit'))}"
        return results.ConversionRecord.from_dict(
            self._json("DELETE", path, idempotency_key=idempotency_key)
        )

    # ---- suppliers ----------------------------------------------------------------------------
    def save_supplier(self, supplier: str, **options: Unpack[FormatArgs]) -> results.SupplierRecord:
        body = {"supplier": supplier, **FormatOptions(**options).to_body()}
        return results.SupplierRecord.from_dict(self._json("POST", "/v1/suppliers", body=body))

    def suppliers(self, *, exact: bool = False) -> pd.DataFrame:
        return self._table("/v1/suppliers", exact=exact)

    def delete_supplier(self, supplier: str) -> results.SupplierRecord:
        path = f"/v1/suppliers/{segment(require_text(supplier, field='supplier'))}"
        return results.SupplierRecord.from_dict(self._json("DELETE", path))

    def _upload(
        self,
        path: str,
        source: Source,
        options: dict[str, Any],
        *,
        idempotency_key: object,
        check_file: Callable[[Path], None],
        refuse_source: Callable[[], None],
    ) -> Any:
        """A file travels as a multipart upload (its bytes unchanged); a DataFrame or rows as JSON.

        check_file runs the service's own checks that depend on the caller's file system (a
        missing file, say), which the server cannot see, so their errors match LocalClient's.
        refuse_source raises the service's own error for a source that is neither a file nor a
        table (the server takes nothing else), after the checks the service runs before it.
        """
        if is_path(source):
            check_file(Path(source))  # type: ignore[arg-type]
        elif not is_table(source):
            refuse_source()
        if not is_path(source) or idempotency_key is None or idempotency_key == "":
            # Without a key the server answers 400 before it reads any source.
            body = {**options, **source_body(None if is_path(source) else source)}
            return self._json("POST", path, body=body, idempotency_key=idempotency_key)
        file = Path(source)  # type: ignore[arg-type]
        with file.open("rb") as handle:
            return self._send(
                "POST",
                path,
                idempotency_key=idempotency_key,
                files={"file": (file.name, handle)},
                data={"options": dumps(options)},
            ).json()

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
        body = {
            "name": name,
            "yield_qty": yield_qty,
            "yield_unit": yield_unit,
            "lines": lines,
            "menu_price": menu_price,
        }
        return results.RecipeRecord.from_dict(self._json("POST", "/v1/recipes", body=body))

    def import_recipes(self, source: Source, *, idempotency_key: str) -> results.RecipeImportResult:
        def check_file(file: Path) -> None:
            # The service reads the file before anything else: where the path alone can fail
            # (missing, or a suffix other than .csv/.xlsx), its own check raises here.
            check_recipe_file(file)

        def refuse_source() -> None:
            raise not_a_recipe_source()

        data = self._upload(
            "/v1/recipes/import",
            source,
            {},
            idempotency_key=idempotency_key,
            check_file=check_file,
            refuse_source=refuse_source,
        )
        return results.RecipeImportResult.from_dict(data)

    def recipes(
        self, *, include_deleted: bool = False, as_of: When | None = None, exact: bool = False
    ) -> pd.DataFrame:
        if as_of is not None:
            check_as_of(include_deleted=include_deleted)
            instant = parse_instant(as_of, field="as_of").isoformat()
            return self._table("/v1/recipes", exact=exact, as_of=instant)
        return self._table("/v1/recipes", exact=exact, include_deleted=bool(include_deleted))

    def what_if(self, prices: Mapping[str, str], *, exact: bool = False) -> pd.DataFrame:
        # Sent as given (any JSON): the service judges it, so both clients answer alike.
        body = self._json("POST", "/v1/what-if", body={"prices": prices})
        return frames.decode(body, exact=exact)

    def recipe_breakdown(self, name: str, *, exact: bool = False) -> pd.DataFrame:
        path = f"/v1/recipes/{segment(require_text(name, field='recipe'))}/breakdown"
        return self._table(path, exact=exact)

    def recipe_history(self, name: str, *, exact: bool = False) -> pd.DataFrame:
        path = f"/v1/recipes/{segment(require_text(name, field='recipe'))}/history"
        return self._table(path, exact=exact)

    def price_changes(
        self, *, since: When, until: When | None = None, exact: bool = False
    ) -> pd.DataFrame:
        # Judged here as the service judges it, then sent as ISO text a URL keeps intact.
        window = check_window(since, until)
        bound = None if until is None else window.until.isoformat()
        return self._table(
            "/v1/price-changes", exact=exact, since=window.since.isoformat(), until=bound
        )

    def explain_change(
        self, recipe: str, *, since: When, until: When | None = None, exact: bool = False
    ) -> pd.DataFrame:
        # Bounds judged here as the service judges them, then sent as ISO text; whether since
        # is before now is the server's to say (its clock).
        start = parse_instant(since, field="since").isoformat()
        end = None if until is None else parse_instant(until, field="until").isoformat()
        path = f"/v1/recipes/{segment(require_text(recipe, field='recipe'))}/explain"
        return self._table(path, exact=exact, since=start, until=end)

    def delete_recipe(self, name: str) -> results.RecipeRecord:
        path = f"/v1/recipes/{segment(require_text(name, field='recipe'))}"
        return results.RecipeRecord.from_dict(self._json("DELETE", path))

    def restore_recipe(self, name: str) -> results.RecipeRecord:
        path = f"/v1/recipes/{segment(require_text(name, field='recipe'))}/restore"
        return results.RecipeRecord.from_dict(self._json("POST", path))

    def recompute(self, *, recipes: Sequence[str] | None = None) -> results.RecomputeResult:
        return results.RecomputeResult.from_dict(
            self._json("POST", "/v1/recompute", body={"recipes": recipes})
        )

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
        return self._table("/v1/events", exact=exact, **events_query(since, until, types, limit))

    def event_counts(self, *, window: str = "1h", exact: bool = False) -> pd.DataFrame:
        return self._table("/v1/events/counts", exact=exact, window=window_text(window))

    def sanity(self, *, exact: bool = False) -> pd.DataFrame:
        return self._table("/v1/sanity", exact=exact)

    def export_events(
        self,
        path: str | os.PathLike[str],
        *,
        since: When,
        until: When,
        format: str | None = None,
        types: Sequence[str] | None = None,
    ) -> results.ExportResult:
        """The server writes the export; it streams here into `path`, checked against its sha256,
        and its manifest lands beside it — the same files LocalClient would write."""
        target, _format, params = _export_request(path, since, until, format, types)
        with self._stream("GET", "/v1/events/export", params=params) as response:
            rows, digest = int(response.headers["x-mo-rows"]), response.headers["x-mo-sha256"]
            manifest = base64.b64decode(response.headers["x-mo-manifest"])
            _download(response, target, digest)
        manifest_path = target.with_name(target.name + ".manifest.json")
        _write_file(manifest_path, manifest)
        return results.ExportResult(str(target), rows, digest, str(manifest_path))

    @contextmanager
    def _stream(
        self, method: str, path: str, *, params: Mapping[str, Any]
    ) -> Iterator[httpx.Response]:
        query = {k: query_value(v) for k, v in params.items() if v is not None}
        try:
            with self._http.stream(
                method, self._base + path, params=query, headers=self._auth
            ) as response:
                if response.is_error:
                    response.read()
                    raise _error_from(response)
                yield response
        except httpx.TransportError as exc:
            raise self._unreachable() from exc

    def _unreachable(self) -> MOError:
        return MOError(
            ErrorCode.UNAVAILABLE,
            f"the mo API at {self._base} did not answer",
            {"reason": "connection", "url": self._base},
        )

    # ---- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Close the HTTP connection pool this client made (an injected one stays open)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"HttpClient({self._base!r})"


def _export_request(
    path: str | os.PathLike[str], since: Any, until: Any, format: str | None, types: Any
) -> tuple[Path, str, dict[str, Any]]:
    """The local target, its format and the query; checked with the export service's own rules,
    in its order (window, then path, then format), so the errors match LocalClient's."""
    if since is None or until is None:
        missing = [name for name, value in (("since", since), ("until", until)) if value is None]
        raise MOError(
            ErrorCode.VALIDATION_ERROR, "an export needs both since and until", {"missing": missing}
        )
    check_window(since, until, types)
    target = resolve_target(path, base_dir=None)
    chosen = pick_format(target, format)
    query = events_query(since, until, types, None)
    return (
        target,
        chosen,
        {
            "since": query["since"],
            "until": query["until"],
            "types": query["types"],
            "format": chosen,
            "name": target.name,
        },
    )


def _download(response: httpx.Response, target: Path, digest: str) -> None:
    sha = hashlib.sha256()
    with atomic_file(target) as out:
        for chunk in response.iter_bytes():
            sha.update(chunk)
            out.write(chunk)
        if sha.hexdigest() != digest:  # raising inside the block leaves no file behind
            raise MOError(
                ErrorCode.UNAVAILABLE,
                "the export arrived incomplete or damaged; retry it",
                {"reason": "checksum", "path": str(target)},
            )


def _write_file(target: Path, data: bytes) -> None:
    with atomic_file(target) as out:
        out.write(data)


def _append_page(whole: dict[str, Any], page: Mapping[str, Any]) -> None:
    """Add a page's column values to the table so far; its columns must be the same."""
    data = page.get("data")
    if page.get("columns") != whole["columns"] or not isinstance(data, list) or len(data) != len(
        whole["data"]
    ):
        raise MOError(
            ErrorCode.INTERNAL_ERROR,
            "a page of the table came back with other columns than the first",
            {"columns": page.get("columns")},
        )
    for values, more in zip(whole["data"], data, strict=True):
        values.extend(more)


def _error_from(response: httpx.Response) -> MOError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error" in body:
        return MOError.from_dict(body)
    code = (
        ErrorCode.UNAVAILABLE
        if response.status_code in (502, 503, 504)
        else ErrorCode.INTERNAL_ERROR
    )
    return MOError(
        code,
        f"the mo API answered HTTP {response.status_code} without an error body",
        {"status": response.status_code},
    )
