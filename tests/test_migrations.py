"""Versioned migrations: applied once, in order, refused when an applied file changed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mo.errors import MOError
from mo.store import connect_store, migrations, open_store, sqlfiles

ROOT = Path(__file__).resolve().parent.parent


def test_migrations_apply_to_an_empty_database_and_a_rerun_applies_nothing(empty_db_url: str) -> None:
    with connect_store(empty_db_url) as store:
        assert [m.state for m in migrations.status(store)] == ["pending"] * len(migrations.available(store.dialect))
        first = migrations.migrate(store)
        assert [m.version for m in first] == sorted(m.version for m in first) and first
        assert migrations.migrate(store) == []
        states = migrations.status(store)
    assert {s.state for s in states} == {"applied"}
    assert all(s.installed_at is not None for s in states)


def test_both_dialects_have_the_same_versions() -> None:
    duck = [(m.version, m.script) for m in migrations.available("duckdb")]
    pg = [(m.version, m.script) for m in migrations.available("postgres")]
    assert duck == pg
    assert [v for v, _ in duck] == list(range(1, len(duck) + 1))


@pytest.fixture
def sql_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of sql/ the test may edit; the runner reads it instead of the real one."""
    copy = tmp_path / "sql"
    shutil.copytree(sqlfiles.sql_root(), copy)
    monkeypatch.setattr(sqlfiles, "sql_root", lambda: copy)
    return copy


def test_an_edited_applied_file_is_refused_by_name(empty_db_url: str, sql_copy: Path) -> None:
    with connect_store(empty_db_url) as store:
        migrations.migrate(store)
        edited = sql_copy / "migrations" / store.dialect / "V002__tenants_ingredients.sql"
        edited.write_text(edited.read_text() + "\n-- an innocent-looking edit\n")
        for call in (migrations.migrate, migrations.status):
            with pytest.raises(MOError) as caught:
                call(store)
            assert caught.value.code.value == "migration_error"
            assert caught.value.details["script"] == "V002__tenants_ingredients.sql"
            assert "V002__tenants_ingredients.sql" in caught.value.message


def test_a_failing_migration_rolls_back_with_its_history_row(empty_db_url: str, sql_copy: Path) -> None:
    folder = sql_copy / "migrations" / ("duckdb" if empty_db_url.startswith("duckdb") else "postgres")
    (folder / "V900__broken.sql").write_text("CREATE TABLE half_done (x INTEGER);\nSELECT * FROM no_such_table;\n")
    with connect_store(empty_db_url) as store:
        with pytest.raises(MOError) as caught:
            migrations.migrate(store)
        assert caught.value.code.value == "migration_error"
        assert caught.value.details["script"] == "V900__broken.sql"
        pending = [s.script for s in migrations.status(store) if s.state == "pending"]
    assert pending == ["V900__broken.sql"]


def test_embedded_duckdb_migrates_itself_on_open(tmp_path: Path) -> None:
    with open_store(f"duckdb:///{tmp_path / 'fresh.duckdb'}") as store:
        assert {s.state for s in migrations.status(store)} == {"applied"}


def test_postgres_with_pending_migrations_answers_migration_required(pg_schema_url: str) -> None:
    with pytest.raises(MOError) as caught:
        open_store(pg_schema_url)
    assert caught.value.code.value == "migration_required"
    assert "V001__event_log.sql" in caught.value.details["pending"]


def test_four_concurrent_mo_migrate_processes_apply_each_version_once(pg_schema_url: str) -> None:
    command = [sys.executable, "-m", "mo", "--db-url", pg_schema_url, "migrate"]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
             for _ in range(4)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
    applied_per_process = [int(out.split()[1]) for out, _ in outputs]
    assert sum(applied_per_process) == len(migrations.available("postgres"))
    with connect_store(pg_schema_url) as store, store.transaction() as tx:
        rows = tx.all("migrations.applied")
    assert [r["version"] for r in rows] == [m.version for m in migrations.available("postgres")]


def _map_skus_by_hand(store, ctx, skus: dict[str, str]) -> dict[str, int]:
    """Ingredients (in g) and supplier "Mill"'s sku mappings for them, as an import writes them."""
    ids = {}
    with store.transaction(tenant_id=ctx.tenant_id) as tx:
        for name, sku in skus.items():
            ids[name] = int(tx.scalar("ingredients.insert", {
                "tenant_id": ctx.tenant_id, "name": name, "name_key": name, "family": "mass",
                "base_unit": "g", "category": None, "density": None, "yield_pct": 100}))
            tx.run("ingredients.insert_name", {"tenant_id": ctx.tenant_id, "ingredient_id": ids[name],
                                               "name": name, "name_key": name, "is_alias": False})
            tx.run("testing.insert_supplier_item", {"tenant_id": ctx.tenant_id, "supplier_key": "mill",
                                                    "sku": sku, "ingredient_id": ids[name]})
    return ids


def test_v011_keeps_every_sku_mapping_and_its_rule(empty_db_url: str, sql_copy: Path) -> None:
    """supplier_items is rebuilt (DuckDB) or re-keyed (PostgreSQL) by V011: mappings written
    before it stay, still match the next list by sku, and one sku still maps once."""
    import pandas as pd

    from mo.services import imports, ingredients, tenants

    folder = sql_copy / "migrations" / ("duckdb" if empty_db_url.startswith("duckdb") else "postgres")
    held_back = folder / "V011__supplier_items_natural_key.sql"
    text = held_back.read_text()
    later = [p for p in folder.glob("V*.sql") if int(p.name[1:4]) > 11]
    kept = {p: p.read_text() for p in later}
    for path in [held_back, *later]:
        path.unlink()
    prices = pd.DataFrame({"item": ["flour", "sugar"], "price": ["1.20", "2"], "pack": ["1 kg", "1 kg"],
                           "sku": ["F-1", "S-1"]})
    with connect_store(empty_db_url) as store:
        migrations.migrate(store)
        tenants.create_tenant(store, "acme")
        ctx = tenants.resolve_tenant(store, "acme")
        # Written with the statements of the time: today's services read V015's views.
        ids = _map_skus_by_hand(store, ctx, {"flour": "F-1", "sugar": "S-1"})
        held_back.write_text(text)
        for path, body in kept.items():
            path.write_text(body)
        assert [m.version for m in migrations.migrate(store)][0] == 11
        after = imports.supplier_items_frame(store, ctx).drop(columns="description")
        assert after.values.tolist() == [["mill", "F-1", "flour", ids["flour"]],
                                         ["mill", "S-1", "sugar", ids["sugar"]]]
        renamed = prices.assign(item=["plain flour", "caster sugar"], price=["1.30", "2.10"])
        result = imports.import_price_list(store, ctx, renamed, idempotency_key="after", supplier="Mill")
        assert (result.created, result.changed) == (0, 2)  # matched by sku, not by the new names
        with store.transaction(tenant_id=ctx.tenant_id) as tx:
            with pytest.raises(MOError) as caught:
                tx.run("testing.insert_supplier_item",
                       {"tenant_id": ctx.tenant_id, "supplier_key": "mill", "sku": "F-1", "ingredient_id": 1})
        assert caught.value.code.value == "conflict"
