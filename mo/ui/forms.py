"""ipywidgets forms over an MOClient: the update-cost form and the parity-export admin screen.

A form holds no rules: it reads its widgets, calls one client method, and shows the outcome
as a toast in its own Output widget (errors included — see mo.ui.toasts.errors_to). Values go
to the client as the user typed them (prices as text), so the client reports bad input with
the same MOError a notebook or the HTTP API would get.

Each form is an object exposing its widgets by name (tests set `.value` and call
`.button.click()`) and displays itself: put it last in a cell, or `display(form)`.
"""

from __future__ import annotations

import html
import os
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from mo import MOError
from mo.client.preview import quote_unit_cost
from mo.ui.display import _missing, per_unit, readable
from mo.ui.params import invalid
from mo.ui.toasts import errors_to, show_success, show_warning

if TYPE_CHECKING:
    from mo import ExportResult, MOClient
FORMATS = ("csv", "jsonl")
# Wide enough that event_counts returns every type the tenant has ever logged.
ALL_TIME = "99999d"
_LABEL = {"description_width": "8em"}
# A new unit cost this far from the current one (0.5: ±50 %) needs a second click.
DEFAULT_WARN_ABOVE = 0.5
HISTORY_ROWS = 10


class _Form:
    """Shared plumbing: a VBox of widgets, the button, the Output the toasts land in."""

    box: widgets.VBox
    output: widgets.Output

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)

    def toasts(self) -> list[str]:
        """The HTML of every toast currently shown (for tests and headless checks)."""
        return [o.get("data", {}).get("text/html", "") for o in self.output.outputs]


class UpdateCostForm(_Form):
    """Record a new price for an ingredient: client.update_cost(ingredient, price, per=…).

    One idempotency key per intended change: a double click replays the first result instead
    of writing twice; the key is renewed after each success, so the next change is new.
    A new unit cost more than `warn_above` (0.5: 50 %) away from the current one is not written
    on the first click: a warning asks for a second click on the same values (a typo such as
    "98.0" for "9.80" is the usual cause). The result names the unit ("0.0021 per g"); the
    ingredient's cost history below the form is refreshed after each update. Any value given
    is prefilled (price as its text); warn_above None never asks twice.
    """

    def __init__(
        self,
        client: MOClient,
        *,
        ingredient: str | None = None,
        price: object = None,
        per: str | None = None,
        supplier: str | None = None,
        warn_above: float | None = DEFAULT_WARN_ABOVE,
    ) -> None:
        self.client = client
        self.warn_above = warn_above
        self._catalog = _ingredient_catalog(client)
        self.ingredient = widgets.Combobox(
            value=ingredient or "",
            options=sorted(row["name"] for row in self._catalog.values()),
            ensure_option=False,
            description="Ingredient",
            placeholder="e.g. onion",
            style=_LABEL,
        )
        self.price = widgets.Text(
            value="" if price is None else str(price),  # a number as the caller wrote it
            description="Price",
            placeholder="e.g. 12.50",
            style=_LABEL,
        )
        self.per = widgets.Text(
            value=per or "", description="Per", placeholder="e.g. 10 kg, 6x1kg, each", style=_LABEL
        )
        self.supplier = widgets.Text(value=supplier or "", description="Supplier", style=_LABEL)
        self.note = widgets.Text(description="Note", style=_LABEL)
        self.button = widgets.Button(
            description="Update cost", button_style="primary", icon="check"
        )
        self.output = widgets.Output()
        self.history = widgets.Output()
        self.key = _new_key("ui-update-cost")
        self._confirming: tuple[str, ...] | None = None
        self.button.on_click(self._submit)
        self.box = widgets.VBox(
            [
                self.ingredient,
                self.price,
                self.per,
                self.supplier,
                self.note,
                self.button,
                self.output,
                widgets.HTML("<b>Cost history</b>"),
                self.history,
            ]
        )
        if ingredient:
            with errors_to(self.history):
                self._show_history(ingredient)

    def _submit(self, _button: widgets.Button | None = None) -> None:
        with errors_to(self.output):
            name = _required(self.ingredient.value, "ingredient")
            per = _required(self.per.value, "per")
            asked = (name.casefold(), self.price.value.strip(), per)
            if asked != self._confirming and self._big_change(name, self.price.value, per):
                self._confirming = asked
                self.button.description, self.button.button_style = "Confirm update", "warning"
                return
            self._confirming = None
            self.button.description, self.button.button_style = "Update cost", "primary"
            result = self.client.update_cost(
                name,
                self.price.value.strip(),
                per=per,
                idempotency_key=self.key,
                supplier=self.supplier.value.strip() or None,
                note=self.note.value.strip() or None,
            )
            self.key = _new_key("ui-update-cost")
            self._show_result(result)
            self._show_history(result.ingredient)

    def _big_change(self, name: str, price: str, per: str) -> bool:
        """Show a warning and return True when the new unit cost is far from the current one."""
        row = self._catalog.get(name.casefold())
        if self.warn_above is None or row is None or _missing(row["unit_cost"]):
            return False
        try:
            new = quote_unit_cost(price.strip(), per=per, ingredient=row["name"],
                                  unit=row["unit"], density=_or_none(row["density"]))
        except MOError:
            return False  # the update itself reports the problem, with nothing written
        old = Decimal(str(row["unit_cost"]))
        change = (new - old) / old
        if abs(change) <= Decimal(str(self.warn_above)):
            return False
        show_warning(
            f"{row['name']}: {per_unit(new, row['unit'])} is {float(change):+.0%} against the "
            f"current {per_unit(old, row['unit'])}. Check the price and pack; click "
            "“Confirm update” to record it.",
            {"price": price.strip(), "per": per, "threshold": f"{self.warn_above:.0%}"},
            output=self.output,
        )
        return True

    def _show_result(self, result: Any) -> None:
        row = self._refresh_catalog().get(result.ingredient.casefold())
        unit = row["unit"] if row is not None else None
        title = (
            f"{result.ingredient}: {per_unit(result.unit_cost, unit)}"
            + (" (replayed, nothing written)" if result.replayed else "")
            + ("" if result.changed or result.replayed else " (unchanged)")
        )
        show_success(title, {**result.to_dict(), "unit": unit}, output=self.output)

    def _refresh_catalog(self) -> dict[str, Any]:
        self._catalog = _ingredient_catalog(self.client)
        return self._catalog

    def _show_history(self, ingredient: str) -> None:
        from IPython.display import HTML

        history = self.client.cost_history(ingredient, exact=True).tail(HISTORY_ROWS)
        self.history.outputs = ()
        table = readable(
            history[["effective_at", "price", "pack", "unit_cost", "unit", "supplier", "source"]],
            headers={"effective_at": "Effective (UTC)"},
            money=("price",),
            unit_costs=("unit_cost",),
            unit_column="unit",
        )
        self.history.append_display_data(HTML(table.to_html()))


class ParityExportForm(_Form):
    """The parity-export admin screen: [since, until) window, event types, format, Export.

    Export calls client.export_events into out_dir and shows a download link to the file and
    its manifest (paths relative to the kernel's directory, which JupyterLab resolves against
    the notebook's folder). The type options default to the types in the tenant's log.
    """

    def __init__(
        self,
        client: MOClient,
        *,
        out_dir: str | os.PathLike[str],
        since: date | None = None,
        until: date | None = None,
        types: Sequence[str] = (),
        format: str = "csv",
        type_options: Sequence[str] | None = None,
    ) -> None:
        self.client = client
        self.out_dir = Path(out_dir)
        options = list(type_options) if type_options is not None else _event_types(client)
        self.since = widgets.DatePicker(value=since, description="Since", style=_LABEL)
        self.until = widgets.DatePicker(value=until, description="Until (excl.)", style=_LABEL)
        self.types = widgets.SelectMultiple(
            options=sorted(set(options) | set(types)),
            value=tuple(types),
            description="Types",
            rows=min(8, max(3, len(options))),
            style=_LABEL,
        )
        self.format = widgets.ToggleButtons(
            options=FORMATS, value=format, description="Format", style=_LABEL
        )
        self.button = widgets.Button(description="Export", button_style="primary", icon="download")
        self.output = widgets.Output()
        self.last_result: Any = None
        self.button.on_click(self._export)
        hint = widgets.HTML("<small>No type selected exports every type.</small>")
        self.box = widgets.VBox(
            [
                widgets.HBox([self.since, self.until]),
                self.types,
                hint,
                self.format,
                self.button,
                self.output,
            ]
        )

    def _export(self, _button: widgets.Button | None = None) -> None:
        with errors_to(self.output):
            since, until = _picked(self.since.value, "since"), _picked(self.until.value, "until")
            result = export_events(
                self.client,
                out_dir=self.out_dir,
                since=since,
                until=until,
                format=self.format.value,
                types=self.types.value,
            )
            self.last_result = result
            show_export(result, output=self.output)


# The notebooks' spelling: a form is built by calling its class with the same arguments.
update_cost_form = UpdateCostForm
parity_export_form = ParityExportForm


def export_events(
    client: MOClient,
    *,
    out_dir: str | os.PathLike[str],
    since: date | datetime,
    until: date | datetime,
    format: str,
    types: Sequence[str] = (),
    overwrite: bool = False,
) -> ExportResult:
    """client.export_events into out_dir/events-<tenant>-<since>-<until>.<format> (out_dir is
    created). No types means every type. An earlier export of the same window is kept: this one
    gets the next free name (…-2.csv, …-3.csv), unless overwrite=True. Raises what the client
    raises (validation_error for an inverted window, unknown types or format)."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"events-{client.tenant}-{_stamp(since)}-{_stamp(until)}"
    target = _fresh_target(folder, stem, format, overwrite=overwrite)
    try:
        return client.export_events(
            target,
            since=since.isoformat(),
            until=until.isoformat(),
            format=format,
            types=list(types) or None,
        )
    except BaseException:
        if not overwrite and target.is_file() and target.stat().st_size == 0:
            target.unlink()  # give back the name this export reserved
        raise


def _fresh_target(folder: Path, stem: str, format: str, *, overwrite: bool) -> Path:
    """folder/stem.format, or with -2, -3 … when taken (file or manifest), reserved by creating
    it empty so a second kernel exporting at the same moment gets another name."""
    if overwrite:
        return folder / f"{stem}.{format}"
    for n in range(1, 10_000):
        target = folder / (f"{stem}.{format}" if n == 1 else f"{stem}-{n}.{format}")
        if target.with_name(target.name + ".manifest.json").exists():
            continue
        try:
            target.open("x").close()
            return target
        except FileExistsError:
            continue
    raise invalid(f"no free export name for {stem} in {folder}", field="out_dir")


def show_export(result: ExportResult, *, output: widgets.Output | None = None) -> None:
    """A success toast for an export and links to download the file and its manifest."""
    from IPython.display import display

    show_success(
        f"Exported {result.rows} events",
        {"file": Path(result.path).name, "sha256": result.sha256},
        output=output,
    )
    links = _download_links(Path(result.path), Path(result.manifest_path))
    if output is None:
        display(links)
    else:
        output.append_display_data(links)


# ---- helpers ------------------------------------------------------------------------------------


def _stamp(moment: date | datetime) -> str:
    # Dates stay readable (2024-03-01); instants keep their time, without characters
    # that are awkward in file names.
    if isinstance(moment, datetime) and moment.time() != datetime.min.time():
        return moment.strftime("%Y-%m-%dT%H%M%S")
    return moment.strftime("%Y-%m-%d")


def _new_key(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def _required(value: str, field: str) -> str:
    if not value.strip():
        raise invalid(f"{field} is required", field=field)
    return value.strip()


def _picked(value: date | None, field: str) -> date:
    # An empty DatePicker is None; say which one rather than let the client guess an open end.
    if value is None:
        raise invalid(f"pick the {field} date", field=field)
    return value


def _ingredient_catalog(client: MOClient) -> dict[str, dict[str, Any]]:
    """Active ingredients by case-folded name and alias: name, unit, density, current unit_cost."""
    catalog: dict[str, dict[str, Any]] = {}
    for row in client.ingredients(exact=True).to_dict("records"):
        aliases = [] if _missing(row.get("aliases")) else str(row["aliases"]).split(";")
        for name in [str(row["name"]), *aliases]:
            if name.strip():
                catalog[name.strip().casefold()] = row
    return catalog


def _or_none(value: Any) -> Any:
    return None if _missing(value) else value


def _event_types(client: MOClient) -> list[str]:
    try:
        counts = client.event_counts(window=ALL_TIME)
    except MOError:
        return []  # the screen still works; it just offers no filter choices
    return sorted(counts["event_type"].astype(str)) if "event_type" in counts.columns else []


def _download_links(export: Path, manifest: Path) -> Any:
    from IPython.display import HTML

    links = " · ".join(
        f"<a class='mo-download' href='{html.escape(_href(p))}' download='{html.escape(p.name)}' "
        f"target='_blank'>{html.escape(p.name)}</a>"
        for p in (export, manifest)
    )
    return HTML(f"<div class='mo-downloads'>Download: {links}</div>")


def _href(path: Path) -> str:
    # Relative to the kernel's directory: JupyterLab serves it from the notebook's folder.
    try:
        return Path(os.path.relpath(path.resolve(), Path.cwd().resolve())).as_posix()
    except ValueError:  # another drive (Windows): no relative form exists
        return path.resolve().as_uri()
