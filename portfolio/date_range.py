"""The one range of dates Steward accepts, for every date and time that enters it: forms and API
fields, ingested and imported timestamps, query parameters (pure: no Django, so the import parsers
use it too; the model-field validator beside it is
:func:`portfolio.models.validate_date_in_range`).

The metrics compute with pandas, whose timestamps end in April 2262 (and begin in 1677): a funding
period in 4061 (a typo for 2061) once made every recompute of its portfolio fail, and year 3 (for
2023) is as wrong. Dates from 1970-01-01 to 2200-12-31 hold every real portfolio, team, decision
and work item with room to spare, and keep every window built from them (a period's end plus a
day, a quarter ahead, a report's 104 weeks back) far inside what pandas represents.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2200, 12, 31)
# the same range as instants: [EARLIEST_MOMENT, END_MOMENT) in UTC
EARLIEST_MOMENT = datetime(1970, 1, 1, tzinfo=UTC)
END_MOMENT = datetime(2201, 1, 1, tzinfo=UTC)
DATE_RANGE_TEXT = f"{EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}"


def _day_of(value: date | datetime) -> date:
    """The calendar day of ``value``: of an aware datetime, its day in UTC."""
    if isinstance(value, datetime):
        aware = value.tzinfo is not None and value.utcoffset() is not None
        # converted only inside the range's years: year 1 or 9999 may not cross an offset
        if aware and EARLIEST_DATE.year <= value.year <= LATEST_DATE.year:
            return value.astimezone(UTC).date()
        return value.date()
    return value


def in_date_range(value: date | datetime) -> bool:
    """Whether ``value`` (a date, or a datetime: an aware one by its UTC day) lies in the range."""
    return EARLIEST_DATE <= _day_of(value) <= LATEST_DATE


def date_range_problem(value: date | datetime) -> str | None:
    """A message naming the range when ``value`` lies outside it (None when it lies inside)."""
    if in_date_range(value):
        return None
    shown = value.isoformat() if not isinstance(value, datetime) else value.isoformat(" ")
    return f"{shown} is outside the dates Steward accepts ({DATE_RANGE_TEXT})."
