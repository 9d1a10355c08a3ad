"""Tenants and API keys, and turning a slug or a key into a TenantContext."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from mo.domain.context import TenantContext
from mo.errors import ErrorCode, MOError, validation_error
from mo.services.events import emit_event
from mo.store.base import Store, Tx
from mo.store.urls import database_label

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
KEY_PREFIX = "mo_"


@dataclass(frozen=True)
class Tenant:
    id: str
    slug: str
    name: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_slug(slug: object) -> str:
    if not isinstance(slug, str) or not slug.strip():
        raise MOError(ErrorCode.TENANT_REQUIRED, "a tenant is required (set MO_TENANT or pass tenant=)")
    if not _SLUG.match(slug):
        raise validation_error(
            "a tenant slug is 1-63 lowercase letters, digits, '-' or '_'", field="tenant", value=slug[:80]
        )
    return slug


def create_tenant(store: Store, slug: str, *, name: str | None = None) -> Tenant:
    """Create a tenant, or return the existing one with that slug (idempotent on slug)."""
    check_slug(slug)

    def work(tx: Tx) -> Tenant:
        row = tx.one("tenants.by_slug", {"slug": slug})
        if row is None:
            tenant_id = uuid.uuid4().hex
            tx.run("tenants.insert", {"id": tenant_id, "slug": slug, "name": name or slug})
            row = tx.one("tenants.by_slug", {"slug": slug})
            assert row is not None
            ctx = TenantContext(tenant_id, slug)
            tx.act_for_tenant(tenant_id)
            emit_event(tx, ctx, "tenant.created", "tenant", tenant_id, {"slug": slug, "name": row["name"]})
        return Tenant(**row)

    try:
        return store.atomic(work)
    except MOError as err:
        if err.code is ErrorCode.CONFLICT:  # a concurrent create of the same slug won
            return store.atomic(work)
        raise


def list_tenants(store: Store) -> list[Tenant]:
    with store.transaction() as tx:
        return [Tenant(**row) for row in tx.all("tenants.list")]


def resolve_tenant(store: Store, slug: object, *, actor: str = "system") -> TenantContext:
    """The context for a tenant slug: tenant_required when missing, tenant_not_found when unknown."""
    checked = check_slug(slug)
    with store.transaction() as tx:
        row = tx.one("tenants.by_slug", {"slug": checked})
    if row is None:
        # Name the database: a wrong MO_DB_URL (or none, so the empty default) is the usual cause.
        database = database_label(store.url)
        raise MOError(ErrorCode.TENANT_NOT_FOUND, f"no tenant {checked!r} in {database}",
                      {"tenant": checked, "database": database})
    return TenantContext(row["id"], row["slug"], actor)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(store: Store, slug: str) -> str:
    """A new API key for the tenant. Only its hash is stored: the key is shown once, here."""
    ctx = resolve_tenant(store, slug)
    key = KEY_PREFIX + secrets.token_urlsafe(32)

    def work(tx: Tx) -> None:
        tx.run("tenants.insert_key", {"tenant_id": ctx.tenant_id, "key_hash": _key_hash(key), "prefix": key[:10]})
        emit_event(tx, ctx, "api_key.created", "api_key", key[:10], {"prefix": key[:10]})

    store.atomic(work, tenant_id=ctx.tenant_id)
    return key


def authenticate(store: Store, key: str | None) -> TenantContext:
    """The tenant an API key belongs to; unauthorized when the key is missing, unknown or revoked."""
    if not key:
        raise MOError(ErrorCode.UNAUTHORIZED, "an API key is required (Authorization: Bearer …)")
    with store.transaction() as tx:
        row = tx.one("tenants.by_key_hash", {"key_hash": _key_hash(key)})
    if row is None:
        raise MOError(ErrorCode.UNAUTHORIZED, "the API key is not valid")
    return TenantContext(row["tenant_id"], row["slug"], actor=f"api:{row['prefix']}")
