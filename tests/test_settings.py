from __future__ import annotations

from pathlib import Path

import pytest

from mo.errors import MOError
from mo.settings import load_settings

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
