"""Several processes on one embedded DuckDB file: real processes, real files (issue 16).

A DuckDB file admits one read-write process at a time, so a store holds it only while a
transaction runs, waits (with backoff, up to MO_DB_LOCK_TIMEOUT) for another holder, and lets
go at once when someone waits. PostgreSQL needs none of this (its path is unchanged), so these
tests run on DuckDB only.

The soak: two processes running recipe_costs through papermill in a loop, one `mo run
event_sanity` in a loop and one Python process updating costs and importing lists with its own
keys, while this process keeps an idle client open. MO_FILE_SHARING_SECONDS sets its length
(2 s in `make test`: every loop still runs at least once, all four at the same time, the writer
5 rounds; 30 s under MO_SOAK=1, where each loop runs many times).
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from reliability_support import knob

import mo
from mo.store import open_store
from mo.store.duckdb_sharing import IDLE_RELEASE_S

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo"
MO_BIN = Path(sys.executable).with_name("mo")
SOAK_SECONDS = knob("MO_FILE_SHARING_SECONDS", 2, 30)
FLOUR = "Soak Flour"


def _env(url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "MO_DB_URL": url, "MO_TENANT": "demo", "MO_API_MODE": "local",
            "MO_PROJECT_DIR": str(ROOT), "TQDM_DISABLE": "1", **extra}


def _python(code: str, url: str, *, cwd: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, text=True,
                            env=_env(url, **env), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(proc: subprocess.Popen[str], *, timeout: float = 600) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{out[-3000:]}\n{err[-3000:]}"
    return out


def _seed(url: str) -> None:
    mo.create_tenant("demo", name="Harbour Kitchen", db_url=url)
    with mo.LocalClient("demo", db_url=url) as client, (DEMO / "ingredients.csv").open() as f:
        for row in csv.DictReader(f):
            client.add_ingredient(row["name"], unit=row["unit"], category=row["category"] or None,
                                  density=row["density"] or None,
                                  yield_pct=row["yield_pct"] or None)
        client.add_ingredient(FLOUR, unit="g")
        client.import_price_list(DEMO / "supplier_freshco.csv", supplier="FreshCo",
                                 idempotency_key="seed-freshco")
        client.import_recipes(DEMO / "recipes.csv", idempotency_key="seed-recipes")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sharing") / "template.duckdb"
    _seed(f"duckdb:///{path}")
    return path


@pytest.fixture
def shared_db(tmp_path: Path, template: Path) -> str:
    db = tmp_path / "shared.duckdb"
    db.write_bytes(template.read_bytes())
    return f"duckdb:///{db}"


# ---- one holder, one other process ---------------------------------------------------------

_ADD_ONE = """
    import json, os, sys
    import mo
    try:
        with mo.LocalClient("demo") as client:
            client.add_ingredient(sys.argv[1] if len(sys.argv) > 1 else "Child Salt", unit="g")
            print(json.dumps({"ok": True, "ingredients": len(client.ingredients())}))
    except mo.MOError as err:
        print(json.dumps(err.to_dict()))
"""


def _child_result(url: str, tmp_path: Path, **env: str) -> dict:
    return json.loads(_finish(_python(_ADD_ONE, url, cwd=tmp_path, **env)).strip().splitlines()[-1])


def test_an_idle_open_client_does_not_block_another_process(shared_db: str, tmp_path: Path) -> None:
    with mo.LocalClient("demo", db_url=shared_db) as idle:
        before = len(idle.ingredients())  # it has used the file, and now sits idle
        result = _child_result(shared_db, tmp_path, MO_DB_LOCK_TIMEOUT="20")
        assert result.get("ok"), result
        # The idle client takes the file back and sees the other process's write.
        assert len(idle.ingredients()) == before + 1


def test_a_holder_busy_past_the_timeout_gets_unavailable_naming_its_pid(
    shared_db: str, tmp_path: Path
) -> None:
    with open_store(shared_db) as store, store.transaction():  # an open transaction holds the file
        result = _child_result(shared_db, tmp_path, MO_DB_LOCK_TIMEOUT="1")
    error = result["error"]
    assert error["code"] == "unavailable"
    assert error["details"]["reason"] == "database_locked"
    assert error["details"]["holder_pid"] == os.getpid()
    assert error["details"]["file"] == shared_db.removeprefix("duckdb:///")
    assert str(os.getpid()) in error["message"] and "MO_DB_LOCK_TIMEOUT" in error["message"]


def test_a_waiting_process_gets_the_file_when_the_holder_finishes(
    shared_db: str, tmp_path: Path
) -> None:
    with open_store(shared_db) as store:
        with store.transaction():
            child = _python(_ADD_ONE, shared_db, cwd=tmp_path, MO_DB_LOCK_TIMEOUT="60")
            _wait_for_waiter(shared_db)
        # Our transaction ended with someone waiting: the file is released at once and the
        # child gets it, although this store stays open.
        result = json.loads(_finish(child).strip().splitlines()[-1])
    assert result.get("ok"), result


def _wait_for_waiter(url: str, *, seconds: float = 120) -> None:
    from mo.store.duckdb_sharing import WaitersFile

    waiters = WaitersFile(url.removeprefix("duckdb:///"))
    try:
        deadline = time.monotonic() + seconds
        while not waiters.present():
            assert time.monotonic() < deadline, "the child never started waiting"
            time.sleep(0.05)
    finally:
        waiters.close()


def test_a_loop_keeps_one_connection_and_memory_is_never_released(shared_db: str) -> None:
    from mo.services.tenants import create_tenant, resolve_tenant

    with open_store(shared_db) as store:
        for _ in range(20):
            resolve_tenant(store, "demo", actor="test")
        assert store._file.opens == 1  # type: ignore[attr-defined]
    with open_store("duckdb:///:memory:") as memory:
        create_tenant(memory, "mem")
        time.sleep(IDLE_RELEASE_S * 3)  # idle: a file would be released by now
        assert resolve_tenant(memory, "mem", actor="test").slug == "mem"


_OPEN_IT = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"


def test_the_exit_hook_lets_go_of_idle_files_and_leaves_busy_ones(shared_db: str) -> None:
    """At interpreter exit mo closes what its idle closers would close a moment later (a
    close racing finalization once aborted a process); a file in use is left to its user."""
    from mo.services.tenants import resolve_tenant
    from mo.store.duckdb_sharing import _release_all_at_exit

    path = shared_db.removeprefix("duckdb:///")
    with open_store(shared_db) as idle, open_store(shared_db) as busy:
        resolve_tenant(idle, "demo", actor="test")  # held: idle for under IDLE_RELEASE_S
        with busy.transaction():
            _release_all_at_exit()
            assert busy._file._conn is not None  # type: ignore[attr-defined]
        assert idle._file._conn is None  # type: ignore[attr-defined]
        _release_all_at_exit()
        # Nothing of this process holds the file now: another process opens it at once.
        subprocess.run([sys.executable, "-c", _OPEN_IT, path], check=True, timeout=60)


def test_a_nested_transaction_is_admitted_while_the_store_drains_for_a_waiter(
    shared_db: str, tmp_path: Path
) -> None:
    import threading

    from mo.services.tenants import resolve_tenant

    done: list[str] = []
    with open_store(shared_db) as store:
        child = _python(_ADD_ONE, shared_db, cwd=tmp_path, MO_DB_LOCK_TIMEOUT="300")

        def outer_then_nested() -> None:
            with store.transaction():
                _wait_for_waiter(shared_db)
                other = threading.Thread(target=resolve_tenant, args=(store, "demo"))
                other.start()
                other.join()  # its end saw the waiter: the store drains from now on
                done.append(resolve_tenant(store, "demo").slug)  # nested, same thread

        worker = threading.Thread(target=outer_then_nested, daemon=True)
        worker.start()
        worker.join(timeout=240)  # a guard against a hang, not a measurement
        assert not worker.is_alive(), "the nested transaction waited for its own outer one"
        result = json.loads(_finish(child).strip().splitlines()[-1])
    assert done == ["demo"] and result.get("ok"), result


# ---- mo serve -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def idle_server(shared_db: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    key = mo.create_api_key("demo", db_url=shared_db)
    port = _free_port()
    server = subprocess.Popen([str(MO_BIN), "serve", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=tmp_path, env=_env(shared_db), text=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                urllib.request.urlopen(f"{base}/v1/health", timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "mo serve did not start"
                time.sleep(0.2)
        with mo.HttpClient(base, api_key=key) as client:
            client.ingredients()  # the server has used the file, and now sits idle
        yield base, key
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_an_idle_mo_serve_does_not_lock_out_a_notebook(
    idle_server: tuple[str, str], shared_db: str, tmp_path: Path
) -> None:
    base, key = idle_server
    result = _child_result(shared_db, tmp_path, MO_DB_LOCK_TIMEOUT="20")  # a notebook-like process
    assert result.get("ok"), result
    with mo.HttpClient(base, api_key=key) as client:  # and the server takes the file back
        assert "child salt" in set(client.ingredients()["name"].str.lower())


# ---- four processes at once ---------------------------------------------------------------

# Each loop runs until the test creates the stop file, and at least once (the writer: 5 times).
_NOTEBOOK_LOOP = """
    import sys
    from pathlib import Path
    from mo.cli.run import run_notebook
    runs = 0
    while runs == 0 or not Path(sys.argv[1]).exists():
        result = run_notebook(Path(sys.argv[2]), parameters={"recompute": "true"}, timeout=300,
                              runs_dir=Path("runs"))
        assert result.ok, result.summary()
        runs += 1
    print(runs)
"""

_WRITER_LOOP = """
    import json, sys, time
    from pathlib import Path
    import mo
    updates, imports, errors, slowest = 0, 0, [], 0.0
    with mo.LocalClient("demo") as client:
        while updates < 5 or not Path(sys.argv[1]).exists():
            n = updates + 1
            try:
                began = time.perf_counter()
                client.update_cost(sys.argv[2], f"{n}.25", per="1 kg",
                                   idempotency_key=f"soak-cost-{n}")
                updates += 1
                listed = Path(f"soak-list-{n}.csv")
                row = f"Soak Item {n},SK-{n},{n}.50,1 kg,g"
                listed.write_text(f"item,sku,price,pack,unit\\n{row}\\n")
                client.import_price_list(listed, supplier="SoakCo",
                                         idempotency_key=f"soak-list-{n}")
                imports += 1
                slowest = max(slowest, time.perf_counter() - began)
            except mo.MOError as err:
                errors.append(err.to_dict())
                break
    print(json.dumps({"updates": updates, "imports": imports, "errors": errors,
                      "slowest_s": slowest}))
"""


def _loop(code: str, url: str, cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], cwd=cwd,
                            text=True, env=_env(url),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_four_processes_share_one_file(shared_db: str, tmp_path: Path) -> None:
    started = datetime.now(UTC)
    stop = tmp_path / "stop"
    notebook = str(ROOT / "notebooks" / "recipe_costs.ipynb")
    with mo.LocalClient("demo", db_url=shared_db) as idle:  # held open and idle throughout
        idle.ingredients()
        procs = [_loop(_NOTEBOOK_LOOP, shared_db, tmp_path, str(stop), notebook) for _ in range(2)]
        writer = _loop(_WRITER_LOOP, shared_db, tmp_path, str(stop), FLOUR)
        began = time.monotonic()
        sanity_runs = _mo_run_loop(shared_db, tmp_path, until=began + SOAK_SECONDS)
        stop.touch()
        notebook_runs = [int(_finish(p).strip().splitlines()[-1]) for p in procs]
        wrote = json.loads(_finish(writer).strip().splitlines()[-1])
        elapsed = time.monotonic() - began
        assert wrote["errors"] == [], wrote

        history = idle.cost_history(FLOUR)
        assert len(history) == wrote["updates"]
        assert len(idle.events(since=started, types=["import.completed"])) == wrote["imports"]
        soak_items = [n for n in idle.ingredients()["name"] if n.lower().startswith("soak item")]
        assert len(soak_items) == wrote["imports"]
        checks = idle.sanity()
        assert checks["ok"].all(), checks[~checks["ok"]].to_dict("records")
    print(f"\nfile sharing: {elapsed:.0f} s: recipe_costs runs {notebook_runs}, event_sanity runs "
          f"{sanity_runs}, cost updates {wrote['updates']}, imports {wrote['imports']}, slowest "
          f"update+import {wrote['slowest_s']:.2f} s")


def _mo_run_loop(url: str, cwd: Path, *, until: float) -> int:
    runs = 0
    notebook = str(ROOT / "notebooks" / "event_sanity.ipynb")
    while runs == 0 or time.monotonic() < until:
        done = subprocess.run([str(MO_BIN), "run", notebook, "-p", "window", "1h"], cwd=cwd,
                              env=_env(url), capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        runs += 1
    return runs


# ---- make demo --------------------------------------------------------------------------------

_HOLDER = """
    import json, sys
    import mo
    with mo.LocalClient("demo") as client:
        client.add_ingredient("Held Before", unit="g")
        with client._store.transaction():  # busy: the file is held until the test says so
            print("holding", flush=True)
            sys.stdin.readline()
        sys.stdin.readline()  # idle, client still open, until the test says write
        try:
            client.add_ingredient("Held After", unit="g")
            print(json.dumps({"ok": True}), flush=True)
        except mo.MOError as err:
            print(json.dumps(err.to_dict()), flush=True)
"""


@pytest.fixture
def demo_files(tmp_path: Path, template: Path) -> tuple[Path, Path]:
    """var/demo.duckdb (a demo from an earlier run) and a newly built demo with a marker."""
    target, built = tmp_path / "var" / "demo.duckdb", tmp_path / "var" / "demo.building-1.duckdb"
    target.parent.mkdir()
    target.write_bytes(template.read_bytes())
    built.write_bytes(template.read_bytes())
    with mo.LocalClient("demo", db_url=f"duckdb:///{built}") as client:
        client.add_ingredient("New Demo Marker", unit="g")
    return target, built


def _holder(target: Path, tmp_path: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_HOLDER)], cwd=tmp_path,
                             text=True,
                             env=_env(f"duckdb:///{target}"), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline().strip() == "holding"
    return child


def _names(path: Path) -> set[str]:
    with mo.LocalClient("demo", db_url=f"duckdb:///{path}") as client:
        return set(client.ingredients()["name"].str.lower())


def _write_after(child: subprocess.Popen[str], *lines: str) -> dict:
    out = _finish_with_input(child, "".join(lines))
    return json.loads(out.strip().splitlines()[-1])


def _finish_with_input(child: subprocess.Popen[str], text: str) -> str:
    out, err = child.communicate(text, timeout=600)
    assert child.returncode == 0, f"{out[-3000:]}\n{err[-3000:]}"
    return out


def test_demo_refuses_while_another_process_holds_the_file_and_loses_nothing(
    demo_files: tuple[Path, Path], tmp_path: Path
) -> None:
    from mo.cli.demo import install

    target, built = demo_files
    child = _holder(target, tmp_path)
    try:
        with pytest.raises(mo.MOError) as refused:
            install(built, target, timeout_s=1)
    finally:
        result = _write_after(child, "\n", "\n")
    assert refused.value.code == "unavailable"
    assert refused.value.details["holder_pid"] == child.pid
    assert result == {"ok": True}
    names = _names(target)
    assert {"held before", "held after"} <= names and "new demo marker" not in names


def test_demo_waits_for_the_holder_then_its_later_writes_fail_loudly(
    demo_files: tuple[Path, Path], tmp_path: Path
) -> None:
    from mo.cli.demo import install

    target, built = demo_files
    child = _holder(target, tmp_path)
    assert child.stdin is not None
    child.stdin.write("\n")  # end the busy transaction: the file is released at once to a waiter
    child.stdin.flush()
    install(built, target, timeout_s=120)
    result = _write_after(child, "\n")
    # The old file was replaced: the write is refused, never reported done and dropped.
    assert result["error"]["code"] == "unavailable"
    assert result["error"]["details"]["reason"] == "database_replaced"
    names = _names(target)
    assert "new demo marker" in names and "held after" not in names
    assert not built.exists()


def test_demo_never_replaces_a_database_that_is_not_its_own(
    demo_files: tuple[Path, Path], tmp_path: Path
) -> None:
    from mo.cli.demo import install

    target, built = demo_files
    mo.create_tenant("bistro", db_url=f"duckdb:///{target}")
    with pytest.raises(mo.MOError) as refused:
        install(built, target)
    assert refused.value.code == "conflict"
    assert refused.value.details["tenants"] == ["bistro", "demo"]
    assert "bistro" in {t for t in _tenants(target)} and built.exists()


def _tenants(path: Path) -> list[str]:
    from mo.services.tenants import list_tenants

    with open_store(f"duckdb:///{path}") as store:
        return [t.slug for t in list_tenants(store)]


# ---- the setting --------------------------------------------------------------------------


def test_lock_timeout_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from mo.settings import db_lock_timeout

    monkeypatch.delenv("MO_DB_LOCK_TIMEOUT", raising=False)
    monkeypatch.setenv("MO_PROJECT_DIR", str(ROOT / "tests"))  # no .env there
    assert db_lock_timeout() == 30.0
    monkeypatch.setenv("MO_DB_LOCK_TIMEOUT", "2.5")
    assert db_lock_timeout() == 2.5
    for bad in ("soon", "-1", "nan", "inf"):
        monkeypatch.setenv("MO_DB_LOCK_TIMEOUT", bad)
        with pytest.raises(mo.MOError) as refused:
            db_lock_timeout()
        assert refused.value.code == "validation_error"
        assert refused.value.details == {"field": "MO_DB_LOCK_TIMEOUT", "value": bad}
