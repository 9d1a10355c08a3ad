"""One scripted kitchen, run in every configuration: (duckdb, postgres) × (local, http).

The scenario covers ingredients, aliases, two price-list imports (and a duplicate and a replay),
cost updates, nested recipes, a recipe import, soft deletes, a recompute and a run of bad
inputs. Each run gives a transcript — every call's result or error, the recipes() table and the
exported event stream, with ids and timestamps left out — and all transcripts must be identical.
"""

from __future__ import annotations

import json
import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import psycopg
import pytest

import mo
from mo.api.server import BackgroundServer
from mo.client import MOClient

TENANT = "parity"
ID_KEYS = frozenset(
    {
        "id",
        "event_id",
        "batch_id",
        "cost_id",
        "duplicate_of",
        "aggregate_id",
        "ingredient_id",
        "recipe_id",
        "prefix",
    }
)  # prefix: the random head of an API key
TIME_KEYS = frozenset({"occurred_at", "computed_at", "created_at", "generated_at"})

PRICES_WEEK1 = """item,sku,price,pack,category,unit
plain flour,F-25,20.00,25 kg,dry goods,
Butter,B-1,4.40,500 g,dairy,
Milk,M-1,1.20,1 l,dairy,
Vanilla,V-1,12.00,100 ml,flavour,ml
"""
PRICES_WEEK2 = pd.DataFrame(
    {
        "Description": ["FLOUR", "Butter", "Sugar"],
        "Code": ["F-25", "B-1", "S-1"],
        "Case Price": ["22.50", "4.40", "3.10"],
        "Pack Size": ["25 kg", "500 g", "2 kg"],
    }
)
# The nested recipes the scenario saves, in order (step -> save_recipe's arguments).
NESTED_RECIPES: dict[str, dict[str, Any]] = {
    "dough": {
        "name": "Dough", "yield_qty": "1", "yield_unit": "kg",
        "lines": [
            {"ingredient": "flour", "qty": "600", "unit": "g"},
            {"ingredient": "beurre", "qty": "400", "unit": "g", "waste_pct": "5"},
        ],
    },
    "custard": {
        "name": "Custard", "yield_qty": "1", "yield_unit": "l",
        "lines": [
            {"ingredient": "milk", "qty": "800", "unit": "ml"},
            {"ingredient": "egg", "qty": 8, "unit": "each"},
            {"ingredient": "sugar", "qty": "120", "unit": "g"},
            {"ingredient": "vanilla", "qty": "5", "unit": "ml"},
        ],
    },
    "tart": {
        "name": "Tart", "yield_qty": 8, "yield_unit": "each", "menu_price": "4.50",
        "lines": [
            {"recipe": "dough", "qty": "500", "unit": "g"},
            {"recipe": "custard", "qty": "0.75", "unit": "l"},
        ],
    },
}
RECIPES_CSV = """recipe,yield_qty,yield_unit,menu_price,kind,item,qty,unit,waste_pct
Sponge,1,kg,,ingredient,Flour,300,g,
Sponge,1,kg,,ingredient,Egg,6,each,
Sponge,1,kg,,ingredient,Sugar,250,g,
Trifle,10,each,6.00,recipe,Sponge,1,kg,
Trifle,10,each,6.00,recipe,Custard,1.5,l,
"""


# ---- the scenario ------------------------------------------------------------------------------------


class Transcript:
    """What a run did: each step's outcome, keyed by step name, with volatile fields removed."""

    def __init__(self, client: MOClient) -> None:
        self.client, self.steps = client, {}  # type: ignore[var-annotated]

    def do(self, step: str, call: Callable[[MOClient], Any]) -> Any:
        try:
            value = call(self.client)
        except mo.MOError as err:
            self.steps[step] = {"error": scrub(err.to_dict()["error"])}
            return None
        self.steps[step] = outcome(value)
        return value


def outcome(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        kept = value.drop(columns=[c for c in value.columns if c in ID_KEYS | TIME_KEYS])
        return {
            "dtypes": [str(t) for t in kept.dtypes],
            "rows": [[repr(v) for v in row] for row in kept.itertuples(index=False, name=None)],
        }
    if hasattr(value, "to_dict"):
        return scrub(value.to_dict())
    return value


def scrub(value: Any) -> Any:
    """value without ids and wall-clock times, at any depth (payloads included)."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if k not in ID_KEYS | TIME_KEYS}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def run_scenario(client: MOClient, folder: Path) -> dict[str, Any]:
    t = Transcript(client)
    week1 = folder / "week1.csv"
    week1.write_text(PRICES_WEEK1, encoding="utf-8")
    recipes_csv = folder / "recipes.csv"
    recipes_csv.write_text(RECIPES_CSV, encoding="utf-8")
    week2_columns = {
        "Description": "item",
        "Code": "sku",
        "Case Price": "price",
        "Pack Size": "pack",
    }
    jan, feb, mar = (datetime(2024, m, 1, tzinfo=UTC) for m in (1, 2, 3))

    # Ingredients and aliases.
    t.do("flour", lambda c: c.add_ingredient("Flour", unit="g", category="dry goods"))
    t.do("butter", lambda c: c.add_ingredient("Butter", unit="g", category="dairy"))
    t.do("milk", lambda c: c.add_ingredient("Milk", unit="ml", density="1.03"))
    t.do("egg", lambda c: c.add_ingredient("Egg", unit="each", yield_pct="88"))
    t.do("sugar", lambda c: c.add_ingredient("Sugar", unit="kg"))
    t.do("alias flour", lambda c: c.add_alias("flour", "Plain flour"))
    t.do("alias butter", lambda c: c.add_alias("Butter", "Beurre"))

    # Two imports, a duplicate of the first and a replay of the second.
    def import_week1(c: MOClient, *, key: str, supplier: str) -> Any:
        return c.import_price_list(week1, idempotency_key=key, supplier=supplier, effective_at=jan)

    def import_week2(c: MOClient) -> Any:
        return c.import_price_list(
            PRICES_WEEK2, idempotency_key="imp-2", supplier="Metro", effective_at=feb,
            columns=week2_columns,
        )

    t.do("import week1", lambda c: import_week1(c, key="imp-1", supplier="Bakers Supply"))
    t.do("import week2", import_week2)
    t.do("import week1 again", lambda c: import_week1(c, key="imp-3", supplier="bakers supply"))
    t.do("replay week2", import_week2)

    # Manual cost updates, a no-op and a replay.
    def egg_cost(c: MOClient) -> Any:
        return c.update_cost(
            "egg", "3.60", per="12 each", idempotency_key="c-1", effective_at=jan,
            supplier="Farm", note="free range",
        )

    t.do("egg cost", egg_cost)
    t.do(
        "flour cost",
        lambda c: c.update_cost(
            "Plain flour", Decimal("24.00"), per="25 kg", idempotency_key="c-2", effective_at=mar
        ),
    )
    t.do(
        "flour same cost",
        lambda c: c.update_cost(
            "flour", "24", per="25000 g", idempotency_key="c-3", effective_at=mar
        ),
    )
    t.do("egg replay", egg_cost)

    # Nested recipes, then a recipe import that uses them.
    for step, recipe in NESTED_RECIPES.items():
        t.do(step, lambda c, recipe=recipe: c.save_recipe(**recipe))
    t.do("import recipes", lambda c: c.import_recipes(recipes_csv, idempotency_key="rec-1"))

    # Soft deletes, then a recompute.
    t.do("delete vanilla", lambda c: c.delete_ingredient("Vanilla"))
    t.do("delete sponge", lambda c: c.delete_recipe("sponge"))
    t.do("recompute", lambda c: c.recompute())
    t.do("recompute tart", lambda c: c.recompute(recipes=["Tart"]))

    # Bad inputs: each must fail the same way everywhere, and change nothing.
    for step, call in BAD_INPUTS.items():
        t.do(step, call)

    # Reads, exact: the transcripts compare every Decimal's repr.
    t.do("recipes", lambda c: c.recipes(include_deleted=True, exact=True))
    t.do("breakdown", lambda c: c.recipe_breakdown("tart", exact=True))
    t.do("ingredients", lambda c: c.ingredients(include_deleted=True, exact=True))
    t.do("cost history", lambda c: c.cost_history(exact=True))
    t.do("imports", lambda c: c.imports())
    t.do("sanity", lambda c: c.sanity())
    return {"steps": t.steps, "events": exported_events(client, folder)}


BAD_INPUTS: dict[str, Callable[[MOClient], Any]] = {
    "bad: duplicate name": lambda c: c.add_ingredient("PLAIN FLOUR", unit="g"),
    "bad: unknown unit": lambda c: c.add_ingredient("Salt", unit="pinch-ish"),
    "bad: price": lambda c: c.update_cost("Flour", "free", per="kg", idempotency_key="bad-1"),
    "bad: unit mismatch": lambda c: c.update_cost("Egg", "1", per="kg", idempotency_key="bad-2"),
    "bad: key reuse": lambda c: c.update_cost("egg", "9.99", per="12 each", idempotency_key="c-1"),
    "bad: no key": lambda c: c.update_cost("egg", "1", per="each", idempotency_key=None),  # type: ignore[arg-type]
    "bad: cycle": lambda c: c.save_recipe(
        "Dough", yield_qty=1, yield_unit="kg", lines=[{"recipe": "Tart", "qty": 1, "unit": "each"}]
    ),
    "bad: recipe line": lambda c: c.save_recipe(
        "Scone",
        yield_qty=1,
        yield_unit="each",
        lines=[{"ingredient": "Flour", "qty": "lots", "unit": "g"}],
    ),
    "bad: import rows": lambda c: c.import_price_list(
        [
            {"item": "Flour", "price": "-2", "pack": "1 kg"},
            {"item": "", "price": "1", "pack": "1 kg"},
        ],
        idempotency_key="bad-3",
        supplier="Bakers Supply",
    ),
    "bad: deleted ingredient": lambda c: c.update_cost(
        "Vanilla", "1", per="ml", idempotency_key="bad-4"
    ),
    "bad: unknown recipe": lambda c: c.recipe_breakdown("Pavlova"),
    "bad: event window": lambda c: c.events(since="2025-01-01", until="2024-01-01"),
}


def exported_events(client: MOClient, folder: Path) -> list[dict[str, Any]]:
    """The tenant's whole event log, exported as JSONL, without ids and timestamps.

    Events of one transaction share its timestamp and are ordered by id, and a set-based
    INSERT…SELECT (recompute) assigns ids in an order the SQL leaves open; with ids ignored,
    events of one timestamp are compared as a set (sorted by content). Transactions keep
    their order.
    """
    result = client.export_events(folder / "events.jsonl", since="2000-01-01", until="2200-01-01")
    events = [
        json.loads(line) for line in Path(result.path).read_text(encoding="utf-8").splitlines()
    ]
    assert len(events) == result.rows
    groups: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        groups.setdefault(event["occurred_at"], []).append(
            scrub({**event, "payload": json.loads(event["payload"])})
        )
    return [
        e
        for _, group in sorted(groups.items())
        for e in sorted(group, key=lambda e: json.dumps(e, sort_keys=True))
    ]


# ---- the four configurations --------------------------------------------------------------------------


@contextmanager
def fresh_database(backend: str, folder: Path, pg_url: str | None) -> Iterator[str]:
    if backend == "duckdb":
        yield f"duckdb:///{folder / 'mo.duckdb'}"
        return
    assert pg_url is not None
    schema = f"mo_parity_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        sep = "&" if "?" in pg_url else "?"
        yield f"{pg_url}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def client_for(mode: str, db_url: str) -> Iterator[MOClient]:
    # The PostgreSQL schema is empty: mo migrate first (open_store refuses a schema behind the code).
    from mo.store import connect_store, migrations

    with connect_store(db_url) as store:
        migrations.migrate(store)
    mo.create_tenant(TENANT, name="Parity Kitchen", db_url=db_url)
    key = mo.create_api_key(TENANT, db_url=db_url)  # in both modes, so both event logs start alike
    if mode == "local":
        with mo.LocalClient(TENANT, db_url=db_url) as client:
            yield client
        return
    with (
        BackgroundServer(db_url=db_url) as server,
        mo.HttpClient(server.base_url, api_key=key) as client,
    ):
        yield client


def configurations(pg_url: str | None) -> list[tuple[str, str]]:
    backends = ["duckdb", "postgres"]
    if pg_url is None:
        message = "PostgreSQL is not reachable: the parity run covers duckdb × (local, http) only"
        if os.environ.get("MO_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        warnings.warn(message, stacklevel=2)
        backends = ["duckdb"]
    return [(backend, mode) for backend in backends for mode in ("local", "http")]


def test_the_scenario_is_identical_in_every_configuration(
    pg_url: str | None, tmp_path: Path
) -> None:
    transcripts: dict[str, dict[str, Any]] = {}
    for backend, mode in configurations(pg_url):
        folder = tmp_path / f"{backend}-{mode}"
        folder.mkdir()
        with fresh_database(backend, folder, pg_url) as db_url, client_for(mode, db_url) as client:
            transcripts[f"{backend}-{mode}"] = run_scenario(client, folder)
    (reference_name, reference), *others = transcripts.items()
    sanity_check(reference)
    for name, transcript in others:
        for step, expected in reference["steps"].items():
            assert transcript["steps"][step] == expected, (
                f"{name} differs from {reference_name} at {step!r}"
            )
        assert transcript["events"] == reference["events"], (
            f"{name}'s event stream differs from {reference_name}'s"
        )
    print(
        f"\nparity: {', '.join(transcripts)} — {len(reference['steps'])} steps, {len(reference['events'])} events"
    )


def sanity_check(transcript: dict[str, Any]) -> None:
    """The scenario did what it says, so identical transcripts mean identical behaviour."""
    steps = transcript["steps"]
    assert all("error" in steps[step] for step in BAD_INPUTS), [
        s for s in BAD_INPUTS if "error" not in steps[s]
    ]
    failed = [
        s
        for s, out in steps.items()
        if isinstance(out, dict) and "error" in out and s not in BAD_INPUTS
    ]
    assert not failed, {s: steps[s] for s in failed}
    assert (
        steps["import week1"]["status"] == "completed"
        and steps["import week1 again"]["status"] == "duplicate"
    )
    assert steps["replay week2"]["replayed"] is True and steps["egg replay"]["replayed"] is True
    assert steps["flour same cost"]["changed"] is False
    types = [e["event_type"] for e in transcript["events"]]
    for expected in (
        "ingredient.alias_added",
        "import.completed",
        "ingredient.cost.updated",
        "recipe.saved",
        "recipes.imported",
        "ingredient.deleted",
        "recipe.deleted",
        "recipe.recomputed",
    ):
        assert expected in types, expected
