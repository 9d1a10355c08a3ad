"""mo: a recipe-costing workbench for food businesses.

    import mo
    client = mo.connect()              # MO_API_MODE, MO_TENANT, MO_DB_URL / MO_API_URL, MO_API_KEY
    client.add_ingredient("Flour", unit="g")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mo import client as _client
from mo.client import MOClient, connect, create_api_key, create_tenant
from mo.domain.results import (
    CostUpdate,
    ExportResult,
    ImportResult,
    IngredientRecord,
    RecipeImportResult,
    RecipeRecord,
    RecomputeResult,
)
from mo.errors import ErrorCode, MOError
from mo.settings import project_dir

if TYPE_CHECKING:
    from mo.client.http import HttpClient
    from mo.client.local import LocalClient

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
__version__ = "0.1.0"
# The two adapters load pandas (and LocalClient the database drivers): `import mo` takes about
# 0.1 s without them and about 4 s with them (python -c, median of 5, on a loaded 2-core machine),
# which every `mo` command would pay. So they, and only they, load on first use, in mo.client.
_ADAPTERS = frozenset({"LocalClient", "HttpClient"})


def __getattr__(name: str) -> object:
    if name not in _ADAPTERS:
        raise AttributeError(f"module 'mo' has no attribute {name!r}")
    value = getattr(_client, name)
    globals()[name] = value  # later lookups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
