"""The one error type of mo, its closed set of codes and the code → HTTP status table."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    VALIDATION_ERROR = "validation_error"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"
    TENANT_REQUIRED = "tenant_required"
    TENANT_NOT_FOUND = "tenant_not_found"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    CYCLE_DETECTED = "cycle_detected"
    UNIT_MISMATCH = "unit_mismatch"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    MIGRATION_REQUIRED = "migration_required"
    MIGRATION_ERROR = "migration_error"
    UNAVAILABLE = "unavailable"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    INTERNAL_ERROR = "internal_error"


HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.VALIDATION_ERROR: 422,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.IDEMPOTENCY_CONFLICT: 422,
    ErrorCode.IDEMPOTENCY_IN_PROGRESS: 409,
    ErrorCode.TENANT_REQUIRED: 400,
    ErrorCode.TENANT_NOT_FOUND: 404,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.CYCLE_DETECTED: 422,
    ErrorCode.UNIT_MISMATCH: 422,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.MIGRATION_REQUIRED: 503,
    ErrorCode.MIGRATION_ERROR: 500,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.INTERNAL_ERROR: 500,
}

# Codes a caller may retry unchanged: the cause is transient, not the request.
RETRYABLE: frozenset[ErrorCode] = frozenset(
    {ErrorCode.IDEMPOTENCY_IN_PROGRESS, ErrorCode.UNAVAILABLE}
)


class MOError(Exception):
    """Every failure mo reports: a code from ErrorCode, a sentence, and structured details.

    The driver or library error that caused it, if any, is kept as ``__cause__``.
    """

    def __init__(self, code: ErrorCode | str, message: str, details: Any = None) -> None:
        self.code = ErrorCode(code)
        self.message = message
        self.details: Any = {} if details is None else details
        super().__init__(f"{self.code.value}: {message}")

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {"error": {"code": self.code.value, "message": self.message, "details": self.details}}

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> "MOError":
        """Rebuild an error from its serialised shape; anything else is an internal_error."""
        err = body.get("error") if isinstance(body, dict) else None
        if not isinstance(err, dict) or err.get("code") not in ErrorCode._value2member_map_:
            return cls(ErrorCode.INTERNAL_ERROR, "malformed error response", {"body": body})
        return cls(err["code"], str(err.get("message", "")), err.get("details"))

    def __reduce__(self):  # picklable across processes (multiprocessing tests, workers)
        return (type(self), (self.code.value, self.message, self.details))


def validation_error(message: str, **details: Any) -> MOError:
    return MOError(ErrorCode.VALIDATION_ERROR, message, details)


def not_found(kind: str, name: Any) -> MOError:
    return MOError(ErrorCode.NOT_FOUND, f"{kind} {name!r} not found", {"kind": kind, "name": name})


def readable_error(err: MOError) -> str:
    """The error for a terminal: "error: code: message", then one "  name: value" per detail."""
    import json

    lines = [f"error: {err.code.value}: {err.message}"]
    details = err.details if isinstance(err.details, dict) else {"details": err.details}
    for name, value in details.items():
        text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
        lines.append(f"  {name}: {text[:300]}" + (" …" if len(text) > 300 else ""))
    return "\n".join(lines)
