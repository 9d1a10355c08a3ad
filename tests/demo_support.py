"""The demo tenant as tests seed it (one definition): demo/ingredients.csv through the client."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import mo

DEMO = Path(__file__).resolve().parents[1] / "demo"


def seed_demo(url: str, *, price_lists: Sequence[tuple[str, str]] = ()) -> None:
    """Tenant "demo" (Harbour Kitchen) in the database at url, with every ingredient of
    demo/ingredients.csv, then each (file in demo/, supplier) price list imported."""
    mo.create_tenant("demo", name="Harbour Kitchen", db_url=url)
    with mo.LocalClient("demo", db_url=url) as client:
        with (DEMO / "ingredients.csv").open(newline="") as handle:
            for row in csv.DictReader(handle):
                client.add_ingredient(
                    row["name"],
                    unit=row["unit"],
                    category=row["category"] or None,
                    density=row["density"] or None,
                    yield_pct=row["yield_pct"] or None,
                )
        for name, supplier in price_lists:
            client.import_price_list(
                DEMO / name, supplier=supplier, idempotency_key=f"seed-{supplier}"
            )
