"""nbval support: `pytest --nbval-lax notebooks/` runs every notebook against a seeded demo tenant.

nbval cannot pass notebook parameters, so the notebooks run with their defaults (interactive
True: the forms are built, nothing is clicked). Before the first notebook's kernel starts, this
seeds a fresh DuckDB file in a temp folder — the demo ingredients, the FreshCo and Metro price
lists, the recipes — and points the kernels at it through the environment they inherit, set
only while notebook cells run (the rest of the session keeps its own environment):

    MO_DB_URL       the seeded file            MO_TENANT       demo
    MO_API_MODE     local                      MO_PROJECT_DIR  the repository (relative paths)
    MO_LOUD_ERRORS  1: an MOError fails the cell visibly (nbval sees only error outputs)
    TQDM_DISABLE    1

Nothing here runs unless nbval is active, so a plain `pytest notebooks/` stays cheap.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo"
METRO_COLUMNS = {
    "Description": "item",
    "Product Code": "sku",
    "Pack Size": "pack",
    "Case Price": "price",
    "Dept": "category",
}
_SAVED: dict[str, str | None] = {}
_FOLDER: list[str] = []


def _nbval_active(config: pytest.Config) -> bool:
    return bool(
        config.getoption("nbval", default=False) or config.getoption("nbval_lax", default=False)
    )


def seed_demo(url: str) -> None:
    """The demo tenant with ingredients, both suppliers' lists and the recipes, costed."""
    import mo
    from mo.cli.demo import add_demo_ingredients

    mo.create_tenant("demo", name="Harbour Kitchen", db_url=url)
    with mo.LocalClient("demo", db_url=url) as client:
        add_demo_ingredients(client, folder=DEMO)
        client.import_price_list(
            DEMO / "supplier_freshco.csv", supplier="FreshCo", idempotency_key="nbval-freshco"
        )
        client.import_price_list(
            DEMO / "supplier_metro.csv",
            supplier="Metro",
            columns=METRO_COLUMNS,
            idempotency_key="nbval-metro",
        )
        client.import_recipes(DEMO / "recipes.csv", idempotency_key="nbval-recipes")
        client.recompute()


def _kernel_env() -> dict[str, str]:
    if not _FOLDER:  # seeded once, on the first notebook, so other test runs never pay for it
        _FOLDER.append(tempfile.mkdtemp(prefix="mo-nbval-"))
        seed_demo(f"duckdb:///{Path(_FOLDER[0]) / 'demo.duckdb'}")  # closed before kernels start
    return {
        "MO_DB_URL": f"duckdb:///{Path(_FOLDER[0]) / 'demo.duckdb'}",
        "MO_TENANT": "demo",
        "MO_API_MODE": "local",
        "MO_PROJECT_DIR": str(ROOT),
        "MO_LOUD_ERRORS": "1",
        "TQDM_DISABLE": "1",
    }


def _here(item: pytest.Item | None) -> bool:
    return item is not None and Path(str(item.path)).resolve().is_relative_to(ROOT / "notebooks")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before nbval's own setup starts the notebook's kernel, which copies os.environ. Set only
    # while notebook cells run: the rest of the session must not see this database.
    if not _here(item) or not _nbval_active(item.config) or _SAVED:
        return
    for key, value in _kernel_env().items():
        _SAVED[key] = os.environ.get(key)
        os.environ[key] = value


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if _here(nextitem):
        return
    for key, value in _SAVED.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _SAVED.clear()


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _FOLDER:
        shutil.rmtree(folder, ignore_errors=True)
