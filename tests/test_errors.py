"""One error type, one shape, one code → status table."""

from __future__ import annotations

import json
import pickle

import pytest

from mo.errors import HTTP_STATUS, ErrorCode, MOError

REQUIRED_CODES = {
    "validation_error", "not_found", "conflict", "idempotency_conflict", "idempotency_in_progress",
    "tenant_required", "tenant_not_found", "unauthorized", "forbidden", "cycle_detected",
    "unit_mismatch", "migration_required", "migration_error", "unavailable", "internal_error",
}


def test_required_codes_exist_and_each_has_one_status() -> None:
    assert REQUIRED_CODES <= {c.value for c in ErrorCode}
    assert set(HTTP_STATUS) == set(ErrorCode)
    assert all(400 <= status < 600 for status in HTTP_STATUS.values())


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_serialises_to_exactly_the_shape(code: ErrorCode) -> None:
    err = MOError(code, "something happened", {"field": "price", "rows": [2, 3]})
    body = err.to_dict()
    assert body == {"error": {"code": code.value, "message": "something happened",
                              "details": {"field": "price", "rows": [2, 3]}}}
    assert json.loads(json.dumps(body)) == body
    assert MOError.from_dict(body).to_dict() == body


def test_details_default_to_an_empty_object() -> None:
    assert MOError("not_found", "gone").to_dict()["error"]["details"] == {}


def test_unknown_code_is_refused() -> None:
    with pytest.raises(ValueError):
        MOError("teapot", "no such code")


def test_malformed_body_becomes_internal_error() -> None:
    err = MOError.from_dict({"detail": "Not Found"})
    assert err.code is ErrorCode.INTERNAL_ERROR


def test_errors_survive_pickling_for_worker_processes() -> None:
    err = MOError("conflict", "taken", {"name": "egg"})
    copy = pickle.loads(pickle.dumps(err))
    assert copy.to_dict() == err.to_dict()


def test_a_statement_the_server_refuses_is_no_outage(store) -> None:
    """A statement error the driver files under OperationalError (PostgreSQL SQLSTATE 55000) is
    an internal error, not `unavailable`: a client would retry it forever."""
    with pytest.raises(MOError) as caught, store.transaction() as tx:
        tx.all("testing.currval_unset")
    assert caught.value.code is ErrorCode.INTERNAL_ERROR
