"""Settings read from the environment, with a .env file in the working directory as fallback."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from mo.errors import validation_error

DEFAULT_DB_PATH = Path("var") / "mo.duckdb"
DEFAULT_API_URL = "http://127.0.0.1:8765"
API_MODES = ("local", "http")


@dataclass(frozen=True)
class Settings:
    db_url: str
    api_mode: str
    api_url: str
    api_key: str | None
    tenant: str | None


def _lookup(name: str, dotenv: dict[str, str | None]) -> str | None:
    # The process environment wins over .env, as with every twelve-factor tool.
    value = os.environ.get(name)
    if value is None:
        value = dotenv.get(name)
    return value or None


def default_db_url(cwd: Path | None = None) -> str:
    """duckdb:///<path>: the embedded default, a file under var/ in the working directory."""
    return "duckdb:///" + str((cwd or Path.cwd()) / DEFAULT_DB_PATH)


def load_settings(env_file: Path | None = None) -> Settings:
    """Read MO_* settings; raise validation_error for a value mo cannot use."""
    path = env_file or Path.cwd() / ".env"
    dotenv = dotenv_values(path) if path.is_file() else {}
    api_mode = (_lookup("MO_API_MODE", dotenv) or "local").lower()
    if api_mode not in API_MODES:
        raise validation_error(
            f"MO_API_MODE must be one of {', '.join(API_MODES)}", field="MO_API_MODE", value=api_mode
        )
    return Settings(
        db_url=_lookup("MO_DB_URL", dotenv) or default_db_url(),
        api_mode=api_mode,
        api_url=_lookup("MO_API_URL", dotenv) or DEFAULT_API_URL,
        api_key=_lookup("MO_API_KEY", dotenv),
        tenant=_lookup("MO_TENANT", dotenv),
    )
