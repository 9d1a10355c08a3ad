"""An imported file's shape is checked before it is parsed (issue #14, findings 2 and 7).

Too many columns, a line too long or a sheet wider than the cap is a validation_error naming
the limit, on both backends, for price lists and recipe files alike, and writes nothing.
Old-Mac files (CR-only line ends) read as any other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_support import row_counts
from xlsx_bomb import wide_row_xlsx

from mo.domain.context import TenantContext
from mo.errors import MOError
from mo.services.imports import import_price_list
from mo.services.recipe_import import import_recipes
from mo.settings import DEFAULT_INPUT_LIMITS, load_input_limits
from mo.store import Store

LIMITS = DEFAULT_INPUT_LIMITS
LIST = b"item,price,pack\nflour,1.20,1 kg\nsugar,2.10,500 g\n"
RECIPES = (
    b"recipe,yield_qty,yield_unit,kind,item,qty,unit\n"
    b"bread,1,each,ingredient,flour,500,g\nbread,1,each,ingredient,sugar,10,g\n"
)

# (file name, bytes, the limit it breaks)
HOSTILE = {
    "header of 33k columns in one long line": (
        "wide.csv",
        b"c," * (LIMITS.max_line_bytes // 2 + 1),
        "line_bytes",
    ),
    "header of 1000 columns in a short line": ("wide.csv", b"c," * 1000 + b"c\n", "columns"),
    "a data line over the line cap": (
        "long.csv",
        LIST + b"x" * (LIMITS.max_line_bytes + 1) + b",1,1 kg\n",
        "line_bytes",
    ),
    "xlsx row of 20k cells, lying dimension": ("bomb.xlsx", wide_row_xlsx(20_000), "columns"),
    "xlsx row of 20k cells, no dimension": (
        "bomb.xlsx",
        wide_row_xlsx(20_000, dimension=None),
        "columns",
    ),
    "xlsx declaring 16384 columns": (
        "bomb.xlsx",
        wide_row_xlsx(3, dimension="A1:XFD1"),
        "columns",
    ),
}


def _importers(store: Store, ctx: TenantContext) -> dict[str, Callable[[Path], object]]:
    return {
        "price list": lambda path: import_price_list(
            store, ctx, path, idempotency_key=f"k-{path.name}", supplier="Hostile"
        ),
        "recipes": lambda path: import_recipes(store, ctx, path, idempotency_key=f"r-{path.name}"),
    }


@pytest.mark.parametrize("importer", ["price list", "recipes"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_file_over_a_shape_limit_is_refused_naming_it_and_writes_nothing(
    store: Store, ctx: TenantContext, tmp_path: Path, importer: str, case: str
) -> None:
    name, data, limit_name = HOSTILE[case]
    path = tmp_path / name
    path.write_bytes(data)
    before = row_counts(store)
    with pytest.raises(MOError) as caught:
        _importers(store, ctx)[importer](path)
    err = caught.value
    assert err.code.value == "validation_error"
    assert err.details["limit_name"] == limit_name
    assert err.details["found"] > err.details["limit"]
    assert err.details["field"] == "source"
    if limit_name == "line_bytes":
        assert err.details["line"] == (1 if name == "wide.csv" else 4)
    assert row_counts(store) == before


def test_the_limits_follow_the_environment(
    store: Store, ctx: TenantContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(LIST)
    monkeypatch.setenv("MO_MAX_COLUMNS", "2")
    with pytest.raises(MOError) as caught:
        import_price_list(store, ctx, path, idempotency_key="k", supplier="S")
    assert (caught.value.details["limit"], caught.value.details["found"]) == (2, 3)


@pytest.mark.parametrize("value", ["0", "-1", "many", "1.5"])
def test_a_limit_that_is_not_a_positive_integer_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("MO_MAX_LINE_KB", value)
    with pytest.raises(MOError) as caught:
        load_input_limits()
    assert caught.value.details == {"field": "MO_MAX_LINE_KB", "value": value}


def test_old_mac_line_ends_read_as_any_other(
    store: Store, ctx: TenantContext, tmp_path: Path
) -> None:
    unix, mac = tmp_path / "unix.csv", tmp_path / "mac.csv"
    unix.write_bytes(LIST)
    mac.write_bytes(LIST.replace(b"\n", b"\r"))
    first = import_price_list(store, ctx, unix, idempotency_key="unix", supplier="S")
    again = import_price_list(store, ctx, mac, idempotency_key="mac", supplier="S")
    assert first.rows == 2
    assert (again.status, again.duplicate_of) == ("duplicate", first.batch_id)  # same content
    recipes = tmp_path / "recipes.csv"
    recipes.write_bytes(RECIPES.replace(b"\n", b"\r"))
    assert import_recipes(store, ctx, recipes, idempotency_key="r").recipes == 1


def test_a_lone_cr_inside_the_header_is_refused_cleanly(
    store: Store, ctx: TenantContext, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"item,price\rpack\r\nflour,1.20,1 kg\r\n")
    with pytest.raises(MOError) as caught:
        import_price_list(store, ctx, path, idempotency_key="k", supplier="S")
    assert caught.value.code.value == "validation_error"
