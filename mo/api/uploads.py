"""Reading an import's source from a request: a multipart file upload or a JSON body of rows.

An uploaded file is saved under its own base name in a fresh temporary folder, so the service
sees a .csv/.xlsx path just as in-process, and the folder is removed when the import is done.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from mo.client.wire import frame_from_body
from mo.errors import validation_error

_COPY_CHUNK = 1 << 20
_MAX_OPTIONS = 64 << 10  # the options JSON: a column mapping and a few fields


@asynccontextmanager
async def uploaded_source(
    request: Request, model: type[BaseModel]
) -> AsyncIterator[tuple[Any, dict[str, Any]]]:
    """(source, options) from the request; options are the model's fields besides rows/header.

    Raises RequestValidationError (422, fields listed) for a malformed body or unknown fields,
    validation_error for a content type that is neither JSON nor multipart, or a missing file.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        async with _saved_upload(request, model) as found:
            yield found
    elif kind in ("application/json", ""):
        fields = _validated(model, await _json_body(request))
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
) -> AsyncIterator[tuple[Any, dict[str, Any]]]:
    # One file and one small options field; python-multipart's defaults would take a thousand
    # of each, and the body cap (BodyLimit) bounds the file itself.
    async with request.form(max_files=1, max_fields=1, max_part_size=_MAX_OPTIONS) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise validation_error("the upload has no file part named 'file'", field="file")
        options = form.get("options")
        fields = _validated(
            model, {"rows": None, **_options(options if isinstance(options, str) else None)}
        )
        folder = Path(tempfile.mkdtemp(prefix="mo-upload-"))
        try:
            path = folder / (Path(upload.filename or "").name or "upload")
            with path.open("wb") as out:
                while chunk := await upload.read(_COPY_CHUNK):
                    out.write(chunk)
            fields.pop("rows"), fields.pop("header")
            yield path, fields
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _options(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body", "options"), "msg": "options is not JSON"}]
        ) from None
    if not isinstance(value, dict):
        raise validation_error("options must be a JSON object", field="options")
    return value


async def _json_body(request: Request) -> Any:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body", 0), "msg": "JSON decode error"}]
        ) from None
    if _has_lone_surrogate(body):  # "\ud800" is valid JSON, but no text a table can hold
        raise validation_error(
            "the body holds a \\uD800-\\uDFFF escape that is no Unicode character", field="body"
        )
    return body


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


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
