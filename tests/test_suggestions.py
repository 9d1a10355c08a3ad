"""not_found for an ingredient or recipe names up to three close matches (issue #16, item 6),
identically from LocalClient and HttpClient (through a real `mo serve`), on both backends, and
only among the tenant's own active names."""

from __future__ import annotations

import pytest
from client_fixtures import error_of, error_tuple

import mo
from mo.client.base import MOClient

CALLS = {
    "update_cost": lambda c, n: c.update_cost(n, "1", per="kg", idempotency_key="k"),
    "cost_history": lambda c, n: c.cost_history(n),
    "add_alias": lambda c, n: c.add_alias(n, "alias"),
    "delete_ingredient": lambda c, n: c.delete_ingredient(n),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_an_unknown_ingredient_suggests_close_names(
    client: MOClient, twin: MOClient, call: str
) -> None:
    for name in ("Onion", "Red onion", "Spring onion", "Salt", "Onion powder"):
        client.add_ingredient(name, unit="g")
    err = error_of(lambda: CALLS[call](client, "onoin"))
    assert err.code is mo.ErrorCode.NOT_FOUND
    assert err.details["suggestions"][0] == "Onion" and len(err.details["suggestions"]) <= 3
    assert "Salt" not in err.details["suggestions"]
    assert "did you mean 'Onion'" in err.message
    assert error_tuple(err) == error_tuple(error_of(lambda: CALLS[call](twin, "onoin")))


def test_an_unknown_recipe_suggests_close_names(client: MOClient, twin: MOClient) -> None:
    client.add_ingredient("Flour", unit="g")
    line = [{"ingredient": "Flour", "qty": 1, "unit": "kg"}]
    client.save_recipe("Sourdough Bread", yield_qty=1, yield_unit="loaf", lines=line)
    for call in (
        lambda c: c.recompute(recipes=["sourdough bred"]),
        lambda c: c.recipe_breakdown("sourdough bred"),
        lambda c: c.delete_recipe("sourdough bred"),
    ):
        err = error_of(lambda call=call: call(client))
        assert err.details["suggestions"] == ["Sourdough Bread"]
        assert error_tuple(err) == error_tuple(error_of(lambda call=call: call(twin)))


def test_suggestions_skip_deleted_names_and_other_tenants(
    client: MOClient, other_client: MOClient
) -> None:
    other_client.add_ingredient("Onion", unit="g")
    client.add_ingredient("Onion powder", unit="g")
    client.delete_ingredient("Onion powder")
    err = error_of(lambda: client.cost_history("onoin"))
    assert err.details["suggestions"] == [] and "did you mean" not in err.message
