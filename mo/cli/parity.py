"""Parity: do two event exports (CSV or JSONL) tell the same story, ids and times aside?

Two systems that did the same things (DuckDB and PostgreSQL, or two releases) write the same
events with different ids, event ids, timestamps and generated keys. diff_exports compares
what remains, in order, and says where the two differ.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from mo.errors import MOError, validation_error

# Columns that name things by id or time; they differ between systems doing the same work.
IGNORED_COLUMNS = frozenset({"id", "event_id", "occurred_at", "batch_id"})
COMPARED_COLUMNS = ("event_type", "aggregate_type", "aggregate_id", "idempotency_key", "payload")
IGNORED_PAYLOAD_KEYS = frozenset({"batch_id", "cost_id", "ingredient_id", "recipe_id"})
_GENERATED_ID = re.compile(r"^(\d+|[0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})$")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_IGNORED = "<ignored>"

Event = tuple[str, ...]  # the compared values of one event, in COMPARED_COLUMNS order


def diff_exports(a: Path, b: Path) -> list[str]:
    """Human-readable differences between two exports; an empty list means they match.

    Ignored: id, event_id, occurred_at, batch_id; aggregate_id when it is a generated id
    (numeric or a UUID); inside payloads, keys ending in "_at" and batch_id, cost_id,
    ingredient_id, recipe_id, at any depth. Either file may be CSV (formula cells are read
    back without their protective quote) or JSONL. Raises validation_error when a file is
    missing or not an export.
    """
    left, right = read_events(Path(a)), read_events(Path(b))
    if left == right:
        return []
    found = [f"A has {len(left)} events, B has {len(right)}"] if len(left) != len(right) else []
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "replace" and a1 - a0 == b1 - b0:
            found += [_describe_change(i, j, left[i], right[j]) for i, j in zip(range(a0, a1), range(b0, b1))]
        elif op != "equal":
            found += [f"event {i + 1} of A is not in B: {_summary(left[i])}" for i in range(a0, a1)]
            found += [f"event {j + 1} of B is not in A: {_summary(right[j])}" for j in range(b0, b1)]
    return found


def read_events(path: Path) -> list[Event]:
    """The comparable form of every event in an export, in file order."""
    if not path.is_file():
        raise validation_error("no export file at this path", path=str(path))
    rows = _jsonl_rows(path) if _is_jsonl(path) else _csv_rows(path)
    try:
        return [comparable(row) for row in rows]
    except (KeyError, ValueError, TypeError, csv.Error) as exc:  # ValueError: bad JSON or UTF-8
        raise validation_error("the file is not an mo event export", path=str(path), problem=str(exc)[:200]) from exc


def comparable(row: dict[str, Any]) -> Event:
    """One export row reduced to what two systems doing the same work must agree on."""
    values = {name: "" if row[name] is None else str(row[name]) for name in COMPARED_COLUMNS}
    if _GENERATED_ID.match(values["aggregate_id"]):
        values["aggregate_id"] = _IGNORED
    payload = without_ids(json.loads(values["payload"]))
    values["payload"] = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return tuple(values[name] for name in COMPARED_COLUMNS)


def without_ids(value: Any) -> Any:
    """A payload without timestamps (keys ending in _at) and generated ids, at any depth."""
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items()
                if not (k.endswith("_at") or k in IGNORED_PAYLOAD_KEYS)}
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


def _is_jsonl(path: Path) -> bool:
    if path.suffix.lower() in (".jsonl", ".csv"):
        return path.suffix.lower() == ".jsonl"
    with path.open("rb") as handle:  # no telling suffix: a JSONL export starts with an object
        return handle.read(1) == b"{"


def _jsonl_rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _csv_rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            yield {name: _unneutralised(value) for name, value in row.items()}


def _unneutralised(cell: str | None) -> str | None:
    """A CSV cell without the quote export put before a formula-like value."""
    if cell and cell[0] == "'" and cell[1:2] and cell[1] in _FORMULA_STARTS:
        return cell[1:]
    return cell


def _describe_change(i: int, j: int, left: Event, right: Event) -> str:
    where = f"event {i + 1} of A / {j + 1} of B ({left[0]})"
    parts = [_field_change(name, x, y) for name, x, y in zip(COMPARED_COLUMNS, left, right) if x != y]
    return f"{where}: " + "; ".join(parts)


def _field_change(name: str, x: str, y: str) -> str:
    if name != "payload":
        return f"{name} {x!r} vs {y!r}"
    a, b = json.loads(x), json.loads(y)
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return f"payload {x} vs {y}"
    keys = sorted(set(a) | set(b))
    return "payload " + ", ".join(
        f"{k} {json.dumps(a.get(k, '<absent>'))} vs {json.dumps(b.get(k, '<absent>'))}"
        for k in keys if a.get(k, _IGNORED) != b.get(k, _IGNORED)
    )


def _summary(event: Event) -> str:
    values = dict(zip(COMPARED_COLUMNS, event))
    return f"{values['event_type']} {values['aggregate_type']} {values['aggregate_id']} {values['payload']}"


def main_parity_diff(argv: Sequence[str] | None = None) -> int:
    """`mo parity diff A B`: print the differences; exit 0 when the exports match, 1 when
    they differ, 2 (with the error shape on stderr) when a file cannot be read."""
    parser = argparse.ArgumentParser(prog="mo parity diff", description=main_parity_diff.__doc__)
    parser.add_argument("a", type=Path, help="an export (CSV or JSONL)")
    parser.add_argument("b", type=Path, help="the export to compare it with")
    parser.add_argument("--max-lines", type=int, default=200, help="differences to print (default 200)")
    args = parser.parse_args(argv)
    try:
        differences = diff_exports(args.a, args.b)
    except MOError as err:
        print(json.dumps(err.to_dict(), default=str), file=sys.stderr)
        return 2
    for line in differences[: args.max_lines]:
        print(line)
    if len(differences) > args.max_lines:
        print(f"... and {len(differences) - args.max_lines} more differences")
    print(f"{'differ' if differences else 'same'}: {args.a} vs {args.b}", file=sys.stderr)
    return 1 if differences else 0
