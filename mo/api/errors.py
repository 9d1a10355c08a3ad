"""Every error the API answers has the body {"error": {"code", "message", "details"}}.

MOError carries its own status (mo.errors.HTTP_STATUS). Failures raised by the framework itself
— unknown routes, wrong methods, malformed JSON or parameters — and unexpected exceptions are
turned into the same shape here, so a client never has to parse a second format.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mo.errors import HTTP_STATUS, ErrorCode, MOError

log = logging.getLogger("mo.api")

_SURROGATES = re.compile("[\ud800-\udfff]")
IDEMPOTENCY_KEY_REQUIRED_STATUS = 400  # IETF httpapi idempotency draft: a missing key is a 400

_STATUS_CODES: dict[int, ErrorCode] = {
    400: ErrorCode.VALIDATION_ERROR,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    422: ErrorCode.VALIDATION_ERROR,
    503: ErrorCode.UNAVAILABLE,
}


class IdempotencyKeyRequired(MOError):
    """A write that needs an Idempotency-Key header arrived without one.

    The one place the API departs from the code → status table: validation_error is 422
    everywhere else, but the idempotency draft answers a missing key with 400. The body is the
    error LocalClient gets from the service for a missing key, so both clients raise the same.
    """

    def __init__(self) -> None:
        super().__init__(
            ErrorCode.VALIDATION_ERROR, "idempotency_key is required", {"field": "idempotency_key"}
        )

    @property
    def http_status(self) -> int:
        return IDEMPOTENCY_KEY_REQUIRED_STATUS


class IdempotencyKeyUnreadable(MOError):
    """An Idempotency-Key header whose bytes are not UTF-8: a 400, as a missing key is."""

    def __init__(self) -> None:
        super().__init__(
            ErrorCode.VALIDATION_ERROR,
            "the Idempotency-Key header is not valid UTF-8",
            {"field": "idempotency_key", "problem": "not UTF-8"},
        )

    @property
    def http_status(self) -> int:
        return IDEMPOTENCY_KEY_REQUIRED_STATUS


class HeadTooLarge(MOError):
    """A request line and headers over MO_MAX_HEADER_KB: 431 (RFC 6585), a validation_error."""

    def __init__(self, *, max_bytes: int) -> None:
        super().__init__(
            ErrorCode.VALIDATION_ERROR,
            f"the request line and headers exceed {max_bytes} bytes",
            {"field": "headers", "max_bytes": max_bytes},
        )

    @property
    def http_status(self) -> int:
        return 431


def error_response(err: MOError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if err.code is ErrorCode.UNAUTHORIZED else None
    return JSONResponse(_printable(err.to_dict()), status_code=err.http_status, headers=headers)


def _printable(value: Any) -> Any:
    """The body with lone surrogates (echoed from a hostile request) as U+FFFD: JSONResponse
    encodes UTF-8 strictly, and failing there would drop the connection without an answer."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode() if _SURROGATES.search(value) else value
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(item) for item in value]
    return value


async def _on_mo_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MOError)
    if exc.code is ErrorCode.INTERNAL_ERROR:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(exc)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, ErrorCode.INTERNAL_ERROR)
    details: dict[str, Any] = {"method": request.method, "path": request.url.path}
    messages = {
        ErrorCode.NOT_FOUND: f"no route {request.url.path}",
        ErrorCode.METHOD_NOT_ALLOWED: f"{request.method} is not allowed on {request.url.path}",
    }
    body = MOError(code, messages.get(code, str(exc.detail)), details).to_dict()
    # The code's own status, as for every other error: a body Starlette cannot even decode
    # (its 400) is a validation_error like any malformed JSON, so 422.
    status = exc.status_code if code is ErrorCode.INTERNAL_ERROR else HTTP_STATUS[code]
    return JSONResponse(body, status_code=status, headers=getattr(exc, "headers", None))


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [_field_problem(e) for e in exc.errors()]
    names = ", ".join(f["field"] for f in fields) or "the request"
    err = MOError(ErrorCode.VALIDATION_ERROR, f"invalid request: {names}", {"fields": fields})
    return error_response(err)


def _field_problem(error: Any) -> dict[str, str]:
    # loc is ("body", "price") or ("query", "limit"); keep it readable and free of input echoes.
    location = [str(part) for part in error.get("loc", ())]
    if error.get("type") == "json_invalid":  # loc may hold a character offset, not a field
        named = [part for part in location[1:] if not part.isdigit()]
        return {
            "field": ".".join(named) or "body",
            "in": "body",
            "problem": "malformed JSON",
            "type": "json_invalid",
        }
    return {
        "field": ".".join(location[1:]) or (location[0] if location else ""),
        "in": location[0] if location else "",
        "problem": str(error.get("msg", "")),
        "type": str(error.get("type", "")),
    }


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The stack trace goes to the server log only; the caller learns nothing of the internals.
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    err = MOError(ErrorCode.INTERNAL_ERROR, "the server failed unexpectedly", {})
    return error_response(err)


def install_error_handlers(app: FastAPI) -> None:
    """Route every failure the app can meet to the one error shape."""
    app.add_exception_handler(MOError, _on_mo_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(Exception, _on_unexpected)
