"""Figures for people: money, shares, durations, counts. Pure (no Django), used by the template
filters in ``portfolio/templatetags/formatting.py``, by the charts' labels and by the e-mails.

Every function accepts None (and an empty string) and answers "—", so a missing figure never shows
as "None" or "nan". Thousands are separated with a comma, the decimal mark is a point (the pages are
in British English), negative numbers use a real minus sign, and a unit stands after the figure
with a space ("12 %", "3.5 days", "1,250,000 EUR").
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MISSING = "—"
MINUS = "\u2212"
Number = int | float | Decimal | str | None


def _number(value: Number) -> Decimal | None:
    """The value as a finite Decimal, or None when there is nothing to show."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def number(value: Number, places: int = 0) -> str:
    """A number with thousands separators and `places` decimals: 1234567.891 → "1,234,567.89"."""
    amount = _number(value)
    if amount is None:
        return MISSING
    quantum = Decimal(1).scaleb(-places)
    rounded = amount.quantize(quantum, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0"
    text = f"{abs(rounded):,.{places}f}"
    return f"{MINUS}{text}" if rounded < 0 else text


def measure(value: Number, places: int = 2) -> str:
    """A measured value with at most `places` decimals and no trailing zeros: 94.50 → "94.5"."""
    text = number(value, places)
    if text == MISSING or "." not in text:
        return text
    return text.rstrip("0").rstrip(".")


def money(value: Number, currency: str = "", *, cents: bool = False) -> str:
    """Money with separators and the currency after it: 1250000 → "1,250,000 EUR". Whole units
    unless `cents` (a figure where cents mean something: an actual spend line, an export)."""
    text = number(value, 2 if cents else 0)
    if text == MISSING or not currency:
        return text
    return f"{text} {currency}"


def money_change(value: Number, currency: str = "") -> str:
    """A change of money with its sign: 50000 → "+50,000 EUR", −12397 → "−12,397 EUR", 0 → "0 EUR"."""
    text = money(value, currency)
    amount = _number(value)
    positive = amount is not None and amount.quantize(Decimal(1), rounding=ROUND_HALF_UP) > 0
    return f"+{text}" if positive else text


def money_short(value: Number, currency: str = "") -> str:
    """Money in a few characters (three significant digits) for tight places: 950 → "950",
    792330 → "792k", 1250000 → "1.25M", each with the currency after it when given."""
    amount = _number(value)
    if amount is None:
        return MISSING
    text = number(amount, 0)
    for limit, suffix in ((10**9, "bn"), (10**6, "M"), (10**3, "k")):
        if abs(amount) >= limit:
            # three significant digits: 1.78M, 12.5M, 792k
            places = 2 if abs(amount) < 10 * limit else 1 if abs(amount) < 100 * limit else 0
            text = measure(amount / limit, places) + suffix
            break
    return f"{text} {currency}" if currency else text


def percent(value: Number, places: int = 0) -> str:
    """A percentage given in percent: 12.5 → "13 %" (places=0), "12.5 %" (places=1)."""
    text = number(value, places)
    return text if text == MISSING else f"{text} %"


def percent_change(value: Number, places: int = 0) -> str:
    """A change in percent with its sign and no trailing zeros: 7.44 → "+7 %" (places=0),
    −3.25 → "−3.3 %" and 100.0 → "+100 %" (places=1)."""
    text = measure(value, places)
    text = text if text == MISSING else f"{text} %"
    amount = _number(value)
    quantum = Decimal(1).scaleb(-places)
    positive = amount is not None and amount.quantize(quantum, rounding=ROUND_HALF_UP) > 0
    return f"+{text}" if positive else text


def whole_percents(fractions: Sequence[Number]) -> list[int | None]:
    """Fractions of one as whole percentages that add up to 100 (largest remainder): three
    thirds → [34, 33, 33], never the 99 % that rounding each one gives. Missing values stay None
    and are left out of the sum; all zero gives zeros."""
    amounts = [_number(value) for value in fractions]
    known = [amount for amount in amounts if amount is not None]
    total = sum(known, Decimal(0))
    if not known or total <= 0:
        return [None if amount is None else 0 for amount in amounts]
    exact = [None if amount is None else amount / total * 100 for amount in amounts]
    floors = [None if value is None else int(value) for value in exact]
    missing = 100 - sum(value for value in floors if value is not None)
    order = sorted(
        (index for index, value in enumerate(exact) if value is not None),
        key=lambda index: exact[index] - floors[index],  # type: ignore[operator]
        reverse=True,
    )
    for index in order[:missing]:
        floors[index] += 1  # type: ignore[operator]
    return floors


def share(value: Number, places: int = 0) -> str:
    """A share given as a fraction of one: 0.242 → "24 %"."""
    amount = _number(value)
    return MISSING if amount is None else percent(amount * 100, places)


def plural(count: Number, singular: str, plural_form: str = "") -> str:
    """A count with its noun: (1, "deployment") → "1 deployment", (3, "deployment") →
    "3 deployments", (2, "person", "people") → "2 people"."""
    amount = _number(count)
    if amount is None:
        return MISSING
    noun = singular if amount == 1 else (plural_form or f"{singular}s")
    return f"{measure(amount, 1)} {noun}"


def duration(seconds: Number) -> str:
    """A span for people, in the largest unit that reads well: 45 → "45 s", 3493 min → "2.4 days",
    5400 s → "1.5 h", 90 days → "90 days"."""
    amount = _number(seconds)
    if amount is None:
        return MISSING
    value = float(amount)
    sign = MINUS if value < 0 else ""
    value = abs(value)
    if value < 60:
        return f"{sign}{value:.0f} s"
    if value < 3600:
        return f"{sign}{value / 60:.0f} min"
    if value < 86400:
        return f"{sign}{measure(value / 3600, 1)} h"
    days = value / 86400
    return f"{sign}{plural(round(days, 1) if days < 10 else round(days), 'day')}"


def days(value: Number) -> str:
    """A number of days: 1 → "1 day", 12.4 → "12 days", 0.5 → "less than a day"."""
    amount = _number(value)
    if amount is None:
        return MISSING
    if 0 <= amount < 1:
        return "less than a day"
    return plural(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP), "day")


def day(value: date | None) -> str:
    """A date as people write it: 2026-02-02 → "2 Feb 2026"."""
    return MISSING if value is None else f"{value.day} {value:%b %Y}"


def month(value: date | None) -> str:
    """The month a date falls in: 2026-02-14 → "Feb 2026"."""
    return MISSING if value is None else f"{value:%b %Y}"


def table_cell(value: object) -> str:
    """A cell of a chart's table for people: whole numbers with separators ("1,204"), other
    numbers with at most one decimal ("9.5"), dates as "2 Feb 2026", missing values as "—"."""
    if type(value).__module__ == "numpy":  # numpy scalars from a frame: their Python value
        value = value.item()  # type: ignore[attr-defined]
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return day(value.date())
    if isinstance(value, date):
        return day(value)
    if isinstance(value, int):
        return number(value)
    if isinstance(value, float | Decimal):
        return measure(value, 1)
    return str(value)


NBSP = "\u00a0"
_UNIT_AFTER_FIGURE = re.compile(
    r"(?:(?<=\d)|(?<=\d[kM])|(?<=\dbn)) (?=%|[A-Z]{3}\b|pts\b|h\b|s\b|min\b|days?\b|items?\b|deployments?\b|"
    r"value streams?\b|people\b|persons?\b|reviews?\b|decisions?\b)"
)


def nobreak(text: str) -> str:
    """`text` with a no-break space between each figure and the unit after it ("25 %",
    "3.21M EUR", "2.4 days"), so that a line never breaks inside a figure; the figures are the
    formatters' own, only the space changes."""
    return _UNIT_AFTER_FIGURE.sub(NBSP, text)
