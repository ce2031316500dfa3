"""The numbers behind a chart, written for people (the table under a chart and its CSV). Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from portfolio.formatting import (
    MISSING,
    measure,
    money,
    money_change,
    number,
    percent_change,
    share,
    whole_percents,
)

# -- the numbers behind a chart, for people -------------------------------------------------------

FORMATS = {
    "money": lambda value, currency: money(value, currency),
    "change": lambda value, currency: money_change(value, currency),
    "share": lambda value, currency: share(value),
    "share1": lambda value, currency: share(value, 1),
    "percent_change": lambda value, currency: percent_change(value, 1),
    "count": lambda value, currency: number(value),
    "measure": lambda value, currency: measure(value, 1),
    "date": lambda value, currency: _date_text(value),
    "text": lambda value, currency: MISSING if value is None or pd.isna(value) else str(value),
}


def _date_text(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return MISSING
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return f"{value.day} {value:%b %Y}"
    return str(value)


def people_table(
    frame: pd.DataFrame, kinds: Mapping[str, str], *, currency: str = ""
) -> pd.DataFrame:
    """`frame` with each column written for people by its kind (`kinds`: column → "money",
    "change", "share", "share1", "percent_change", "count", "measure", "date" or "text"; columns
    not named are left out). Shares given as 0–1 in a column named with "share" of a money
    column's parts are written as whole percentages adding up to 100 % when the kind is
    "share"."""
    columns = {}
    for column, kind in kinds.items():
        values = frame[column].tolist()
        if kind == "share":
            numbers = [v for v in values if v is not None and not pd.isna(v)]
            if numbers and abs(sum(numbers) - 1) < 0.01:
                columns[column] = [
                    MISSING if value is None or pd.isna(value) else f"{pct} %"
                    for value, pct in zip(values, whole_percents(values), strict=True)
                ]
                continue
        columns[column] = [FORMATS[kind](value, currency) for value in values]
    return pd.DataFrame(columns, index=frame.index)
