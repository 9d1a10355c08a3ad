"""The HTTP API of mo (`mo serve`): FastAPI routes under /v1 over the same services."""

from __future__ import annotations

from mo.api.app import create_app

__all__ = ["create_app"]
