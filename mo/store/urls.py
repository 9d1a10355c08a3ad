"""MO_DB_URL, parsed and checked once: which store it names and what that store connects to.

SQLAlchemy's make_url does the parsing (RFC-1738 URLs, percent-escapes, ports, query options);
mo only decides which of its forms it accepts: duckdb:///path, duckdb:///:memory: (or
duckdb:/// alone) and postgresql:// (also postgres:// and postgresql+psycopg://).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from mo.errors import MOError, validation_error

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

POSTGRES_DRIVERS = ("postgresql", "postgres", "postgresql+psycopg")
_FORMS = "duckdb:///path, duckdb:///:memory: or postgresql://user@host:port/database"


@dataclass(frozen=True)
class DatabaseURL:
    """dialect: "duckdb" or "postgres"; target: the DuckDB file (":memory:" for none) or the
    libpq URL psycopg connects with."""

    dialect: str
    target: str


def parse_db_url(url: str) -> DatabaseURL:
    """The store `url` names; validation_error (field MO_DB_URL) for anything else."""
    duckdb_file = _plain_duckdb_file(url)
    if duckdb_file is not None:
        return DatabaseURL(dialect="duckdb", target=duckdb_file)
    parsed = _parse(url)
    if parsed.drivername == "duckdb":
        return DatabaseURL(dialect="duckdb", target=_duckdb_path(parsed))
    if parsed.drivername in POSTGRES_DRIVERS:
        target = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        return DatabaseURL(dialect="postgres", target=target)
    raise _invalid(f"MO_DB_URL names an unsupported database driver {parsed.drivername!r}",
                   parsed, driver=parsed.drivername)


# `duckdb:///` plus a path with no `?`, the form every DuckDB URL mo writes takes, is read here
# without SQLAlchemy: importing it costs ~0.5 s of CPU (of ~1.2 s for this module with mo.store,
# `python -c`, loaded 2-core machine), paid by every process that opens a store (each notebook
# kernel, `mo` command and test child). SQLAlchemy's make_url reads such a URL as drivername
# "duckdb", no user, host, port or query, and database = the percent-unescaped rest, which is
# what this gives (tests/test_settings.py compares the two). Anything else goes to make_url.
_PLAIN_DUCKDB = "duckdb:///"


def _plain_duckdb_file(url: object) -> str | None:
    """The DuckDB file a plain `duckdb:///path` URL names (":memory:" for none), else None."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text.startswith(_PLAIN_DUCKDB) or "?" in text:
        return None
    return unquote(text[len(_PLAIN_DUCKDB):]) or ":memory:"


def _parse(url: str) -> URL:
    # Imported here, as the stores are: importing SQLAlchemy takes about a third of what pandas
    # and duckdb take together (2.4 s against 7.4 s on this shared 2-core machine under load),
    # and only opening a store needs it.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not isinstance(url, str) or not url.strip():
        raise validation_error(f"MO_DB_URL is empty; use {_FORMS}", field="MO_DB_URL")
    try:
        return make_url(url.strip())
    except (ArgumentError, ValueError) as exc:
        # The text could not be parsed, so the password cannot be told apart: not echoed back.
        err = validation_error(f"MO_DB_URL is not a database URL; use {_FORMS}", field="MO_DB_URL",
                               problem=str(exc)[:200])
        raise err from exc


def _duckdb_path(parsed: URL) -> str:
    # duckdb://host/… or a user, port or ?option would be silently ignored: refuse them instead.
    if parsed.host or parsed.username or parsed.password or parsed.port or parsed.query:
        raise _invalid("a DuckDB MO_DB_URL names a file only: duckdb:///relative/path or "
                       "duckdb:////absolute/path", parsed)
    if parsed.database is None:
        raise _invalid("a DuckDB MO_DB_URL needs three slashes: duckdb:///path", parsed)
    return parsed.database or ":memory:"


def _invalid(message: str, parsed: URL, **details: Any) -> MOError:
    return validation_error(message, field="MO_DB_URL",
                            value=parsed.render_as_string(hide_password=True), **details)


def database_label(url: str) -> str:
    """The database `url` names, fit for an error message: a DuckDB file as its absolute path
    (a relative one depends on the working directory, which is what confuses), a PostgreSQL URL
    with its password masked. Never raises: an unparsable URL is shown as "(unparsable URL)".
    """
    duckdb_file = _plain_duckdb_file(url)
    if duckdb_file is not None:
        return _duckdb_label(duckdb_file)
    try:
        parsed = _parse(url)
    except MOError:
        return "(unparsable URL)"
    if parsed.drivername == "duckdb":
        return _duckdb_label(parsed.database or ":memory:")
    return parsed.render_as_string(hide_password=True)


def _duckdb_label(target: str) -> str:
    return _PLAIN_DUCKDB + (target if target == ":memory:" else str(Path(target).resolve()))
