"""Settings read from the environment, with a .env file in the working directory as fallback."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from dotenv import dotenv_values

from mo.errors import validation_error

DEFAULT_DB_PATH = Path("var") / "mo.duckdb"
DEFAULT_API_URL = "http://127.0.0.1:8765"
# How long a call waits for another process to release an embedded DuckDB file.
DEFAULT_DB_LOCK_TIMEOUT = 30.0
API_MODES = ("local", "http")
_N = TypeVar("_N", int, float)


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


def _dotenv(env_file: Path | None = None) -> dict[str, str | None]:
    path = env_file or project_dir() / ".env"
    return dotenv_values(path) if path.is_file() else {}


def _number(name: str, dotenv: dict[str, str | None], default: _N, *,
            parse: Callable[[str], _N], ok: Callable[[_N], bool], must: str) -> _N:
    """The value `name` holds (environment, then .env) if `ok` takes it, else `default` when
    unset; validation_error naming the setting for anything else."""
    text = _lookup(name, dotenv)
    if text is None:
        return default
    try:
        value = parse(text)
    except ValueError:
        value = None
    if value is None or not ok(value):
        raise validation_error(f"{name} must be {must}", field=name, value=text)
    return value


def _seconds(name: str, dotenv: dict[str, str | None], default: float) -> float:
    return _number(name, dotenv, default, parse=float, ok=lambda v: 0 <= v < float("inf"),
                   must="a number of seconds, 0 or more")


def db_lock_timeout() -> float:
    """MO_DB_LOCK_TIMEOUT in seconds (default 30): how long a call waits for another process
    holding the embedded DuckDB file before answering `unavailable`. Read on its own, so that a
    store does not fail on a setting it does not use."""
    return _seconds("MO_DB_LOCK_TIMEOUT", _dotenv(), DEFAULT_DB_LOCK_TIMEOUT)


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
        db_lock_timeout=_seconds("MO_DB_LOCK_TIMEOUT", dotenv, DEFAULT_DB_LOCK_TIMEOUT),
    )


# ---- input limits (issue #14): the shape of what callers send, checked before parsing ------


@dataclass(frozen=True)
class InputLimits:
    """Caps on what a caller may hand mo, each refused with its own error before parsing."""

    max_body_bytes: int  # MO_MAX_BODY_MB: an HTTP request body (413 payload_too_large)
    max_columns: int  # MO_MAX_COLUMNS: columns of an imported .csv/.xlsx sheet
    max_line_bytes: int  # MO_MAX_LINE_KB: one line of an imported .csv


# 64 MB holds a 1M-row price list (about 47 MB as bench/generate.py writes it) with room for
# longer names and the multipart framing; columns and line length are far above what a price
# list or recipe file needs (tens of columns, lines of a few hundred bytes).
DEFAULT_INPUT_LIMITS = InputLimits(
    max_body_bytes=64 * 2**20, max_columns=200, max_line_bytes=64 * 2**10
)


def _positive_int(name: str, dotenv: dict[str, str | None], default: int) -> int:
    return _number(name, dotenv, default, parse=int, ok=lambda v: v > 0,
                   must="a positive integer")


def load_input_limits(env_file: Path | None = None) -> InputLimits:
    """The input caps from MO_MAX_BODY_MB, MO_MAX_COLUMNS and MO_MAX_LINE_KB (environment,
    then .env); validation_error naming the setting for a value that is not a positive integer."""
    dotenv = _dotenv(env_file)
    base = DEFAULT_INPUT_LIMITS
    return InputLimits(
        max_body_bytes=_positive_int("MO_MAX_BODY_MB", dotenv, base.max_body_bytes >> 20) << 20,
        max_columns=_positive_int("MO_MAX_COLUMNS", dotenv, base.max_columns),
        max_line_bytes=_positive_int("MO_MAX_LINE_KB", dotenv, base.max_line_bytes >> 10) << 10,
    )


# A 10k-line recipe took 24 s to save on DuckDB; real ones have tens of lines.
DEFAULT_MAX_RECIPE_LINES = 500


def limit_setting(name: str, default: int) -> int:
    """The positive whole number MO_<name> holds (environment, then .env), else `default`.

    Read when a request needs it, so a test or an operator can change one without a restart.
    Raises validation_error naming the setting for a value that is no positive integer.
    """
    return _positive_int(name, _dotenv(), default)


def max_recipe_lines() -> int:
    """MO_MAX_RECIPE_LINES: the most lines one recipe may have (save_recipe and recipe imports)."""
    return limit_setting("MO_MAX_RECIPE_LINES", DEFAULT_MAX_RECIPE_LINES)


# ---- page sizes of the HTTP API's list routes ---------------------------------------------------
# A list route answers one page at a time (issue #14: an unpaged GET /v1/events sent 892 MB);
# MO_PAGE_SIZE rows unless the caller asks for page_size, which may not pass MO_MAX_PAGE_SIZE.
DEFAULT_PAGE_SIZE = 10_000
DEFAULT_MAX_PAGE_SIZE = 100_000


@dataclass(frozen=True)
class PageLimits:
    default: int
    maximum: int



def load_page_limits(env_file: Path | None = None) -> PageLimits:
    """MO_PAGE_SIZE and MO_MAX_PAGE_SIZE (environment, then .env); raise validation_error for a
    value that is not a positive whole number or a default above the maximum."""
    dotenv = _dotenv(env_file)
    maximum = _positive_int("MO_MAX_PAGE_SIZE", dotenv, DEFAULT_MAX_PAGE_SIZE)
    default = _positive_int("MO_PAGE_SIZE", dotenv, min(DEFAULT_PAGE_SIZE, maximum))
    if default > maximum:
        raise validation_error(
            "MO_PAGE_SIZE must not exceed MO_MAX_PAGE_SIZE",
            field="MO_PAGE_SIZE",
            value=str(default),
            maximum=maximum,
        )
    return PageLimits(default=default, maximum=maximum)


# ---------------------------------------------------------------- statement bound (issue #14)

DEFAULT_STATEMENT_TIMEOUT_S = 60.0


def statement_timeout_s(env_file: Path | None = None) -> float:
    """MO_STATEMENT_TIMEOUT: the longest any one database statement may run, in seconds
    (default 60; 0 turns the bound off). Why: a runaway query (a recipe graph built to explode,
    a check over millions of rows) must not hold a connection and a core for minutes, nor run on
    after its caller left. Raises validation_error for a value that is not a number ≥ 0."""
    return _seconds("MO_STATEMENT_TIMEOUT", _dotenv(env_file), DEFAULT_STATEMENT_TIMEOUT_S)


# ---- HTTP request heads (issue #14) --------------------------------------------------------------
# The request line and headers together; uvicorn's h11 parser refuses a longer head with a
# plain-text 400 before mo sees the request. 16 KB is h11's own default: a bearer key, an
# idempotency key and a browser's headers need a few hundred bytes.
DEFAULT_MAX_HEADER_KB = 16


def max_header_bytes(env_file: Path | None = None) -> int:
    """MO_MAX_HEADER_KB (default 16) in bytes; validation_error unless a whole number ≥ 1."""
    return _positive_int("MO_MAX_HEADER_KB", _dotenv(env_file), DEFAULT_MAX_HEADER_KB) * 1024
