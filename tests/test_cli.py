"""The `mo` command on a real database, as an operator runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mo import cli
from mo.store import migrations


def mo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mo", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_migrate_status_tenants_and_status(
    empty_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = ["--db-url", empty_db_url]
    status = mo(*url, "migrate", "--status", cwd=tmp_path)  # the command itself, once
    assert status.returncode == 0 and "pending" in status.stdout and "applied" not in status.stdout
    # The rest through the same entry point in this process: a `python -m mo` costs ~2.5 s of
    # CPU in imports, six more of them per backend were this suite's costliest test.
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str]:
        code = cli.main([*url, *args])
        return code, capsys.readouterr().out

    expected = len(migrations.available("duckdb"))
    assert f"applied {expected} migration" in run("migrate")[1]
    assert run("migrate")[1].startswith("applied 0 migration")
    first, again = run("tenant", "create", "demo", "--name", "Demo Kitchen"), run("tenant", "create", "demo")
    assert first[0] == 0 and first == again
    assert "demo" in run("tenant", "list")[1]
    assert "tenants    demo" in run("status")[1]


def test_errors_print_the_error_shape_and_exit_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In this process (as above): `python -m mo` is sys.exit(cli.main()), run once per backend
    # above and by the parity test below.
    monkeypatch.chdir(tmp_path)
    url = f"duckdb:///{tmp_path / 'x.duckdb'}"
    assert cli.main(["--db-url", url, "apikey", "create", "--tenant", "ghost"]) == 2
    first, *details = capsys.readouterr().err.splitlines()  # readable, not raw JSON
    assert first.startswith("error: tenant_not_found: no tenant 'ghost' in duckdb:///")
    assert "  tenant: ghost" in details


def test_default_database_is_a_duckdb_file_under_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("MO_DB_URL", "MO_PROJECT_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["migrate"]) == 0
    assert (tmp_path / "var" / "mo.duckdb").is_file()


def test_parity_diff_exits_one_when_exports_differ(tmp_path: Path) -> None:
    event = {"event_type": "recipe.saved", "aggregate_type": "recipe", "aggregate_id": "7",
             "idempotency_key": None, "payload": '{"recipe":"Soup"}', "id": 1,
             "event_id": "0b6f", "occurred_at": "2026-01-01T00:00:00+00:00", "batch_id": None}
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps(event) + "\n")
    b.write_text(json.dumps({**event, "id": 99, "occurred_at": "2027-01-01T00:00:00+00:00"}) + "\n")
    assert mo("parity", "diff", str(a), str(b), cwd=tmp_path).returncode == 0
    b.write_text(json.dumps({**event, "payload": '{"recipe":"Stew"}'}) + "\n")
    different = mo("parity", "diff", str(a), str(b), cwd=tmp_path)
    assert different.returncode == 1 and "Stew" in different.stdout
