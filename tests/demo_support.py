"""The demo tenant as tests seed it (one definition): demo/ingredients.csv through the client."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import mo
from mo.cli.demo import add_demo_ingredients

DEMO = Path(__file__).resolve().parents[1] / "demo"


def seed_demo(url: str, *, price_lists: Sequence[tuple[str, str]] = ()) -> None:
    """Tenant "demo" (Harbour Kitchen) in the database at url, with every ingredient of
    demo/ingredients.csv, then each (file in demo/, supplier) price list imported."""
    mo.create_tenant("demo", name="Harbour Kitchen", db_url=url)
    with mo.LocalClient("demo", db_url=url) as client:
        add_demo_ingredients(client, folder=DEMO)
        for name, supplier in price_lists:
            client.import_price_list(
                DEMO / name, supplier=supplier, idempotency_key=f"seed-{supplier}"
            )
