"""What write calls return: frozen dataclasses, identical from LocalClient and HttpClient.

Decimals stay exact (Decimal); to_dict() gives JSON-ready values (decimals as strings).
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, fields
from decimal import Decimal
from typing import Any, TypeVar

R = TypeVar("R", bound="Result")


class Result:
    def to_dict(self) -> dict[str, Any]:
        return {k: _jsonable(v) for k, v in asdict(self).items()}  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[R], data: dict[str, Any]) -> R:
        """Rebuild from to_dict() output (the HTTP client and idempotent replays use this)."""
        kwargs = {}
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name not in data and f.default is not MISSING:
                continue  # a result stored before the field existed (an idempotent replay)
            value = data.get(f.name)
            kwargs[f.name] = _revive(f.type, value)
        return cls(**kwargs)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _revive(annotation: Any, value: Any) -> Any:
    text = str(annotation)
    if value is None:
        return None
    if "Decimal" in text and isinstance(value, str | int):
        return Decimal(str(value))
    if text.startswith("tuple") and isinstance(value, list):
        return tuple(value)
    return value


def money(value: Decimal | None) -> Decimal | None:
    """A stored amount without trailing zeros (backends differ in the scale they hand back)."""
    if value is None:
        return None
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


@dataclass(frozen=True)
class CostUpdate(Result):
    cost_id: int | None
    ingredient: str
    unit_cost: Decimal
    changed: bool
    replayed: bool
    recomputed: int


@dataclass(frozen=True)
class ImportResult(Result):
    batch_id: int
    status: str  # "completed" | "duplicate"
    rows: int
    created: int
    changed: int
    unchanged: int
    recomputed: int
    replayed: bool
    duplicate_of: int | None
    # on_bad_rows="skip": the rows left out, and their problems as a refusal lists them
    # ({"row", "column", "value", "problem"}, the first 1000); all are kept with the batch.
    rejected_rows: int = 0
    rejected: tuple[dict[str, Any], ...] = ()
    header_row: int | None = None  # the file's line holding the header (None: stored before)


@dataclass(frozen=True)
class RecipeImportResult(Result):
    batch_id: int
    recipes: int
    lines: int
    replayed: bool


@dataclass(frozen=True)
class RecomputeResult(Result):
    recomputed: int
    changed: int


@dataclass(frozen=True)
class ExportResult(Result):
    path: str
    rows: int
    sha256: str
    manifest_path: str


@dataclass(frozen=True)
class RecipeRecord(Result):
    id: int
    name: str
    yield_qty: Decimal
    yield_unit: str
    menu_price: Decimal | None
    lines: int
    deleted: bool


@dataclass(frozen=True)
class SupplierRecord(Result):
    """A supplier's saved format: how its price lists read."""

    id: int
    supplier: str
    columns: dict[str, str] | None
    decimal: str
    price_per: str | None
    sheet: str | int | None


@dataclass(frozen=True)
class IngredientRecord(Result):
    id: int
    name: str
    unit: str
    family: str
    category: str | None
    density: Decimal | None
    yield_pct: Decimal
    aliases: tuple[str, ...]
    deleted: bool


@dataclass(frozen=True)
class CostPolicyRecord(Result):
    """An ingredient's cost policy after set_cost_policy, and the offer it now chooses."""

    ingredient: str
    policy: str  # "latest" | "preferred" | "lowest"
    supplier: str | None  # the preferred supplier (policy "preferred" only)
    cost_supplier: str | None  # whose offer is chosen now (None: the manual offer, or none)
    unit_cost: Decimal | None  # the chosen unit cost now (None: no offer)
    changed: bool  # the chosen offer changed
    recomputed: int
    replayed: bool


@dataclass(frozen=True)
class ConversionRecord(Result):
    """One ingredient's conversion: from_qty (e.g. "1 each") is to_qty (e.g. "120 g")."""

    id: int
    ingredient: str
    from_qty: str
    to_qty: str
    from_unit: str  # base units: "each", "g"
    to_unit: str
    replaced: bool  # saving it replaced the active one for the same pair of bases
    deleted: bool
    replayed: bool
