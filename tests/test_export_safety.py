"""Export safety beyond tests/test_export.py (which covers fixed formula cells, a JSONL
round-trip of fixed tricky values and base_dir escapes by `..` and symlinks):

- for ANY text (hypothesis), a CSV cell is neutralised exactly when a spreadsheet would run it
  as a formula, and JSONL gives the text back exactly;
- over HTTP, the `name` an export is saved under cannot escape the server's scratch folder:
  traversal, absolute paths and dot names are confined or refused, nothing is written outside.
"""

from __future__ import annotations

import base64
import csv
import itertools
import json
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from client_fixtures import TENANT, api_keys, api_server  # noqa: F401  (fixtures)
from eventlog_support import emit, event_ids, set_occurred_at
from hypothesis import given
from hypothesis import strategies as st
from reliability_support import fuzz_settings

from mo.api.server import BackgroundServer
from mo.domain.context import TenantContext
from mo.services.export import export_events
from mo.store import Store

T0 = datetime(2030, 1, 1, tzinfo=UTC)
# OWASP's list of cell starts a spreadsheet runs as a formula (the test's own copy, so that
# dropping one from mo.services.export fails here).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_slots = itertools.count()
# Any text a cell could hold; NUL and lone surrogates excepted (no database stores them, and
# no service lets them through: names and keys refuse them).
CHARACTERS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
TEXT = st.text(alphabet=CHARACTERS, max_size=40) | st.sampled_from(
    [f"{start}cmd|' /C calc'!A0" for start in FORMULA_STARTS] + [" =x", "'=x", "=", "-", "+-"]
)


@fuzz_settings(scale=0.5)
@given(value=TEXT)
def test_any_text_is_neutralised_in_csv_only_when_a_formula_and_exact_in_jsonl(
    store: Store, ctx: TenantContext, tmp_path_factory: pytest.TempPathFactory, value: str
) -> None:
    emit(store, ctx, "ingredient.alias_added", aggregate_id=value, payload={"v": value},
         idempotency_key=value)
    since = T0 + timedelta(seconds=next(_slots))  # this example's event alone in its window
    set_occurred_at(store, event_ids(store, ctx)[-1], since)
    window = {"since": since, "until": since + timedelta(seconds=1)}
    folder = tmp_path_factory.mktemp("export")
    export_events(store, ctx, folder / "e.csv", **window)
    export_events(store, ctx, folder / "e.jsonl", **window)

    with (folder / "e.csv").open(encoding="utf-8", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    shown = "'" + value if value.startswith(FORMULA_STARTS) else value
    assert row["aggregate_id"] == row["idempotency_key"] == shown
    assert not row["payload"].startswith(FORMULA_STARTS)  # JSON text: it starts with "{"
    assert json.loads(row["payload"]) == {"v": value}

    # Records end at "\n" only (JSON Lines): str.splitlines() would also split at the U+0085,
    # U+2028 and U+2029 a JSON string may hold unescaped.
    [line] = (folder / "e.jsonl").read_text(encoding="utf-8").removesuffix("\n").split("\n")
    exported = json.loads(line)
    assert exported["aggregate_id"] == exported["idempotency_key"] == value
    assert json.loads(exported["payload"]) == {"v": value}


# ---- HTTP: the saved name stays inside the scratch folder ----------------------------------------


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder the in-process server's tempfile.mkdtemp() uses, watched by the test."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def http(api_server: BackgroundServer, scratch: Path) -> Iterator[httpx.Client]:  # noqa: F811
    with httpx.Client(base_url=api_server.base_url, timeout=30) as session:
        yield session


NAMES = ["../../escaped.csv", "/tmp/absolute.csv", "..", ".", "a/../../b.jsonl", "..\\x.csv",
         "%2e%2e/x.csv", "sub/dir/e.csv", "~/home.csv"]


@pytest.mark.parametrize("backend", ["duckdb"])  # the path rules live above the backends
@pytest.mark.parametrize("name", NAMES)
def test_an_export_name_cannot_leave_the_scratch_folder(
    http: httpx.Client, api_keys: dict[str, str], scratch: Path, name: str  # noqa: F811
) -> None:
    auth = {"Authorization": f"Bearer {api_keys[TENANT]}"}
    params = {"since": "2000-01-01", "until": "2200-01-01", "name": name}
    response = http.get("/v1/events/export", headers=auth, params=params)
    if response.status_code == 200:
        manifest = json.loads(base64.b64decode(response.headers["x-mo-manifest"]))
        assert manifest["file"] == Path(name).name and "/" not in manifest["file"]
        assert response.text.count("tenant.created") == 1
    else:
        body: dict[str, Any] = response.json()
        assert response.status_code == 422 and body["error"]["code"] == "validation_error", body
    # Nothing outside the scratch folder, and nothing left inside it once the answer is sent.
    for leftover in (scratch.parent / "escaped.csv", scratch.parent / "b.jsonl"):
        assert not leftover.exists()
    assert not Path("/tmp/absolute.csv").exists() or name != "/tmp/absolute.csv"
    deadline = time.monotonic() + 10  # the folder is removed just after the answer is sent
    while _files_below(scratch) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _files_below(scratch) == []


def _files_below(folder: Path) -> list[Path]:
    """The files under `folder`. The server removes its export folder while this may be
    listing it; a folder gone mid-walk means: look again."""
    while True:
        try:
            return list(folder.rglob("*.*"))
        except FileNotFoundError:
            continue
