"""Page sections about initiatives: the kanban board, the kanban's own flow and the work-shape
pyramid (which the executive's investment page shows too). Each calls selectors, the pure metrics
and charts, and returns plain data for a template; a fixed number of queries whatever the number
of initiatives."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.urls import reverse

from leanpmo.charts import initiatives as charts
from leanpmo.charts.tables import people_table
from leanpmo.metrics import initiatives as metrics
from leanpmo.models import FundingPeriod, Guardrail, Initiative, InitiativeState
from leanpmo.selectors.initiatives import (
    board_initiatives,
    initiative_transitions,
    pending_exceptions,
    pyramid_inputs,
    stop_learnings,
    strategic_cap,
    strategic_in_progress,
    transition_frame,
)
from leanpmo.selectors.signals import local_today
from portfolio.charting import chart_panel
from portfolio.formatting import nobreak
from portfolio.models import Portfolio
from portfolio.sections import kept

RECENT_FINISHED = 8


@dataclass
class Card:
    """One initiative on the board, with what its card shows."""

    initiative: Initiative
    shape: str | None
    wsjf: metrics.Wsjf
    age_days: float
    moves: list[tuple[str, str]]
    learning: str = ""

    @property
    def shape_label(self) -> str:
        return metrics.SHAPE_LABELS[self.shape] if self.shape else "No team yet"


@dataclass
class Column:
    state: str
    label: str
    cards: list[Card] = field(default_factory=list)
    hidden: int = 0

    @property
    def count(self) -> int:
        return len(self.cards) + self.hidden


@dataclass
class CapStatus:
    """The strategic WIP cap now: the guardrail (None without one) and who holds the slots."""

    guardrail: Guardrail | None
    in_progress: list[Initiative]

    @property
    def count(self) -> int:
        return len(self.in_progress)

    @property
    def limit(self) -> int | None:
        return self.guardrail.max_count if self.guardrail else None

    @property
    def full(self) -> bool:
        return self.limit is not None and self.count >= self.limit

    @property
    def over(self) -> bool:
        return self.limit is not None and self.count > self.limit


def _card(initiative: Initiative, as_of: dt.datetime) -> Card:
    return Card(
        initiative=initiative,
        shape=initiative.work_shape,
        wsjf=initiative.wsjf,
        age_days=(as_of - initiative.state_changed_at).total_seconds() / metrics.DAY_SECONDS,
        moves=[
            (state, metrics.STATE_LABELS[state])
            for state in metrics.ALLOWED_MOVES[initiative.state]
        ],
    )


def board_section(portfolio: Portfolio, *, as_of: dt.datetime) -> dict[str, Any]:
    """The kanban: columns funnel → done in flow order and the stopped (learning) shelf, the cap
    now, exceptions waiting for an executive and the kanban's flow."""
    initiatives = board_initiatives(portfolio)
    cards = [_card(initiative, as_of) for initiative in initiatives]
    columns = {state: Column(state, label) for state, label in InitiativeState.choices}
    for card in sorted(
        cards,
        key=lambda c: metrics.column_order(
            c.initiative.state, c.wsjf.score, c.initiative.state_changed_at.timestamp()
        ),
    ):
        columns[card.initiative.state].cards.append(card)
    learnings = stop_learnings(portfolio)
    for card in columns[InitiativeState.STOPPED].cards:
        card.learning = learnings.get(card.initiative.pk, "")
    for state in (InitiativeState.DONE, InitiativeState.STOPPED):
        column = columns[state]
        column.hidden = max(0, len(column.cards) - RECENT_FINISHED)
        column.cards = column.cards[:RECENT_FINISHED]
    running = [
        c.initiative
        for c in cards
        if c.initiative.state == InitiativeState.IMPLEMENTING and c.shape == metrics.STRATEGIC
    ]
    by_id = {initiative.pk: initiative for initiative in initiatives}
    return {
        "columns": [columns[state] for state in metrics.FLOW_STATES],
        "stopped": columns[InitiativeState.STOPPED],
        "cap": CapStatus(strategic_cap(portfolio), sorted(running, key=lambda i: i.title)),
        "pending": pending_exceptions(portfolio),
        "flow": kanban_flow_section(portfolio, as_of=as_of, initiatives=by_id),
        "total": len(initiatives),
    }


def kept_board(portfolio: Portfolio, *, now: dt.datetime) -> dict[str, Any]:
    """`board_section` as of now, kept per data version and local date (portfolio.sections)."""
    return kept(
        "kanban",
        (portfolio.pk, local_today(portfolio, now)),
        lambda: board_section(portfolio, as_of=now),
        now=now,
    )


FLOW_TABLES = {
    # key: (title, column names for people)
    "lead-times": ("Lead time funnel → done", ["Initiative", "Days"]),
    "in-analysis": ("Age of the items in analysis", ["Initiative", "Days in analysis"]),
    "state-days": ("Where bets wait", ["State", "Stays", "Median days", "Mean days"]),
}


def kanban_flow_tables(
    portfolio: Portfolio, *, as_of: dt.datetime, initiatives: dict[int, Initiative]
) -> tuple[metrics.KanbanFlow, dict[str, pd.DataFrame]]:
    """The kanban's flow and its tables for people (titles instead of ids), keyed as FLOW_TABLES."""
    flow = metrics.kanban_flow(transition_frame(portfolio), pd.Timestamp(as_of))

    def titled(frame: pd.DataFrame) -> pd.DataFrame:
        titles = frame["initiative_id"].map(
            lambda pk: initiatives[pk].title if pk in initiatives else pk
        )
        return pd.DataFrame({"initiative": titles, "days": frame["days"]})

    state_days = flow.state_days.assign(state=flow.state_days["state"].map(metrics.STATE_LABELS))
    return flow, {
        "lead-times": titled(flow.lead_times),
        "in-analysis": titled(flow.in_analysis),
        "state-days": state_days,
    }


def kanban_flow_section(
    portfolio: Portfolio, *, as_of: dt.datetime, initiatives: dict[int, Initiative]
) -> dict[str, Any]:
    """Lead time funnel → done (median, 85th percentile), the age of the items in analysis and the
    median days per state, with a chart and CSVs."""
    flow, tables = kanban_flow_tables(portfolio, as_of=as_of, initiatives=initiatives)
    title, columns = FLOW_TABLES["state-days"]
    return {
        "flow": flow,
        "done": len(flow.lead_times),
        "in_analysis": tables["in-analysis"].to_dict("records"),
        "oldest_in_analysis": float(flow.in_analysis["days"].max())
        if not flow.in_analysis.empty
        else None,
        "lead_times": tables["lead-times"].to_dict("records"),
        "chart": chart_panel(
            "chart-kanban-states",
            nobreak(charts.state_days_title(flow.state_days))
            if not flow.state_days.empty
            else title,
            charts.state_days_chart(flow.state_days),
            people_table(
                tables["state-days"],
                {
                    "state": "text",
                    "stays": "count",
                    "median_days": "measure",
                    "mean_days": "measure",
                },
            ),
            columns=columns,
            csv_url=reverse("initiative-flow-csv", args=[portfolio.pk, "state-days"]),
            note="Median days per stay in each state; a stay still going counts up to now.",
            finding=nobreak(charts.state_days_title(flow.state_days))
            if not flow.state_days.empty
            else "",
        ),
        "csv": {
            key.replace("-", "_"): reverse("initiative-flow-csv", args=[portfolio.pk, key])
            for key in FLOW_TABLES
        },
    }


PYRAMID_CHARTS = {
    # key: (title, column names for people)
    "pyramid": (
        "Work-shape pyramid",
        ["Shape", "In progress", "Team cost", "Share by count", "Share by cost"],
    ),
    "trend": (
        "Work-shape mix over periods (share of team cost)",
        ["Period", "Shape", "In progress", "Team cost", "Share by count", "Share by cost"],
    ),
    "cap": ("Strategic initiatives in progress vs the cap", ["Period", "In progress", "Cap"]),
}


def pyramid_tables(
    portfolio: Portfolio, *, period: FundingPeriod | None, as_of: dt.datetime
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], Guardrail | None]:
    """The pyramid mix of every period and its tables for people, keyed as PYRAMID_CHARTS."""
    stamp = pd.Timestamp(as_of)
    mix = metrics.pyramid_mix(*pyramid_inputs(portfolio, as_of), stamp)
    guardrail = strategic_cap(portfolio)
    labelled = mix.assign(shape=mix["shape"].map(metrics.SHAPE_LABELS))
    selected = labelled[labelled["period"] == (period.name if period else None)]
    strategic = labelled[labelled["shape"] == metrics.SHAPE_LABELS[metrics.STRATEGIC]]
    tables = {
        "pyramid": selected[["shape", "count", "cost", "count_share", "cost_share"]],
        "trend": labelled[["period", "shape", "count", "cost", "count_share", "cost_share"]],
        "cap": pd.DataFrame(
            {
                "period": strategic["period"],
                "count": strategic["count"],
                "cap": guardrail.max_count if guardrail else None,
            }
        ),
    }
    return mix, tables, guardrail


def pyramid_section(
    portfolio: Portfolio, *, period: FundingPeriod | None, as_of: dt.datetime
) -> dict[str, Any]:
    """The work-shape pyramid of `period`, its trend over the periods and the strategic cap, as
    chart panels with their tables and CSVs."""
    mix, tables, guardrail = pyramid_tables(portfolio, period=period, as_of=as_of)
    selected = mix[mix["period"] == (period.name if period else None)]
    query = f"?period={period.pk}" if period else ""
    cap = guardrail.max_count if guardrail else None
    figures = {
        "pyramid": charts.pyramid_chart(selected),
        "trend": charts.pyramid_trend_chart(mix),
        "cap": charts.strategic_cap_chart(mix, cap),
    }
    findings = {
        "pyramid": charts.pyramid_title(selected),
        "trend": charts.pyramid_trend_title(mix),
        "cap": charts.strategic_cap_title(mix, cap),
    }
    panels = {
        key: chart_panel(
            f"chart-pyramid-{key}",
            title + (f" · {period.name}" if key == "pyramid" and period else ""),
            figures[key],
            people_table(tables[key], PYRAMID_KINDS[key], currency=portfolio.currency),
            columns=columns,
            csv_url=reverse("initiative-pyramid-csv", args=[portfolio.pk, key]) + query,
            note=PYRAMID_NOTE if key == "pyramid" else "",
            finding=nobreak(findings[key]),
        )
        for key, (title, columns) in PYRAMID_CHARTS.items()
    }
    return {
        "charts": panels,
        "guardrail": guardrail,
        "strategic_now": len(strategic_in_progress(portfolio)),
        "has_work": bool(mix["count"].sum()),
    }


PYRAMID_KINDS = {
    "pyramid": {"shape": "text", "count": "count", "cost": "money", "count_share": "share",
                "cost_share": "share"},
    "trend": {"period": "text", "shape": "text", "count": "count", "cost": "money",
              "count_share": "share1", "cost_share": "share1"},
    "cap": {"period": "text", "count": "count", "cap": "count"},
}  # fmt: skip
PYRAMID_NOTE = (
    "Count: initiatives implementing at the period's end (now, for a running period). Cost: the "
    "linked teams' capacity × loaded cost for the days in progress within the period (work still "
    "running counts to the period's end); a team's cost is never counted beyond its capacity."
)


def timeline_section(initiative: Initiative, *, as_of: dt.datetime) -> dict[str, Any]:
    """An initiative's moves, oldest first, each with the days it stayed in the state it moved to
    (`days_in_state`, up to `as_of` for the current one), and the total days per state."""
    transitions = initiative_transitions(initiative)
    frame = pd.DataFrame(
        [(t.initiative_id, t.from_state, t.to_state, t.moved_at) for t in transitions],
        columns=metrics.TRANSITION_COLUMNS,
    )
    frame["moved_at"] = pd.to_datetime(frame["moved_at"], utc=True)
    intervals = metrics.state_intervals(frame, pd.Timestamp(as_of))
    days = dict(enumerate(intervals["days"].tolist()))
    for index, transition in enumerate(transitions):
        transition.days_in_state = days.get(index)
    totals = metrics.time_in_states(intervals)
    return {
        "transitions": transitions,
        "time_in_states": totals.assign(label=totals["state"].map(metrics.STATE_LABELS)).to_dict(
            "records"
        ),
    }
