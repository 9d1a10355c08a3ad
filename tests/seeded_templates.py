"""Seeded DuckDB templates: a test database that starts with data copies a file seeded once.

Test modules import from here, not from conftest (see database_support.py). conftest.db_url
copies every DuckDB test's file from a template and notes which one on the test; a fixture
that would seed the same data in every test calls seed_duckdb instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


class DuckDBSeeds:
    """Seeded DuckDB templates of this session (xdist worker): each is built once, by its seed
    function, on a copy of the migrated template (or of another seeded one), and then copied by
    every test that starts from it. Seeding through mo costs DuckDB a file open and a few
    statements per write (~25 ms for two tenants with keys), which most tests would repeat."""

    def __init__(self, *, base: Path, folder: Path) -> None:
        self._base, self._folder = base, folder
        self._built: dict[str, tuple[Path, Any]] = {}

    def template(
        self, name: str, seed: Callable[[str], Any], *, start: str | None = None
    ) -> tuple[Path, Any]:
        """(file, what seed returned) of the template `name`: seed(url) run once on a copy of
        the template `start` (None: the migrated one), which must have been built before."""
        if name not in self._built:
            path = self._folder / f"{name}.duckdb"
            shutil.copyfile(self._base if start is None else self._built[start][0], path)
            self._built[name] = (path, seed(f"duckdb:///{path}"))
        return self._built[name]

    def built(self, name: str) -> tuple[Path, Any]:
        return self._built[name]


# The test's DuckDB file was copied from this seeded template (see db_url and seed_duckdb).
COPIED_FROM = pytest.StashKey[tuple[str, os.stat_result]]()


def copy_template(request: pytest.FixtureRequest, source: Path, target: Path, name: str) -> None:
    """Copy `source` to `target` as a new file (an open database keeps the old one) and note
    which template it came from, and its stat then, on the test."""
    staged = target.with_name(target.name + ".copying")
    shutil.copyfile(source, staged)
    os.replace(staged, target)
    request.node.stash[COPIED_FROM] = (name, target.stat())


def seed_duckdb(
    request: pytest.FixtureRequest, db_url: str, name: str, seed: Callable[[str], Any]
) -> bool:
    """Start the test's database from the seeded template `name` (seed run once, on the
    "tenants" template of api_keys): True when db_url is a DuckDB file still exactly as
    db_url copied it from "tenants" (nothing has written it since). False otherwise: the
    caller then seeds the database itself."""
    if not db_url.startswith("duckdb:///"):
        return False
    target = Path(db_url.removeprefix("duckdb:///"))
    copied = request.node.stash.get(COPIED_FROM, None)
    if copied is None or copied[0] != "tenants" or not _unchanged(target, copied[1]):
        return False
    source, _ = request.getfixturevalue("duckdb_seeds").template(name, seed, start="tenants")
    copy_template(request, source, target, name)
    return True


def _unchanged(path: Path, then: os.stat_result) -> bool:
    now = path.stat()
    wal = path.with_name(path.name + ".wal")
    return (now.st_ino, now.st_size, now.st_mtime_ns) == (
        then.st_ino, then.st_size, then.st_mtime_ns) and not wal.exists()
