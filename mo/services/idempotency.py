"""Idempotent writes: a key claims the work in the same transaction that does it.

A replay with the same key and the same request returns the stored result and writes nothing;
the same key with a different request is an idempotency_conflict; a duplicate that races the
first and cannot see it committed yet is told idempotency_in_progress (retryable).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mo.domain.checks import check_key
from mo.domain.context import TenantContext
from mo.errors import ErrorCode, MOError, validation_error
from mo.store.base import Store, Tx, transaction_conflict
from mo.util.jsonutil import dumps, loads

# Attempts after a unique-rule clash while the key was not yet committed: a racing duplicate
# may still be in flight.
CONFLICT_RETRIES = 2


@dataclass(frozen=True)
class Outcome:
    result: dict[str, Any]
    replayed: bool


def request_hash(request: dict[str, Any]) -> str:
    return hashlib.sha256(dumps(request).encode()).hexdigest()


def run_idempotent(
    store: Store,
    ctx: TenantContext,
    *,
    key: str,
    operation: str,
    request: dict[str, Any],
    work: Callable[[Tx], dict[str, Any]],
) -> Outcome:
    """Do `work` once per (tenant, key), in one transaction with its idempotency record."""
    check_key(key)
    fingerprint = request_hash({"operation": operation, **request})

    def attempt(tx: Tx) -> Outcome:
        stored = replay(tx, ctx, key=key, operation=operation, fingerprint=fingerprint)
        if stored is not None:
            return Outcome(stored, True)
        _claim(tx, ctx, key, operation, fingerprint)
        result = work(tx)
        tx.run("idempotency.complete", {"tenant_id": ctx.tenant_id, "key": key, "result": dumps(result)})
        return Outcome(result, False)

    clash: MOError | None = None
    for _ in range(1 + CONFLICT_RETRIES):
        try:
            return store.atomic(attempt, tenant_id=ctx.tenant_id)
        except MOError as err:
            _raise_unless_clash(err, key)
            # DuckDB may let two uncommitted claims of one key through and report the clash
            # later, on another unique rule the duplicate work breaks (a cost row, a recipe
            # cost, a batch). If the key has been committed meanwhile, that duplicate won; if
            # it is still in flight, the next attempt's claim meets it and waits for it. A
            # conflict that is this request's own comes back every time and is raised.
            stored = _committed(store, ctx, key=key, operation=operation, fingerprint=fingerprint)
            if stored is not None:
                return Outcome(stored, True)
            clash = err
    assert clash is not None
    raise clash


def _raise_unless_clash(err: MOError, key: str) -> None:
    """Re-raise `err` unless it is a unique-rule conflict, which may be a racing duplicate's."""
    if err.code is ErrorCode.UNAVAILABLE and err.details.get("idempotency_key") == key:
        raise MOError(ErrorCode.IDEMPOTENCY_IN_PROGRESS,
                      "a request with this idempotency key is still in progress; retry shortly",
                      {"idempotency_key": key}) from err
    if err.code is not ErrorCode.CONFLICT:
        raise err


def _committed(store: Store, ctx: TenantContext, *, key: str, operation: str,
               fingerprint: str) -> dict[str, Any] | None:
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        return replay(tx, ctx, key=key, operation=operation, fingerprint=fingerprint)


def replay(tx: Tx, ctx: TenantContext, *, key: str, operation: str, fingerprint: str) -> dict[str, Any] | None:
    row = tx.one("idempotency.get", {"tenant_id": ctx.tenant_id, "key": key})
    if row is None:
        return None
    if row["operation"] != operation or row["request_hash"] != fingerprint:
        raise MOError(ErrorCode.IDEMPOTENCY_CONFLICT,
                      "this idempotency key was used for a different request",
                      {"idempotency_key": key, "operation": row["operation"]})
    return loads(row["result"])


def _claim(tx: Tx, ctx: TenantContext, key: str, operation: str, fingerprint: str) -> None:
    try:
        tx.run("idempotency.claim", {"tenant_id": ctx.tenant_id, "key": key,
                                     "operation": operation, "request_hash": fingerprint})
    except MOError as err:
        if err.code not in (ErrorCode.CONFLICT, ErrorCode.UNAVAILABLE):
            raise
        # A concurrent duplicate holds the key: retry, and replay once it has committed.
        race = transaction_conflict(err)
        race.details["idempotency_key"] = key
        raise race from err
