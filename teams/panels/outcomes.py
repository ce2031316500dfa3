"""The outcome sections of the value-stream page (value-stream objectives, stale key results per
team, team stability) and of the portfolio page (stale key results per value stream). Each
section function returns the plain data its partial (templates/teams/) is included with; query
counts do not grow with rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from portfolio.models import Portfolio
from teams import selectors
from teams.metrics import staleness_rollup, team_stability
from teams.models import KeyResult, Objective, ProductTeam
from teams.panels.key_results import key_result_rows


def _ids_by_label(frame: pd.DataFrame, label: str, id_column: str, labels: pd.Series) -> pd.Series:
    """The id behind each roll-up label (None for the level's own key results, which have none)."""
    known = frame.dropna(subset=[id_column])
    ids = {name: int(pk) for name, pk in zip(known[label], known[id_column], strict=True)}
    return pd.Series([ids.get(name) for name in labels], index=labels.index, dtype=object)


def value_stream_staleness(value_stream, *, as_of: dt.date) -> pd.DataFrame:
    """Open and stale key results per team of the value stream (value-stream key results under
    the label "Value stream"). Columns: `team`, `team_id`, `open`, `stale`, `stale_share`."""
    frame = selectors.open_key_result_frame(
        KeyResult.objects.filter(objective__value_stream=value_stream),
        time_zone=value_stream.portfolio.time_zone,
    )
    frame["team"] = frame["team"].replace("", "Value stream")
    rollup = staleness_rollup(frame, by="team", as_of=as_of)
    rollup.insert(1, "team_id", _ids_by_label(frame, "team", "team_id", rollup["team"]))
    return rollup


def portfolio_staleness(portfolio: Portfolio, *, as_of: dt.date) -> pd.DataFrame:
    """Open and stale key results per value stream of the portfolio (portfolio key results under
    "Portfolio"). Columns: `value_stream`, `value_stream_id`, `open`, `stale`, `stale_share`."""
    frame = selectors.open_key_result_frame(
        KeyResult.objects.filter(objective__portfolio=portfolio), time_zone=portfolio.time_zone
    )
    frame["value_stream"] = frame["value_stream"].replace("", "Portfolio")
    rollup = staleness_rollup(frame, by="value_stream", as_of=as_of)
    rollup.insert(
        1,
        "value_stream_id",
        _ids_by_label(frame, "value_stream", "value_stream_id", rollup["value_stream"]),
    )
    return rollup


def value_stream_stability(teams: list[ProductTeam], *, as_of: dt.date) -> list[dict[str, Any]]:
    """Per team: age, headcount, the latest quarter's churn and people in more than two teams."""
    memberships = selectors.membership_frame([team.pk for team in teams])
    rows = []
    for team in teams:
        stability = team_stability(
            memberships, team_id=team.pk, formed_on=team.formed_on, as_of=as_of
        )
        rows.append(
            {
                "team": team,
                "age_days": stability.age_days,
                "headcount": stability.headcount,
                "churn": stability.latest_churn,
                "spread": len(stability.spread_people),
            }
        )
    return rows


@dataclass(frozen=True)
class ValueStreamOutcomes:
    """The value-stream page's outcome section (templates/teams/_value_stream_outcomes.html).

    `objectives`: the value-stream objectives, each key result carrying its KeyResultRow as
    `.row`; `staleness`: open and stale key results per team (records of value_stream_staleness);
    `stability`: per team, as value_stream_stability gives it.
    """

    objectives: list[Objective]
    staleness: list[dict[str, Any]]
    stability: list[dict[str, Any]]


def value_stream_outcomes_section(
    value_stream, teams: list[ProductTeam], *, as_of: dt.date
) -> ValueStreamOutcomes:
    """The outcome section of `value_stream`'s page; `teams` are its teams (the page's own list,
    so they are not read again), shown by name."""
    teams = sorted(teams, key=lambda team: team.name)
    objectives = list(selectors.value_stream_objectives(value_stream))
    key_results = [kr for objective in objectives for kr in objective.key_results.all()]
    rows = key_result_rows(key_results, as_of=as_of, time_zone=value_stream.portfolio.time_zone)
    for row in rows:
        row.key_result.row = row
    return ValueStreamOutcomes(
        objectives=objectives,
        staleness=value_stream_staleness(value_stream, as_of=as_of).to_dict("records"),
        stability=value_stream_stability(teams, as_of=as_of),
    )


@dataclass(frozen=True)
class PortfolioOutcomes:
    """The portfolio page's outcome section (templates/teams/_portfolio_outcomes.html): open and
    stale key results per value stream (records of portfolio_staleness) and their totals."""

    staleness: list[dict[str, Any]]
    open_total: int
    stale_total: int


def portfolio_outcomes_section(portfolio: Portfolio, *, as_of: dt.date) -> PortfolioOutcomes:
    """Stale key results rolled up per value stream of `portfolio`."""
    rollup = portfolio_staleness(portfolio, as_of=as_of)
    return PortfolioOutcomes(
        staleness=rollup.to_dict("records"),
        open_total=int(rollup["open"].sum()) if not rollup.empty else 0,
        stale_total=int(rollup["stale"].sum()) if not rollup.empty else 0,
    )
