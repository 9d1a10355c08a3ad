"""mo: a recipe-costing workbench for food businesses.

    import mo
    client = mo.connect()              # MO_API_MODE, MO_TENANT, MO_DB_URL / MO_API_URL, MO_API_KEY
    client.add_ingredient("Flour", unit="g")

Everything but the errors loads on first use, so `import mo` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from mo.errors import ErrorCode, MOError

if TYPE_CHECKING:
    from mo.client import MOClient, connect, create_api_key, create_tenant
    from mo.client.http import HttpClient
    from mo.client.local import LocalClient
    from mo.results import (
        CostUpdate,
        ExportResult,
        ImportResult,
        RecipeImportResult,
        RecipeRecord,
        RecomputeResult,
    )
    from mo.services.ingredients import IngredientRecord
    from mo.settings import project_dir

_LAZY: dict[str, str] = {
    "connect": "mo.client",
    "create_tenant": "mo.client",
    "create_api_key": "mo.client",
    "MOClient": "mo.client.base",
    "LocalClient": "mo.client.local",
    "HttpClient": "mo.client.http",
    "CostUpdate": "mo.results",
    "ExportResult": "mo.results",
    "ImportResult": "mo.results",
    "RecipeImportResult": "mo.results",
    "RecipeRecord": "mo.results",
    "RecomputeResult": "mo.results",
    "IngredientRecord": "mo.services.ingredients",
    "project_dir": "mo.settings",
}

__all__ = [
    "CostUpdate",
    "ErrorCode",
    "ExportResult",
    "HttpClient",
    "ImportResult",
    "IngredientRecord",
    "LocalClient",
    "MOClient",
    "MOError",
    "RecipeImportResult",
    "RecipeRecord",
    "RecomputeResult",
    "connect",
    "project_dir",
    "create_api_key",
    "create_tenant",
]
assert set(__all__) == {"ErrorCode", "MOError", *_LAZY}  # one list to read, kept whole
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mo' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
