from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mo.errors import MOError
from mo.services.tenants import create_tenant, resolve_tenant
from mo.settings import load_settings
from mo.store import connect_store, open_store
from mo.store.urls import database_label, parse_db_url

VARS = ("MO_DB_URL", "MO_API_MODE", "MO_API_URL", "MO_API_KEY", "MO_TENANT")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_point_at_a_duckdb_file_under_var(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.db_url == f"duckdb:///{tmp_path / 'var' / 'mo.duckdb'}"
    assert settings.api_mode == "local" and settings.tenant is None


def test_dotenv_file_is_read_and_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("MO_TENANT=demo\nMO_API_MODE=http\nMO_API_KEY=k1\n")
    monkeypatch.setenv("MO_API_KEY", "from-env")
    settings = load_settings()
    assert (settings.tenant, settings.api_mode, settings.api_key) == ("demo", "http", "from-env")


def test_bad_api_mode_is_a_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MO_API_MODE", "carrier-pigeon")
    with pytest.raises(MOError) as caught:
        load_settings()
    assert caught.value.code.value == "validation_error"
    assert caught.value.details["field"] == "MO_API_MODE"


def test_env_example_documents_every_setting() -> None:
    text = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    for name in VARS:
        assert f"\n{name}=" in text


def test_the_project_env_is_found_from_a_subfolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels started in notebooks/ read the project's .env, and its relative DuckDB path
    means the same file as from the project folder."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / ".env").write_text("MO_DB_URL=duckdb:///var/kitchen.duckdb\nMO_TENANT=demo\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    settings = load_settings()
    assert settings.tenant == "demo"
    assert settings.db_url == f"duckdb:///{tmp_path / 'var' / 'kitchen.duckdb'}"


# ---- MO_DB_URL: parsed by SQLAlchemy's make_url (mo/store/urls.py) ----------------------------


def _documented_urls() -> list[str]:
    text = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    return [line.split()[1] for line in text.splitlines()
            if line.startswith("#   ") and "://" in line.split()[1]]


@pytest.mark.parametrize("url", _documented_urls())
def test_every_documented_url_form_parses(url: str) -> None:
    parsed = parse_db_url(url)
    expected = {"duckdb:///var/mo.duckdb": ("duckdb", "var/mo.duckdb"),
                "duckdb:////srv/mo/mo.duckdb": ("duckdb", "/srv/mo/mo.duckdb"),
                "duckdb:///:memory:": ("duckdb", ":memory:"),
                "postgresql://user@host:5432/db": ("postgres", "postgresql://user@host:5432/db")}
    assert (parsed.dialect, parsed.target) == expected[url]


@pytest.mark.parametrize(("url", "target"), [
    ("duckdb:///", ":memory:"),
    ("postgres://u:p%40ss@h/db", "postgresql://u:p%40ss@h/db"),
    ("postgresql+psycopg://u@h:6432/db?options=-csearch_path%3Dmo_x&sslmode=disable",
     "postgresql://u@h:6432/db?options=-csearch_path%3Dmo_x&sslmode=disable"),
])
def test_other_accepted_forms_keep_their_options(url: str, target: str) -> None:
    assert parse_db_url(url).target == target


_PLAIN_DUCKDB_URLS = ["duckdb:///", "duckdb:///:memory:", "duckdb:///var/mo.duckdb",
                      "duckdb:////srv/mo/mo.duckdb", "  duckdb:///a%20b/c%3Fd.duckdb\n",
                      "duckdb:///user@host:5/x", "duckdb:///a#b"]


@pytest.mark.parametrize("url", _PLAIN_DUCKDB_URLS)
def test_a_plain_duckdb_url_reads_as_sqlalchemy_reads_it(url: str) -> None:
    from sqlalchemy.engine import make_url

    assert parse_db_url(url).target == (make_url(url.strip()).database or ":memory:")
    assert database_label(url).startswith("duckdb:///")


def test_a_plain_duckdb_url_needs_no_sqlalchemy(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes `import sqlalchemy.engine` raise ImportError.
    monkeypatch.setitem(sys.modules, "sqlalchemy.engine", None)
    for url in _PLAIN_DUCKDB_URLS:
        parse_db_url(url)
        database_label(url)
    with pytest.raises(ImportError):
        parse_db_url("postgresql://u@h/db")


@pytest.mark.parametrize("url", [
    "", "nonsense", "duckdb://", "duckdb://host/x.duckdb", "duckdb:///x.duckdb?access_mode=read_only",
    "postgresql://h:abc/db", "mysql://u:secret@x/y", "postgresql+asyncpg://u:secret@h/db",
    "sqlite:///x.db",
])
def test_a_bad_url_is_a_validation_error_naming_mo_db_url(url: str) -> None:
    with pytest.raises(MOError) as caught:
        connect_store(url)
    assert caught.value.code.value == "validation_error"
    assert caught.value.details["field"] == "MO_DB_URL"
    assert "secret" not in str(caught.value.details) and "secret" not in caught.value.message


def test_a_store_opens_from_each_form_of_its_url(backend: str, db_url: str, tmp_path: Path) -> None:
    """The test database's URL, and on PostgreSQL its postgresql+psycopg:// spelling (with the
    schema option intact), open a working store."""
    urls = [db_url]
    if backend == "postgres":
        urls.append(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    else:
        urls.append(f"duckdb:///{tmp_path / 'other.duckdb'}")
    for url in urls:
        with open_store(url) as store:
            assert store.dialect == parse_db_url(url).dialect == ("postgres" if backend == "postgres" else "duckdb")
            create_tenant(store, f"url-{len(url)}")
            assert resolve_tenant(store, f"url-{len(url)}").slug == f"url-{len(url)}"
    if backend == "duckdb":
        assert (tmp_path / "other.duckdb").is_file()
