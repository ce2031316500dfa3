"""Reads for the flow dashboards of value-stream and team pages, from the precomputed tables.

Everything here reads what the recompute published (FlowMetric, DoraMetric, StatusTime,
MetricRun) with a fixed number of queries: the count does not grow with teams, items or weeks.
Frames are shaped for `valuestreams.charts`; the caveats they carry are worded by
`valuestreams.selectors.caveats`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from django.db.models import Sum

from portfolio import formatting
from valuestreams.metrics.dora import load_benchmark
from valuestreams.metrics.flow_windows import label_start
from valuestreams.models import (
    DoraMetric,
    FlowMetric,
    Grain,
    MetricRun,
    ScopeKind,
    StatusTime,
)
from valuestreams.selectors.caveats import caveat_messages, scope_caveat_counts
from valuestreams.selectors.recompute_state import RecomputeFailure, recompute_failure

# How far back the charts reach, and the recent span that distribution and waits summarise.
HISTORY = {Grain.WEEK: timedelta(weeks=52), Grain.MONTH: timedelta(days=731)}
RECENT = {Grain.WEEK: timedelta(weeks=13), Grain.MONTH: timedelta(days=92)}
RECENT_TEXT = {Grain.WEEK: "last 13 weeks", Grain.MONTH: "last 3 months"}
# The DORA trend: the last twelve complete months (and the running one, for the tiles' fallback).
DORA_HISTORY = timedelta(days=397)
FLOW_COLUMNS = [
    "scope_id",
    "label",
    "window_start",
    "window_end",
    "item_type",
    "velocity",
    "flow_time_p50_s",
    "flow_time_p85_s",
    "flow_time_p95_s",
    "flow_efficiency",
    "load_mean",
    "load_end",
    "share",
    "target",
]
DORA_COLUMNS = ["scope_id", "label", "window_start", "window_end", *DoraMetric.metric_fields()]
TIER_ORDER = ("elite", "high", "medium", "low")


def parse_grain(value: str | None) -> str:
    """The grain a page asked for (`?grain=`): "week" or "month"; anything else means "week"."""
    return value if value in Grain.values else Grain.WEEK


@dataclass(frozen=True)
class DoraTile:
    """One DORA metric for a tile: the value as people read it, its tier and the benchmark."""

    key: str
    name: str
    value: str
    detail: str
    tier: str  # elite / high / medium / low, or "" when there is no tier
    tier_label: str
    benchmark: str

    @property
    def benchmark_name(self) -> str:
        """The benchmark as people name it: "dora-2023" → "DORA 2023"."""
        return self.benchmark.replace("dora-", "DORA ")

    @property
    def figure(self) -> str:
        """The number of `value` ("2.5" of "2.5 h"), to show large beside its smaller unit."""
        return self.value.partition(" ")[0]

    @property
    def unit(self) -> str:
        """The unit of `value` ("h" of "2.5 h", "days a week" of "4 days a week")."""
        return self.value.partition(" ")[2]


@dataclass(frozen=True)
class TeamFlowRow:
    """One team's line in a value stream's breakdown: its latest complete period."""

    team: Any
    label: str
    period_start: date | None  # the first day of the period `label` names
    velocity: int | None
    flow_time_p85_days: float | None
    efficiency_percent: float | None
    load_end: float | None
    dora_tiers: list[tuple[str, str, str]]  # (abbreviation, metric, tier)


@dataclass
class FlowDashboard:
    """What a flow dashboard shows, read in a fixed number of queries.

    ``flow``: FlowMetric rows of the scope over the history (all types and "All"), ordered by
    window. ``distribution``: item_type, done, share, target over the recent span.
    ``status_times``: status, flow_state, items, time_s, share over the recent span.
    ``team_velocity``: team, label, velocity, complete (value streams only). ``dora``: tiles of
    the latest complete month; ``dora_months``: the DoraMetric rows of the last twelve months
    and the running one (columns DORA_COLUMNS and ``complete``). Flow frames carry ``complete``:
    False for the window still running at the run's as-of time.
    """

    grain: str
    run: MetricRun | None
    flow: pd.DataFrame
    distribution: pd.DataFrame
    status_times: pd.DataFrame
    dora: list[DoraTile]
    dora_label: str
    recent_text: str
    caveats: list[str] = field(default_factory=list)
    team_velocity: pd.DataFrame = field(default_factory=pd.DataFrame)
    dora_months: pd.DataFrame = field(default_factory=pd.DataFrame)
    teams: list[TeamFlowRow] = field(default_factory=list)
    recompute_failure: RecomputeFailure | None = None

    @property
    def has_data(self) -> bool:
        return self.run is not None and not self.flow.empty


def latest_run(portfolio_id: int) -> MetricRun | None:
    """The portfolio's most recently published metrics run, or None."""
    return MetricRun.objects.filter(portfolio_id=portfolio_id).order_by("-computed_at").first()


def _frame(rows, columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    return frame


def _with_complete(frame: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """`frame` with a `complete` column: whether each window had ended by `as_of`."""
    if frame.empty:
        return frame.assign(complete=pd.Series(dtype=bool))
    return frame.assign(complete=frame["window_end"] <= as_of)


def flow_metric_frame(
    scope_kind: str,
    scope_ids: Sequence[int],
    *,
    grain: str,
    since: datetime,
    item_types: Sequence[str] | None = None,
) -> pd.DataFrame:
    """FlowMetric rows of the scopes from `since` on, ordered by window (columns FLOW_COLUMNS)."""
    rows = FlowMetric.objects.filter(
        scope_kind=scope_kind, scope_id__in=list(scope_ids), grain=grain, window_start__gte=since
    )
    if item_types is not None:
        rows = rows.filter(item_type__in=list(item_types))
    values = rows.order_by("window_start", "scope_id", "item_type").values_list(*FLOW_COLUMNS)
    return _frame(values, FLOW_COLUMNS)


def dora_metric_frame(
    scope_kind: str, scope_ids: Sequence[int], *, grain: str, since: datetime
) -> pd.DataFrame:
    """DoraMetric rows of the scopes from `since` on, ordered by window (columns DORA_COLUMNS)."""
    values = (
        DoraMetric.objects.filter(
            scope_kind=scope_kind,
            scope_id__in=list(scope_ids),
            grain=grain,
            window_start__gte=since,
        )
        .order_by("window_start", "scope_id")
        .values_list(*DORA_COLUMNS)
    )
    return _frame(values, DORA_COLUMNS)


def status_time_frame(
    scope_kind: str, scope_id: int, *, grain: str, since: datetime
) -> pd.DataFrame:
    """Time in each source status summed over the windows from `since` on, largest first.

    Columns: status, flow_state, items, time_s (seconds), share (of the total time, 0–1).
    """
    rows = (
        StatusTime.objects.filter(
            scope_kind=scope_kind, scope_id=scope_id, grain=grain, window_start__gte=since
        )
        .values("status", "flow_state")
        .annotate(items=Sum("items"), time_s=Sum("time_s"))
        .order_by("-time_s", "status")
    )
    frame = _frame(
        ([r["status"], r["flow_state"], r["items"], r["time_s"]] for r in rows),
        ["status", "flow_state", "items", "time_s"],
    )
    total = frame["time_s"].sum()
    return frame.assign(share=frame["time_s"] / total if total else 0.0)


def distribution_frame(flow: pd.DataFrame, *, since: datetime) -> pd.DataFrame:
    """Share of each type among items done from `since` on, with the latest target (0–1)."""
    recent = flow[(flow["window_start"] >= since) & (flow["item_type"] != "All")]
    if recent.empty:
        return pd.DataFrame(columns=["item_type", "done", "share", "target"])
    done = recent.groupby("item_type", sort=False)["velocity"].sum()
    targets = recent.dropna(subset=["target"]).groupby("item_type", sort=False)["target"].last()
    total = done.sum()
    frame = pd.DataFrame({"item_type": done.index, "done": done.to_numpy()})
    frame["share"] = frame["done"] / total if total else 0.0
    frame["target"] = frame["item_type"].map(targets).astype(float)
    order = {t: n for n, t in enumerate(("Feature", "Defect", "Risk", "Debt"))}
    return frame.sort_values("item_type", key=lambda s: s.map(order).fillna(9)).reset_index(
        drop=True
    )


def _latest_complete(frame: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """Per scope, the last window that ended by `as_of` (else the last one there is)."""
    if frame.empty:
        return frame
    complete = frame[frame["window_end"] <= as_of]
    chosen = complete if not complete.empty else frame
    return chosen.sort_values("window_start").groupby("scope_id").tail(1).set_index("scope_id")


def _duration(minutes: float | None) -> str:
    return formatting.duration(None if minutes is None else float(minutes) * 60)


def _rate(value: float | None) -> str:
    """A rate to a tenth of a percent where it decides a tier (4.6 % is elite, 5.4 % is not)."""
    if value is None:
        return formatting.MISSING
    return f"{formatting.measure(float(value) * 100, 1)} %"


def _tier_label(benchmark: str, metric: str, tier: str) -> str:
    try:
        rules = load_benchmark(benchmark)["metrics"].get(metric, {}).get("tiers", [])
    except ValueError:
        return ""
    return next((rule.get("label", "") for rule in rules if rule["tier"] == tier), "")


def dora_tiles(row: pd.Series | None) -> list[DoraTile]:
    """The five DORA tiles of one DoraMetric row (empty values when there is no row)."""
    row = row if row is not None else pd.Series(dtype=object)

    def value(name: str):
        found = row.get(name)
        return None if found is None or pd.isna(found) else found

    benchmark = value("benchmark") or "dora-2023"
    per_week = value("median_deployment_days_per_week")
    per_month = value("median_deployment_days_per_month")
    deployments = value("deployments") or 0
    specs = [
        (
            "deployment_frequency",
            "Deployment frequency",
            "—" if per_week is None else f"{formatting.measure(per_week, 1)} days a week",
            formatting.plural(deployments, "deployment")
            + ("" if per_month is None else f" · {formatting.measure(per_month, 1)} days a month"),
            value("deployment_frequency_tier"),
        ),
        (
            "lead_time_for_changes",
            "Lead time for changes",
            _duration(value("median_lead_time_minutes")),
            f"median of {formatting.plural(value('changes_deployed') or 0, 'change')}",
            value("lead_time_tier"),
        ),
        (
            "change_failure_rate",
            "Change failure rate",
            _rate(value("change_failure_rate")),
            f"{formatting.number(value('failed_deployments') or 0)} of "
            f"{formatting.plural(deployments, 'deployment')} failed",
            value("change_failure_rate_tier"),
        ),
        (
            "failed_deployment_recovery_time",
            "Recovery time",
            _duration(value("median_recovery_time_minutes")),
            f"median of {formatting.plural(value('incidents_recovered') or 0, 'incident')}",
            value("recovery_time_tier"),
        ),
        (
            "deployment_rework_rate",
            "Rework rate",
            _rate(value("deployment_rework_rate")),
            formatting.plural(value("rework_deployments") or 0, "unplanned fix deployment"),
            None,
        ),
    ]
    return [
        DoraTile(
            key=key,
            name=name,
            value=shown,
            detail=detail,
            tier=tier or "",
            tier_label=_tier_label(benchmark, key, tier) if tier else "no benchmark tier",
            benchmark=benchmark,
        )
        for key, name, shown, detail, tier in specs
    ]


def _empty_dashboard(grain: str, run: MetricRun | None) -> FlowDashboard:
    return FlowDashboard(
        grain=grain,
        run=run,
        flow=_frame([], FLOW_COLUMNS),
        distribution=pd.DataFrame(columns=["item_type", "done", "share", "target"]),
        status_times=pd.DataFrame(columns=["status", "flow_state", "items", "time_s", "share"]),
        dora=dora_tiles(None),
        dora_label="",
        recent_text=RECENT_TEXT[grain],
        caveats=caveat_messages(run.caveats) if run else [],
    )


LATEST = "latest"  # read the portfolio's latest run


def scope_dashboard(
    scope_kind: str,
    scope_id: int,
    *,
    portfolio_id: int,
    grain: str,
    run: MetricRun | str | None = LATEST,
) -> FlowDashboard:
    """The flow dashboard of one scope (value stream or team): six queries, whatever the size
    (the sixth: whether the latest recompute of the portfolio failed); one fewer when the caller
    passes the `run` it read already."""
    grain = parse_grain(grain)
    if run == LATEST:
        run = latest_run(portfolio_id)
    failure = recompute_failure(portfolio_id)
    if run is None:
        return replace(_empty_dashboard(grain, None), recompute_failure=failure)
    since = run.as_of - HISTORY[grain]
    recent = run.as_of - RECENT[grain]
    flow = _with_complete(
        flow_metric_frame(scope_kind, [scope_id], grain=grain, since=since), run.as_of
    )
    dora = _with_complete(
        dora_metric_frame(
            scope_kind, [scope_id], grain=Grain.MONTH, since=run.as_of - DORA_HISTORY
        ),
        run.as_of,
    )
    latest_dora = _latest_complete(dora, run.as_of)
    dora_row = latest_dora.iloc[0] if not latest_dora.empty else None
    return FlowDashboard(
        grain=grain,
        run=run,
        flow=flow,
        distribution=distribution_frame(flow, since=recent),
        status_times=status_time_frame(scope_kind, scope_id, grain=grain, since=recent),
        dora=dora_tiles(dora_row),
        dora_label=""
        if dora_row is None
        else formatting.month(label_start(str(dora_row["label"]))),
        dora_months=dora,
        recent_text=RECENT_TEXT[grain],
        caveats=caveat_messages(
            {**(run.caveats or {}), **scope_caveat_counts(scope_kind, scope_id)}
        ),
        recompute_failure=failure,
    )


def _team_rows(teams: Sequence, flow: pd.DataFrame, dora: pd.DataFrame, as_of: datetime):
    latest_flow = _latest_complete(flow, as_of)
    latest_dora = _latest_complete(dora, as_of)
    short = {
        "deployment_frequency_tier": ("DF", "Deployment frequency"),
        "lead_time_tier": ("LT", "Lead time"),
        "change_failure_rate_tier": ("CFR", "Change failure rate"),
        "recovery_time_tier": ("RT", "Recovery time"),
    }
    rows = []
    for team in teams:
        f = latest_flow.loc[team.pk] if team.pk in latest_flow.index else None
        d = latest_dora.loc[team.pk] if team.pk in latest_dora.index else None

        def number(series, column, scale=1.0):
            if series is None or pd.isna(series[column]):
                return None
            return round(float(series[column]) * scale, 1)

        rows.append(
            TeamFlowRow(
                team=team,
                label="" if f is None else str(f["label"]),
                period_start=None if f is None else label_start(str(f["label"])),
                velocity=None if f is None else int(f["velocity"]),
                flow_time_p85_days=number(f, "flow_time_p85_s", 1 / 86_400),
                efficiency_percent=number(f, "flow_efficiency", 100),
                load_end=number(f, "load_end"),
                dora_tiers=[
                    (abbr, name, d[column])
                    for column, (abbr, name) in short.items()
                    if d is not None and d[column]
                ],
            )
        )
    return rows


def value_stream_dashboard(
    value_stream, *, teams: Sequence, grain: str | None, run: MetricRun | str | None = LATEST
) -> FlowDashboard:
    """The value stream's flow dashboard plus its per-team breakdown (eight queries in all).

    `teams` are the value stream's teams, already read by the page.
    """
    grain = parse_grain(grain)
    dashboard = scope_dashboard(
        ScopeKind.VALUE_STREAM,
        value_stream.pk,
        portfolio_id=value_stream.portfolio_id,
        grain=grain,
        run=run,
    )
    if dashboard.run is None:
        return dashboard
    as_of = dashboard.run.as_of
    team_ids = [team.pk for team in teams]
    team_flow = _with_complete(
        flow_metric_frame(
            ScopeKind.TEAM, team_ids, grain=grain, since=as_of - HISTORY[grain], item_types=["All"]
        ),
        as_of,
    )
    team_dora = dora_metric_frame(
        ScopeKind.TEAM, team_ids, grain=Grain.MONTH, since=as_of - timedelta(days=70)
    )
    names = {team.pk: team.name for team in teams}
    dashboard.team_velocity = pd.DataFrame(
        {
            "team": team_flow["scope_id"].map(names),
            "label": team_flow["label"],
            "velocity": team_flow["velocity"],
            "complete": team_flow["complete"],
        }
    )
    dashboard.teams = _team_rows(teams, team_flow, team_dora, as_of)
    return dashboard


def team_dashboard(
    team, *, grain: str | None, run: MetricRun | str | None = LATEST
) -> FlowDashboard:
    """One team's flow dashboard (six queries; one more if `team.value_stream` is not loaded)."""
    return scope_dashboard(
        ScopeKind.TEAM,
        team.pk,
        portfolio_id=team.value_stream.portfolio_id,
        grain=parse_grain(grain),
        run=run,
    )
