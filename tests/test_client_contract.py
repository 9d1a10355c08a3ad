# ruff: noqa: F811  (pytest fixtures are imported from client_fixtures, then requested by name)
"""The MOClient contract, run in four configurations: (duckdb, postgres) × (local, http).

Every test states the same expectations for every configuration, and reads are also compared
with a LocalClient over the same database (`twin`): same columns, dtypes and exact values.
http mode talks to a real uvicorn server on a loopback port.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from client_fixtures import (  # noqa: F401  (fixtures)
    OTHER_TENANT,
    TENANT,
    api_keys,
    api_server,
    client,
    connect_as,
    error_of,
    error_tuple,
    mode,
    other_client,
    twin,
)

import mo
from mo.client import frames
from mo.client.base import MOClient


def signature(frame: pd.DataFrame) -> tuple[list[str], list[str], list[tuple[str, ...]]]:
    """Columns, dtypes and every value's repr: equal only when the tables are identical
    (Decimal("1.50") and Decimal("1.5") differ here, unlike under ==)."""
    rows = [tuple(repr(v) for v in row) for row in frame.itertuples(index=False, name=None)]
    return list(frame.columns), [str(t) for t in frame.dtypes], rows


def assert_schema(frame: pd.DataFrame, read: str, *, exact: bool = False) -> None:
    """The frame has exactly the declared columns of `read`, in order, with their dtypes
    (decimal columns: float64, or Decimal objects when read with exact=True)."""
    schema = frames.READ_SCHEMAS[read]
    assert list(frame.columns) == [name for name, _ in schema]
    decimals = frames.DTYPES["decimal"] if exact else frames.NUMBER_DTYPE
    dtypes = {**frames.DTYPES, "decimal": decimals}
    expected = [str(pd.api.types.pandas_dtype(dtypes[kind])) for _, kind in schema]
    assert [str(t) for t in frame.dtypes] == expected


def assert_same_read(client: MOClient, twin: MOClient, read: str, **kwargs: Any) -> pd.DataFrame:
    """The read is identical from both clients, as numbers and exact; the exact frame."""
    for exact in (False, True):
        ours = getattr(client, read)(**kwargs, exact=exact)
        reference = getattr(twin, read)(**kwargs, exact=exact)
        assert signature(ours) == signature(reference)
    return ours


def assert_same_error(
    client: MOClient, twin: MOClient, call: Callable[[MOClient], Any]
) -> mo.MOError:
    ours, reference = error_of(lambda: call(client)), error_of(lambda: call(twin))
    assert error_tuple(ours) == error_tuple(reference)
    return ours


def _public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(cls).items()
        if callable(member) and not name.startswith("_")
    }


def test_both_adapters_have_the_protocols_signatures() -> None:
    from mo.client.http import HttpClient
    from mo.client.local import LocalClient

    protocol = {n: s for n, s in _public_methods(MOClient).items()}
    for adapter in (LocalClient, HttpClient):
        methods = _public_methods(adapter)
        for name, signature in protocol.items():
            assert str(methods[name]) == str(signature), f"{adapter.__name__}.{name}"


def test_both_adapters_satisfy_the_protocol(client: MOClient) -> None:
    assert isinstance(client, MOClient)
    assert client.tenant == TENANT


# ---- ingredients ----------------------------------------------------------------------------------


def test_add_ingredient_returns_the_exact_record(client: MOClient) -> None:
    record = client.add_ingredient(
        " Flour ", unit="g", category="dry goods", density=Decimal("0.530"), yield_pct="92.5"
    )
    assert isinstance(record, mo.IngredientRecord)
    assert record.to_dict() | {"id": 0} == {
        "id": 0,
        "name": "Flour",
        "unit": "g",
        "family": "mass",
        "category": "dry goods",
        "density": "0.53",
        "yield_pct": "92.5",
        "aliases": [],
        "deleted": False,
    }
    assert record.density == Decimal("0.53") and isinstance(record.yield_pct, Decimal)


def test_aliases_delete_and_restore(client: MOClient) -> None:
    client.add_ingredient("Flour", unit="kg")
    record = client.add_alias("flour", "Plain flour")
    assert record.aliases == ("Plain flour",)
    assert client.delete_ingredient("PLAIN FLOUR").deleted is True
    assert client.ingredients().empty
    restored = client.restore_ingredient("flour")
    assert restored.deleted is False and restored.aliases == ("Plain flour",)


def test_ingredients_table_matches_the_schema_and_the_local_reference(
    client: MOClient, twin: MOClient
) -> None:
    assert_schema(client.ingredients(), "ingredients")  # empty: the columns are still all there
    client.add_ingredient("Flour", unit="g", density="0.53")
    client.add_ingredient("Milk", unit="ml", category="dairy")
    client.add_alias("Flour", "Plain flour")
    client.update_cost(
        "flour", "12.00", per="25 kg", idempotency_key="c1", effective_at="2024-01-02T03:04:05Z"
    )
    client.delete_ingredient("Milk")
    frame = assert_same_read(client, twin, "ingredients")
    assert_schema(frame, "ingredients", exact=True)
    assert frame["name"].tolist() == ["Flour"]
    assert (
        frame.loc[0, "unit_cost"] == Decimal("0.00048") and frame.loc[0, "aliases"] == "Plain flour"
    )
    assert frame.loc[0, "effective_at"] == pd.Timestamp(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    everything = assert_same_read(client, twin, "ingredients", include_deleted=True)
    assert everything["name"].tolist() == ["Flour", "Milk"] and everything["deleted"].tolist() == [
        False,
        True,
    ]
    assert pd.isna(everything.loc[1, "unit_cost"]) and pd.isna(everything.loc[1, "effective_at"])


# ---- costs --------------------------------------------------------------------------------------


def test_update_cost_result_replay_and_conflict(client: MOClient) -> None:
    client.add_ingredient("Flour", unit="g")

    def update() -> mo.CostUpdate:  # the same call each time: the second one replays
        return client.update_cost(
            "flour",
            Decimal("12.00"),
            per="6 x 1 kg",
            idempotency_key="k-1",
            supplier="Bakers",
            note="spring",
        )

    first = update()
    assert isinstance(first, mo.CostUpdate)
    assert (first.ingredient, first.unit_cost, first.changed, first.replayed) == (
        "Flour",
        Decimal("0.002"),
        True,
        False,
    )
    again = update()
    assert again.to_dict() == first.to_dict() | {"replayed": True}
    err = error_of(lambda: client.update_cost("flour", "13", per="kg", idempotency_key="k-1"))
    assert err.code is mo.ErrorCode.IDEMPOTENCY_CONFLICT and err.details["idempotency_key"] == "k-1"


def test_cost_history_matches_the_schema_and_the_local_reference(
    client: MOClient, twin: MOClient
) -> None:
    assert_schema(client.cost_history(), "cost_history")
    client.add_ingredient("Flour", unit="g")
    client.add_ingredient("Butter", unit="g")
    client.update_cost(
        "flour",
        "1.10",
        per="kg",
        idempotency_key="a",
        effective_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    client.update_cost("flour", "1.30", per="kg", idempotency_key="b", effective_at="2024-03-01")
    client.update_cost(
        "butter", 4, per="250 g", idempotency_key="c", supplier="Dairy Co", note="block"
    )
    history = assert_same_read(client, twin, "cost_history")
    assert_schema(history, "cost_history", exact=True)
    assert history["price"].tolist() == [Decimal("1.1"), Decimal("1.3"), Decimal(4)]
    assert all(isinstance(v, Decimal) for v in [*history["price"], *history["unit_cost"]])
    only_flour = assert_same_read(client, twin, "cost_history", ingredient="FLOUR")
    assert only_flour["ingredient"].unique().tolist() == ["Flour"]


# ---- errors: same code, message and details from both clients ---------------------------------------

BAD_CALLS: dict[str, Callable[[MOClient], Any]] = {
    "empty name": lambda c: c.add_ingredient("  ", unit="g"),
    "name not text": lambda c: c.add_ingredient(123, unit="g"),  # type: ignore[arg-type]
    "unknown unit": lambda c: c.add_ingredient("Salt", unit="furlong"),
    "duplicate name": lambda c: c.add_ingredient("flour", unit="g"),
    "alias taken": lambda c: c.add_alias("Flour", "FLOUR"),
    "delete unknown": lambda c: c.delete_ingredient("Saffron"),
    "delete name not text": lambda c: c.delete_ingredient(None),  # type: ignore[arg-type]
    "restore active": lambda c: c.restore_ingredient("Flour"),
    "density zero": lambda c: c.add_ingredient("Oil", unit="ml", density=0),
    "negative price": lambda c: c.update_cost("Flour", "-1", per="kg", idempotency_key="n1"),
    "unit mismatch": lambda c: c.update_cost("Flour", "1", per="l", idempotency_key="n2"),
    "bad pack": lambda c: c.update_cost("Flour", "1", per="lots", idempotency_key="n3"),
    "bad effective_at": lambda c: c.update_cost(
        "Flour", "1", per="kg", idempotency_key="n4", effective_at="next tuesday"
    ),
    "cost of unknown": lambda c: c.update_cost("Saffron", "1", per="g", idempotency_key="n5"),
    "missing key": lambda c: c.update_cost("Flour", "1", per="kg", idempotency_key=None),  # type: ignore[arg-type]
    "blank key": lambda c: c.update_cost("Flour", "1", per="kg", idempotency_key="  "),
    "key with newline": lambda c: c.update_cost("Flour", "1", per="kg", idempotency_key="a\nb"),
    "history of unknown": lambda c: c.cost_history("Saffron"),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_errors_are_identical_from_both_clients(
    client: MOClient, twin: MOClient, case: str
) -> None:
    client.add_ingredient("Flour", unit="g")
    err = assert_same_error(client, twin, BAD_CALLS[case])
    assert err.code in (
        mo.ErrorCode.VALIDATION_ERROR,
        mo.ErrorCode.NOT_FOUND,
        mo.ErrorCode.CONFLICT,
        mo.ErrorCode.UNIT_MISMATCH,
    )


def test_idempotency_conflict_is_identical_from_both_clients(
    client: MOClient, twin: MOClient
) -> None:
    client.add_ingredient("Flour", unit="g")
    client.update_cost("Flour", "1", per="kg", idempotency_key="same")
    assert_same_error(
        client, twin, lambda c: c.update_cost("Flour", "2", per="kg", idempotency_key="same")
    )


def test_a_non_ascii_idempotency_key_works_and_replays(client: MOClient) -> None:
    client.add_ingredient("Flour", unit="g")
    first = client.update_cost("Flour", "1", per="kg", idempotency_key="clé-№1")
    assert client.update_cost("Flour", "1", per="kg", idempotency_key="clé-№1").replayed
    assert not first.replayed


# ---- tenants ------------------------------------------------------------------------------------------


def test_a_tenant_sees_and_touches_only_its_own_rows(
    client: MOClient, other_client: MOClient
) -> None:
    assert other_client.tenant == OTHER_TENANT
    client.add_ingredient("Flour", unit="g")
    client.update_cost("Flour", "1", per="kg", idempotency_key="shared-key")
    assert other_client.ingredients().empty and other_client.cost_history().empty
    for call in (
        lambda c: c.delete_ingredient("Flour"),
        lambda c: c.add_alias("Flour", "x"),
        lambda c: c.cost_history("Flour"),
    ):
        assert error_of(lambda call=call: call(other_client)).code is mo.ErrorCode.NOT_FOUND
    # The same idempotency key in another tenant is another request, not a replay.
    other_client.add_ingredient("Flour", unit="g")
    assert not other_client.update_cost(
        "Flour", "2", per="kg", idempotency_key="shared-key"
    ).replayed
    assert client.ingredients(exact=True)["unit_cost"].tolist() == [Decimal("0.001")]


def test_an_unknown_tenant_or_key_is_refused(
    mode: str, db_url: str, api_server_url: str | None
) -> None:
    if mode == "local":
        assert (
            error_of(lambda: mo.LocalClient("nobody", db_url=db_url)).code
            is mo.ErrorCode.TENANT_NOT_FOUND
        )
        assert (
            error_of(lambda: mo.LocalClient(None, db_url=db_url)).code
            is mo.ErrorCode.TENANT_REQUIRED
        )
    else:
        assert api_server_url is not None
        with mo.HttpClient(api_server_url, api_key="mo_not-a-key") as stranger:
            assert error_of(stranger.ingredients).code is mo.ErrorCode.UNAUTHORIZED
            assert (
                error_of(lambda: stranger.add_ingredient("x", unit="g")).code
                is mo.ErrorCode.UNAUTHORIZED
            )


@pytest.fixture
def api_server_url(mode: str, request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("api_server").base_url if mode == "http" else None


# ---- connect() ----------------------------------------------------------------------------------------


def test_connect_takes_its_defaults_from_dotenv(
    mode: str,
    db_url: str,
    api_keys: dict[str, str],
    api_server_url: str | None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,
) -> None:
    """The same notebook code, `mo.connect()`, goes local or over HTTP as .env says."""
    for name in ("MO_API_MODE", "MO_TENANT", "MO_DB_URL", "MO_API_URL", "MO_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = {"MO_API_MODE": mode, "MO_TENANT": TENANT, "MO_DB_URL": db_url}
    if api_server_url:
        settings |= {"MO_API_URL": api_server_url, "MO_API_KEY": api_keys[TENANT]}
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    monkeypatch.chdir(tmp_path)
    with mo.connect() as client:
        assert type(client).__name__ == {"local": "LocalClient", "http": "HttpClient"}[mode]
        assert client.tenant == TENANT
        client.add_ingredient("Flour", unit="g")
        assert client.ingredients()["name"].tolist() == ["Flour"]
    monkeypatch.setenv("MO_TENANT", OTHER_TENANT)  # the environment wins over .env
    if mode == "http":  # the key decides the tenant; naming another one is refused up front
        err = error_of(mo.connect)
        assert err.code is mo.ErrorCode.FORBIDDEN and err.details["key_tenant"] == TENANT
    else:
        with mo.connect() as client:
            assert client.tenant == OTHER_TENANT and client.ingredients().empty


def test_connect_rejects_an_unknown_mode() -> None:
    assert (
        error_of(lambda: mo.connect("acme", mode="carrier-pigeon")).code
        is mo.ErrorCode.VALIDATION_ERROR
    )


# ---- price list imports ---------------------------------------------------------------------------------

PRICE_LIST = "item,sku,price,pack,category,unit\nFlour,F-1,20.00,25 kg,dry goods,g\nMilk,M-1,1.20,1 l,dairy,ml\n"


@pytest.fixture
def price_csv(tmp_path) -> Any:
    path = tmp_path / "prices.csv"
    path.write_text(PRICE_LIST, encoding="utf-8")
    return path


def test_a_price_list_file_imports_replays_and_dedupes(
    client: MOClient, twin: MOClient, price_csv
) -> None:
    first = client.import_price_list(
        price_csv, idempotency_key="p-1", supplier="Bakers", effective_at="2024-01-01T00:00:00Z"
    )
    assert isinstance(first, mo.ImportResult)
    assert (first.status, first.rows, first.created, first.changed, first.replayed) == (
        "completed",
        2,
        2,
        2,
        False,
    )
    again = client.import_price_list(
        str(price_csv),
        idempotency_key="p-1",
        supplier="Bakers",
        effective_at="2024-01-01T00:00:00Z",
    )
    assert again.to_dict() == first.to_dict() | {"replayed": True}
    duplicate = client.import_price_list(
        price_csv, idempotency_key="p-2", supplier="bakers", effective_at="2024-01-01T00:00:00Z"
    )
    assert (duplicate.status, duplicate.duplicate_of) == ("duplicate", first.batch_id)
    batches = assert_same_read(client, twin, "imports")
    assert_schema(batches, "imports", exact=True)
    assert batches["status"].tolist() == ["completed", "duplicate"]
    prices = assert_same_read(client, twin, "ingredients")
    assert prices["unit_cost"].tolist() == [Decimal("0.0008"), Decimal("0.0012")]


def test_a_price_list_as_xlsx_dataframe_or_rows(client: MOClient, tmp_path) -> None:
    frame = pd.DataFrame(
        {"item": ["Flour", "Milk"], "price": [Decimal("20.00"), 1.2], "pack": ["25 kg", "1 l"]}
    )
    xlsx = tmp_path / "prices.xlsx"
    frame.astype(str).to_excel(xlsx, index=False)
    by_file = client.import_price_list(xlsx, idempotency_key="x", supplier="A")
    assert (by_file.status, by_file.created) == ("completed", 2)
    by_frame = client.import_price_list(frame, idempotency_key="f", supplier="A")
    assert by_frame.status == "duplicate"  # same content as the .xlsx: the hash is of the cells
    rows = [{"item": "Flour", "price": "22", "pack": "25 kg"}]
    assert client.import_price_list(rows, idempotency_key="r", supplier="A").changed == 1


IMPORT_ERRORS: dict[str, Callable[[MOClient, Any], Any]] = {
    "bad rows": lambda c, tmp: c.import_price_list(
        _bad_list(tmp), idempotency_key="b1", supplier="A"
    ),
    "missing file": lambda c, tmp: c.import_price_list(
        tmp / "nope.csv", idempotency_key="b2", supplier="A"
    ),
    "wrong suffix": lambda c, tmp: c.import_price_list(
        _file(tmp, "p.txt.json", PRICE_LIST), idempotency_key="b3", supplier="A"
    ),
    "no key": lambda c, tmp: c.import_price_list(
        _file(tmp, "p.csv", PRICE_LIST), idempotency_key=None, supplier="A"
    ),
    "no key, no file": lambda c, tmp: c.import_price_list(
        tmp / "nope.csv", idempotency_key="", supplier="A"
    ),
    "no supplier": lambda c, tmp: c.import_price_list(
        _file(tmp, "p.csv", PRICE_LIST), idempotency_key="b4", supplier=" "
    ),
    "missing columns": lambda c, tmp: c.import_price_list(
        pd.DataFrame({"item": ["x"]}), idempotency_key="b5", supplier="A"
    ),
    "empty frame": lambda c, tmp: c.import_price_list(
        pd.DataFrame({"item": [], "price": [], "pack": []}), idempotency_key="b6", supplier="A"
    ),
    "bad source": lambda c, tmp: c.import_price_list(42, idempotency_key="b7", supplier="A"),  # type: ignore[arg-type]
    "empty bytes": lambda c, tmp: c.import_price_list(b"", idempotency_key="b10", supplier="A"),  # type: ignore[arg-type]
    "unknown item": lambda c, tmp: c.import_price_list(
        [{"item": "Saffron", "price": "1", "pack": "1 g"}],
        idempotency_key="b8",
        supplier="A",
        create_missing=False,
    ),
    "bad mapping": lambda c, tmp: c.import_price_list(
        _file(tmp, "p.csv", PRICE_LIST),
        idempotency_key="b9",
        supplier="A",
        columns={"item": "colour"},
    ),
}


def _file(folder: Any, name: str, text: str) -> Any:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _bad_list(folder: Any) -> Any:
    return _file(
        folder,
        "bad.csv",
        "item,price,pack\nFlour,20.00,25 kg\n,3.00,1 kg\nSugar,abc,1 kg\nSalt,-1,1 kg\n",
    )


@pytest.mark.parametrize("case", list(IMPORT_ERRORS))
def test_import_errors_are_identical_from_both_clients(
    client: MOClient, twin: MOClient, tmp_path, case: str
) -> None:
    err = assert_same_error(client, twin, lambda c: IMPORT_ERRORS[case](c, tmp_path))
    if case == "bad rows":
        assert err.details["bad_rows"] == 3 and [r["row"] for r in err.details["rows"]] == [3, 4, 5]
    assert client.imports().empty


# ---- events and exports --------------------------------------------------------------------------------


def _some_history(client: MOClient) -> None:
    client.add_ingredient("Flour", unit="g")
    client.add_alias("Flour", "Plain flour")
    client.update_cost("Flour", "1.10", per="kg", idempotency_key="e1", supplier="=SUM(A1)")


def test_events_and_counts_match_the_local_reference(client: MOClient, twin: MOClient) -> None:
    assert_schema(client.events(), "events")
    _some_history(client)
    every = assert_same_read(client, twin, "events")
    assert_schema(every, "events", exact=True)
    assert "ingredient.cost.updated" in every["event_type"].tolist()
    chosen = assert_same_read(
        client,
        twin,
        "events",
        types=["ingredient.created"],
        limit=5,
        since=datetime(2000, 1, 1, tzinfo=UTC),
        until="2200-01-01",  # the last instant mo accepts
    )
    assert chosen["event_type"].tolist() == ["ingredient.created"]
    counts = assert_same_read(client, twin, "event_counts", window="24h")
    assert_schema(counts, "event_counts", exact=True)
    assert dict(zip(counts["event_type"], counts["events"])) == {
        "api_key.created": 1,
        "tenant.created": 1,
        "ingredient.alias_added": 1,
        "ingredient.cost.updated": 1,
        "ingredient.created": 1,
    }


EVENT_ERRORS: dict[str, Callable[[MOClient], Any]] = {
    "since after until": lambda c: c.events(since="2024-02-01", until="2024-01-01"),
    "since not a time": lambda c: c.events(since="yesterday"),
    "since a number": lambda c: c.events(since=5),  # type: ignore[arg-type]
    "types a string": lambda c: c.events(types="ingredient.created"),
    "types empty": lambda c: c.events(types=[]),
    "types unknown": lambda c: c.events(types=["nope"]),
    "types not text": lambda c: c.events(types=[1]),  # type: ignore[list-item]
    "limit zero": lambda c: c.events(limit=0),
    "limit text": lambda c: c.events(limit="5"),  # type: ignore[arg-type]
    "limit and since bad": lambda c: c.events(since="x", limit="5"),  # type: ignore[arg-type]
    "window bad": lambda c: c.event_counts(window="1w"),
    "window number": lambda c: c.event_counts(window=5),  # type: ignore[arg-type]
    "export without until": lambda c: c.export_events("x.csv", since="2024-01-01", until=None),  # type: ignore[arg-type]
    "export bad format": lambda c: c.export_events("x.txt", since="2024-01-01", until="2025-01-01"),
    "export folder missing": lambda c: c.export_events(
        "/no/such/folder/x.csv", since="2024-01-01", until="2025-01-01"
    ),
    "export to a folder": lambda c: c.export_events("/tmp", since="2024-01-01", until="2025-01-01"),
}


@pytest.mark.parametrize("case", list(EVENT_ERRORS))
def test_event_errors_are_identical_from_both_clients(
    client: MOClient, twin: MOClient, case: str
) -> None:
    assert assert_same_error(client, twin, EVENT_ERRORS[case]).code is mo.ErrorCode.VALIDATION_ERROR


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_writes_the_same_files_as_the_local_client(
    client: MOClient, twin: MOClient, tmp_path, fmt: str
) -> None:
    _some_history(client)
    window = {"since": "2000-01-01", "until": datetime(2200, 1, 1, tzinfo=UTC)}
    (tmp_path / "ours").mkdir(), (tmp_path / "ref").mkdir()
    ours = client.export_events(tmp_path / "ours" / f"events.{fmt}", **window)
    reference = twin.export_events(tmp_path / "ref" / f"events.{fmt}", **window)
    assert isinstance(ours, mo.ExportResult)
    assert ours.path == str((tmp_path / "ours" / f"events.{fmt}").resolve()) and ours.rows == 5
    assert (ours.rows, ours.sha256) == (reference.rows, reference.sha256)
    assert Path(ours.path).read_bytes() == Path(reference.path).read_bytes()
    manifests = [json.loads(Path(r.manifest_path).read_text()) for r in (ours, reference)]
    for manifest in manifests:
        manifest.pop("generated_at")
    assert manifests[0] == manifests[1]
    assert manifests[0]["file"] == f"events.{fmt}" and manifests[0]["sha256"] == ours.sha256


# ---- recipes ----------------------------------------------------------------------------------------------


def _kitchen(client: MOClient) -> None:
    client.add_ingredient("Flour", unit="g")
    client.add_ingredient("Butter", unit="g")
    client.add_ingredient("Egg", unit="each")
    client.update_cost("Flour", "2.00", per="kg", idempotency_key="c-flour")
    client.update_cost("Butter", "8.00", per="kg", idempotency_key="c-butter")
    client.update_cost("Egg", "3.00", per="12 each", idempotency_key="c-egg")


def test_nested_recipes_costs_breakdown_delete_and_recompute(
    client: MOClient, twin: MOClient
) -> None:
    assert_schema(client.recipes(), "recipes")
    _kitchen(client)
    dough = client.save_recipe(
        "Dough",
        yield_qty="1",
        yield_unit="kg",
        lines=[
            {"ingredient": "flour", "qty": Decimal(600), "unit": "g"},
            {"ingredient": "butter", "qty": "400", "unit": "g", "waste_pct": "5"},
        ],
    )
    assert isinstance(dough, mo.RecipeRecord) and (dough.name, dough.lines, dough.deleted) == (
        "Dough",
        2,
        False,
    )
    tart = client.save_recipe(
        "Tart",
        yield_qty=8,
        yield_unit="each",
        menu_price="4.50",
        lines=(
            {"recipe": "dough", "qty": "500", "unit": "g"},
            {"ingredient": "egg", "qty": 2, "unit": "each"},
        ),
    )
    assert tart.menu_price == Decimal("4.5") and tart.yield_qty == Decimal(8)
    table = assert_same_read(client, twin, "recipes")
    assert_schema(table, "recipes", exact=True)
    assert table["name"].tolist() == ["Dough", "Tart"] and table["complete"].tolist() == [
        True,
        True,
    ]
    breakdown = assert_same_read(client, twin, "recipe_breakdown", name="TART")
    assert_schema(breakdown, "recipe_breakdown", exact=True)
    assert sorted(breakdown["ingredient"]) == ["Butter", "Egg", "Flour"]
    client.update_cost("Flour", "4.00", per="kg", idempotency_key="c-flour-2")
    assert client.recompute().to_dict() == twin.recompute().to_dict()
    assert isinstance(client.recompute(recipes=["Tart"]), mo.RecomputeResult)
    deleted = client.delete_recipe("dough")
    assert deleted.deleted is True
    after = assert_same_read(client, twin, "recipes", include_deleted=True)
    assert after.set_index("name").loc["Tart", "missing"] == "Dough: deleted"
    breakdown = assert_same_read(client, twin, "recipe_breakdown", name="Tart")
    assert_schema(breakdown, "recipe_breakdown", exact=True)
    rows = breakdown.set_index("ingredient")
    assert sorted(rows.index) == ["Dough", "Egg"] and rows.loc["Dough", "reason"] == (
        "Dough: deleted")
    assert pd.isna(rows.loc["Dough", "qty"]) and pd.isna(rows.loc["Dough", "cost"])


RECIPE_ERRORS: dict[str, Callable[[MOClient], Any]] = {
    "no lines": lambda c: c.save_recipe("Bread", yield_qty=1, yield_unit="each", lines=[]),
    "line not a mapping": lambda c: c.save_recipe(
        "Bread", yield_qty=1, yield_unit="each", lines=[("Flour", 1, "g")]
    ),
    "unknown key": lambda c: c.save_recipe(
        "Bread",
        yield_qty=1,
        yield_unit="each",
        lines=[{"ingredient": "Flour", "qty": 1, "unit": "g", "x": 1}],
    ),
    "bad qty": lambda c: c.save_recipe(
        "Bread",
        yield_qty=1,
        yield_unit="each",
        lines=[{"ingredient": "Flour", "qty": "-1", "unit": "g"}],
    ),
    "bad yield": lambda c: c.save_recipe(
        "Bread",
        yield_qty="lots",
        yield_unit="each",
        lines=[{"ingredient": "Flour", "qty": 1, "unit": "g"}],
    ),
    "unknown item": lambda c: c.save_recipe(
        "Bread",
        yield_qty=1,
        yield_unit="each",
        lines=[{"ingredient": "Saffron", "qty": 1, "unit": "g"}],
    ),
    "unit mismatch": lambda c: c.save_recipe(  # an ingredient line in any unit is saved
        "Bread",
        yield_qty=1,
        yield_unit="each",
        lines=[{"recipe": "Dough", "qty": 1, "unit": "each"}],
    ),
    "self cycle": lambda c: c.save_recipe(
        "Dough", yield_qty=1, yield_unit="kg", lines=[{"recipe": "Dough", "qty": 1, "unit": "kg"}]
    ),
    "breakdown unknown": lambda c: c.recipe_breakdown("Nope"),
    "breakdown not text": lambda c: c.recipe_breakdown(7),  # type: ignore[arg-type]
    "delete unknown": lambda c: c.delete_recipe("Nope"),
    "restore unknown": lambda c: c.restore_recipe("Nope"),
    "restore never deleted": lambda c: c.restore_recipe("Dough"),
    "restore not text": lambda c: c.restore_recipe(None),  # type: ignore[arg-type]
    "recompute unknown": lambda c: c.recompute(recipes=["Nope"]),
}


@pytest.mark.parametrize("case", list(RECIPE_ERRORS))
def test_recipe_errors_are_identical_from_both_clients(
    client: MOClient, twin: MOClient, case: str
) -> None:
    _kitchen(client)
    client.save_recipe(
        "Dough",
        yield_qty=1,
        yield_unit="kg",
        lines=[{"ingredient": "Flour", "qty": 1, "unit": "kg"}],
    )
    assert_same_error(client, twin, RECIPE_ERRORS[case])


def test_restore_recipe_brings_it_back_and_refuses_an_active_name(
    client: MOClient, twin: MOClient
) -> None:
    _kitchen(client)
    flour = [{"ingredient": "Flour", "qty": 1, "unit": "kg"}]
    client.save_recipe("Dough", yield_qty=1, yield_unit="kg", lines=flour)
    client.save_recipe(
        "Tart", yield_qty=8, yield_unit="each", lines=[{"recipe": "Dough", "qty": 1, "unit": "kg"}]
    )
    gone = client.delete_recipe("Dough")
    assert client.recipes().set_index("name").loc["Tart", "complete"] == False  # noqa: E712
    back = client.restore_recipe("DOUGH")
    assert isinstance(back, mo.RecipeRecord) and back.deleted is False
    assert back.to_dict() == {**gone.to_dict(), "deleted": False}
    table = assert_same_read(client, twin, "recipes")
    assert table.set_index("name").loc["Tart", "complete"] == True  # noqa: E712
    moves = client.events(types=["recipe.deleted", "recipe.restored"])["event_type"].tolist()
    assert moves == ["recipe.deleted", "recipe.restored"]
    client.delete_recipe("Dough")
    client.save_recipe("Dough", yield_qty=2, yield_unit="kg", lines=flour)
    err = assert_same_error(client, twin, lambda c: c.restore_recipe("dough"))
    assert (err.code.value, err.details) == ("conflict", {"name": "Dough"})


# ---- recipe imports -----------------------------------------------------------------------------------------

RECIPES_CSV = """recipe,yield_qty,yield_unit,menu_price,kind,item,qty,unit,waste_pct
Dough,1,kg,,ingredient,Flour,600,g,
Dough,1,kg,,ingredient,Butter,400,g,5
Tart,8,each,4.50,recipe,Dough,500,g,
Tart,8,each,4.50,ingredient,Egg,2,each,
"""


def test_recipes_import_from_file_or_frame_and_replay(
    client: MOClient, twin: MOClient, tmp_path
) -> None:
    _kitchen(client)
    path = _file(tmp_path, "recipes.csv", RECIPES_CSV)
    first = client.import_recipes(path, idempotency_key="r-1")
    assert isinstance(first, mo.RecipeImportResult)
    assert (first.recipes, first.lines, first.replayed) == (2, 4, False)
    assert client.import_recipes(str(path), idempotency_key="r-1").to_dict() == first.to_dict() | {
        "replayed": True
    }
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert client.import_recipes(frame, idempotency_key="r-2").recipes == 2
    table = assert_same_read(client, twin, "recipes")
    assert table["name"].tolist() == ["Dough", "Tart"] and table["complete"].all()


RECIPE_IMPORT_ERRORS: dict[str, Callable[[MOClient, Any], Any]] = {
    "missing file": lambda c, tmp: c.import_recipes(tmp / "nope.csv", idempotency_key="x1"),
    "wrong suffix": lambda c, tmp: c.import_recipes(
        _file(tmp, "r.json", RECIPES_CSV), idempotency_key="x2"
    ),
    "missing column": lambda c, tmp: c.import_recipes(
        _file(tmp, "r.csv", "recipe,item\nA,b\n"), idempotency_key="x3"
    ),
    "bad rows": lambda c, tmp: c.import_recipes(
        _file(tmp, "r.csv", RECIPES_CSV.replace(",600,", ",-6,").replace("Egg", "Saffron")),
        idempotency_key="x4",
    ),
    "no key": lambda c, tmp: c.import_recipes(
        _file(tmp, "r.csv", RECIPES_CSV), idempotency_key=None
    ),
    "no key, bad file": lambda c, tmp: c.import_recipes(tmp / "nope.csv", idempotency_key=None),
    "frame missing column": lambda c, tmp: c.import_recipes(
        pd.DataFrame({"recipe": ["A"]}), idempotency_key="x5"
    ),
}


@pytest.mark.parametrize("case", list(RECIPE_IMPORT_ERRORS))
def test_recipe_import_errors_are_identical_from_both_clients(
    client: MOClient, twin: MOClient, tmp_path, case: str
) -> None:
    _kitchen(client)
    assert_same_error(client, twin, lambda c: RECIPE_IMPORT_ERRORS[case](c, tmp_path))
    assert client.recipes().empty


# ---- sanity -------------------------------------------------------------------------------------------------


def test_sanity_matches_the_schema_and_the_local_reference(
    client: MOClient, twin: MOClient
) -> None:
    _kitchen(client)
    report = assert_same_read(client, twin, "sanity")
    assert_schema(report, "sanity", exact=True)
    assert report["ok"].all() and report["check"].iloc[0] == "event_counts"
