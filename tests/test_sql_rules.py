"""Every statement that touches a tenant table is routed by tenant_id, and every read of a
soft-deletable table filters deleted_at — unless it is on the short allow-list below."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from mo.sqlfiles import DIALECTS, query_names, raw_query

ROOT = Path(__file__).resolve().parent.parent
TENANT_TABLES = {
    "event_log", "ingredients", "ingredient_names", "supplier_items", "ingredient_costs",
    "import_batches", "recipes", "recipe_lines", "recipe_costs", "idempotency_keys", "api_keys",
    "import_rejections", "suppliers",
}
SOFT_DELETABLE = {"ingredients", "ingredient_names", "recipes", "suppliers"}

# Queries exempt from a rule, each with its reason.
NO_TENANT_FILTER = {
    "tenants.by_key_hash": "authentication: the key names the tenant",
}
NO_DELETED_FILTER = {
    "ingredients.by_id": "returns the record after delete/restore",
    "ingredients.latest_deleted": "restore looks among deleted rows",
    "ingredients.names_deleted_with": "restore looks among deleted rows",
    "ingredients.restore": "restore targets a deleted row",
    "ingredients.restore_names": "restore targets deleted rows",
    "sanity.events_without_row": "a soft-deleted row still exists for its events",
    "testing.ingredients": "tests count every written row",
    "testing.ingredient_names": "tests count every written row",
}
_TABLE_REF = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+(\w+)", re.IGNORECASE)


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--")[0] for line in sql.splitlines())


def _tables(sql: str) -> set[str]:
    return {t.lower() for t in _TABLE_REF.findall(sql)}


def _statements() -> list[tuple[str, str]]:
    found = {}
    for dialect in DIALECTS:
        for name in query_names(dialect):
            found[f"{dialect}:{name}"] = _strip_comments(raw_query(dialect, name))
    return sorted(found.items())


def _tenant_routed(sql: str) -> bool:
    return bool(re.search(r"tenant_id\s*(=|IN\b)", sql, re.IGNORECASE)) or bool(
        re.search(r"INSERT\s+INTO\s+\w+\s*\([^)]*\btenant_id\b", sql, re.IGNORECASE))


def _touches_deleted_filter(sql: str) -> bool:
    return "deleted_at" in sql.lower()


STATEMENTS = _statements()


def test_the_catalog_was_read() -> None:
    assert len(STATEMENTS) > 20


@pytest.mark.parametrize(("name", "sql"), STATEMENTS, ids=[n for n, _ in STATEMENTS])
def test_tenant_tables_are_filtered_by_tenant(name: str, sql: str) -> None:
    if not _tables(sql) & TENANT_TABLES or name.split(":", 1)[1] in NO_TENANT_FILTER:
        return
    assert _tenant_routed(sql), f"{name} touches a tenant table without a tenant_id filter"


@pytest.mark.parametrize(("name", "sql"), STATEMENTS, ids=[n for n, _ in STATEMENTS])
def test_reads_of_soft_deletable_tables_filter_deleted_rows(name: str, sql: str) -> None:
    is_read = re.search(r"\bSELECT\b", sql, re.IGNORECASE) or re.search(r"\bUPDATE\b", sql, re.IGNORECASE)
    read_tables = {t.lower() for t in re.findall(r"\b(?:FROM|JOIN|UPDATE)\s+(\w+)", sql, re.IGNORECASE)}
    if not is_read or not read_tables & SOFT_DELETABLE or name.split(":", 1)[1] in NO_DELETED_FILTER:
        return
    assert _touches_deleted_filter(sql), f"{name} reads a soft-deletable table without a deleted_at filter"


def test_the_rules_catch_offenders() -> None:
    assert not _tenant_routed("SELECT * FROM ingredients WHERE name_key = :k")
    assert _tenant_routed("SELECT * FROM ingredients WHERE tenant_id = :tenant_id")
    assert not _touches_deleted_filter("SELECT * FROM recipes WHERE tenant_id = :t")


def _python_sql_literals() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "mo").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if re.search(r"\b(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b", text) and _tables(text) & TENANT_TABLES:
                    found.append((f"{path.relative_to(ROOT)}:{node.lineno}", text))
    return found


def test_python_code_holds_no_tenant_table_sql() -> None:
    """Tenant-table SQL lives in sql/, where the rules above can read it."""
    offenders = [where for where, _ in _python_sql_literals()]
    assert offenders == []
