"""Settings read from the environment, with a .env file in the working directory as fallback."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from mo.errors import validation_error

DEFAULT_DB_PATH = Path("var") / "mo.duckdb"
DEFAULT_API_URL = "http://127.0.0.1:8765"
# How long a call waits for another process to release an embedded DuckDB file.
DEFAULT_DB_LOCK_TIMEOUT = 30.0
API_MODES = ("local", "http")


@dataclass(frozen=True)
class Settings:
    db_url: str
    api_mode: str
    api_url: str
    api_key: str | None
    tenant: str | None
    db_lock_timeout: float = DEFAULT_DB_LOCK_TIMEOUT


def _lookup(name: str, dotenv: dict[str, str | None]) -> str | None:
    # The process environment wins over .env, as with every twelve-factor tool.
    value = os.environ.get(name)
    if value is None:
        value = dotenv.get(name)
    return value or None


def project_dir() -> Path:
    """The folder mo works from: $MO_PROJECT_DIR, else the nearest of the working directory and
    its parents holding pyproject.toml or .env, else the working directory.

    Why: `mo run` starts kernels where it is called, JupyterLab and nbval in notebooks/; the
    same .env, database and relative paths must be found from all of them.
    """
    explicit = os.environ.get("MO_PROJECT_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    cwd = Path.cwd().resolve()
    for folder in (cwd, *cwd.parents):
        if (folder / "pyproject.toml").is_file() or (folder / ".env").is_file():
            return folder
    return cwd


def default_db_url(base: Path | None = None) -> str:
    """duckdb:///<path>: the embedded default, a file under var/ in the project folder."""
    return "duckdb:///" + str((base or project_dir()) / DEFAULT_DB_PATH)


def _anchored(url: str | None, base: Path) -> str | None:
    # A relative DuckDB path in .env means relative to that file, wherever the kernel runs.
    if url and url.startswith("duckdb:///") and not url.startswith("duckdb:////"):
        path = url.removeprefix("duckdb:///")
        if path and path != ":memory:":
            return "duckdb:///" + str(base / path)
    return url


def _dotenv() -> dict[str, str | None]:
    path = project_dir() / ".env"
    return dotenv_values(path) if path.is_file() else {}


def _lock_timeout(dotenv: dict[str, str | None]) -> float:
    text = _lookup("MO_DB_LOCK_TIMEOUT", dotenv)
    if text is None:
        return DEFAULT_DB_LOCK_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise validation_error("MO_DB_LOCK_TIMEOUT must be a number of seconds >= 0",
                               field="MO_DB_LOCK_TIMEOUT", value=text)
    return value


def db_lock_timeout() -> float:
    """MO_DB_LOCK_TIMEOUT in seconds (default 30): how long a call waits for another process
    holding the embedded DuckDB file before answering `unavailable`. Read on its own, so that a
    store does not fail on a setting it does not use."""
    return _lock_timeout(_dotenv())


def load_settings(env_file: Path | None = None) -> Settings:
    """Read MO_* settings from the environment, then from the project's .env; raise
    validation_error for a value mo cannot use."""
    path = env_file or project_dir() / ".env"
    dotenv = dotenv_values(path) if path.is_file() else {}
    if "MO_DB_URL" in dotenv and "MO_DB_URL" not in os.environ:
        dotenv["MO_DB_URL"] = _anchored(dotenv["MO_DB_URL"], path.parent)
    api_mode = (_lookup("MO_API_MODE", dotenv) or "local").lower()
    if api_mode not in API_MODES:
        raise validation_error(
            f"MO_API_MODE must be one of {', '.join(API_MODES)}", field="MO_API_MODE", value=api_mode
        )
    return Settings(
        db_url=_lookup("MO_DB_URL", dotenv) or default_db_url(path.parent),
        api_mode=api_mode,
        api_url=_lookup("MO_API_URL", dotenv) or DEFAULT_API_URL,
        api_key=_lookup("MO_API_KEY", dotenv),
        tenant=_lookup("MO_TENANT", dotenv),
        db_lock_timeout=_lock_timeout(dotenv),
    )
