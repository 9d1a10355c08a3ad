"""Every statement that touches a tenant table is routed by tenant_id; every read of a
soft-deletable table goes through its active-row view (migration V015) or carries the real
predicate `<alias>.deleted_at IS NULL` — unless it is on the short allow-list below; every
event type SQL inserts is in the registry."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from mo.services.events import EVENT_TYPES
from mo.store.sqlfiles import DIALECTS, query_names, raw_query

ROOT = Path(__file__).resolve().parent.parent
SOFT_DELETABLE = {
    "ingredients", "ingredient_names", "recipes", "suppliers", "ingredient_conversions"
}
ACTIVE_VIEWS = {f"active_{table}" for table in (
    "ingredients", "ingredient_names", "recipes", "ingredient_conversions"
)}
TENANT_TABLES = {
    "event_log", "ingredients", "ingredient_names", "supplier_items", "ingredient_costs",
    "import_batches", "recipes", "recipe_lines", "recipe_costs", "idempotency_keys", "api_keys",
    "import_rejections", "suppliers", "ingredient_conversions", "ingredient_cost_policies",
} | ACTIVE_VIEWS

# Queries exempt from a rule, each with its reason.
NO_TENANT_FILTER = {
    "tenants.by_key_hash": "authentication: the key names the tenant",
}
NO_DELETED_FILTER = {
    "ingredients.by_id": "returns the record after delete/restore",
    "ingredients.soft_delete_names": "reads the deleted_at its ingredient was just given",
    "ingredients.latest_deleted": "restore looks among deleted rows",
    "ingredients.names_deleted_with": "restore looks among deleted rows",
    "ingredients.restore": "restore targets a deleted row",
    "ingredients.restore_names": "restore targets deleted rows",
    "recipes.by_id": "returns the record after delete/restore",
    "recipes.latest_deleted": "restore looks among deleted rows",
    "recipes.restore": "restore targets a deleted row",
    "recipes.breakdown": "a deleted ingredient or sub-recipe is listed with why, not left out",
    "imports.match": "a sku mapped to a deleted ingredient is remapped, so it must be seen",
    "sanity.events_without_row": "a soft-deleted row still exists for its events",
    "testing.ingredients": "tests count every written row",
    "testing.ingredient_names": "tests count every written row",
    "testing.ingredient_facts": "an event names its ingredient, deleted or not",
    "recompute.scope_lines": "a deleted sub-recipe or ingredient is listed as missing",
    "recompute.compute": "a deleted sub-recipe or ingredient is listed as missing",
}
_TABLE_REF = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+(\w+)", re.IGNORECASE)
# A read of a table: FROM/JOIN/UPDATE, then the table and its alias, if any.
_READ_REF = re.compile(
    r"\b(?:FROM|JOIN|UPDATE)\s+(\w+)(?:\s+(?:AS\s+)?(?!(?:ON|WHERE|JOIN|LEFT|RIGHT|INNER|CROSS"
    r"|GROUP|ORDER|LIMIT|UNION|SET|USING)\b)(\w+))?",
    re.IGNORECASE,
)


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


def _unfiltered_reads(sql: str) -> list[str]:
    """The soft-deletable base tables `sql` reads without `<alias>.deleted_at IS NULL` (an
    unqualified `deleted_at IS NULL` counts for a table read without an alias)."""
    missing = []
    for table, alias in _READ_REF.findall(sql):
        if table.lower() not in SOFT_DELETABLE:
            continue
        names = [re.escape(alias or table)] + ([] if alias else [""])
        predicates = [rf"(?<![\w.]){n}\.deleted_at\s+IS\s+NULL\b" if n else
                      r"(?<![\w.])deleted_at\s+IS\s+NULL\b" for n in names]
        if not any(re.search(p, sql, re.IGNORECASE) for p in predicates):
            missing.append(f"{table} {alias}".strip())
    return missing


STATEMENTS = _statements()


def test_the_catalog_was_read() -> None:
    """Every `-- name:` block of every query file is in each dialect's catalog, and a dialect's
    own file wins: the rules below check what the drivers run, not what was easy to find."""
    queries = ROOT / "sql" / "queries"
    for dialect in DIALECTS:
        names = set(query_names(dialect))
        for path in sorted(queries.glob("*.sql")) + sorted((queries / dialect).glob("*.sql")):
            declared = re.findall(r"^--\s*name:\s*([\w.]+)\s*$", path.read_text(), re.MULTILINE)
            assert declared, f"{path} declares no query"
            assert {f"{path.stem}.{name}" for name in declared} <= names, (dialect, path.name)
            if path.parent.name == dialect:
                for name in declared:
                    assert raw_query(dialect, f"{path.stem}.{name}") in path.read_text(), name
        assert {n for n, _ in STATEMENTS if n.startswith(f"{dialect}:")} == {
            f"{dialect}:{name}" for name in names
        }


@pytest.mark.parametrize(("name", "sql"), STATEMENTS, ids=[n for n, _ in STATEMENTS])
def test_tenant_tables_are_filtered_by_tenant(name: str, sql: str) -> None:
    if not _tables(sql) & TENANT_TABLES or name.split(":", 1)[1] in NO_TENANT_FILTER:
        return
    assert _tenant_routed(sql), f"{name} touches a tenant table without a tenant_id filter"


@pytest.mark.parametrize(("name", "sql"), STATEMENTS, ids=[n for n, _ in STATEMENTS])
def test_reads_of_soft_deletable_tables_filter_deleted_rows(name: str, sql: str) -> None:
    if name.split(":", 1)[1] in NO_DELETED_FILTER:
        return
    assert _unfiltered_reads(sql) == [], (
        f"{name} reads a soft-deletable table without `deleted_at IS NULL`: read active_<table>")


def test_every_exemption_names_a_query() -> None:
    names = {name.split(":", 1)[1] for name, _ in STATEMENTS}
    assert set(NO_DELETED_FILTER) - names == set() and set(NO_TENANT_FILTER) - names == set()


def test_the_rules_catch_offenders() -> None:
    assert not _tenant_routed("SELECT * FROM ingredients WHERE name_key = :k")
    assert _tenant_routed("SELECT * FROM ingredients WHERE tenant_id = :tenant_id")
    assert _unfiltered_reads("SELECT * FROM recipes WHERE tenant_id = :t") == ["recipes"]
    # A mention of the column is not the predicate; nor is another alias's.
    assert _unfiltered_reads("SELECT deleted_at FROM recipes WHERE deleted_at IS NOT NULL") != []
    assert _unfiltered_reads(
        "SELECT 1 FROM recipes r JOIN ingredients i ON i.id = r.id WHERE r.deleted_at IS NULL"
    ) == ["ingredients i"]
    assert _unfiltered_reads("UPDATE recipes SET x = 1 WHERE tenant_id = :t") == ["recipes"]
    assert _unfiltered_reads("SELECT * FROM recipes r WHERE r.deleted_at IS NULL") == []
    assert _unfiltered_reads("SELECT * FROM active_recipes r JOIN recipe_lines l ON true") == []
    assert _unfiltered_reads("SELECT * FROM ingredients WHERE deleted_at IS NULL") == []


# An event type as SQL writes it: a quoted dotted lower-case word ('ingredient.cost.updated').
_EVENT_LITERAL = re.compile(r"'([a-z_]+(?:\.[a-z_]+)+)'")


def _sql_event_types() -> dict[str, set[str]]:
    """Every literal event type in a statement that inserts into event_log, by statement."""
    found: dict[str, set[str]] = {}
    for name, sql in STATEMENTS:
        if re.search(r"INSERT\s+INTO\s+event_log\b", sql, re.IGNORECASE):
            found[name] = set(_EVENT_LITERAL.findall(sql))
    return found


def test_event_types_written_by_sql_are_registered() -> None:
    found = _sql_event_types()
    written = set().union(*found.values())
    # The reader must see what the import statements write, or this test checks nothing.
    assert {"ingredient.created", "ingredient.cost.updated"} <= written
    unknown = {name: types - EVENT_TYPES for name, types in found.items() if types - EVENT_TYPES}
    assert unknown == {}, f"event types written from SQL but not in mo.services.events.EVENT_TYPES: {unknown}"


def test_the_event_reader_catches_an_unregistered_type() -> None:
    sql = "INSERT INTO event_log (event_type) SELECT 'ingredient.cost.changed' FROM t"
    assert set(_EVENT_LITERAL.findall(sql)) - EVENT_TYPES == {"ingredient.cost.changed"}


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
