"""The placeholder rewrite every named query goes through on its way to a driver."""

from __future__ import annotations

import pytest

from mo.sqlfiles import DIALECTS, compiled, query_names, rewrite_placeholders

SQL = """-- the walk stops at :max_depth (a comment: no parameter)
SELECT '12:30' AS t, 'it''s :not_one' AS s, x::int - 1 AS y, 5 % 2 AS m -- trailing :ghost
FROM t WHERE tenant_id = :tenant_id AND d < :max_depth AND e = :tenant_id"""


def test_parameters_come_from_code_only_in_order_of_first_use() -> None:
    text, params = rewrite_placeholders(SQL, "dollar")
    assert params == ("tenant_id", "max_depth")
    assert "ghost" not in text and "--" not in text
    assert "'12:30'" in text and "'it''s :not_one'" in text and "x::int - 1" in text
    assert "tenant_id = $tenant_id AND d < $max_depth AND e = $tenant_id" in text


def test_pyformat_escapes_every_percent_literals_included() -> None:
    text, params = rewrite_placeholders(SQL + " AND f LIKE 'a%'", "pyformat")
    assert params == ("tenant_id", "max_depth")
    assert "5 %% 2" in text and "'a%%'" in text
    assert "tenant_id = %(tenant_id)s AND d < %(max_depth)s AND e = %(tenant_id)s" in text


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_catalog_query_keeps_its_text_apart_from_comments(dialect: str) -> None:
    """Nothing but comments is dropped: the code of every query survives the rewrite."""
    for name in query_names(dialect):
        query = compiled(dialect, name, "dollar")
        assert query.text.strip(), name
        assert "--" not in query.text.replace("'--'", ""), name
