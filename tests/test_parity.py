"""diff_exports and `mo parity diff`: exports of the same work match, ids and times aside."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from eventlog_support import emit

from mo.cli.parity import diff_exports, main_parity_diff
from mo.domain.context import TenantContext
from mo.errors import ErrorCode, MOError
from mo.services import tenants
from mo.services.export import export_events
from mo.store import Store, connect_store, migrations
from mo.util.jsonutil import dumps

TRICKY_PAYLOAD = {"zz": [1.5, {"bb": None, "a": "é"}], "a": 10**20, "m": {"long key": 1, "k": 2}}
WINDOW = {"since": datetime(2000, 1, 1, tzinfo=timezone.utc),
          "until": datetime.now(timezone.utc) + timedelta(days=1)}


def do_the_work(store: Store, ctx: TenantContext, *, price: str = "0.002", extra: bool = False) -> None:
    """The same story told by any system: ids, keys and times are its own."""
    flour_id = hash(ctx.tenant_id) % 10_000  # a different generated id per tenant
    emit(store, ctx, "ingredient.created", "ingredient", flour_id, {"name": "Flour", "unit": "g"})
    emit(store, ctx, "ingredient.alias_added", "ingredient", flour_id, {"name": "Flour", "alias": "=cmd()"})
    emit(store, ctx, "ingredient.cost.updated", "ingredient", flour_id,
         {"ingredient": "Flour", "ingredient_id": flour_id, "cost_id": flour_id + 1,
          "new_unit_cost": price, "effective_at": datetime.now(timezone.utc), "supplier": "Mill"},
         idempotency_key="cost-1", batch_id=flour_id + 2)
    if extra:
        emit(store, ctx, "ingredient.deleted", "ingredient", flour_id, {"name": "Flour"})


# Everything but tenant.created, whose payload names the tenant itself.
WORK = ["ingredient.created", "ingredient.alias_added", "ingredient.cost.updated", "ingredient.deleted",
        "recipe.saved"]


def export(store: Store, ctx: TenantContext, path: Path) -> Path:
    export_events(store, ctx, path, types=WORK, **WINDOW)
    return path


def test_the_same_work_under_two_tenants_has_no_differences(store, ctx, other_ctx, tmp_path):
    do_the_work(store, ctx)
    do_the_work(store, other_ctx)
    a, b = export(store, ctx, tmp_path / "a.csv"), export(store, other_ctx, tmp_path / "b.csv")
    assert a.read_text() != b.read_text()  # ids, event ids, times, tenant ids all differ
    assert diff_exports(a, b) == []
    assert main_parity_diff([str(a), str(b)]) == 0


def test_csv_and_jsonl_of_the_same_events_match(store, ctx, tmp_path):
    do_the_work(store, ctx)
    assert diff_exports(export(store, ctx, tmp_path / "a.csv"), export(store, ctx, tmp_path / "a.jsonl")) == []


def test_a_changed_value_is_named(store, ctx, other_ctx, tmp_path, capsys):
    do_the_work(store, ctx)
    do_the_work(store, other_ctx, price="0.003")
    a, b = export(store, ctx, tmp_path / "a.jsonl"), export(store, other_ctx, tmp_path / "b.jsonl")
    assert diff_exports(a, b) == [
        'event 3 of A / 3 of B (ingredient.cost.updated): payload new_unit_cost "0.002" vs "0.003"'
    ]
    assert main_parity_diff([str(a), str(b)]) == 1
    assert "new_unit_cost" in capsys.readouterr().out


def test_a_missing_event_is_named(store, ctx, other_ctx, tmp_path):
    do_the_work(store, ctx, extra=True)
    do_the_work(store, other_ctx)
    differences = diff_exports(export(store, ctx, tmp_path / "a.csv"), export(store, other_ctx, tmp_path / "b.csv"))
    assert differences == ["A has 4 events, B has 3",
                           'event 4 of A is not in B: ingredient.deleted ingredient <ignored> {"name":"Flour"}']


def test_a_changed_column_is_named(store, ctx, other_ctx, tmp_path):
    do_the_work(store, ctx)
    do_the_work(store, other_ctx)
    emit(store, ctx, "recipe.saved", "recipe", "bread", {})
    emit(store, other_ctx, "recipe.saved", "recipe", "rolls", {})
    differences = diff_exports(export(store, ctx, tmp_path / "a.csv"), export(store, other_ctx, tmp_path / "b.csv"))
    assert differences == ["event 4 of A / 4 of B (recipe.saved): aggregate_id 'bread' vs 'rolls'"]


def test_unreadable_files_are_validation_errors(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    with pytest.raises(MOError) as caught:
        diff_exports(bad, tmp_path / "missing.csv")
    assert caught.value.code is ErrorCode.VALIDATION_ERROR
    assert main_parity_diff([str(tmp_path / "missing.csv"), str(bad)]) == 2
    assert '"validation_error"' in capsys.readouterr().err


def test_duckdb_and_postgres_exports_match(pg_schema_url, tmp_path):
    """The same calls on both backends give the same payload text and no parity difference."""
    paths = []
    for name, url in (("duckdb", f"duckdb:///{tmp_path / 'mo.duckdb'}"), ("postgres", pg_schema_url)):
        with connect_store(url) as store:
            migrations.migrate(store)
            tenants.create_tenant(store, "acme")
            ctx = tenants.resolve_tenant(store, "acme")
            do_the_work(store, ctx)
            emit(store, ctx, "recipe.saved", "recipe", 1, TRICKY_PAYLOAD)
            paths.append(export(store, ctx, tmp_path / f"{name}.jsonl"))
    # JSONB reorders keys and re-spaces text; the export's payload text is still the same.
    last_payloads = [json.loads(p.read_text().splitlines()[-1])["payload"] for p in paths]
    assert last_payloads == [dumps(TRICKY_PAYLOAD)] * 2
    assert diff_exports(*paths) == []
