"""mo.ui: parameter parsing, toasts, and the ipywidgets forms driven like a user would.

The forms run against a real LocalClient over a real DuckDB file: set the widgets' values,
click() the button, then look at the database through the client and at the toast shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from mo.errors import ErrorCode, MOError
from mo.ui import params
from mo.ui.toasts import errors_to, install, success_html, toast_html, uninstall

# ---- params ---------------------------------------------------------------------------------


def _fails(call, *args, name: str = "p", **kwargs) -> MOError:  # type: ignore[no-untyped-def]
    with pytest.raises(MOError) as caught:
        call(*args, name=name, **kwargs)
    assert caught.value.code is ErrorCode.VALIDATION_ERROR
    assert caught.value.details["field"] == name
    assert name in caught.value.message
    return caught.value


def test_text_turns_papermill_numbers_back_into_text() -> None:
    assert params.text(7, name="sku") == "7"
    assert params.text(" Metro ", name="supplier") == "Metro"
    assert params.text("", name="key", required=False) is None
    assert params.text(None, name="key", required=False, default="auto") == "auto"
    _fails(params.text, "  ", name="supplier")
    _fails(params.text, ["a"], name="supplier")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("FALSE", False),
        ("yes", True),
        ("0", False),
        (1, True),
    ],
)
def test_boolean_accepts_the_usual_spellings(raw: object, expected: bool) -> None:
    assert params.boolean(raw, name="interactive") is expected


@pytest.mark.parametrize("raw", ["maybe", "", None, 2, "truthy"])
def test_boolean_refuses_anything_else(raw: object) -> None:
    _fails(params.boolean, raw, name="interactive")


def test_decimal_is_exact_whatever_papermill_made_of_it() -> None:
    assert params.decimal("4.50", name="price") == Decimal("4.50")
    assert params.decimal(4.5, name="price") == Decimal("4.5")
    assert params.decimal(7, name="price") == Decimal(7)
    assert params.decimal("0.1", name="price") + params.decimal("0.2", name="price") == Decimal(
        "0.3"
    )
    for raw in ("abc", "NaN", float("inf"), "", True):
        _fails(params.decimal, raw, name="price")
    err = _fails(params.decimal, "0", name="price", positive=True)
    assert err.details["expected"] == "a number above 0"
    _fails(params.decimal, "29", name="target", minimum=30)


def test_dates_and_instants() -> None:
    assert params.iso_date("2024-03-01", name="since") == date(2024, 3, 1)
    assert params.iso_date(20240301, name="since") == date(
        2024, 3, 1
    )  # papermill made an int of it
    assert params.iso_datetime("2024-03-01", name="since") == datetime(2024, 3, 1, tzinfo=UTC)
    assert params.iso_datetime("2024-03-01T06:30:00Z", name="since").hour == 6
    assert params.optional_datetime("", name="effective_at") is None
    err = _fails(params.iso_date, "2024-13-01", name="since")
    assert err.details["value"] == "2024-13-01"
    _fails(params.iso_datetime, "yesterday", name="until")


def test_time_window_refuses_an_inverted_window_naming_until() -> None:
    start, end = params.time_window("2024-03-01", "2024-04-01")
    assert (end - start).days == 31
    with pytest.raises(MOError) as caught:
        params.time_window("2024-04-01", "2024-03-01")
    assert caught.value.details["field"] == "until"
    with pytest.raises(MOError):
        params.time_window("2024-04-01", "2024-04-01")  # empty: [x, x) holds nothing


def test_lists_choices_and_mappings() -> None:
    assert params.str_list("a, b,,c", name="types") == ("a", "b", "c")
    assert params.str_list(["x", 7], name="types") == ("x", "7")
    assert params.str_list("", name="types") == ()
    assert params.choice("CSV", name="format", choices=("csv", "jsonl")) == "csv"
    _fails(params.choice, "xml", name="format", choices=("csv", "jsonl"))
    assert params.mapping('{"Case Price": "price"}', name="columns") == {"Case Price": "price"}
    assert params.mapping("", name="columns") is None
    _fails(params.mapping, "[1, 2]", name="columns")
    _fails(params.mapping, "{oops", name="columns")


def test_paths_resolve_against_the_project_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "list.csv").write_text("item,price\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.delenv("MO_PROJECT_DIR", raising=False)
    monkeypatch.chdir(tmp_path / "notebooks")  # where JupyterLab and nbval start kernels
    assert params.existing_file("demo/list.csv", name="path") == tmp_path / "demo" / "list.csv"
    _fails(params.existing_file, "demo/nope.csv", name="path")
    made = params.directory("var/exports", name="out_dir")
    assert made == tmp_path / "var" / "exports" and made.is_dir()
    _fails(params.directory, "demo/list.csv", name="out_dir")


# ---- toasts ---------------------------------------------------------------------------------


def test_toast_shows_code_message_and_details_escaped() -> None:
    err = MOError(
        "validation_error", "price <b>must</b> be positive", {"field": "price", "value": "-1"}
    )
    markup = toast_html(err)
    assert "mo-toast-error" in markup and "data-code='validation_error'" in markup
    assert "&lt;b&gt;must&lt;/b&gt;" in markup and "<b>must" not in markup
    assert "<th" in markup and "price" in markup and "-1" in markup
    assert "mo-toast-success" in success_html("Saved", {"rows": 3})


def test_errors_to_renders_callback_failures_in_the_output() -> None:
    import ipywidgets as widgets

    out = widgets.Output()

    @errors_to(out)
    def callback() -> None:
        raise MOError("not_found", "ingredient 'saffron' not found", {"kind": "ingredient"})

    callback()  # swallowed: the widget comm would only log it
    [shown] = out.outputs
    assert "data-code='not_found'" in shown["data"]["text/html"]
    with errors_to(out):
        raise ZeroDivisionError("boom")
    [shown] = out.outputs  # cleared first, then the new toast
    assert "data-code='internal_error'" in shown["data"]["text/html"]
    assert "ZeroDivisionError" in shown["data"]["text/html"]


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.delenv("MO_HEADLESS", raising=False)
    monkeypatch.delenv("MO_LOUD_ERRORS", raising=False)
    ip = InteractiveShell.instance()
    yield ip
    uninstall(shell=ip)


def test_install_shows_moerror_as_toast_not_traceback(
    shell, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    assert install(interactive="true", shell=shell) is True
    result = shell.run_cell(
        "from mo.errors import MOError\nraise MOError('conflict', 'taken', {'name': 'x'})"
    )
    assert isinstance(result.error_in_exec, MOError)  # the cell still failed: Run All stops here
    printed = capsys.readouterr().out
    assert "Traceback" not in printed and "IPython.core.display.HTML" in printed


def test_install_headless_also_reports_the_error_in_one_line(shell, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MO_HEADLESS", "1")
    assert install(interactive=True, shell=shell) is False  # MO_HEADLESS wins
    shell.run_cell("from mo.errors import MOError\nraise MOError('conflict', 'taken')")
    printed = capsys.readouterr().out
    assert "MOError: conflict: taken" in printed and "Traceback" not in printed


def test_install_loud_keeps_widgets_but_fails_visibly(shell, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MO_LOUD_ERRORS", "1")  # what notebooks/conftest.py sets for nbval
    assert install(interactive=True, shell=shell) is True
    shell.run_cell("from mo.errors import MOError\nraise MOError('not_found', 'no such recipe')")
    assert "MOError: not_found: no such recipe" in capsys.readouterr().out


def test_install_refuses_a_bad_interactive_flag_after_installing(shell) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MOError) as caught:
        install(interactive="sometimes", shell=shell)
    assert caught.value.details["field"] == "interactive"
    assert shell.custom_exceptions == (MOError,)


# ---- forms, with a real LocalClient ---------------------------------------------------------


@pytest.fixture
def client(tmp_path: Path) -> Iterator[object]:
    import mo

    url = f"duckdb:///{tmp_path / 'ui.duckdb'}"
    mo.create_tenant("demo", name="Harbour Kitchen", db_url=url)
    with mo.LocalClient("demo", db_url=url) as opened:
        opened.add_ingredient("onion", unit="g", category="produce")
        yield opened


def _only_toast(form) -> str:  # type: ignore[no-untyped-def]
    markups = [m for m in form.toasts() if "mo-toast" in m]
    assert len(markups) == 1, form.toasts()
    return markups[0]


def test_update_cost_form_writes_a_cost_and_shows_success(client) -> None:  # type: ignore[no-untyped-def]
    from mo.ui import update_cost_form

    form = update_cost_form(client)
    assert "onion" in form.ingredient.options
    form.ingredient.value, form.price.value, form.per.value = "onion", "9.80", "10 kg"
    form.supplier.value = "FreshCo"
    first_key = form.key
    form.button.click()
    assert "mo-toast-success" in _only_toast(form) and "0.00098" in _only_toast(form)
    [row] = client.cost_history("onion", exact=True).to_dict("records")
    assert (
        row["price"] == Decimal("9.8")
        and row["supplier"] == "FreshCo"
        and row["source"] == "manual"
    )
    events = client.events(types=["ingredient.cost.updated"])
    assert len(events) == 1 and events["idempotency_key"].iloc[0] == first_key
    assert form.key != first_key  # the next click is a new change


def test_update_cost_form_shows_the_client_error_as_a_toast(client) -> None:  # type: ignore[no-untyped-def]
    from mo.ui import update_cost_form

    form = update_cost_form(client, ingredient="onion")
    form.price.value, form.per.value = "-3", "1 kg"
    form.button.click()
    toast = _only_toast(form)
    assert (
        "mo-toast-error" in toast and "data-code='validation_error'" in toast and "price" in toast
    )
    form.price.value, form.per.value = "2.00", "1 l"  # onion is weighed: litres need a density
    form.button.click()
    assert "data-code='unit_mismatch'" in _only_toast(form)
    form.ingredient.value, form.per.value = "saffron", "1 kg"
    form.button.click()
    assert "data-code='not_found'" in _only_toast(form)
    assert client.cost_history("onion").empty  # nothing written by any of them


def test_parity_export_form_writes_the_file_and_shows_links(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from mo.ui import parity_export_form

    client.update_cost("onion", "9.80", per="10 kg", idempotency_key="k-onion-1")
    today = date.today()
    form = parity_export_form(client, out_dir=tmp_path / "exports")
    assert "ingredient.cost.updated" in form.types.options
    form.since.value, form.until.value = (
        date(today.year - 1, 1, 1),
        date.fromordinal(today.toordinal() + 1),
    )
    form.types.value = ("ingredient.cost.updated",)
    form.format.value = "jsonl"
    form.button.click()
    result = form.last_result
    assert result.rows == 1 and Path(result.path).is_file() and Path(result.manifest_path).is_file()
    assert Path(result.path).suffix == ".jsonl"
    assert "ingredient.cost.updated" in Path(result.path).read_text()
    shown = "".join(form.toasts())
    assert (
        "mo-toast-success" in shown
        and "class='mo-download'" in shown
        and Path(result.path).name in shown
    )


def test_parity_export_form_refuses_an_inverted_window(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from mo.ui import parity_export_form

    form = parity_export_form(
        client, out_dir=tmp_path / "exports", since=date(2024, 4, 1), until=date(2024, 3, 1)
    )
    form.button.click()
    toast = _only_toast(form)
    assert "data-code='validation_error'" in toast and "since" in toast and form.last_result is None
    assert not list((tmp_path / "exports").glob("events-*"))
    form.until.value = None
    form.button.click()
    assert "pick the until date" in _only_toast(form)


# ---- issue #16: forms an analyst trusts, readable tables ----------------------------------------


def test_update_cost_form_names_the_unit_and_refreshes_the_history(client) -> None:  # type: ignore[no-untyped-def]
    from mo.ui import update_cost_form

    form = update_cost_form(client, ingredient="onion")
    assert "No data" not in "".join(str(o) for o in form.history.outputs)
    form.price.value, form.per.value = "21.00", "10 kg"
    form.button.click()
    assert "onion: 0.0021 per g" in _only_toast(form)
    history = "".join(o["data"]["text/html"] for o in form.history.outputs)
    assert "Unit cost (per g)" in history and "0.0021" in history and "21.00" in history


def test_update_cost_form_asks_twice_for_a_big_change(client) -> None:  # type: ignore[no-untyped-def]
    from mo.ui import update_cost_form

    client.update_cost("onion", "9.80", per="10 kg", idempotency_key="k-onion-1")
    form = update_cost_form(client, ingredient="onion", per="10 kg")
    form.price.value = "98.00"  # a typo: ten times the price, +900 %
    form.button.click()
    toast = _only_toast(form)
    assert "mo-toast-warning" in toast and "+900%" in toast and "0.0098 per g" in toast
    assert len(client.cost_history("onion")) == 1  # nothing written on the first click
    form.button.click()
    assert "mo-toast-success" in _only_toast(form) and "0.0098 per g" in _only_toast(form)
    assert len(client.cost_history("onion")) == 2
    form.price.value = "99.00"  # +1 % against the cost now current: one click
    form.button.click()
    assert "mo-toast-success" in _only_toast(form) and len(client.cost_history("onion")) == 3


def test_update_cost_form_threshold_is_a_parameter(client) -> None:  # type: ignore[no-untyped-def]
    from mo.ui import update_cost_form

    client.update_cost("onion", "10.00", per="10 kg", idempotency_key="k-onion-1")
    form = update_cost_form(client, ingredient="onion", price="11.00", per="10 kg", warn_above=0.05)
    form.button.click()
    assert "mo-toast-warning" in _only_toast(form) and len(client.cost_history("onion")) == 1
    form = update_cost_form(client, ingredient="onion", price="90", per="10 kg", warn_above=None)
    form.button.click()
    assert "mo-toast-success" in _only_toast(form) and len(client.cost_history("onion")) == 2


def test_update_cost_form_toast_says_did_you_mean(client) -> None:  # type: ignore[no-untyped-def]
    from mo.ui import update_cost_form

    form = update_cost_form(client, ingredient="onoin", price="2", per="1 kg")
    form.button.click()
    toast = _only_toast(form)
    assert "data-code='not_found'" in toast and "did you mean &#x27;onion&#x27;" in toast


def test_export_events_never_overwrites_an_earlier_file(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from mo.ui import export_events

    client.update_cost("onion", "9.80", per="10 kg", idempotency_key="k-onion-1")
    window = {"since": date(2020, 1, 1), "until": date.fromordinal(date.today().toordinal() + 1)}
    first = export_events(client, out_dir=tmp_path, format="csv", **window)
    kept = Path(first.path).read_bytes()
    second = export_events(client, out_dir=tmp_path, format="csv", **window)
    assert Path(second.path).name.endswith("-2.csv") and Path(first.path).read_bytes() == kept
    again = export_events(client, out_dir=tmp_path, format="csv", overwrite=True, **window)
    assert again.path == first.path
    assert len(list(tmp_path.glob("events-*.csv"))) == 2


def test_readable_rounds_for_display_and_keeps_the_frame_exact() -> None:
    import pandas as pd

    from mo.ui.display import incomplete_pct, readable, unit_cost_text

    frame = pd.DataFrame(
        {"ingredient": ["a", "b"], "unit_cost": [Decimal("0.002134"), None],
         "unit": ["g", "g"], "price": [Decimal("9.8"), None]}
    )
    html = readable(frame, money=["price"], unit_costs=["unit_cost"], unit_column="unit").to_html()
    assert "Unit cost (per g)" in html and "0.0021" in html and "9.80" in html
    assert html.count("—") == 2 and "None" not in html and "nan" not in html
    assert frame["unit_cost"].iloc[0] == Decimal("0.002134")  # display only
    assert unit_cost_text(Decimal("0.00098")) == "0.00098"  # never a small cost shown as 0.0010
    assert incomplete_pct(Decimal("23.46"), False) == "≥ 23.5 % (incomplete)"
    assert incomplete_pct(Decimal("23.46"), True) == "23.5 %"
