"""Tables and charts for people: money rounded, one mark for "missing", human headers, dated axes.

Display only: these return a pandas Styler (or a copy of strings) and leave the frame's values
as they are: float64 numbers from a plain read, Decimals from a read with exact=True (rounded
from the exact value, not from its nearest double). Money shows 2 places; unit costs 4
(more when 4 would show a small cost as 0.0000), with the base unit in the header when the table
has one; percentages 1 place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

MISSING = "—"  # the one way a missing value shows
MONEY_PLACES = 2
UNIT_COST_PLACES = 4
PCT_PLACES = 1


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT and pd.NA are not equal to themselves
    except TypeError:  # pd.NA raises on bool()
        return True


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def money_text(value: Any, *, places: int = MONEY_PLACES) -> str:
    """A money amount rounded for reading ("12.50"); MISSING for none."""
    if _missing(value):
        return MISSING
    return f"{_decimal(value):,.{places}f}"


def unit_cost_text(value: Any, *, places: int = UNIT_COST_PLACES) -> str:
    """A unit cost with `places` decimals, or 2 significant digits when that shows more
    (0.0021, 0.00098, 12.3456); MISSING for none."""
    if _missing(value):
        return MISSING
    number = _decimal(value)
    if number != 0:
        leading = number.copy_abs().adjusted()  # 10**leading ≤ |number|: -4 for 0.00098
        places = max(places, 1 - leading)
    return f"{number:,.{places}f}"


def pct_text(value: Any, *, places: int = PCT_PLACES) -> str:
    """A percentage ("23.5 %"); MISSING for none."""
    if _missing(value):
        return MISSING
    return f"{_decimal(value):.{places}f} %"


def per_unit(value: Any, unit: str | None) -> str:
    """ "0.0021 per g": a unit cost with its unit, for results and toasts."""
    text = unit_cost_text(value)
    return text if not unit or text == MISSING else f"{text} per {unit}"


def readable(
    frame: Any,
    *,
    headers: Mapping[str, str] | None = None,
    money: Sequence[str] = (),
    unit_costs: Sequence[str] = (),
    pct: Sequence[str] = (),
    unit_column: str | None = None,
) -> Any:
    """A Styler of `frame` with the formats above and human headers (`headers` renames; other
    columns get their name with "_" as a space, capitalised). A unit cost column's header names
    the base unit when `unit_column` holds one unit for every row ("Unit cost (per g)"), else
    "per base unit" and the unit column stays beside it."""
    units = frame[unit_column].dropna().unique() if unit_column in frame.columns else []
    single = str(units[0]) if len(units) == 1 else None
    formats: dict[str, Any] = {c: money_text for c in money if c in frame.columns}
    formats |= {c: unit_cost_text for c in unit_costs if c in frame.columns}
    formats |= {c: pct_text for c in pct if c in frame.columns}
    names = {c: (headers or {}).get(c, c.replace("_", " ").capitalize()) for c in frame.columns}
    for column in unit_costs:
        if column in names:
            names[column] += f" (per {single or 'base unit'})"
    shown = frame.drop(columns=[unit_column]) if single and unit_column in frame.columns else frame
    styler = shown.style.format(formats, na_rep=MISSING).format_index(
        lambda c: names.get(c, c), axis=1
    )
    return styler.hide(axis="index")


def incomplete_pct(pct: Any, complete: Any) -> str:
    """Food cost % as text, marked when the recipe is incomplete: its cost counts only the
    lines that could be costed, so the real figure is at least this ("≥ 23.5 % (incomplete)")."""
    if _missing(pct):
        return MISSING
    return pct_text(pct) if bool(complete) else f"≥ {pct_text(pct)} (incomplete)"


def date_axis(ax: Any, *, ylabel: str | None = None, xlabel: str = "date (UTC)") -> None:
    """A dated time axis (concise, locale-free) and axis labels with their units."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
