"""`make demo`: the main job on the embedded DuckDB default, from a clean clone.

Migrates a fresh DuckDB file, creates the demo tenant and prints the status.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mo import migrations
from mo.errors import MOError
from mo.services import tenants
from mo.store import open_store

DEMO_DB = Path("var") / "demo.duckdb"


def main() -> int:
    for stale in (DEMO_DB, DEMO_DB.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    url = f"duckdb:///{DEMO_DB.resolve()}"
    try:
        with open_store(url) as store:
            tenant = tenants.create_tenant(store, "demo", name="Harbour Kitchen")
            applied = migrations.status(store)
    except MOError as err:
        print(err.to_dict(), file=sys.stderr)
        return 1
    print(f"database  {url}")
    print(f"schema    {len(applied)} migrations applied ({applied[-1].script})")
    print(f"tenant    {tenant.slug} — {tenant.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
