"""Real databases for every test: a DuckDB file per test, a PostgreSQL schema per test.

Migrating costs more than most tests (12 migrations: ~0.1-0.5 s per database on this machine),
so each backend is migrated once and reused: a DuckDB test gets a copy of a migrated template
file; a PostgreSQL test gets a migrated schema from a session pool (pg_schema_pool.py), emptied
after the test and reused only when its catalog is unchanged (otherwise it is dropped).

PostgreSQL comes from MO_TEST_PG_URL, else the local server on 127.0.0.1:5432 (database test),
else a throwaway server (the pgserver wheel bundles PostgreSQL) started for the session;
MO_TEST_PG_THROWAWAY=1 forces that path. When none works, the PostgreSQL half skips loudly,
unless MO_REQUIRE_POSTGRES=1 (CI), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from database_support import with_schema
from seeded_templates import DuckDBSeeds, copy_template

# mo, its drivers and pg_schema_pool are imported inside the fixtures: under `pytest -n` the
# controller process loads this file too but runs no test, and importing them here cost it
# ~2.8 s of CPU (with client_fixtures' server imports) before any worker started.
if TYPE_CHECKING:
    from pg_schema_pool import SchemaPool

    from mo.domain.context import TenantContext
    from mo.store import Store

# The four-way client fixtures (duckdb/postgres × local/http) for every test module.
pytest_plugins = ["client_fixtures"]

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ["duckdb", "postgres"]

# Under `pytest -n` (make test) each test goes to whichever worker is free, except these
# modules, whose tests all go to one worker: what they share would otherwise be made, or
# counted, once per worker.
# Modules mapped to the same unit share one worker, and so its session fixtures.
WHOLE_MODULES = {
    # demo_project: `make demo` runs once (~35 s); the notebook tests read its outputs and the
    # README's browser run (`make browser`) starts JupyterLab over a copy of it.
    "tests/test_notebooks.py": "demo",
    "tests/test_browser.py": "demo",
    "tests/test_file_sharing.py": "tests/test_file_sharing.py",  # its module-wide seeded template
    # the module's tally of requests sent (of inputs tried), recorded after it
    "tests/test_api_fuzz.py": "tests/test_api_fuzz.py",
    "tests/test_hostile_input.py": "tests/test_hostile_input.py",
}


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # optional: pytest -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """For `-n` with the default distribution: one test per work unit, WHOLE_MODULES whole.

    (Not `--dist loadgroup` with xdist_group marks: on pytest 9.2 it silently stops grouping,
    as the nodeid suffix it relies on no longer takes effect — pytest-xdist issue 1386.)
    Units go out largest first (the whole modules), so the long ones do not end the run alone.
    """
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class WholeModules(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return WHOLE_MODULES.get(nodeid.split("::", 1)[0], nodeid)

    return WholeModules(config, log)


@dataclass(frozen=True, kw_only=True)
class DemoProject:
    """A clone-like project folder where `make demo`'s main job ran, and what it printed."""

    folder: Path
    exit_code: int
    printed: str  # its standard output
    errors: str  # its standard error


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> DemoProject:
    """`python -m mo.cli.demo` as `make demo` runs it (TQDM_DISABLE=1, no MO_* settings), once
    per session, in a folder laid out as a clean clone: var/demo.duckdb, runs/, exports and the
    .env land there. Tests that change it work on a copy (shutil.copytree: the .env's DuckDB
    path is relative, so the copy opens its own file)."""
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("demo-project")
    for name in ("notebooks", "demo"):
        shutil.copytree(ROOT / name, folder / name,
                        ignore=shutil.ignore_patterns("conftest.py", "__pycache__"))
    for name in (".env.example", "pyproject.toml", "Makefile"):
        shutil.copy(ROOT / name, folder / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MO_")}
    done = subprocess.run([sys.executable, "-m", "mo.cli.demo"], cwd=folder, capture_output=True,
                          text=True, timeout=900, env={**env, "TQDM_DISABLE": "1"}, check=False)
    return DemoProject(folder=folder, exit_code=done.returncode, printed=done.stdout,
                       errors=done.stderr)


def _pg_reachable(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str | None]:
    explicit = os.environ.get("MO_TEST_PG_URL")
    if os.environ.get("MO_TEST_PG_THROWAWAY") != "1":
        url = explicit or DEFAULT_PG_URL
        if _pg_reachable(url) or explicit:
            yield url if _pg_reachable(url) else None
            return
    yield from _throwaway_server()


def _throwaway_server() -> Iterator[str | None]:
    # Not under pytest's tmp dir: run as root, pgserver hands the data folder to an
    # unprivileged user, who cannot traverse pytest's private (0700) folders.
    folder = tempfile.mkdtemp(prefix="mo-pgserver-")
    os.chmod(folder, 0o755)
    try:
        import pgserver

        server = pgserver.get_server(folder, cleanup_mode="delete")
    except Exception as exc:  # any failure here means "no throwaway server": skip loudly
        print(f"\nno throwaway PostgreSQL: {type(exc).__name__}: {exc}")
        yield None
        return
    print(f"\nthrowaway PostgreSQL at {server.get_uri()}")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def _require_pg(pg_url: str | None) -> str:
    if pg_url is None:
        message = "PostgreSQL is not reachable (set MO_TEST_PG_URL or start a server)"
        if os.environ.get("MO_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " — required by MO_REQUIRE_POSTGRES=1")
        pytest.skip(message)
    return pg_url


@pytest.fixture
def pg_schema_url(pg_url: str | None) -> Iterator[str]:
    """A fresh, empty schema on the PostgreSQL server, dropped afterwards."""
    import psycopg

    base = _require_pg(pg_url)
    schema = f"mo_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield with_schema(base, schema)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_db_url(backend: str, request: pytest.FixtureRequest, tmp_path) -> str:
    """A database URL with no schema yet, on the parametrized backend."""
    if backend == "duckdb":
        return f"duckdb:///{tmp_path / 'mo.duckdb'}"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture(scope="session")
def duckdb_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated DuckDB file, closed (checkpointed: no .wal beside it), copied by each test."""
    from mo.store import connect_store, migrations

    path = tmp_path_factory.mktemp("template") / "mo.duckdb"
    with connect_store(f"duckdb:///{path}") as store:
        migrations.migrate(store)
    return path


@pytest.fixture(scope="session")
def duckdb_seeds(duckdb_template: Path, tmp_path_factory: pytest.TempPathFactory) -> DuckDBSeeds:
    return DuckDBSeeds(base=duckdb_template, folder=tmp_path_factory.mktemp("seeded"))


@pytest.fixture(scope="session")
def pg_schema_pool(pg_url: str | None) -> Iterator[SchemaPool | None]:
    from pg_schema_pool import SchemaPool

    if pg_url is None:
        yield None
        return
    pool = SchemaPool(pg_url)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database URL on the parametrized backend, as fresh as a newly migrated one."""
    if backend == "duckdb":
        target = tmp_path / "mo.duckdb"
        if "api_keys" in request.fixturenames:  # its tenants and keys are in a seeded template
            from client_fixtures import tenants_with_keys

            seeds: DuckDBSeeds = request.getfixturevalue("duckdb_seeds")
            copy_template(request, seeds.template("tenants", tenants_with_keys)[0], target,
                          "tenants")
        else:
            copy_template(request, request.getfixturevalue("duckdb_template"), target, "")
        yield f"duckdb:///{target}"
        return
    _require_pg(request.getfixturevalue("pg_url"))
    pool: SchemaPool = request.getfixturevalue("pg_schema_pool")
    schema = pool.take()
    try:
        yield pool.url(schema)
    finally:
        pool.give_back(schema)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    from mo.store import connect_store

    with connect_store(db_url) as opened:
        yield opened


@pytest.fixture
def ctx(store: Store) -> TenantContext:
    from mo.services import tenants

    tenants.create_tenant(store, "acme", name="Acme Bistro")
    return tenants.resolve_tenant(store, "acme")


@pytest.fixture
def other_ctx(store: Store) -> TenantContext:
    from mo.services import tenants

    tenants.create_tenant(store, "rival", name="Rival Bakery")
    return tenants.resolve_tenant(store, "rival")
