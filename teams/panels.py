"""What the outcome sections of the team, value-stream and portfolio pages show, assembled from
selectors (reads), metrics (arithmetic) and charts (figures). Query counts do not grow with rows."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

from portfolio.charting import chart_panel
from portfolio.models import Portfolio
from teams import selectors
from teams.charts import key_result_trend_chart, realisation_chart
from teams.metrics import (
    PulseSummary,
    TeamStability,
    check_in_due_on,
    dependency_counts,
    is_stale,
    key_result_progress,
    pulse_summary,
    realisation_summary,
    staleness_rollup,
    team_stability,
)
from teams.models import (
    MIN_RESPONSES_SHOWN,
    KeyResult,
    Objective,
    OutcomeUpdate,
    ProductTeam,
    TeamMembership,
)

STATUS_LABELS = dict(OutcomeUpdate.Status.choices)


@dataclass
class KeyResultRow:
    """A key result as the team page shows it: latest standing check-in, progress, staleness, chart."""

    key_result: KeyResult
    latest: dict[str, Any] | None
    progress: float | None
    stale: bool
    chart: dict[str, Any]

    @property
    def progress_bar(self) -> int:
        """Progress for the bar, 0–100 (the bar cannot show going backwards or overshooting)."""
        return 0 if self.progress is None else round(min(max(self.progress, 0.0), 1.0) * 100)

    @property
    def progress_percent(self) -> int | None:
        return None if self.progress is None else round(self.progress * 100)


def _local_date(moment: dt.datetime, time_zone: str) -> dt.date:
    return moment.astimezone(zoneinfo.ZoneInfo(time_zone)).date()


def key_result_rows(
    key_results: list[KeyResult], *, as_of: dt.date, time_zone: str, with_charts: bool = True
) -> list[KeyResultRow]:
    """Rows for the key results, from one query of their check-ins (`chart` is {} without charts)."""
    updates = selectors.key_result_update_frame(kr.pk for kr in key_results)
    rows = []
    for kr in key_results:
        points = updates[updates["key_result_id"] == kr.pk] if not updates.empty else updates
        latest = points.iloc[-1].to_dict() if not points.empty else None
        last_date = _local_date(latest["posted_at"], time_zone) if latest else None
        chart = _trend_panel(kr, points, time_zone) if with_charts else {}
        rows.append(
            KeyResultRow(
                key_result=kr,
                latest=latest,
                progress=key_result_progress(
                    baseline=kr.baseline,
                    target=kr.target,
                    value=latest["value"] if latest else None,
                ),
                stale=not kr.closed
                and is_stale(
                    last_check_in=last_date,
                    starts_on=kr.starts_on,
                    cadence_days=kr.cadence_days,
                    as_of=as_of,
                ),
                chart=chart,
            )
        )
    return rows


def _trend_panel(kr: KeyResult, points: pd.DataFrame, time_zone: str) -> dict[str, Any]:
    """The key result's trend chart panel with its table of check-ins."""
    table = pd.DataFrame(
        {
            "date": [_local_date(t, time_zone) for t in points["posted_at"]],
            "value": [float(v) for v in points["value"]],
            "confidence": list(points["confidence"]),
            "status": [STATUS_LABELS[s] for s in points["status"]],
        }
    )
    figure = key_result_trend_chart(points, baseline=kr.baseline, target=kr.target, unit=kr.unit)
    return chart_panel(
        f"kr-{kr.pk}",
        f"{kr.metric} over time",
        figure,
        table,
        columns=["Date", f"Value ({kr.unit})" if kr.unit else "Value", "Confidence", "Status"],
    )


@dataclass
class TeamPeople:
    """The team's seats as the team page lists them: held today (by name), starting later (soonest
    first) and ended (latest end first)."""

    current: list[TeamMembership]
    upcoming: list[TeamMembership]
    past: list[TeamMembership]

    @property
    def seated_fte(self) -> Decimal:
        return sum((Decimal(seat.allocation_percent) for seat in self.current), Decimal(0)) / 100


def team_people(team: ProductTeam, *, as_of: dt.date) -> TeamPeople:
    """Every seat of the team, sorted into current, upcoming and past ones. One query."""
    seats = list(selectors.team_seats(team))
    current = [
        seat
        for seat in seats
        if seat.start_date <= as_of and (seat.end_date is None or seat.end_date >= as_of)
    ]
    current.sort(key=lambda s: (s.person.last_name, s.person.first_name, s.person.username))
    upcoming = sorted((s for s in seats if s.start_date > as_of), key=lambda s: s.start_date)
    past = sorted(
        (s for s in seats if s.end_date is not None and s.end_date < as_of),
        key=lambda s: s.end_date,
        reverse=True,
    )
    return TeamPeople(current, upcoming, past)


@dataclass
class DueKeyResult:
    """A key result of the person's team and when its next check-in is due."""

    key_result: KeyResult
    due_on: dt.date
    stale: bool


@dataclass
class YourTeam:
    """One of the person's teams for their home page: their seat and the check-ins due."""

    seat: TeamMembership
    due: list[DueKeyResult]
    upcoming: DueKeyResult | None

    @property
    def team(self) -> ProductTeam:
        return self.seat.team


def your_teams(user, *, as_of: dt.date) -> list[YourTeam]:
    """The teams `user` sits in today, each with its open key results due for a check-in (due on
    or before `as_of`, most overdue first) and the next one due otherwise. Two queries."""
    if not user.is_authenticated:
        return []
    seats = list(selectors.seats_of(user, as_of=as_of))
    by_team: dict[int, list[DueKeyResult]] = {seat.team_id: [] for seat in seats}
    zones = {seat.team_id: seat.team.value_stream.portfolio.time_zone for seat in seats}
    for kr in selectors.open_key_results_of_teams(by_team):
        last = _local_date(kr.last_posted_at, zones[kr.team_id]) if kr.last_posted_at else None
        by_team[kr.team_id].append(
            DueKeyResult(
                kr,
                check_in_due_on(
                    last_check_in=last, starts_on=kr.starts_on, cadence_days=kr.cadence_days
                ),
                is_stale(
                    last_check_in=last,
                    starts_on=kr.starts_on,
                    cadence_days=kr.cadence_days,
                    as_of=as_of,
                ),
            )
        )
    teams = []
    for seat in seats:
        rows = sorted(by_team[seat.team_id], key=lambda row: (row.due_on, row.key_result.metric))
        due = [row for row in rows if row.due_on <= as_of]
        later = [row for row in rows if row.due_on > as_of]
        teams.append(YourTeam(seat, due, later[0] if later else None))
    return teams


@dataclass
class PulseRow:
    opens_on: dt.date
    closes_on: dt.date
    summary: PulseSummary


@dataclass
class TeamOutcomes:
    """Everything the team page shows about outcomes, learning, stability and pulse."""

    key_results: list[KeyResultRow]
    feed: list[OutcomeUpdate]
    experiments: list
    not_doing: list
    stability: TeamStability
    spread_names: list[str]
    pulse: list[PulseRow] = field(default_factory=list)

    @property
    def stale_count(self) -> int:
        return sum(row.stale for row in self.key_results)


def team_outcomes(team: ProductTeam, roster: list, *, as_of: dt.date) -> TeamOutcomes:
    """The team page's outcome sections. `roster` is the team's current seats (people selected)."""
    time_zone = team.value_stream.portfolio.time_zone
    stability = team_stability(
        selectors.membership_frame([team.pk]),
        team_id=team.pk,
        formed_on=team.formed_on,
        as_of=as_of,
    )
    names = {seat.person_id: seat.person.get_full_name() or seat.person.username for seat in roster}
    pulse = [
        PulseRow(
            r.opens_on,
            r.closes_on,
            pulse_summary(
                pd.DataFrame(r.answer_rows, columns=["position", "question", "score"]),
                responses=r.responses_count,
                minimum=MIN_RESPONSES_SHOWN,
            ),
        )
        for r in selectors.team_pulse_rounds(team, as_of=as_of)
    ]
    return TeamOutcomes(
        key_results=key_result_rows(
            list(selectors.team_key_results(team)), as_of=as_of, time_zone=time_zone
        ),
        feed=list(selectors.team_update_feed(team)),
        experiments=list(selectors.team_experiments(team)),
        not_doing=list(selectors.team_not_doing(team)),
        stability=stability,
        spread_names=[names.get(person, "someone") for person in stability.spread_people],
        pulse=pulse,
    )


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


def dependency_hotspots(interactions: list) -> list[dict[str, Any]]:
    """Teams others depend on, most depended-on first: `team`, `dependents`, `blocking`."""
    frame = pd.DataFrame(
        [(i.depends_on, i.blocking) for i in interactions], columns=["team", "blocking"]
    )
    return dependency_counts(frame).to_dict("records")


def realisation_rows(value_stream, *, as_of: dt.date) -> list[dict[str, Any]]:
    """Per realisation metric of the value stream: latest value and its change over a quarter
    and a year (see teams.metrics.realisation_summary)."""
    return realisation_summary(selectors.realisation_frame(value_stream), as_of=as_of).to_dict(
        "records"
    )


def realisation_panels(value_stream) -> list[dict[str, Any]]:
    """One chart panel per realisation metric of the value stream (their scales differ)."""
    points = selectors.realisation_frame(value_stream)
    return [
        chart_panel(
            f"realisation-{value_stream.pk}-{index}",
            str(metric),
            realisation_chart(rows),
            rows[["on", "value"]],
            columns=["Date", "Value"],
        )
        for index, (metric, rows) in enumerate(points.groupby("metric", sort=True))
    ]


@dataclass
class ObjectiveNode:
    """An objective on the outcomes page: its key results and the objectives that contribute to it."""

    objective: Objective
    key_results: list[KeyResultRow]
    children: list[ObjectiveNode] = field(default_factory=list)

    def _rows(self) -> list[KeyResultRow]:
        return [*self.key_results, *(row for child in self.children for row in child._rows())]

    @property
    def progress_percent(self) -> int | None:
        """Mean progress (0–100, each key result clipped to 0–1) of the open key results here
        and below; None when none of them has a check-in."""
        values = [
            min(max(row.progress, 0.0), 1.0)
            for row in self._rows()
            if row.progress is not None and not row.key_result.closed
        ]
        return round(sum(values) / len(values) * 100) if values else None

    @property
    def stale_count(self) -> int:
        """Stale key results here and below."""
        return sum(row.stale for row in self._rows())


@dataclass
class ThemeGroup:
    """Portfolio objectives serving one strategic theme (`theme` None: no theme, or not shown)."""

    theme: Any
    objectives: list[ObjectiveNode]


@dataclass
class OutcomeTree:
    """The portfolio's OKR cascade: themes → portfolio → value-stream → team objectives, and the
    value-stream and team objectives not linked up the chain yet."""

    themes: list[ThemeGroup]
    unlinked: list[ObjectiveNode]
    objective_count: int
    key_result_count: int
    stale_count: int


def outcome_tree(
    portfolio: Portfolio, *, as_of: dt.date, show_themes: bool, themes: list | None = None
) -> OutcomeTree:
    """The portfolio's objectives as a tree, from three queries however many there are.

    With `show_themes`, portfolio objectives are grouped under `themes` (the portfolio's strategic
    themes, in order; themes without objectives are kept, to show what nothing serves yet);
    otherwise they form one group without a theme.
    """
    objectives = list(selectors.portfolio_objectives(portfolio))
    key_results = [kr for objective in objectives for kr in objective.key_results.all()]
    rows = key_result_rows(
        key_results, as_of=as_of, time_zone=portfolio.time_zone, with_charts=False
    )
    rows_by_objective: dict[int, list[KeyResultRow]] = {}
    for row in rows:
        rows_by_objective.setdefault(row.key_result.objective_id, []).append(row)
    nodes = {o.pk: ObjectiveNode(o, rows_by_objective.get(o.pk, [])) for o in objectives}
    level_order = {Objective.Level.PORTFOLIO: 0, Objective.Level.VALUE_STREAM: 1}
    top, unlinked = [], []
    for objective in objectives:
        node = nodes[objective.pk]
        if objective.parent_id in nodes:
            nodes[objective.parent_id].children.append(node)
        elif objective.level == Objective.Level.PORTFOLIO:
            top.append(node)
        else:
            unlinked.append(node)
    for node in nodes.values():
        node.children.sort(
            key=lambda n: (
                n.objective.value_stream.name if n.objective.value_stream_id else "",
                n.objective.team.name if n.objective.team_id else "",
                n.objective.title,
            )
        )
    unlinked.sort(key=lambda n: (level_order.get(n.objective.level, 2), n.objective.title))
    if show_themes:
        groups = [
            ThemeGroup(theme, [n for n in top if n.objective.strategic_theme_id == theme.pk])
            for theme in themes or []
        ]
        shown = {theme.pk for theme in themes or []}
        without = [n for n in top if n.objective.strategic_theme_id not in shown]
        if without:
            groups.append(ThemeGroup(None, without))
    else:
        groups = [ThemeGroup(None, top)] if top else []
    return OutcomeTree(
        themes=groups,
        unlinked=unlinked,
        objective_count=len(objectives),
        key_result_count=len(key_results),
        stale_count=sum(row.stale for row in rows),
    )
