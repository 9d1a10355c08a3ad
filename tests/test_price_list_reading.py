"""Shortcuts in reading a price list give what the full per-text checks give."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given
from hypothesis import strategies as st

from mo.services import price_lists

_NAMES = st.text(st.characters(codec="utf-8"), max_size=210) | st.text("ab  \t~é\x7f\x00", max_size=8) \
    | st.text("abc ", min_size=195, max_size=205)


@given(st.lists(_NAMES, min_size=1, max_size=30))
def test_item_names_read_set_wise_are_read_as_clean_name_reads_them(names: list[str]) -> None:
    cells = pc.utf8_trim_whitespace(pa.array(names, type=pa.large_string()))
    check = {"empty": "item name is empty"}
    fast = price_lists._parse_column("item", cells, price_lists._clean_item, **check,
                                     unchanged=price_lists._clean_already)
    slow = price_lists._parse_column("item", cells, price_lists._clean_item, **check)
    assert fast.values.tolist() == slow.values.tolist()
    assert fast.problems.tolist() == slow.problems.tolist()


def test_the_set_wise_check_passes_plain_names_and_only_those() -> None:
    texts = pa.array(["flour", "a  b", "café", "x" * 200, "x" * 201, "tab\there", "~!"], type=pa.large_string())
    assert price_lists._clean_already(texts).tolist() == [True, False, False, True, False, False, True]
