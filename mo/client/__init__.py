"""The client surface of mo: connect() picks LocalClient or HttpClient from the settings.

Notebooks and UI helpers use only this (through `import mo`); the architecture test keeps it so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mo.client.base import MOClient
from mo.errors import ErrorCode, MOError
from mo.settings import load_settings

if TYPE_CHECKING:
    from mo.client.http import HttpClient
    from mo.client.local import LocalClient
    from mo.services.tenants import Tenant

__all__ = ["HttpClient", "LocalClient", "MOClient", "connect", "create_api_key", "create_tenant"]


def connect(
    tenant: str | None = None,
    *,
    mode: str | None = None,
    db_url: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
) -> MOClient:
    """A client for one tenant; every default comes from the environment or .env.

    mode "local" (MO_API_MODE, the default) opens db_url (MO_DB_URL) in this process for
    `tenant` (MO_TENANT). mode "http" talks to base_url (MO_API_URL) with api_key (MO_API_KEY);
    the tenant is the key's, and a tenant given as well must be that one.
    Raises MOError: validation_error for an unknown mode, tenant_required / tenant_not_found
    (local), unauthorized for a missing or unknown key and forbidden for a key of another
    tenant (http), unavailable when the database or the server cannot be reached.
    """
    settings = load_settings()
    chosen = (mode or settings.api_mode).lower()
    if chosen == "local":
        from mo.client.local import LocalClient

        return LocalClient(
            tenant if tenant is not None else settings.tenant, db_url=db_url or settings.db_url
        )
    if chosen == "http":
        return _connect_http(
            tenant if tenant is not None else settings.tenant,
            base_url or settings.api_url,
            api_key or settings.api_key,
        )
    raise MOError(
        ErrorCode.VALIDATION_ERROR, "mode must be local or http", {"field": "mode", "value": chosen}
    )


def _connect_http(tenant: str | None, base_url: str, api_key: str | None) -> MOClient:
    from mo.client.http import HttpClient

    if not api_key:
        raise MOError(
            ErrorCode.UNAUTHORIZED, "an API key is required (set MO_API_KEY or pass api_key=)"
        )
    client = HttpClient(base_url, api_key=api_key)
    try:
        # Ask once, now: a wrong key or a key of another tenant must fail here, not mid-notebook.
        key_tenant = client.tenant
        if tenant is not None and key_tenant != tenant:
            raise MOError(
                ErrorCode.FORBIDDEN,
                f"the API key belongs to tenant {key_tenant!r}, not {tenant!r}",
                {"tenant": tenant, "key_tenant": key_tenant},
            )
    except BaseException:
        client.close()
        raise
    return client


def create_tenant(slug: str, *, name: str | None = None, db_url: str | None = None) -> Tenant:
    """Create the tenant `slug` (or return it if it exists) in db_url (default MO_DB_URL)."""
    from mo.services import tenants
    from mo.store import open_store

    with open_store(db_url or load_settings().db_url) as store:
        return tenants.create_tenant(store, slug, name=name)


def create_api_key(tenant: str, *, db_url: str | None = None) -> str:
    """A new API key for `tenant`. It is returned once; mo stores only its hash."""
    from mo.services import tenants
    from mo.store import open_store

    with open_store(db_url or load_settings().db_url) as store:
        return tenants.create_api_key(store, tenant)


def __getattr__(name: str) -> object:
    # The adapters load on first use: both import pandas, about 4 s of a `python -c "import mo"`
    # that takes 0.1 s without them (median of 5, loaded 2-core machine), and only LocalClient
    # needs the database drivers.
    if name == "LocalClient":
        from mo.client.local import LocalClient

        return LocalClient
    if name == "HttpClient":
        from mo.client.http import HttpClient

        return HttpClient
    raise AttributeError(f"module 'mo.client' has no attribute {name!r}")
