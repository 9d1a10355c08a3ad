"""How a caller says a supplier's price list reads: the options of save_supplier and
import_price_list, named once for both clients and the services.

The TypedDicts type the keyword arguments callers write (`**options: Unpack[PriceListArgs]`),
so every signature keeps its keywords without listing them again; the frozen dataclasses hold
those arguments with their defaults once the call is made. A test keeps the two alike.
Values are as given (unchecked): the services check them, each check in one place.
"""

# No `from __future__ import annotations`: TypedDict reads Required[...] only from real types.
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Required, TypedDict


class FormatArgs(TypedDict, total=False):
    """The keyword arguments of a supplier's format: see FormatOptions."""

    columns: Mapping[str, str] | None
    decimal: str | None
    price_per: str | None
    sheet: str | int | None


class PriceListArgs(FormatArgs, total=False):
    """The keyword arguments of an import besides its source and key: see PriceListOptions."""

    supplier: Required[str]
    effective_at: datetime | str | None
    create_missing: bool
    on_bad_rows: str


@dataclass(frozen=True, kw_only=True)
class FormatOptions:
    """How a supplier's files read: supplier header -> canonical column, the decimal mark
    ("." or ","), the unit prices are per (or CS/case for the whole pack), the .xlsx sheet."""

    columns: Mapping[str, str] | None = None
    decimal: str | None = "."
    price_per: str | None = None
    sheet: str | int | None = None

    def to_body(self) -> dict[str, Any]:
        """The options as the HTTP API takes them (values unchanged; the wire encodes them)."""
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class PriceListOptions(FormatOptions):
    """An import's options: the format options not given (None) come from the supplier's saved
    format; create_missing makes unknown items ingredients; on_bad_rows is "fail" (nothing is
    imported) or "skip" (the good rows are)."""

    supplier: str
    effective_at: datetime | str | None = None
    create_missing: bool = True
    decimal: str | None = None
    on_bad_rows: str = "fail"
