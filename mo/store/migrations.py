"""Versioned SQL migrations, Flyway style: sql/migrations/<dialect>/V001__description.sql …

Each pending file runs with its history row in one transaction. Applied files must not change:
a checksum mismatch stops the runner and names the file.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mo.errors import ErrorCode, MOError
from mo.store.base import Store, Tx
from mo.store.sqlfiles import migration_files
from mo.store.urls import database_label

_FILE_NAME = re.compile(r"^V(\d+)__(\w+)\.sql$")
_local_lock = threading.Lock()


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    script: str
    checksum: str
    path: Path


@dataclass(frozen=True)
class MigrationState:
    version: int
    description: str
    script: str
    state: str  # "applied" | "pending"
    installed_at: datetime | None


def available(dialect: str) -> list[Migration]:
    found = []
    for path in migration_files(dialect):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise MOError(ErrorCode.MIGRATION_ERROR, f"badly named migration {path.name}", {"script": path.name})
        body = path.read_bytes()
        found.append(
            Migration(int(match.group(1)), match.group(2).replace("_", " "), path.name,
                      hashlib.sha256(body).hexdigest(), path)
        )
    return found


def _applied(tx: Tx) -> dict[int, dict]:
    if not tx.scalar("migrations.history_exists"):
        return {}
    return {row["version"]: row for row in tx.all("migrations.applied")}


def _verify(migrations: list[Migration], applied: dict[int, dict]) -> None:
    by_version = {m.version: m for m in migrations}
    for version, row in applied.items():
        local = by_version.get(version)
        if local is None:
            raise MOError(ErrorCode.MIGRATION_ERROR, f"applied migration {row['script']} is missing here",
                          {"script": row["script"], "version": version})
        if local.checksum != row["checksum"]:
            raise MOError(ErrorCode.MIGRATION_ERROR,
                          f"{local.script} was edited after it was applied; add a new migration instead",
                          {"script": local.script, "version": version})


def status(store: Store) -> list[MigrationState]:
    with store.transaction() as tx:
        applied = _applied(tx)
    migrations = available(store.dialect)
    _verify(migrations, applied)
    return [
        MigrationState(m.version, m.description, m.script,
                       "applied" if m.version in applied else "pending",
                       applied.get(m.version, {}).get("installed_at"))
        for m in migrations
    ]


def pending(store: Store) -> list[Migration]:
    with store.transaction() as tx:
        applied = _applied(tx)
    migrations = available(store.dialect)
    _verify(migrations, applied)
    return [m for m in migrations if m.version not in applied]


def migrate(store: Store) -> list[Migration]:
    """Apply every pending migration in order; return those this call applied."""
    done: list[Migration] = []
    with _local_lock:
        for migration in available(store.dialect):
            if _apply_one(store, migration):
                done.append(migration)
    return done


def _apply_one(store: Store, migration: Migration) -> bool:
    with store.transaction() as tx:
        tx.lock_migrations()
        tx.run("migrations.create_history")
        applied = _applied(tx)
        _verify(available(store.dialect), applied)
        if migration.version in applied:
            return False
        started = time.perf_counter()
        try:
            tx.script(migration.path.read_text(encoding="utf-8"))
        except MOError as err:
            raise MOError(ErrorCode.MIGRATION_ERROR, f"{migration.script} failed: {err.message}",
                          {"script": migration.script, "version": migration.version}) from err
        tx.run("migrations.record", {
            "version": migration.version, "description": migration.description,
            "script": migration.script, "checksum": migration.checksum,
            "execution_ms": int((time.perf_counter() - started) * 1000),
        })
    return True


def ensure_current(store: Store) -> None:
    """DuckDB (embedded) migrates itself; PostgreSQL with pending work answers migration_required."""
    todo = pending(store)
    if not todo:
        return
    if store.dialect == "duckdb":
        migrate(store)
        return
    database = database_label(store.url)
    raise MOError(ErrorCode.MIGRATION_REQUIRED,
                  f"the schema of {database} is behind; run `mo migrate`",
                  {"pending": [m.script for m in todo], "database": database})
