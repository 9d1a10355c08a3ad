"""Where mo's SQL lives, and the catalog of named queries.

A query file ``sql/queries/<group>.sql`` holds blocks that start with ``-- name: <name>``;
``sql/queries/<dialect>/<group>.sql`` overrides blocks of the same name for one dialect.
Queries are addressed as ``"<group>.<name>"`` and written with ``:param`` placeholders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

DIALECTS = ("duckdb", "postgres")
_NAME_LINE = re.compile(r"^--\s*name:\s*([\w.]+)\s*$", re.MULTILINE)
# :param, but not the '::' of a PostgreSQL cast nor a time literal's ':00'.
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
# A query's text in pieces: a quoted literal ('' inside it is a quote), a -- comment to the end
# of its line, or anything else (a lone '-' is a minus). Placeholders count only in the last.
_PIECES = re.compile(r"('(?:[^']|'')*(?:'|$))|(--[^\n]*)|([^'-]+|-)")


def sql_root() -> Path:
    """The sql/ folder: packaged as mo/_sql in a wheel, or beside mo/ in a checkout."""
    packaged = Path(str(resources.files("mo"))) / "_sql"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "sql"  # mo/store/ → the checkout
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("mo's sql/ folder is missing from this installation")


@dataclass(frozen=True)
class Query:
    name: str
    text: str
    params: tuple[str, ...]


def _blocks(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    marks = list(_NAME_LINE.finditer(text))
    return {
        m.group(1): text[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(text)].strip()
        for i, m in enumerate(marks)
    }


@cache
def _catalog(dialect: str) -> dict[str, str]:
    root = sql_root() / "queries"
    found: dict[str, str] = {}
    for folder in (root, root / dialect):
        for path in sorted(folder.glob("*.sql")):
            found.update({f"{path.stem}.{name}": body for name, body in _blocks(path).items()})
    return found


def query_names(dialect: str) -> list[str]:
    return sorted(_catalog(dialect))


def raw_query(dialect: str, name: str) -> str:
    try:
        return _catalog(dialect)[name]
    except KeyError:
        raise KeyError(f"no query named {name!r} for {dialect}") from None


@cache
def compiled(dialect: str, name: str, style: str) -> Query:
    """The query with its placeholders rewritten for a driver: style 'dollar' or 'pyformat'."""
    text, params = rewrite_placeholders(raw_query(dialect, name), style)
    return Query(name, text, params)


def rewrite_placeholders(sql: str, style: str) -> tuple[str, tuple[str, ...]]:
    """(text for the driver, parameter names in order of first use). Comments are dropped and
    quoted literals kept as written: a ':name' in either is no parameter."""
    found: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        found.append(match.group(1))
        return f"%({match.group(1)})s" if style == "pyformat" else f"${match.group(1)}"

    def escaped(text: str) -> str:  # pyformat reads every % as the start of a placeholder
        return text.replace("%", "%%") if style == "pyformat" else text

    pieces = []
    for literal, comment, code in _PIECES.findall(sql):
        if not comment:
            pieces.append(escaped(literal) if literal else _PARAM.sub(placeholder, escaped(code)))
    return "".join(pieces), tuple(dict.fromkeys(found))


def migration_files(dialect: str) -> list[Path]:
    return sorted((sql_root() / "migrations" / dialect).glob("V*__*.sql"))


_CREATE_TEMP = re.compile(r"\s*CREATE\s+TEMP(?:ORARY)?\s+TABLE\s+(\w+)", re.IGNORECASE)


@cache
def temp_tables(dialect: str, names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(table, CREATE TEMP TABLE statement) for each statement of the named DDL blocks this
    dialect's catalog holds; a block only one dialect needs (its own work tables) is absent from
    the other's, which has nothing to create for it."""
    catalog = _catalog(dialect)
    found: list[tuple[str, str]] = []
    for name in names:
        if name not in catalog:
            continue
        for statement in compiled(dialect, name, "dollar").text.split(";"):
            head = _CREATE_TEMP.match(statement)
            if head is None:
                raise ValueError(f"{name}: not a CREATE TEMP TABLE statement: {statement[:60]!r}")
            found.append((head.group(1), statement.strip()))
    return tuple(found)
