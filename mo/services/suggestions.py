"""not_found for a name, with the close matches among the tenant's active names ("did you mean").

Why: a typo ("onoin") is the usual reason a name is not found; the error should carry the fix.
"""

from __future__ import annotations

import difflib
from typing import Literal

from mo.domain.context import TenantContext
from mo.domain.names import clean_name
from mo.errors import MOError, not_found
from mo.store.base import Tx

MAX_SUGGESTIONS = 3
# difflib's default: "onoin" → "onion" (0.8), "tomatoe" → "tomato" (0.92); "salt" ↛ "malt" + more.
CUTOFF = 0.6
_QUERIES = {"ingredient": "ingredients.active_names", "recipe": "recipes.active_names"}


def close_names(wanted: str, names: list[str], *, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """Up to `limit` of `names` closest to `wanted`, best first, compared case-folded."""
    by_key: dict[str, str] = {}
    for name in sorted(names):
        by_key.setdefault(name.casefold(), name)
    keys = difflib.get_close_matches(wanted.casefold(), list(by_key), n=limit, cutoff=CUTOFF)
    return [by_key[key] for key in keys]


def name_not_found(
    tx: Tx, ctx: TenantContext, kind: Literal["ingredient", "recipe"], name: object
) -> MOError:
    """not_found for `name` (details kind, name, suggestions), read in the caller's transaction."""
    shown = clean_name(name, field=kind)
    names = [str(row["name"]) for row in tx.all(_QUERIES[kind], {"tenant_id": ctx.tenant_id})]
    err = not_found(kind, shown)
    err.details["suggestions"] = close_names(shown, names)
    if err.details["suggestions"]:
        err.message += f"; did you mean {', '.join(map(repr, err.details['suggestions']))}?"
    return err
