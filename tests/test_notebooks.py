"""The notebooks, run headless the way cron runs them: papermill via mo.cli.run, interactive=False.

Each run gets a fresh DuckDB demo tenant (a copy of one template seeded with the demo
ingredients), reached through MO_DB_URL / MO_TENANT in the kernel's environment.
Also checked: the same notebooks over a real `mo serve` (MO_API_MODE=http); that the committed
notebooks carry no outputs and start with a `parameters` cell followed by the validation cell;
`mo run`'s exit status and audit record; and the `make demo` main job.

The demo main job runs once per session (`demo_run`) and runs 9 notebooks the tests of each
notebook would run again: those tests read the demo's executed notebooks and database instead,
and run only what the demo does not (a replay, parameters it never passes, failures). Under
`pytest -n` this module stays on one worker (conftest.WHOLE_MODULES), so the demo runs once.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from demo_support import seed_demo

import mo
from mo.cli.run import RunResult, output_path, run_notebook

if TYPE_CHECKING:
    from conftest import DemoProject

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DEMO = ROOT / "demo"
# nbformat is imported in the tests that read or write notebooks, not here: it loads jsonschema,
# whose format checker builds a grammar at import (~1.6 s of CPU), and under `pytest -n` every
# worker imports this module to collect it, while one runs its tests.
EXPECTED = (
    "event_sanity", "import_price_list", "parity_export", "recipe_costs", "update_cost", "what_if"
)
METRO_COLUMNS = {
    "Description": "item",
    "Product Code": "sku",
    "Pack Size": "pack",
    "Case Price": "price",
    "Dept": "category",
}


# ---- the notebooks as committed ----------------------------------------------------------------


def _committed() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "notebooks/*.ipynb"], cwd=ROOT, capture_output=True, text=True
    )
    tracked = {ROOT / line for line in listed.stdout.split()} if listed.returncode == 0 else set()
    return sorted(tracked | set(NOTEBOOKS.glob("*.ipynb")))


def test_every_notebook_is_there() -> None:
    assert {p.stem for p in _committed()} >= set(EXPECTED)


@pytest.mark.parametrize("path", _committed(), ids=lambda p: p.name)
def test_notebook_is_output_free_and_parameterised(path: Path) -> None:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    first, second = nb.cells[0], nb.cells[1]
    assert first.cell_type == "code" and "parameters" in first.metadata.get("tags", []), (
        "first cell: parameters"
    )
    assert second.cell_type == "code" and "mo.ui.install(interactive=interactive)" in second.source
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"outputs in {path.name}: {cell.source[:60]}"
            )


@pytest.mark.parametrize("path", _committed(), ids=lambda p: p.name)
def test_parameters_default_to_interactive_and_text(path: Path) -> None:
    import papermill

    declared = papermill.inspect_notebook(str(path))
    assert declared["interactive"]["default"] == "True"
    assert "tenant" in declared
    # Everything else is text (or blank): the validation cell turns it into values.
    assert all(
        v["default"].startswith(('"', "'")) for k, v in declared.items() if k != "interactive"
    )


# ---- a fresh demo tenant per run -------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "demo.duckdb"
    seed_demo(f"duckdb:///{path}")
    return path


class Demo:
    """One fresh demo database and a place for runs and exports."""

    def __init__(self, folder: Path, template: Path) -> None:
        self.folder = folder
        self.db = folder / "demo.duckdb"
        shutil.copy(template, self.db)
        self.url = f"duckdb:///{self.db}"
        self.runs = folder / "runs"

    def run(
        self, notebook: str, *, env: dict[str, str] | None = None, **parameters: Any
    ) -> RunResult:
        return run_notebook(
            NOTEBOOKS / f"{notebook}.ipynb",
            parameters=parameters,
            timeout=300,
            runs_dir=self.runs,
            cwd=ROOT,
            env=env or {"MO_DB_URL": self.url, "MO_TENANT": "demo", "MO_API_MODE": "local"},
        )

    def client(self) -> mo.MOClient:
        return mo.LocalClient("demo", db_url=self.url)

    def import_list(self, path: Path, supplier: str, **extra: Any) -> RunResult:
        result = self.run("import_price_list", path=str(path), supplier=supplier, **extra)
        assert result.ok, result.summary()
        return result

    def seed_list(self, path: Path, supplier: str, **extra: Any) -> None:
        """Import through the client, not a notebook run: for tests of the other notebooks (a
        kernel start costs seconds; the import notebook has its own tests above)."""
        with self.client() as client:
            client.import_price_list(
                path, supplier=supplier, idempotency_key=f"seed-{path.name}", **extra
            )


@pytest.fixture
def demo(tmp_path: Path, demo_template: Path) -> Demo:
    return Demo(tmp_path, demo_template)


# ---- the demo main job, once per session --------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class DemoOutcome:
    """What `make demo`'s main job did in a clean checkout's layout under `folder`."""

    folder: Path
    exit_code: int
    printed: str
    runs: tuple[RunResult, ...]  # the executed notebooks, in the order the demo ran them

    @property
    def url(self) -> str:
        return f"duckdb:///{self.folder / 'var' / 'demo.duckdb'}"

    def run_of(self, notebook: str, *, nth: int = 0) -> RunResult:
        """The nth run of notebooks/<notebook>.ipynb (fails the test when the demo stopped first)."""
        found = [r for r in self.runs if r.notebook.stem == notebook]
        assert len(found) > nth, f"the demo ran {notebook} {len(found)} time(s)\n{self.printed}"
        return found[nth]


_RAN = re.compile(r"^ok {6}(\S+\.ipynb) → (\S+\.ipynb) \(", re.MULTILINE)


@pytest.fixture(scope="session")
def demo_run(demo_project: DemoProject) -> DemoOutcome:
    """`make demo`'s main job, run once per session (conftest.demo_project): its test checks the
    summary, the notebook tests read its outputs."""
    folder, text = demo_project.folder, demo_project.printed
    runs = tuple(
        RunResult(notebook=Path(notebook), output=folder / output, ok=True, seconds=0.0)
        for notebook, output in _RAN.findall(text)
    )
    return DemoOutcome(folder=folder, exit_code=demo_project.exit_code, printed=text, runs=runs)


def _read(path: Path) -> Any:
    import nbformat

    return nbformat.read(path, as_version=4)


def outputs(result: RunResult) -> list[dict[str, Any]]:
    nb = _read(result.output)
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]


def toasts(result: RunResult) -> list[str]:
    return [
        _text(o["data"]["text/html"])
        for o in outputs(result)
        if "mo-toast" in _text(o.get("data", {}).get("text/html", ""))
    ]


def plain(result: RunResult) -> str:
    """The text a reader sees: plain outputs, stream text, and the text of HTML outputs (tables
    render as styled HTML, whose text/plain is only the Styler's repr)."""
    data = [o.get("data", {}) for o in outputs(result)]
    texts = [_text(d.get("text/plain", "")) for d in data]
    texts += [_stripped(_text(d["text/html"])) for d in data if "text/html" in d]
    return "\n".join(texts + [_text(o.get("text", "")) for o in outputs(result)])


def images(result: RunResult) -> int:
    return sum("image/png" in o.get("data", {}) for o in outputs(result))


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _stripped(markup: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup))


# ---- import_price_list -------------------------------------------------------------------------


def test_import_price_list_charts_a_later_week(demo: Demo) -> None:
    # The first import's toast and its replay are checked on the `mo run` records
    # (test_mo_run_prints_the_import_result): a kernel run costs ~3.5 s of CPU.
    demo.seed_list(DEMO / "supplier_freshco.csv", "FreshCo")
    week2 = demo.import_list(
        DEMO / "supplier_freshco_week2.csv", "FreshCo", effective_at="2099-01-01"
    )
    assert images(week2) == 1
    with demo.client() as client:
        batches = client.imports()
    assert list(batches["supplier"]) == ["FreshCo", "FreshCo"]
    assert list(batches["status"]) == ["completed"] * 2


def test_import_price_list_maps_another_suppliers_headers(demo_run: DemoOutcome) -> None:
    """The demo's Metro list (its own headers, mapped by the `columns` parameter) after FreshCo's."""
    metro = demo_run.run_of("import_price_list", nth=1)
    assert any("data-code='ok'" in t and "completed" in t for t in toasts(metro))
    text = plain(metro)
    assert images(metro) == 1 and "Previous" in text and "Change" in text  # the changes table
    with mo.LocalClient("demo", db_url=demo_run.url) as client:
        batches = client.imports()
    price_lists = batches[batches["kind"] == "price_list"]  # the demo imports its recipes too
    assert list(price_lists["supplier"]) == ["FreshCo", "Metro", "FreshCo"]
    assert list(price_lists["status"]) == ["completed"] * 3


def test_import_price_list_lists_rejected_rows_and_fails(demo: Demo, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("item,price,pack\nonion,9.80,10 kg\ncarrot,lots,10 kg\nleek,2.00,\n")
    result = demo.run("import_price_list", path=str(bad), supplier="FreshCo")
    assert (
        not result.ok and result.ename == "MOError" and result.evalue.startswith("validation_error")
    )
    assert "problem" in plain(result) and "lots" in plain(result)  # the rejected-rows table
    assert any("data-code='validation_error'" in t for t in toasts(result))
    with demo.client() as client:
        assert client.imports().empty  # all or nothing


def test_a_weekly_run_passes_only_the_file_and_the_supplier(demo: Demo, tmp_path: Path) -> None:
    with demo.client() as client:
        client.save_supplier("Metro", columns=METRO_COLUMNS)
    week2 = tmp_path / "metro_week2.csv"
    lines = (DEMO / "supplier_metro.csv").read_text().splitlines()
    week2.write_text("\n".join([*lines, '"MF-X","BROKEN","1 kg","lots","DRY"']) + "\n")
    # One run (a kernel costs ~3.5 s of CPU): no columns, so Metro's own headers read only
    # through the saved format (without it the run fails on missing columns); the bad row skipped.
    skipped = demo.import_list(week2, "Metro", on_bad_rows="skip")
    assert "row(s) were not imported" in plain(skipped) and "lots" in plain(skipped)
    with demo.client() as client:
        batches = client.imports()
        assert list(batches["status"]) == ["completed"]
        assert list(client.import_rejections(int(batches["batch_id"].iloc[-1]))["value"]) == ["lots"]


def test_a_bad_parameter_fails_the_run_naming_it(demo: Demo) -> None:
    result = demo.run("import_price_list", path="demo/no_such_file.csv", supplier="FreshCo")
    assert not result.ok and result.ename == "MOError"
    assert "parameter path" in result.evalue
    [toast] = toasts(result)
    assert "data-code='validation_error'" in toast and "Traceback" not in plain(result)


# ---- update_cost ---------------------------------------------------------------------------------


def test_update_cost_headless(demo_run: DemoOutcome, demo: Demo) -> None:
    # The demo's manual cost is the run with text parameters: 58.90 per 3 kg, from FreshCo.
    manual = demo_run.run_of("update_cost")
    assert any("0.019633333333" in t for t in toasts(manual))
    with mo.LocalClient("demo", db_url=demo_run.url) as client:
        latest = client.cost_history("salmon fillet", exact=True).iloc[-1]
    assert (latest["price"], latest["supplier"]) == (Decimal("58.90"), "FreshCo")
    # papermill's own CLI would have turned "7" into 7: an int is accepted as well.
    coerced = demo.run("update_cost", ingredient="onion", price=7, per="10 kg")
    assert coerced.ok, coerced.summary()
    assert any("0.0007" in t for t in toasts(coerced))
    with demo.client() as client:
        history = client.cost_history("onion", exact=True)
    assert list(history["price"]) == [Decimal("7")]


def test_update_cost_headless_needs_its_parameters(demo: Demo) -> None:
    result = demo.run("update_cost", ingredient="onion", price="abc", per="10 kg")
    assert not result.ok and "parameter price" in (result.evalue or "")
    missing = demo.run("update_cost", ingredient="onion", price="1")
    assert not missing.ok and "parameter per" in (missing.evalue or "")


# ---- recipe_costs --------------------------------------------------------------------------------


def test_recipe_costs_reports_costs_incomplete_and_movers(demo_run: DemoOutcome) -> None:
    # The demo runs recipe_costs after importing the recipes, then again for one recipe after
    # FreshCo's week 2 list and a manual price change: the second run has movers.
    result = demo_run.run_of("recipe_costs", nth=1)
    assert result.ok, result.summary()
    text = plain(result)
    assert (
        "Pineapple Upside-Down Cake" in text and "sugar" in text
    )  # incomplete, and what is missing
    assert "Total before" in text and "Total after" in text  # the movers table
    # Its top ingredients. Flour moves to FreshCo's price: FreshCo's week 2 list repeats its
    # own price, a re-listing written with the list's date, so under "latest" FreshCo's offer is
    # now the newest, above Metro's.
    assert "Roux 2.11 2.77 0.66 31.1 % butter +0.62; flour +0.04 " in text
    assert "Roux > butter" in text and "Contribution" in text  # the biggest mover explained
    assert "Cost (per portion)" in text and "import.completed" in text  # Chicken Pie's history
    assert images(result) == 1
    assert any("recipes fully costed" in _stripped(t) for t in toasts(result))


def test_explain_change_names_what_moved_the_demos_biggest_mover(demo_run: DemoOutcome) -> None:
    # Since the recipes were imported, FreshCo's week 2 list and the salmon price moved costs;
    # the structure did not change, so the contributions alone sum exactly to the change.
    from mo.cli.demo import movers

    with mo.LocalClient("demo", db_url=demo_run.url) as client:
        imported = client.events(types=["recipes.imported"])["occurred_at"].max()
        since = imported.to_pydatetime()
        name, before, after = movers(client, since=since, top=1)[0]
        frame = client.explain_change(name, since=since, exact=True)
        moved = set(client.price_changes(since=since)["ingredient"])
    assert "(recipe changed)" not in set(frame["ingredient"])
    assert not frame["missing_cost"].any(), frame
    movers_rows = frame[frame["contribution"] != 0]
    assert len(movers_rows) and set(movers_rows["ingredient"]) <= moved, frame
    with localcontext() as exact:
        exact.prec = 200  # these sums must not round
        change = sum(frame["contribution"], Decimal(0))
        old = sum((q * c for q, c in zip(frame["qty"], frame["old_unit_cost"])), Decimal(0))
        new = sum((q * c for q, c in zip(frame["qty"], frame["new_unit_cost"])), Decimal(0))
        assert change == new - old  # exactly
    assert abs(change - (after - before)) < Decimal("1e-9"), (change, before, after)


# ---- what_if -------------------------------------------------------------------------------------


def test_what_if_shows_the_recipes_that_would_cross_the_target(demo_run: DemoOutcome) -> None:
    # The demo asks for butter +20 % and salmon -5 % against a 25 % target, after week 2.
    result = demo_run.run_of("what_if")
    assert result.ok, result.summary()
    text = plain(result)
    assert "13 recipes affected, 1 would cross 25 %" in text
    assert "Mussels in White Wine" in text and "25.0 %" in text  # 24.8 % → 25.0 %
    assert images(result) == 1  # the change in food cost %
    with mo.LocalClient("demo", db_url=demo_run.url) as client:
        frame = client.what_if({"butter": "+20%", "salmon fillet": "-5%"})
    old, new = frame["food_cost_pct"].astype(float), frame["new_food_cost_pct"].astype(float)
    crossing = frame[(old <= 25) & (new > 25)]
    assert list(crossing["recipe"]) == ["Mussels in White Wine"]
    assert frame["recipe"].iloc[0] == "Garlic Bread"  # the biggest rise in food cost %


def test_what_if_refuses_a_bad_price_naming_it(demo: Demo) -> None:
    broken = demo.run("what_if", prices="{butter: +20%}")
    assert not broken.ok and "parameter prices" in (broken.evalue or "")
    unknown = demo.run("what_if", prices='{"buttr": "+20%"}')
    assert not unknown.ok and (unknown.evalue or "").startswith("not_found")


# ---- event_sanity --------------------------------------------------------------------------------


def test_event_sanity_passes_on_a_healthy_log(demo_run: DemoOutcome) -> None:
    result = demo_run.run_of("event_sanity")  # after the demo's imports and cost changes
    assert result.ok, result.summary()
    assert "import.completed" in plain(result)
    assert any("checks passed" in _stripped(t) for t in toasts(result))


# ---- parity_export -------------------------------------------------------------------------------


def test_parity_export_headless_writes_file_and_manifest(demo: Demo, tmp_path: Path) -> None:
    demo.seed_list(DEMO / "supplier_freshco.csv", "FreshCo")
    out = tmp_path / "exports"
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    result = demo.run(
        "parity_export",
        since="2020-01-01",
        until=tomorrow,
        format="jsonl",
        types="import.completed, ingredient.cost.updated",
        out_dir=str(out),
    )
    assert result.ok, result.summary()
    [export] = out.glob("events-demo-*.jsonl")
    manifest = json.loads(export.with_name(export.name + ".manifest.json").read_text())
    assert manifest["counts"] == {"import.completed": 1, "ingredient.cost.updated": 47}
    assert len(export.read_text().splitlines()) == manifest["rows"] == 48
    assert any("Exported 48 events" in _stripped(t) for t in toasts(result))


def test_parity_export_refuses_an_inverted_window(demo: Demo, tmp_path: Path) -> None:
    result = demo.run(
        "parity_export", since="2024-04-01", until="2024-03-01", out_dir=str(tmp_path / "x")
    )
    assert not result.ok and result.ename == "MOError" and "until" in (result.evalue or "")


# ---- the same notebooks over HTTP ----------------------------------------------------------------


@pytest.fixture
def served(demo: Demo) -> Iterator[dict[str, str]]:
    """A real `mo serve` over the demo database; yields the kernel env for MO_API_MODE=http."""
    key = mo.create_api_key("demo", db_url=demo.url)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "mo", "serve", "--port", str(port), "--db-url", demo.url]
    server = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/openapi.json", server)
        # A DB URL that cannot open: the notebooks must not reach the database themselves.
        yield {
            "MO_API_MODE": "http",
            "MO_API_URL": base,
            "MO_API_KEY": key,
            "MO_TENANT": "demo",
            "MO_DB_URL": "duckdb:////nonexistent/folder/mo.duckdb",
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "mo serve exited"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"mo serve did not answer at {url}")


def test_the_same_notebooks_run_over_http(
    demo: Demo, served: dict[str, str], tmp_path: Path
) -> None:
    imported = demo.run(
        "import_price_list", env=served, path=str(DEMO / "supplier_freshco.csv"), supplier="FreshCo"
    )
    assert imported.ok, imported.summary()
    updated = demo.run("update_cost", env=served, ingredient="onion", price="10.10", per="10 kg")
    assert updated.ok, updated.summary()
    refused = demo.run("update_cost", env=served, ingredient="saffron", price="1", per="1 g")
    assert not refused.ok and (refused.evalue or "").startswith("not_found")  # rebuilt from HTTP
    out = tmp_path / "exports"
    exported = demo.run(
        "parity_export", env=served, since="2020-01-01", format="jsonl", out_dir=str(out)
    )
    assert exported.ok, exported.summary()
    [export] = out.glob("events-demo-*.jsonl")
    assert '"import.completed"' in export.read_text()


# ---- mo run -------------------------------------------------------------------------------------


def test_output_paths_are_dated_and_never_reused(tmp_path: Path) -> None:
    moment = datetime(2024, 3, 1, 6, 5, 4)
    first = output_path(Path("notebooks/x.ipynb"), runs_dir=tmp_path, now=moment)
    second = output_path(Path("notebooks/x.ipynb"), runs_dir=tmp_path, now=moment)
    assert first == tmp_path / "2024-03-01" / "x-060504.ipynb"
    assert second == tmp_path / "2024-03-01" / "x-060504-2.ipynb"


def _mo_run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mo.cli.run", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def run_env(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    import os

    return {**os.environ, "MO_DB_URL": demo.url, "MO_TENANT": "demo", "MO_API_MODE": "local"}


def test_mo_run_exit_status_and_audit_record(
    demo: Demo, run_env: dict[str, str], tmp_path: Path
) -> None:
    runs = tmp_path / "audit"
    ok = _mo_run(
        "update_cost",
        "-p",
        "ingredient",
        "onion",
        "-p",
        "price",
        "007",
        "-p",
        "per",
        "10 kg",
        "--runs-dir",
        str(runs),
        env=run_env,
        cwd=ROOT,
    )
    assert ok.returncode == 0, ok.stderr
    [record] = list(runs.glob("*/update_cost-*.ipynb"))
    injected = [
        c
        for c in _read(record).cells
        if "injected-parameters" in c.metadata.get("tags", [])
    ]
    assert 'price = "007"' in injected[0].source and "interactive = False" in injected[0].source
    failed = _mo_run(
        "update_cost",
        "-p",
        "ingredient",
        "saffron",
        "-p",
        "price",
        "1",
        "-p",
        "per",
        "1 kg",
        "--runs-dir",
        str(runs),
        env=run_env,
        cwd=ROOT,
    )
    assert failed.returncode == 1
    assert "MOError: not_found" in failed.stderr and "saffron" in failed.stderr
    unknown = _mo_run(
        "update_cost", "-p", "prize", "1", "--runs-dir", str(runs), env=run_env, cwd=ROOT
    )
    assert unknown.returncode == 2 and "field: parameters" in unknown.stderr
    assert len(list(runs.glob("*/*.ipynb"))) == 2  # a refused command leaves no record


def test_mo_run_times_out(demo: Demo, tmp_path: Path) -> None:
    import nbformat

    slow = tmp_path / "slow.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = nbformat.v4.new_code_cell("interactive = True")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("import time\ntime.sleep(30)")]
    nbformat.write(nb, slow)
    result = run_notebook(slow, timeout=2, runs_dir=tmp_path / "runs")
    assert not result.ok and "Timeout" in (result.ename or "") + (result.evalue or "")
    assert result.output.is_file()


def test_mo_run_prints_the_import_result(
    demo: Demo, run_env: dict[str, str], tmp_path: Path
) -> None:
    args = ("import_price_list", "-p", "path", str(DEMO / "supplier_freshco.csv"),
            "-p", "supplier", "FreshCo", "--runs-dir", str(tmp_path / "audit"))
    ok = _mo_run(*args, env=run_env, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    facts = dict(line.split(None, 1) for line in ok.stdout.splitlines()[1:])
    assert facts["status"] == "completed" and int(facts["rows"]) > 0
    assert {"created", "changed", "unchanged", "replayed", "duplicate_of"} <= set(facts)
    again = _mo_run(*args, env=run_env, cwd=ROOT)  # same day, same inputs: the same key
    assert ["replayed", "true"] in [line.split() for line in again.stdout.splitlines()]
    # The notebooks the two runs recorded show the reader the same: completed, then replayed.
    first, second = sorted((tmp_path / "audit").glob("*/import_price_list-*.ipynb"),
                           key=lambda path: path.stat().st_mtime_ns)
    assert any("data-code='ok'" in t and "completed" in t for t in toasts(_recorded(first)))
    assert any("(replayed)" in _stripped(t) for t in toasts(_recorded(second)))


def _recorded(output: Path) -> RunResult:
    return RunResult(notebook=NOTEBOOKS / "import_price_list.ipynb", output=output, ok=True,
                     seconds=0.0)


def test_mo_run_prints_the_details_of_a_failure(
    demo: Demo, run_env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "headers.csv"
    bad.write_text("Description,Cost\nonion,9.80\n")
    failed = _mo_run("import_price_list", "-p", "path", str(bad), "-p", "supplier", "Metro",
                     "--runs-dir", str(tmp_path / "audit"), env=run_env, cwd=ROOT)
    assert failed.returncode == 1 and "MOError: validation_error" in failed.stderr
    assert 'missing_columns["item","price","pack"]' in failed.stderr.replace(" ", "")
    assert 'headers["Description","Cost"]' in failed.stderr.replace(" ", "")


@pytest.fixture(autouse=True)
def _no_stray_runs() -> Iterator[None]:
    # Every run here goes to a tmp folder: the project's runs/ is the operators' audit trail.
    before = set((ROOT / "runs").rglob("*.ipynb")) if (ROOT / "runs").is_dir() else set()
    yield
    after = set((ROOT / "runs").rglob("*.ipynb")) if (ROOT / "runs").is_dir() else set()
    assert after == before


# ---- the demo main job --------------------------------------------------------------------------


@pytest.mark.slow
def test_demo_runs_every_notebook_and_prints_the_summary(demo_run: DemoOutcome) -> None:
    printed = demo_run.printed
    assert demo_run.exit_code == 0, printed
    records = sorted((demo_run.folder / "runs").glob("*/*.ipynb"))
    assert len(records) == 9 and printed.count("ok      notebooks/") == 9
    assert sorted(r.output for r in demo_run.runs) == records  # what the other tests read
    assert list((demo_run.folder / "var" / "exports").glob("events-demo-*.csv"))
    assert "24 of 25 fully costed, 1 incomplete" in printed
    assert "Pineapple Upside-Down Cake (missing sugar: no ml→g conversion)" in printed
    assert "movers" in printed and "%)" in printed
    assert re.search(r"events\s+\d+ in all: .*import\.completed 3", printed)
