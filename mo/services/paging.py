"""Keyset pages of a tenant's tables: the rows after a key, in key order, at most n of them.

Each list read orders its rows by a unique key (name_key then id, or a time then id) and its SQL
takes `:first` (no key yet), the key's parts and `:limit`, as
`WHERE (:first OR key > :after) ORDER BY key LIMIT :limit`. A page asks for one row more than
it returns: that row only says whether another page follows. In-process reads run the same
query without a bound (one query, one snapshot).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mo.store.base import Row

Key = tuple[Any, ...]
# LIMIT for "every row": both backends take a BIGINT there, and no table comes near it.
ALL_ROWS = 2**62


@dataclass(frozen=True)
class PageRequest:
    """Rows after `after` (None: from the first), at most `size` of them (None: all)."""

    after: Key | None = None
    size: int | None = None

    def params(self, *names: str) -> dict[str, Any]:
        """The query parameters: :first, the key's parts under `names`, and :limit."""
        parts = self.after if self.after is not None else (None,) * len(names)
        return {
            "first": self.after is None,
            **dict(zip(names, parts, strict=True)),
            "limit": ALL_ROWS if self.size is None else self.size + 1,
        }


EVERY_ROW = PageRequest()


@dataclass(frozen=True)
class FramePage:
    """One page of a read as its DataFrame, and the key the next page starts after (None at
    the end)."""

    frame: pd.DataFrame
    next: Key | None


def cut(rows: list[Row], page: PageRequest, key: Callable[[Row], Key]) -> tuple[list[Row], Key | None]:
    """The page's rows without the look-ahead row, and the next page's key when one follows."""
    if page.size is None or len(rows) <= page.size:
        return rows, None
    kept = rows[: page.size]
    return kept, key(kept[-1])


def by_name(row: Row) -> Key:
    """The key of a read ordered by name: (name_key, id)."""
    return (row["name_key"], row["id"])


def by_name_params(tenant_id: str, page: PageRequest, *, include_deleted: bool) -> dict[str, Any]:
    """The parameters of a tenant's read ordered by name, with or without deleted rows."""
    return {
        "tenant_id": tenant_id,
        "include_deleted": bool(include_deleted),
        **page.params("after_name", "after_id"),
    }
