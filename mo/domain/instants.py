"""Instants from what people send: the one reader, and the one window of dates mo accepts.

Every input that names an instant (a cost's or a price list's effective_at, an event window's
since/until) goes through `parse_instant`, so they all accept the same texts and the same range.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from mo.errors import validation_error

# The window of instants mo accepts, both ends included: 1900-01-01 to 2200-01-01, UTC.
# Why these ends: every instant inside is a date a kitchen can mean (old records, contracts dated
# decades ahead), and every one survives every reader of it — pandas' nanosecond datetime64
# (1677-09-21 to 2262-04-11), spreadsheets (Excel's calendar starts in 1900), and shifting to any
# UTC offset in Python (year 1 and year 9999 overflow `datetime` there). Rows stored before this
# rule (or written by other programs) may still hold any instant; reads cope with those.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def parse_instant(value: object, *, field: str) -> datetime:
    """An aware UTC datetime from a datetime, a date or ISO 8601 text; naive means UTC.

    Raises validation_error naming `field` for anything that is no time, and for a time outside
    [EARLIEST, LATEST] (details: field, value, earliest, latest).
    """
    shown = value[:100] if isinstance(value, str) else repr(value)[:100]
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise validation_error(
                f"{field} must be an ISO 8601 date or time", field=field, value=shown
            ) from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise validation_error(
            f"{field} must be a datetime or ISO 8601 text", field=field, value=shown
        )
    try:
        # Year 1 at +01:00 or year 9999 at -01:00 lies outside what datetime holds in UTC.
        instant = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        instant = None
    if instant is None or not EARLIEST <= instant <= LATEST:
        raise validation_error(
            f"{field} must lie between {EARLIEST.date()} and {LATEST.date()} (UTC)",
            field=field,
            value=shown,
            earliest=EARLIEST.isoformat(),
            latest=LATEST.isoformat(),
        )
    return instant
