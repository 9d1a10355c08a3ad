"""The explicit tenant context every service takes: no globals, no ambient tenant."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TenantContext:
    tenant_id: str
    slug: str
    actor: str = "system"
