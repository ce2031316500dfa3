"""The value-stream scorecard of the portfolio page: cells, sorting, the download's table."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from leanpmo.detectors.wording import money, percent
from leanpmo.metrics.scorecard import movers, scorecard_frame, sort_scorecard
from leanpmo.selectors.signals import local_today, scorecard_inputs
from portfolio.access import can_see_money
from portfolio.links import object_url
from portfolio.models import Portfolio
from portfolio.sections import kept


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sortable: bool = True
    money: bool = False
    numeric: bool = True


@dataclass
class Cell:
    text: str
    url: str = ""
    css: str = ""
    badges: list[tuple[str, str, str]] = field(default_factory=list)  # (tier, text, title)
    note: str = ""


@dataclass
class Scorecard:
    """The scorecard of one portfolio as the page shows it: columns (money ones only for those who
    see money), one row of cells per value stream, the sort applied and what the figures cover."""

    portfolio: Portfolio
    columns: list[Column]
    rows: list[list[Cell]]
    sort: str
    show_money: bool
    period: str
    month: str
    frame: pd.DataFrame
    movers: list[dict]

    @cached_property
    def rows_markup(self) -> list[SafeString]:
        """Each row's cells as markup (built once: a kept scorecard is shown many times)."""
        return [row_markup(row) for row in self.rows]

    def sort_url(self, column: str) -> str:
        descending = self.sort == column
        return f"?sort={'-' if descending else ''}{column}#scorecard"

    @property
    def headers(self) -> list[dict[str, Any]]:
        return [
            {
                "column": column,
                "url": self.sort_url(column.key) if column.sortable else "",
                "sorted": self.sort.removeprefix("-") == column.key,
                "descending": self.sort.startswith("-"),
            }
            for column in self.columns
        ]


COLUMNS = (
    Column("value_stream", "Value stream", numeric=False),
    Column("budget", "Budget", money=True),
    Column("actual", "Actual", money=True),
    Column("budget_change", "Change vs last period", money=True),
    Column("velocity", "Items done"),
    Column("flow_time_p85_days", "Flow time p85"),
    Column("efficiency", "Flow efficiency"),
    Column("load_change", "Load trend"),
    Column(
        "dora", "DORA: deploys · lead time · failures · recovery", sortable=False, numeric=False
    ),
    Column("outcome_progress", "Outcome progress"),
    Column("stale_share", "Stale key results"),
    Column("realisation_change", "Realisation (quarter)"),
    Column("open_signals", "Open signals"),
)
TIERS = (
    ("deployment_frequency_tier", "Deploys"),
    ("lead_time_tier", "Lead time"),
    ("change_failure_rate_tier", "Failures"),
    ("recovery_time_tier", "Recovery"),
)


def signed_change(value: float | None, *, good: str = "up") -> tuple[str, str]:
    """“↑ 12 %” with a css class: good or bad depending on which way is good."""
    if value is None:
        return "—", ""
    value = round(value)  # as shown: a change that rounds to 0 % is no change
    arrow = "↑" if value > 0 else "↓" if value < 0 else "→"
    css = "" if value == 0 else ("good" if (value > 0) == (good == "up") else "bad")
    return f"{arrow} {percent(abs(value))}", css


def _days(value: float | None) -> str:
    if value is None:
        return "—"
    shown = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{shown} day" if shown == "1" else f"{shown} days"


def _cells(row: dict, portfolio: Portfolio, columns: list[Column]) -> list[Cell]:
    stream = row["value_stream_id"]
    stream_url = object_url("value-stream-detail", stream)
    currency = portfolio.currency
    change, change_css = signed_change(row["budget_change"])
    load, load_css = signed_change(row["load_change"], good="down")
    realisation, realisation_css = signed_change(row["realisation_change"])
    velocity = "—" if row["velocity"] is None else f"{row['velocity']:,}"
    if row["velocity_change"] is not None:
        velocity += f" ({signed_change(row['velocity_change'])[0]})"
    progress = "—" if row["outcome_progress"] is None else percent(row["outcome_progress"])
    open_results = row["key_results"]
    stale = (  # "4 of 6": the count beside the total reads at once (the column sorts by share)
        "—"
        if not open_results
        else f"{round(row['stale_share'] * open_results / 100)} of {open_results}"
    )
    realisation_note = (
        f"{row['realisation_improving'] or 0} of {row['realisation_metrics']} realisation metrics "
        "improving over a quarter"
        if row["realisation_metrics"]
        else "No realisation metrics"
    )
    cells = {
        "value_stream": Cell(row["value_stream"], stream_url, "name"),
        "budget": Cell(
            money(row["budget"], currency) if row["budget"] is not None else "—",
            object_url("budget-detail", row["budget_id"]) if row["budget_id"] else "",
        ),
        "actual": Cell(
            money(row["actual"], currency) if row["actual"] is not None else "—",
            object_url("investment-mix", portfolio.pk),
        ),
        "budget_change": Cell(
            change,
            object_url("budget-detail", row["budget_id"]) if row["budget_id"] else "",
            change_css,
        ),
        "velocity": Cell(velocity, f"{stream_url}#flow"),
        "flow_time_p85_days": Cell(_days(row["flow_time_p85_days"]), f"{stream_url}#flow"),
        "efficiency": Cell(
            "—" if row["efficiency"] is None else percent(row["efficiency"]), f"{stream_url}#flow"
        ),
        "load_change": Cell(load, f"{stream_url}#flow", load_css),
        "dora": Cell(
            "" if row["dora_month"] else "—",
            f"{stream_url}#flow",
            badges=[
                (row[key] or "none", row[key] or "—", f"{label}: {row[key] or 'no tier'}")
                for key, label in TIERS
            ]
            if row["dora_month"]
            else [],
        ),
        "outcome_progress": Cell(progress, f"{stream_url}#outcomes"),
        "stale_share": Cell(stale, f"{stream_url}#outcomes", "bad" if row["stale_share"] else ""),
        "realisation_change": Cell(
            realisation,
            object_url("realisation-metrics", stream),
            realisation_css,
            note=realisation_note,
        ),
        "open_signals": Cell(
            str(row["open_signals"]),
            object_url("signal-inbox", portfolio.pk) + f"?value_stream={stream}",
            "bad" if row["open_signals"] else "",
        ),
    }
    return [cells[column.key] for column in columns]


def _escape(value: object) -> str:
    return html.escape(str(value))


def _cell_markup(cell: Cell, first: bool) -> str:
    """One cell's markup (every value escaped: the cells hold plain text, never markup, so the
    standard library's escape, which Django's own uses, is enough)."""
    e = _escape
    if first:
        opening, closing = '<th scope="row">', "</th>"
    else:
        css = "" if cell.badges or cell.css == "name" else "num"
        opening, closing = f'<td class="{css}">', "</td>"
    if cell.badges:
        badges = "".join(
            f'<span class="tier-badge small tier-{e(tier)}" title="{e(title)}">'
            f'<span class="visually-hidden">{e(title)}</span>'
            f'<span aria-hidden="true">{e(text)}</span></span>'
            for tier, text, title in cell.badges
        )
        content = f'<a class="tier-set" href="{e(cell.url)}">{badges}</a>\n          '
    elif cell.url:
        note = f' title="{e(cell.note)}"' if cell.note else ""
        content = f'<a class="{e(cell.css)}" href="{e(cell.url)}"{note}>{e(cell.text)}</a>'
    else:
        content = f'<span class="{e(cell.css)}">{e(cell.text)}</span>'
    return f"{opening}\n          {content}\n        {closing}"


def row_markup(row: list[Cell]) -> SafeString:
    """A row's cells: the value stream as the row's header, the figures as cells. Written here
    rather than by a template loop: 80 value streams of 13 cells each cost ~20 ms in the
    template engine."""
    return mark_safe(
        "".join(_cell_markup(cell, n == 0) for n, cell in enumerate(row))
    )  # every value escaped above


def scorecard(portfolio: Portfolio, *, role: str | None, sort: str, now: dt.datetime) -> Scorecard:
    """The value-stream scorecard of the portfolio, sorted by `sort` (see
    leanpmo.metrics.scorecard.sort_scorecard); money only for those who may see it."""
    show_money = can_see_money(role, portfolio)
    inputs = scorecard_inputs(portfolio, as_of=now, now=now)
    frame = scorecard_frame(inputs, as_of=now, today=local_today(portfolio, now))
    frame, applied = sort_scorecard(frame, sort, money=show_money)
    columns = [c for c in COLUMNS if show_money or not c.money]
    months = [m for m in frame["month"] if m] if not frame.empty else []
    return Scorecard(
        portfolio=portfolio,
        columns=columns,
        rows=[_cells(row, portfolio, columns) for row in frame.to_dict("records")],
        sort=applied,
        show_money=show_money,
        period=inputs.period,
        month=max(months) if months else "",
        frame=frame,
        movers=movers(frame, money=show_money),
    )


def scorecard_section(
    portfolio: Portfolio, *, role: str | None, sort: str, now: dt.datetime
) -> str:
    """The portfolio page's scorecard as markup, kept per data version (portfolio.sections): by
    portfolio, local date, whether the viewer sees money, and sort."""
    return kept(
        "scorecard",
        (portfolio.pk, local_today(portfolio, now), can_see_money(role, portfolio), sort),
        lambda: render_to_string(
            "leanpmo/_scorecard.html",
            {"scorecard": scorecard(portfolio, role=role, sort=sort, now=now)},
        ),
        now=now,
    )


def scorecard_table(card: Scorecard) -> pd.DataFrame:
    """The scorecard's numbers for a download: one row per value stream, columns named for people
    (money columns only when the viewer sees money)."""
    frame = card.frame
    table = pd.DataFrame({"Value stream": frame["value_stream"]})
    if card.show_money:
        table[f"Budget {card.period} ({card.portfolio.currency})"] = frame["budget"]
        table[f"Actual ({card.portfolio.currency})"] = frame["actual"]
        table["Budget change vs previous period (%)"] = frame["budget_change"]
    named = {
        "velocity": "Items done in the month",
        "velocity_change": "Items done change (%)",
        "flow_time_p85_days": "Flow time p85 (days)",
        "efficiency": "Flow efficiency (%)",
        "load": "Mean load (items)",
        "load_change": "Load change (%)",
        "month": "Month",
        "deployment_frequency_tier": "Deployment frequency tier",
        "lead_time_tier": "Lead time tier",
        "change_failure_rate_tier": "Change failure rate tier",
        "recovery_time_tier": "Recovery time tier",
        "outcome_progress": "Outcome progress (%)",
        "key_results": "Open key results",
        "stale_share": "Stale key results (%)",
        "realisation_change": "Realisation quarter change (%)",
        "open_signals": "Open signals",
    }
    for column, label in named.items():
        table[label] = frame[column]
    return table.reset_index(drop=True)
