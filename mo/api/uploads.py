"""Reading an import's source from a request: a multipart file upload or a JSON body of rows.

Whatever the request holds, the route gets a DataFrame built here or the path of a file saved
here, never a value the caller chose: a service reads a string source as a path on the server.
An uploaded file is saved under its own base name in a fresh scratch folder (mo.api.scratch),
so the service sees a .csv/.xlsx path just as in-process, and the folder is removed when the
import is done.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from mo.api.scratch import file_name, scratch_folder
from mo.client.wire import frame_from_body
from mo.errors import MOError, validation_error

_COPY_CHUNK = 1 << 20
_MAX_OPTIONS = 64 << 10  # the options JSON: a column mapping and a few fields
# Deeper than any body of rows needs (3 levels), shallow enough that nothing walking the
# value afterwards (pandas, repr) can exhaust Python's recursion limit.
MAX_JSON_DEPTH = 32
_SURROGATES = re.compile("[\ud800-\udfff]")
SOURCE_FIELDS = ("rows", "header")


@asynccontextmanager
async def uploaded_source(
    request: Request, model: type[BaseModel]
) -> AsyncIterator[tuple[pd.DataFrame | Path, dict[str, Any]]]:
    """(source, options) from the request; options are the model's fields besides rows/header.

    The source is a DataFrame made from the JSON rows, or the path of the uploaded file saved
    under a scratch folder of this server. Raises RequestValidationError (422, fields listed)
    for a malformed body or unknown fields, validation_error for rows that are not a list of
    objects (or of arrays, with header), JSON nested too deep, a content type that is neither
    JSON nor multipart, or a missing or unusable file part.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        async with _saved_upload(request, model) as found:
            yield found
    elif kind in ("application/json", ""):
        fields = _validated(model, _checked_tree(await _json_body(request), field="body"))
        yield frame_from_body(fields.pop("header"), fields.pop("rows")), fields
    else:
        raise validation_error(
            "send a multipart/form-data file upload or a JSON body",
            field="content-type",
            value=kind[:100],
        )


@asynccontextmanager
async def _saved_upload(
    request: Request, model: type[BaseModel]
) -> AsyncIterator[tuple[Path, dict[str, Any]]]:
    # One file and one small options field; python-multipart's defaults would take a thousand
    # of each, and the body cap (BodyLimit) bounds the file itself.
    async with _form(request) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise validation_error("the upload has no file part named 'file'", field="file")
        options = form.get("options")
        fields = _validated(
            model, {"rows": None, **_options(options if isinstance(options, str) else None)}
        )
        name = file_name(upload.filename, field="file", default="upload")
        with scratch_folder("upload") as folder:
            path = folder / name
            with path.open("wb") as out:
                while chunk := await upload.read(_COPY_CHUNK):
                    out.write(chunk)
            for source_field in SOURCE_FIELDS:
                fields.pop(source_field)
            yield path, fields


@asynccontextmanager
async def _form(request: Request) -> AsyncIterator[FormData]:
    """The multipart form: one file and one small options field. python-multipart's defaults
    would take a thousand of each, and the body cap (BodyLimit) bounds the file itself."""
    try:
        form = await request.form(max_files=1, max_fields=1, max_part_size=_MAX_OPTIONS)
    except HTTPException as exc:  # Starlette's 400 for a form over those limits
        # Only the options field is a non-file part, so a part over the size limit is it.
        field = "options" if "maximum size" in str(exc.detail) else "file"
        raise validation_error(
            f"the upload is not one file and a small options field: {exc.detail}",
            field=field,
            limit_bytes=_MAX_OPTIONS,
        ) from None
    try:
        yield form
    finally:
        await form.close()


def _options(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body", "options"), "msg": "options is not JSON"}]
        ) from None
    except RecursionError:
        raise _too_deep("options") from None
    if not isinstance(_checked_tree(value, field="options"), dict):
        raise validation_error("options must be a JSON object", field="options")
    given = [name for name in SOURCE_FIELDS if name in value]
    if given:  # the file part is the source: rows beside it would be silently ignored
        raise validation_error(
            "options cannot hold rows or header: the file is the source",
            field="options",
            names=given,
        )
    return value


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body", 0), "msg": "JSON decode error"}]
        ) from None
    except RecursionError:  # the C decoder's own depth limit, well below a 100k-deep body
        raise _too_deep("body") from None


def _checked_tree(value: Any, *, field: str) -> Any:
    """value, once every container is at most MAX_JSON_DEPTH deep and no text holds a lone
    surrogate ("\\ud800" is valid JSON, but no text a table can hold). Walked with a stack, not
    recursion, so no depth the decoder accepted can fail here."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATES.search(item):
                raise validation_error(
                    f"the {field} holds a \\uD800-\\uDFFF escape that is no Unicode character",
                    field=field,
                )
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise _too_deep(field)
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return value


def _too_deep(field: str) -> MOError:
    return validation_error(
        f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels",
        field=field,
        max_depth=MAX_JSON_DEPTH,
    )


def _validated(model: type[BaseModel], body: Any) -> dict[str, Any]:
    try:
        return dict(model.model_validate(body))
    except ValidationError as exc:
        raise RequestValidationError(
            [
                {**e, "loc": ("body", *e["loc"])}
                for e in exc.errors(include_url=False, include_input=False)
            ]
        ) from None
