"""The keyword arguments callers write and the options dataclass they become stay alike."""

from __future__ import annotations

from dataclasses import fields

import pytest

from mo.domain.price_list_options import (
    FormatArgs,
    FormatOptions,
    PriceListArgs,
    PriceListOptions,
)


@pytest.mark.parametrize(
    ("arguments", "options"), [(FormatArgs, FormatOptions), (PriceListArgs, PriceListOptions)]
)
def test_every_keyword_is_an_option(arguments: type, options: type) -> None:
    assert arguments.__required_keys__ | arguments.__optional_keys__ == {
        f.name for f in fields(options)
    }


def test_only_the_supplier_is_required() -> None:
    assert PriceListArgs.__required_keys__ == {"supplier"}
    assert FormatArgs.__required_keys__ == frozenset()


def test_an_import_leaves_the_format_to_the_saved_one_and_a_save_reads_dots() -> None:
    assert PriceListOptions(supplier="Metro").decimal is None
    assert FormatOptions().decimal == "."


def test_the_supplier_is_required_and_unknown_options_are_refused() -> None:
    with pytest.raises(TypeError):
        PriceListOptions()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        FormatOptions(colums={"sku": "SKU"})  # type: ignore[call-arg]
