"""The first run from the README (issue #16, item 3): `make demo` leaves a .env that points the
notebooks at the demo data (never overwriting one), errors that send a newcomer looking name the
database they looked in (no password), and `make lab` is rooted at the project folder with
progress bars on, while the headless targets keep them off."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

import mo
from mo.cli import demo
from mo.errors import ErrorCode, MOError
from mo.settings import load_settings
from mo.store import open_store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with the real .env.example, as the working directory."""
    (tmp_path / ".env.example").write_text((ROOT / ".env.example").read_text())
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path)
    for name in ("MO_DB_URL", "MO_TENANT", "MO_PROJECT_DIR", "MO_API_MODE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_demo_writes_a_env_that_points_the_notebooks_at_the_demo(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = demo.first_run_lines(Path(".env"))
    assert any("make lab" in line for line in lines)
    monkeypatch.chdir(project / "notebooks")  # where JupyterLab starts a notebook's kernel
    settings = load_settings()
    assert settings.db_url == f"duckdb:///{project / 'var' / 'demo.duckdb'}"
    assert settings.tenant == "demo" and settings.api_mode == "local"
    assert "MO_API_URL=" in (project / ".env").read_text()  # the documented rest stays


def test_demo_never_overwrites_an_existing_env(project: Path) -> None:
    (project / ".env").write_text("MO_DB_URL=postgresql://me@db/prod\n")
    lines = demo.first_run_lines(Path(".env"))
    assert (project / ".env").read_text() == "MO_DB_URL=postgresql://me@db/prod\n"
    assert any("left alone" in line for line in lines)
    assert any("MO_TENANT=demo" in line for line in lines)


def test_tenant_not_found_names_the_database(db_url: str, backend: str) -> None:
    with pytest.raises(MOError) as caught:
        mo.LocalClient("demo", db_url=with_password(db_url, backend))
    err = caught.value
    assert err.code is ErrorCode.TENANT_NOT_FOUND and err.details["tenant"] == "demo"
    assert err.details["database"] in err.message
    assert "s3cret" not in str(err.to_dict())
    if backend == "duckdb":  # the absolute file, whatever the working directory
        assert err.details["database"] == db_url
    else:
        assert "***" in err.details["database"] and "127.0.0.1" in err.details["database"]


def test_migration_required_names_the_database_without_its_password(pg_schema_url: str) -> None:
    with pytest.raises(MOError) as caught:
        open_store(with_password(pg_schema_url, "postgres"))
    err = caught.value
    assert err.code is ErrorCode.MIGRATION_REQUIRED
    assert err.details["database"] in err.message and "***" in err.details["database"]
    assert "s3cret" not in str(err.to_dict())


def test_a_relative_duckdb_url_is_named_by_its_absolute_path(
    project: Path,
) -> None:
    with pytest.raises(MOError) as caught:
        mo.LocalClient("ghost", db_url="duckdb:///var/x.duckdb")
    assert caught.value.details["database"] == f"duckdb:///{project / 'var' / 'x.duckdb'}"


def with_password(url: str, backend: str) -> str:
    # Trust authentication ignores it; the point is that no message repeats it.
    if backend == "duckdb":
        return url
    return make_url(url).set(password="s3cret").render_as_string(hide_password=False)


def _make_dry_run(target: str) -> str:
    return subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT)},
    ).stdout


def test_make_lab_is_rooted_at_the_project_and_opens_notebooks() -> None:
    lab = _make_dry_run("lab")
    assert "--ServerApp.root_dir=." in lab and "/lab/tree/notebooks" in lab
    assert "TQDM_DISABLE" not in lab  # progress bars show in Lab


def test_headless_targets_keep_progress_bars_off() -> None:
    for target in ("test", "demo"):
        assert "TQDM_DISABLE=1" in _make_dry_run(target)


def test_progress_bars_only_for_a_person_in_a_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    from mo.client.local import show_progress

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("MO_HEADLESS", raising=False)
    assert show_progress() is False  # pytest is no Jupyter kernel
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert show_progress() is False


