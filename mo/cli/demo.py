"""`make demo`: Harbour Kitchen end to end on the embedded DuckDB default, from a clean clone.

1. A fresh DuckDB file, migrated on open, with the tenant demo: built next to var/demo.duckdb
   and swapped in at the end, never while another process has var/demo.duckdb open and never
   over a database holding other tenants (see install).
2. Through the client: the 61 demo ingredients.
3. Headless notebooks (mo.cli.run, audit records under runs/<date>/) and client calls, in order:
   import_price_list (FreshCo), import_price_list (Metro, its own headers mapped),
   recipes imported through the client, recipe_costs, import_price_list (FreshCo week 2),
   update_cost, recipe_costs again (movers since the first), what_if (butter up 20 %, salmon
   down 5 %: which dishes cross 25 %), event_sanity, parity_export.
4. A summary: recipes costed, incomplete ones, biggest movers, event counts, and where the
   executed notebooks and exports are.

Stops at the first failing step with its error; exit status 0 only when every step ran.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import mo
from mo.cli.run import RunResult, run_notebook
from mo.errors import ErrorCode, MOError
from mo.settings import db_lock_timeout
from mo.store.duckdb_sharing import FileContents, replace_file
from mo.store.duckdb_store import translate

DEMO_DIR = Path("demo")
DEMO_DB = Path("var") / "demo.duckdb"
EXPORT_DIR = Path("var") / "exports"
TENANT = "demo"
METRO_COLUMNS = {
    "Description": "item",
    "Product Code": "sku",
    "Pack Size": "pack",
    "Case Price": "price",
    "Dept": "category",
}
# One manual price change, as a chef would type it: salmon went up at the market.
MANUAL_COST = {
    "ingredient": "salmon fillet",
    "price": "58.90",
    "per": "3 kg",
    "supplier": "FreshCo",
    "note": "market price, demo",
}


@dataclass
class DemoRun:
    """The demo's database, what ran, and what it produced."""

    url: str
    runs: list[RunResult] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)

    def client(self) -> mo.MOClient:
        # Opened per step and closed before any notebook runs: one DuckDB file, one writer.
        return mo.LocalClient(TENANT, db_url=self.url)

    def notebook(self, name: str, **parameters: str) -> RunResult:
        """Run notebooks/<name>.ipynb headless against the demo database; raise on failure."""
        env = {"MO_DB_URL": self.url, "MO_TENANT": TENANT, "MO_API_MODE": "local"}
        result = run_notebook(Path("notebooks") / f"{name}.ipynb", parameters=parameters, env=env)
        self.runs.append(result)
        print(result.summary(), flush=True)
        if not result.ok:
            raise DemoStepError(result.summary())
        return result


class DemoStepError(Exception):
    """A demo step failed; its message says which and why."""


def building_path() -> Path:
    """Where this run builds its demo: next to var/demo.duckdb, swapped in only when complete."""
    DEMO_DB.parent.mkdir(parents=True, exist_ok=True)
    building = DEMO_DB.with_name(f"{DEMO_DB.stem}.building-{os.getpid()}.duckdb")
    remove_building(building)
    return building


def remove_building(building: Path) -> None:
    for suffix in ("", ".wal", ".waiters"):
        building.with_name(building.name + suffix).unlink(missing_ok=True)


def fresh_database(path: Path) -> str:
    """Create tenant demo in a new file at `path`; return its URL."""
    url = f"duckdb:///{path.resolve()}"
    tenant = mo.create_tenant(TENANT, name="Harbour Kitchen", db_url=url)
    print(f"database  {url}\ntenant    {tenant.slug} — {tenant.name}", flush=True)
    return url


def install(built: Path, target: Path = DEMO_DB, *, timeout_s: float | None = None) -> None:
    """Put the finished demo file in place of `target`.

    Never under another process: `target` is taken first, waiting for its holder like any
    call up to MO_DB_LOCK_TIMEOUT (then `unavailable` naming it); a process that had it open
    gets `database_replaced` on its next call instead of writing into the new file. Never over
    a database that is not a demo: `conflict` when it holds tenants other than demo.
    """
    wait_s = db_lock_timeout() if timeout_s is None else timeout_s
    replace_file(str(built), str(target), timeout_s=wait_s, translate=translate,
                 check=lambda held: _only_the_demo(held, target))


def _only_the_demo(held: FileContents, target: Path) -> None:
    if not held.tables or held.tenants in ((), (TENANT,)):
        return  # an empty file or the demo's own: nothing of anyone else's to lose
    raise MOError(
        ErrorCode.CONFLICT,
        f"{target} is not a demo database (tenants: {', '.join(held.tenants or ()) or 'none'}); "
        "`make demo` will not replace it — move it away first",
        {"file": str(target), "tenants": list(held.tenants) if held.tenants is not None else None},
    )


def add_ingredients(demo: DemoRun) -> None:
    """Every row of demo/ingredients.csv through client.add_ingredient."""
    with demo.client() as client:
        added = add_demo_ingredients(client)
    print(f"ok      {added} ingredients added", flush=True)


def add_demo_ingredients(client: mo.MOClient, *, folder: Path = DEMO_DIR) -> int:
    """Add every row of <folder>/ingredients.csv through the client; how many rows there were.
    (The test suites seed their demo tenants with it too.)"""
    with (folder / "ingredients.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        client.add_ingredient(
            row["name"],
            unit=row["unit"],
            category=row["category"] or None,
            density=row["density"] or None,
            yield_pct=row["yield_pct"] or None,
        )
    return len(rows)


def import_recipes(demo: DemoRun) -> None:
    """demo/recipes.csv through client.import_recipes (all or nothing)."""
    with demo.client() as client:
        result = client.import_recipes(DEMO_DIR / "recipes.csv", idempotency_key="demo-recipes-v1")
    print(f"ok      {result.recipes} recipes, {result.lines} lines imported", flush=True)


def price_list(demo: DemoRun, file: str, supplier: str, **extra: str) -> None:
    demo.notebook("import_price_list", path=str(DEMO_DIR / file), supplier=supplier, **extra)


def run_steps(demo: DemoRun) -> datetime:
    """Every step in order; returns when the first costing ran (the movers' baseline)."""
    add_ingredients(demo)
    price_list(demo, "supplier_freshco.csv", "FreshCo")
    price_list(demo, "supplier_metro.csv", "Metro", columns=json.dumps(METRO_COLUMNS))
    import_recipes(demo)
    baseline = datetime.now(UTC)
    demo.notebook("recipe_costs")
    price_list(demo, "supplier_freshco_week2.csv", "FreshCo")
    demo.notebook("update_cost", **MANUAL_COST)
    demo.notebook("recipe_costs", since=baseline.isoformat(), recipe="Chicken Pie")
    demo.notebook("what_if", prices=json.dumps({"butter": "+20%", "salmon fillet": "-5%"}),
                  target_pct="25")
    demo.notebook("event_sanity", window="1h")
    demo.notebook("parity_export", out_dir=str(EXPORT_DIR), format="csv")
    return baseline


# ---- the summary ----------------------------------------------------------------------


def movers(
    client: mo.MOClient, *, since: datetime, top: int = 5
) -> list[tuple[str, Decimal, Decimal]]:
    """(recipe, total then, total now) of the recipes whose cost moved most since `since`: every
    active recipe costed as of `since` (the costs in effect then, over its current lines;
    nothing written) against its cost now. A recipe without a total then is not a move."""
    then = client.recipes(as_of=since, exact=True).set_index("name")["total_cost"]
    now = client.recipes(exact=True).set_index("name")["total_cost"]
    moved = [
        (name, then[name], after)
        for name, after in now.items()
        if name in then.index and then[name] and after is not None and after != then[name]
    ]
    return sorted(moved, key=lambda m: abs((m[2] - m[1]) / m[1]), reverse=True)[:top]


def price_lines(client: mo.MOClient, *, since: datetime, top: int = 3) -> list[str]:
    """How many chosen ingredient costs moved since `since`, and the biggest moves."""
    changes = client.price_changes(since=since, exact=True)
    moves = changes[changes["old_unit_cost"].notna()]
    lines = [f"prices    {len(moves)} ingredient cost changes since the first costing"]
    lines += [
        f"          {row.ingredient:<32} {row.old_unit_cost:>10.4f} → {row.new_unit_cost:>10.4f}"
        f"  ({row.change_pct:+.1f}%)"
        for row in moves.head(top).itertuples()
    ]
    return lines


def summary_lines(client: mo.MOClient, *, since: datetime) -> list[str]:
    """The closing report: costed, incomplete, movers, price changes, events; from the read
    models (recipes now and as of `since`, price_changes), not from event payloads."""
    costs = client.recipes()
    incomplete = costs[~costs["complete"]]
    lines = [
        f"recipes   {int(costs['complete'].sum())} of {len(costs)} fully costed, "
        f"{len(incomplete)} incomplete"
    ]
    lines += [
        f"          incomplete: {row.name} (missing {row.missing})"
        for row in incomplete.itertuples()
    ]
    lines.append("movers    biggest recipe cost changes since the first costing:")
    for name, before, after in movers(client, since=since):
        pct = (after - before) / before * 100
        lines.append(f"          {name:<32} {before:>10.2f} → {after:>10.2f}  ({pct:+.1f}%)")
    lines += price_lines(client, since=since)
    counts = client.event_counts(window="24h")
    listed = ", ".join(f"{row.event_type} {row.events}" for row in counts.itertuples())
    lines.append(f"events    {int(counts['events'].sum())} in all: {listed}")
    return lines


def where_lines(demo: DemoRun) -> list[str]:
    """Where the executed notebooks and the exports are."""
    lines = ["notebooks executed (audit records):"] + [f"          {r.output}" for r in demo.runs]
    exports = sorted(EXPORT_DIR.glob("events-*")) if EXPORT_DIR.is_dir() else []
    lines += ["exports:"] + [f"          {p}" for p in exports]
    return lines


def main() -> int:
    """Run the demo; print what ran, where it is, and the summary. 0 on success, 1 on failure."""
    building = building_path()
    try:
        demo = DemoRun(fresh_database(building))
        baseline = run_steps(demo)
        with demo.client() as client:
            report = summary_lines(client, since=baseline)
        install(building)
        print(f"database  {DEMO_DB} (in place)", flush=True)
    except DemoStepError as failed:
        print(f"demo stopped: {failed}", file=sys.stderr)
        return 1
    except MOError as err:
        print(f"demo stopped: {json.dumps(err.to_dict(), default=str)}", file=sys.stderr)
        return 1
    finally:
        remove_building(building)
    print("\n".join(["", *where_lines(demo), "", *report, "", *first_run_lines(ENV_FILE)]))
    return 0


# ---- the first run: a .env so that `make lab` opens the demo ------------------------------

ENV_FILE = Path(".env")
ENV_EXAMPLE = Path(".env.example")


def demo_env_text(example: str) -> str:
    """.env.example with MO_DB_URL at the demo file and MO_TENANT=demo (relative: a .env's
    DuckDB path is read from the .env's own folder, so the project can move)."""
    wanted = {"MO_DB_URL": f"duckdb:///{DEMO_DB.as_posix()}", "MO_TENANT": TENANT}
    lines = [
        f"{line.split('=', 1)[0]}={wanted[line.split('=', 1)[0]]}"
        if line.split("=", 1)[0] in wanted
        else line
        for line in example.splitlines()
    ]
    missing = [f"{name}={value}" for name, value in wanted.items() if f"{name}=" not in example]
    return "\n".join(["# Written by `make demo`: the notebooks use the demo database.", *lines,
                      *missing]) + "\n"


def write_demo_env(path: Path = ENV_FILE) -> bool:
    """Create `path` for the demo unless it exists; True when written. Never overwrites:
    a .env someone wrote says where their data is."""
    example = ENV_EXAMPLE.read_text(encoding="utf-8") if ENV_EXAMPLE.is_file() else ""
    try:
        with path.open("x", encoding="utf-8") as handle:  # "x": fails if it exists, even racing
            handle.write(demo_env_text(example))
    except FileExistsError:
        return False
    return True


def first_run_lines(path: Path) -> list[str]:
    """Write the .env if there is none, and say what to run next."""
    if write_demo_env(path):
        told = [f"settings  wrote {path}: MO_DB_URL=duckdb:///{DEMO_DB.as_posix()}, "
                f"MO_TENANT={TENANT}"]
    else:
        told = [f"settings  {path} exists and was left alone; for the demo data set",
                f"          MO_DB_URL=duckdb:///{DEMO_DB.as_posix()} and MO_TENANT={TENANT} in it"]
    return [*told, "next      make lab    (JupyterLab on notebooks/, with the demo data)"]


if __name__ == "__main__":
    sys.exit(main())
