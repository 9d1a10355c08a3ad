"""pyproject.toml is the one source of dependencies; sql/ ships inside the wheel."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_installs_the_package_and_agrees_on_python() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python"))
    required = _pyproject()["project"]["requires-python"]
    assert python.removeprefix("python") == required
    pip_lines = next(d["pip"] for d in deps if isinstance(d, dict))
    assert pip_lines == ["-e .[notebook]"], "environment.yml must defer to pyproject.toml"
    named = {re.split(r"[<>=!\[ ]", d)[0] for d in deps if isinstance(d, str)}
    assert named == {"python", "pip"}, f"dependencies listed outside pyproject.toml: {named}"
    assert "notebook" in _pyproject()["project"]["optional-dependencies"]


def test_the_wheel_carries_sql_and_finds_it(tmp_path: Path) -> None:
    from hatchling.builders.wheel import WheelBuilder

    wheel = Path(next(iter(WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"]))))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert "mo/_sql/migrations/duckdb/V001__event_log.sql" in names
        assert "mo/_sql/queries/ingredients.sql" in names
        zf.extractall(tmp_path / "site")
    probe = "import mo.store.sqlfiles as s; print(s.sql_root()); print(len(s.migration_files('postgres')))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(tmp_path / "site")}, check=True).stdout.split()
    assert out[0] == str(tmp_path / "site" / "mo" / "_sql")
    assert int(out[1]) == len(list((ROOT / "sql" / "migrations" / "postgres").glob("V*.sql")))
