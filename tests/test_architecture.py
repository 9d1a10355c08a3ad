"""The client abstraction: notebooks and mo's UI helpers use only the client and UI surface.

Checked: every notebooks/**/*.ipynb (code cells) and every mo/ui/**/*.py. They may use `import mo`
and mo.connect, mo.MOError, mo.ErrorCode, mo.ui, mo.client (and the client's result classes);
mo.errors, where MOError lives, counts as part of that surface. They may not import or reach
the store, the services or any other part of mo, nor a database driver, nor hold SQL.

Below the client, the services and the store never import the layers above them, and the store
never imports the services.

The checker is tested on bad samples too, so this file cannot pass merely by finding nothing.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import subprocess
import sys
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from client_fixtures import api_keys, api_server  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
UI_PACKAGE = ROOT / "mo" / "ui"

ALLOWED_MODULES = ("mo.client", "mo.ui", "mo.errors")  # and their submodules
ALLOWED_MO_NAMES = frozenset(
    {
        "connect",
        "MOError",
        "ErrorCode",
        "ui",
        "client",
        "MOClient",
        "LocalClient",
        "HttpClient",
        "create_tenant",
        "create_api_key",
        "project_dir",
        "CostUpdate",
        "ImportResult",
        "RecipeImportResult",
        "RecomputeResult",
        "ExportResult",
        "RecipeRecord",
        "IngredientRecord",
        "__version__",
    }
)
DRIVERS = frozenset(
    {
        "duckdb",
        "duckdb_engine",
        "psycopg",
        "psycopg2",
        "psycopg_pool",
        "sqlalchemy",
        "sqlite3",
        "asyncpg",
        "pg8000",
    }
)
SQL_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"\bSELECT\b",
        r"\bINSERT\s+INTO\b",
        r"\bUPDATE\s+\w+\s+SET\b",
        r"\bDELETE\s+FROM\b",
        r"\b(?:CREATE|DROP|ALTER|TRUNCATE)\s+TABLE\b",
        r"(?i)\bselect\s+(?:\*|distinct\b|count\s*\()",
        r"(?i)\binsert\s+into\s+\w+",
        r"(?i)\bdelete\s+from\s+\w+",
        r"(?i)\bupdate\s+\w+\s+set\s+\w+\s*=",
        r"(?i)\b(?:create|drop)\s+table\b",
        r"\bread_sql(?:_query|_table)?\b",
    )
)
MAGIC = re.compile(r"^\s*(%%?|!)")
SQL_MAGIC = re.compile(r"^\s*%%?sql\b", re.MULTILINE)


@dataclass(frozen=True)
class Violation:
    origin: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.origin}:{self.line}: {self.problem}"


# ---- the checker ---------------------------------------------------------------------------------


def _allowed_module(module: str) -> bool:
    return module == "mo" or any(module == m or module.startswith(m + ".") for m in ALLOWED_MODULES)


def _import_problems(tree: ast.AST, *, package: str | None) -> list[tuple[int, str]]:
    problems: list[tuple[int, str]] = []
    mo_aliases = {"mo"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                problems += _module_problem(node.lineno, alias.name)
                if alias.name == "mo" and alias.asname:
                    mo_aliases.add(alias.asname)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, package)
            problems += _module_problem(node.lineno, module)
            if module == "mo":
                problems += [
                    (node.lineno, f"from mo import {a.name}: not part of the client surface")
                    for a in node.names
                    if a.name not in ALLOWED_MO_NAMES
                ]
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            target = node.args[0].value  # type: ignore[attr-defined]
            problems += _module_problem(node.lineno, target)
    problems += [
        (n.lineno, f"mo.{n.attr}: not part of the client surface")
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute)
        and isinstance(n.value, ast.Name)
        and n.value.id in mo_aliases
        and n.attr not in ALLOWED_MO_NAMES
    ]
    return problems


def _absolute(node: ast.ImportFrom, package: str | None) -> str:
    if not node.level:
        return node.module or ""
    base = (package or "").split(".")
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _module_problem(line: int, module: str) -> list[tuple[int, str]]:
    root = module.split(".")[0]
    if root in DRIVERS:
        return [(line, f"imports the database driver {module}")]
    if root == "mo" and not _allowed_module(module):
        return [(line, f"imports {module}: notebooks and UI helpers use only mo, mo.client, mo.ui")]
    return []


def _is_dynamic_import(node: ast.Call) -> bool:
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    return (
        name in ("import_module", "__import__")
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def _code_without_comments(source: str) -> str:
    """The source with comments blanked out (strings stay: SQL in a string is SQL)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source
    lines = source.splitlines(keepends=True)
    for tok in reversed(tokens):
        if tok.type == tokenize.COMMENT:
            row, col = tok.start
            lines[row - 1] = lines[row - 1][:col] + "\n"
    return "".join(lines)


def _sql_problems(source: str) -> list[tuple[int, str]]:
    problems = [
        (source[: m.start()].count("\n") + 1, "uses the %sql magic")
        for m in SQL_MAGIC.finditer(source)
    ]
    code = _code_without_comments(source)
    for number, line in enumerate(code.splitlines(), start=1):
        for pattern in SQL_PATTERNS:
            found = pattern.search(line)
            if found:
                problems.append((number, f"holds SQL ({found.group(0)!r})"))
                break
    return problems


def check_python(source: str, *, origin: str, package: str | None = None) -> list[Violation]:
    """Violations in one piece of Python (a module or a notebook's code cell)."""
    python = "\n".join("" if MAGIC.match(line) else line for line in source.splitlines())
    problems = _sql_problems(source)
    try:
        problems += _import_problems(ast.parse(python), package=package)
    except SyntaxError as exc:
        problems.append((exc.lineno or 0, "cannot be parsed, so cannot be checked"))
    return [Violation(origin, line, problem) for line, problem in sorted(set(problems))]


def check_notebook(path: Path) -> list[Violation]:
    """Violations in the code cells of a .ipynb file."""
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    found: list[Violation] = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else str(source)
            found += check_python(text, origin=f"{path.name}[cell {index}]")
    return found


def check_file(path: Path) -> list[Violation]:
    if path.suffix == ".ipynb":
        return check_notebook(path)
    package = "mo.ui" + "".join("." + p for p in path.relative_to(UI_PACKAGE).parent.parts)
    return check_python(
        path.read_text(encoding="utf-8"), origin=str(path.relative_to(ROOT)), package=package
    )


def checked_files() -> list[Path]:
    notebooks = sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    helpers = sorted(UI_PACKAGE.rglob("*.py")) if UI_PACKAGE.is_dir() else []
    return notebooks + helpers


# ---- the rule, applied to the project ------------------------------------------------------------------


def test_the_checked_folders_exist_and_what_was_checked_is_reported() -> None:
    assert NOTEBOOKS.is_dir(), f"the notebooks folder is missing: {NOTEBOOKS}"
    files = checked_files()
    print(f"\narchitecture check: {len(files)} file(s)")
    for path in files:
        print(f"  {path.relative_to(ROOT)}")
    if not any(p.suffix == ".ipynb" for p in files):
        warnings.warn("no notebooks yet: only mo/ui was checked", stacklevel=1)
    if not files:
        warnings.warn("nothing to check: no notebooks and no mo/ui package", stacklevel=1)


@pytest.mark.parametrize("path", checked_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_client_and_ui_surface_is_used(path: Path) -> None:
    violations = check_file(path)
    assert not violations, "\n".join(map(str, violations))


# ---- the checker can fail -----------------------------------------------------------------------------

BAD_CELLS = {
    "services import": "from mo.services import costs",
    "store import": "import mo.store",
    "store via from": "from mo.store import open_store",
    "top-level internal": "from mo import migrations",
    "attribute reach": "import mo\nmo.services.costs.update_cost(None, None, 'x', 1)",
    "aliased attribute": "import mo as m\nstore = m.store.open_store('duckdb:///x')",
    "dynamic import": "import importlib\ncosts = importlib.import_module('mo.services.costs')",
    "driver": "import duckdb\nduckdb.sql('select 1')",
    "driver from": "from psycopg import connect",
    "sql string": "query = 'SELECT name FROM recipes'",
    "lower sql": "client.events().query('x')\nq = \"select * from event_log\"",
    "delete": "text = '''\nDELETE FROM ingredients WHERE 1=1\n'''",
    "update": "q = 'update recipes set name = 1'",
    "read_sql": "import pandas as pd\npd.read_sql('x', con)",
    "sql magic": "%%sql\nselect 1",
}
GOOD_CELLS = {
    "client": "import mo\nclient = mo.connect()\nclient.recipes()",
    "ui": "import mo, mo.ui\nmo.ui.install(interactive=True)\nfrom mo.ui import params",
    "errors": "from mo import MOError, ErrorCode\nfrom mo.errors import MOError\ntry:\n    pass\nexcept mo.MOError:\n    pass",
    "client module": "from mo.client import connect\nimport mo.client",
    "sql words in a comment": "# we never SELECT or DELETE FROM anything here\nx = 1",
    "plain english": "title = 'Pick a recipe from the list, then update the menu'",
    "magics": "%matplotlib inline\n!ls\nimport mo",
}


def _notebook(tmp_path: Path, *cells: str, markdown: str = "") -> Path:
    path = tmp_path / "sample.ipynb"
    body = [{"cell_type": "markdown", "metadata": {}, "source": markdown}] + [
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": cell.splitlines(keepends=True),
        }
        for cell in cells
    ]
    path.write_text(json.dumps({"cells": body, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


@pytest.mark.parametrize("case", list(BAD_CELLS))
def test_a_bad_notebook_cell_is_caught(tmp_path: Path, case: str) -> None:
    violations = check_notebook(_notebook(tmp_path, "import mo", BAD_CELLS[case]))
    assert violations and all(v.origin == "sample.ipynb[cell 2]" for v in violations), violations


@pytest.mark.parametrize("case", list(GOOD_CELLS))
def test_a_good_notebook_cell_passes(tmp_path: Path, case: str) -> None:
    assert (
        check_notebook(_notebook(tmp_path, GOOD_CELLS[case], markdown="SELECT * FROM prose")) == []
    )


def test_a_bad_ui_helper_is_caught() -> None:
    helper = '"""A form."""\nfrom ..services import recipes\nfrom . import toasts\nSQL = "INSERT INTO recipes VALUES (1)"\n'
    problems = {
        v.problem.split(" (")[0]
        for v in check_python(helper, origin="mo/ui/bad.py", package="mo.ui")
    }
    assert problems == {
        "imports mo.services: notebooks and UI helpers use only mo, mo.client, mo.ui",
        "holds SQL",
    }


# ---- the layers below the client: data flows down, never up --------------------------------------

MO = ROOT / "mo"
# Each layer by its package (covering its submodules); every entry must exist, so a move that
# leaves this list stale fails here instead of silently checking less. Entry points (mo.cli,
# mo.api, mo.ui) and the clients sit on top; the domain values and utilities at the bottom.
SERVICE_LAYER = ("mo.services",)
STORE_LAYER = ("mo.store",)
DOMAIN_LAYER = ("mo.domain", "mo.util")
ABOVE_SERVICES = ("mo.client", "mo.api", "mo.ui", "mo.cli")
LAYER_RULES = {  # layer -> what it must never import
    "services": (SERVICE_LAYER, ABOVE_SERVICES),
    "store": (STORE_LAYER, ABOVE_SERVICES + SERVICE_LAYER),
    "domain": (DOMAIN_LAYER, ABOVE_SERVICES + SERVICE_LAYER + STORE_LAYER),
}


def _module_path(module: str) -> Path:
    base = ROOT.joinpath(*module.split("."))
    return base if base.is_dir() else base.with_suffix(".py")


def _layer_files(layer: tuple[str, ...]) -> list[tuple[str, Path]]:
    found = []
    for module in layer:
        path = _module_path(module)
        assert path.exists(), f"{module} is listed in a layer but {path} does not exist"
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        found += [(".".join(f.relative_to(ROOT).with_suffix("").parts), f) for f in files]
    return found


def _imported_modules(tree: ast.AST, *, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module an import statement names, function-level and TYPE_CHECKING ones included."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            found.append((node.lineno, base))  # `from mo import api` names mo.api below
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            found.append((node.lineno, node.args[0].value))  # type: ignore[attr-defined]
    return found


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def layer_violations(module: str, source: str, *, is_package: bool, forbidden: tuple[str, ...]
                     ) -> list[str]:
    tree = ast.parse(source)
    return [
        f"{module}:{line}: imports {target}"
        for line, target in _imported_modules(tree, module=module, is_package=is_package)
        if _within(target, forbidden)
    ]


@pytest.mark.parametrize("layer", list(LAYER_RULES))
def test_services_and_store_never_import_the_layers_above_them(layer: str) -> None:
    members, forbidden = LAYER_RULES[layer]
    files = _layer_files(members)
    assert len(files) >= 3, files
    violations = [
        v
        for module, path in files
        for v in layer_violations(
            module, path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py",
            forbidden=forbidden,
        )
    ]
    assert not violations, "\n".join(violations)


BAD_LAYER_IMPORTS = {
    "client": ("mo.services.costs", "from mo.client import frames"),
    "api, relative": ("mo.services.costs", "from ..api import routes"),
    "ui in a function": ("mo.services.costs", "def f():\n    import mo.ui.toasts\n"),
    "mo attribute": ("mo.services.costs", "from mo import client"),
    "type checking": ("mo.store.base", "if TYPE_CHECKING:\n    from mo.services.paging import X\n"),
    "store to events": ("mo.store.base", "from mo.services.events import emit_event"),
    "dynamic": ("mo.store.base", "import importlib\nimportlib.import_module('mo.api.app')"),
}


@pytest.mark.parametrize("case", list(BAD_LAYER_IMPORTS))
def test_the_layer_check_catches_an_upward_import(case: str) -> None:
    module, source = BAD_LAYER_IMPORTS[case]
    layer = "store" if module.startswith("mo.store") else "services"
    assert layer_violations(module, source, is_package=False, forbidden=LAYER_RULES[layer][1])


def test_the_layer_check_lets_a_downward_import_pass() -> None:
    source = "from mo.store.base import Tx\nfrom mo.errors import MOError\nfrom . import paging\n"
    assert layer_violations("mo.services.costs", source, is_package=False,
                            forbidden=LAYER_RULES["services"][1]) == []


# ---- HttpClient stays on its side of the wire ---------------------------------------------------

SERVER_SIDE = (
    "mo.services", "mo.store", "mo.api", "mo.services.idempotency", "mo.store.migrations", "mo.store.sqlfiles",
    "duckdb", "duckdb_engine", "psycopg", "psycopg_pool", "sqlalchemy", "fastapi", "starlette",
    "uvicorn",
)
# Run in a fresh interpreter: it imports the HTTP client, then calls every method of it (reads,
# writes, uploads, an export, and refusals HttpClient judges itself) against a real `mo serve`.
HTTP_ONLY_SCRIPT = """
import json, sys
from pathlib import Path

SERVER_SIDE = tuple(sys.argv[4].split(","))
def server_side():
    return sorted(m for m in sys.modules if any(m == s or m.startswith(s + ".") for s in SERVER_SIDE))

import mo.client.http
seen = {"import mo.client.http": server_side()}
import mo
from mo.errors import MOError
c = mo.connect(mode="http", base_url=sys.argv[1], api_key=sys.argv[2])
seen["connect"] = server_side()
folder = Path(sys.argv[3])
(folder / "list.csv").write_text("item,price,pack\\nFlour,2.00,1 kg\\nSalt,1.00,1 kg\\n")
(folder / "recipes.csv").write_text(
    "recipe,yield_qty,yield_unit,menu_price,kind,item,qty,unit,waste_pct\\n"
    "Bread,1,each,,ingredient,Flour,500,g,\\n")
c.add_ingredient("Butter", unit="g", density="0.9")
c.add_alias("Butter", "Beurre")
c.update_cost("Butter", "8.00", per="1 kg", idempotency_key="k-butter")
c.import_price_list(folder / "list.csv", idempotency_key="k-list", supplier="S")
rows = c.import_price_list([{"item": "Sugar", "price": "3", "pack": "1 kg"}],
                           idempotency_key="k-rows", supplier="S")
c.import_rejections(rows.batch_id)
c.import_recipes(folder / "recipes.csv", idempotency_key="k-recipes")
c.save_recipe("Roux", yield_qty=1, yield_unit="kg",
              lines=[{"ingredient": "Butter", "qty": 500, "unit": "g"}])
c.delete_recipe("Roux"); c.restore_recipe("Roux")
c.delete_ingredient("Sugar"); c.restore_ingredient("Sugar")
c.recompute(); c.recompute(recipes=["Bread"])
for read in (c.ingredients, c.recipes, c.cost_history, c.imports, c.sanity, c.events,
             c.event_counts):
    read()
c.recipe_breakdown("Bread")
c.explain_change("Bread", since="2000-01-01T00:00:00Z")
c.recipes(as_of="2000-01-01T00:00:00Z"); c.what_if({"Butter": "+20%", "Flour": "9.50/kg"})
c.events(since="2000-01-01T00:00:00Z", until="2100-01-01T00:00:00Z", types=["recipe.saved"])
c.export_events(folder / "events.csv", since="2000-01-01T00:00:00Z", until="2100-01-01T00:00:00Z")
refused = []
for bad in (lambda: c.events(since=5), lambda: c.event_counts(window=3),
            lambda: c.update_cost("Butter", "1", per="kg", idempotency_key=""),
            lambda: c.export_events(folder / "x.txt", since="2000-01-01", until="2100-01-01"),
            lambda: c.import_price_list(folder / "gone.csv", idempotency_key="k-gone", supplier="S"),
            lambda: c.import_price_list(b"", idempotency_key="k-bytes", supplier="S"),
            lambda: c.import_recipes(folder / "gone.csv", idempotency_key="k-gone"),
            lambda: c.import_recipes(5, idempotency_key="k-five")):
    try:
        bad()
    except MOError as err:
        refused.append(err.code.value)
c.close()
seen["used"] = server_side()
print(json.dumps({"seen": seen, "refused": refused}))
"""


@pytest.mark.parametrize("backend", ["duckdb"])  # the client's imports do not depend on it
def test_the_http_client_imports_nothing_server_side(
    api_server: Any, api_keys: dict[str, str], tmp_path: Path
) -> None:
    run = subprocess.run(
        [sys.executable, "-c", HTTP_ONLY_SCRIPT, api_server.base_url, api_keys["acme"],
         str(tmp_path), ",".join(SERVER_SIDE)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "MO_API_MODE": "http", "MO_DB_URL": "duckdb:///nowhere.duckdb"},
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["refused"] == ["validation_error"] * 4 + ["not_found"] + ["validation_error"] * 3, report
    assert report["seen"] == {"import mo.client.http": [], "connect": [], "used": []}, report
    assert (tmp_path / "events.csv").stat().st_size > 0


# ---- HttpClient's code, read: every import it can run, function-level ones included -------------

# What the HTTP client's modules may import of mo; a package's __init__ runs only its module-level
# imports when a submodule loads (mo.client's connect() imports LocalClient only for local mode).
HTTP_CLIENT_MAY_USE = ("mo.client", "mo.domain", "mo.util", "mo.errors", "mo.settings")
HTTP_CLIENT_MAY_NOT_USE = ("mo.client.local",)


def _source_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    return next((p for p in (base / "__init__.py", base.with_suffix(".py")) if p.is_file()), None)


def _is_type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _run_on_import(tree: ast.Module) -> ast.Module:
    """A package's statements that run when one of its submodules is imported."""
    body = [
        node for node in tree.body
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not _is_type_checking(node)
    ]
    return ast.Module(body=body, type_ignores=[])


def _http_side_problem(target: str) -> bool:
    if _within(target, SERVER_SIDE) or _within(target, HTTP_CLIENT_MAY_NOT_USE):
        return True
    return _within(target, ("mo",)) and target != "mo" and not _within(target, HTTP_CLIENT_MAY_USE)


def _with_packages(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts) + 1)]


def http_client_violations(*, replaced: dict[str, str] | None = None) -> tuple[set[str], list[str]]:
    """The mo modules HttpClient loads (following imports from mo.client.http), and every import
    among them of a server-side or unlisted module. `replaced` swaps a module's source (samples)."""
    replaced = replaced or {}
    seen: set[str] = set()
    todo = _with_packages("mo.client.http")
    violations: list[str] = []
    while todo:
        module = todo.pop()
        path = _source_file(module)
        if module in seen or path is None:
            continue
        seen.add(module)
        tree = ast.parse(replaced.get(module) or path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        scope = _run_on_import(tree) if is_package else tree
        for line, target in _imported_modules(scope, module=module, is_package=is_package):
            if _http_side_problem(target):
                violations.append(f"{module}:{line}: imports {target}")
            elif target.startswith("mo."):
                todo += _with_packages(target)
    return seen, violations


def test_the_http_client_code_imports_nothing_server_side() -> None:
    seen, violations = http_client_violations()
    assert {"mo.client.http", "mo.client.wire", "mo.client.frames", "mo.domain.checks"} <= seen
    assert "mo.client.local" not in seen, seen
    assert not violations, "\n".join(violations)


BAD_HTTP_CLIENT_CODE = {
    "services in a method": (
        "mo.client.http",
        "def check(source):\n    from mo.services.imports import read_price_list\n",
    ),
    "driver in a helper": ("mo.client.wire", "def f():\n    import duckdb\n"),
    "store, relative": ("mo.client.frames", "from ..store import base\n"),
    "the local client": ("mo.client.http", "from mo.client.local import LocalClient\n"),
    "api under type checking": (
        "mo.client.wire",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from mo.api import app\n",
    ),
    "services, reached through the domain": (
        "mo.domain.checks",
        "def f():\n    import mo.services.costs\n",
    ),
}


@pytest.mark.parametrize("case", list(BAD_HTTP_CLIENT_CODE))
def test_the_http_client_check_catches_a_server_side_import(case: str) -> None:
    module, sample = BAD_HTTP_CLIENT_CODE[case]
    source = _source_file(module).read_text(encoding="utf-8")  # type: ignore[union-attr]
    # Each module sampled is one mo.client.http loads, so the sample is read as HttpClient's.
    _seen, violations = http_client_violations(replaced={module: source + "\n" + sample})
    assert any(v.startswith(f"{module}:") for v in violations), violations


def test_the_http_client_check_leaves_a_package_function_alone() -> None:
    # mo.client's connect() imports LocalClient for local mode: it does not run for HttpClient.
    sample = "def local():\n    from mo.client.local import LocalClient\n"
    source = _source_file("mo.client").read_text(encoding="utf-8")  # type: ignore[union-attr]
    seen, violations = http_client_violations(replaced={"mo.client": source + "\n" + sample})
    assert "mo.client.local" not in seen
    assert all(not v.startswith("mo.client:") for v in violations), violations
