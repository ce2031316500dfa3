"""Reads for initiatives: the board, the list, an initiative's history, its evidence, the frames
behind the kanban's flow and the pyramid. Each runs a fixed number of queries whatever the number of
initiatives, and this is the only place their rows become DataFrames."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet

from leanpmo import plan_text
from leanpmo.metrics import initiatives as metrics
from leanpmo.models import (
    WSJF_FIELDS,
    DecisionKind,
    FundingDecision,
    FundingPeriod,
    Guardrail,
    Initiative,
    InitiativeState,
    InitiativeTransition,
    WorkShape,
)
from leanpmo.selectors.audit import HistoryEntry
from leanpmo.selectors.decisions import evidence_snapshot
from portfolio.formatting import MISSING, money
from portfolio.models import Portfolio, PortfolioMembership
from teams.models import KeyResult, OutcomeUpdate, ProductTeam, TeamMembership
from valuestreams.models import ValueStream

User = get_user_model()

HISTORY_FIELDS = (
    "title",
    "owner_id",
    "funding_mode",
    "end_date",
    "scope_budget",
    "cost_estimate",
    *WSJF_FIELDS,
)
MONEY_HISTORY_FIELDS = {"scope_budget", "cost_estimate"}


def _teams_prefetch() -> Prefetch:
    return Prefetch(
        "teams",
        queryset=ProductTeam.objects.select_related("value_stream").order_by(
            "value_stream__name", "name"
        ),
    )


def board_initiatives(portfolio: Portfolio) -> list[Initiative]:
    """Every initiative of the portfolio with its owner and teams (3 queries)."""
    return list(
        Initiative.objects.filter(portfolio=portfolio)
        .select_related("owner")
        .prefetch_related(_teams_prefetch())
    )


@dataclass
class InitiativeFilters:
    """What the list and its export narrow to; empty values mean "any"."""

    state: str = ""
    shape: str = ""
    funding_mode: str = ""
    theme: int | None = None
    value_stream: int | None = None
    team: int | None = None
    owner: int | None = None
    search: str = ""


def initiative_list(portfolio: Portfolio, filters: InitiativeFilters) -> list[Initiative]:
    """The portfolio's initiatives narrowed by `filters`, with owner, teams (and their value
    streams), themes and value streams loaded (5 queries), in title order."""
    queryset = Initiative.objects.filter(portfolio=portfolio).with_shape()
    narrow = {
        "state": filters.state,
        "funding_mode": filters.funding_mode,
        "themes": filters.theme,
        "value_streams": filters.value_stream,
        "teams": filters.team,
        "owner": filters.owner,
    }
    for name, value in narrow.items():
        if value not in ("", None):
            queryset = queryset.filter(pk__in=Initiative.objects.filter(**{name: value}))
    if filters.shape:
        queryset = queryset.filter(shape=filters.shape)
    if filters.search:
        queryset = queryset.filter(
            Q(title__icontains=filters.search) | Q(description__icontains=filters.search)
        )
    return list(
        queryset.select_related("owner")
        .prefetch_related(_teams_prefetch(), "themes", "value_streams")
        .order_by("title")
    )


def initiative_for_page(initiative: Initiative) -> Initiative:
    """The initiative with everything its page shows loaded (constant queries)."""
    return (
        Initiative.objects.select_related("owner", "portfolio", "created_by")
        .prefetch_related(
            _teams_prefetch(),
            "themes",
            "value_streams",
            Prefetch(
                "leading_indicators",
                queryset=KeyResult.objects.select_related("objective").order_by("metric"),
            ),
        )
        .get(pk=initiative.pk)
    )


def initiative_transitions(initiative: Initiative) -> list[InitiativeTransition]:
    """Its moves, oldest first, with who moved it and the decision each was recorded with."""
    return list(
        InitiativeTransition.objects.filter(initiative=initiative)
        .select_related("moved_by", "decision__approval__decided_by")
        .order_by("moved_at", "pk")
    )


def strategic_cap(portfolio: Portfolio) -> Guardrail | None:
    """The portfolio's active "max strategic initiatives in progress" guardrail, if any."""
    return Guardrail.objects.filter(
        portfolio=portfolio, kind=Guardrail.Kind.MAX_STRATEGIC_WIP, active=True
    ).first()


def strategic_in_progress(portfolio: Portfolio) -> list[Initiative]:
    """Strategic initiatives implementing now, by title (the shape read from the teams now)."""
    return list(
        Initiative.objects.filter(portfolio=portfolio, state=InitiativeState.IMPLEMENTING)
        .with_shape()
        .filter(shape=WorkShape.STRATEGIC)
        .order_by("title")
    )


def pending_exception(initiative: Initiative) -> FundingDecision | None:
    """The initiative's exception decision still waiting for an executive, if any."""
    return (
        FundingDecision.objects.filter(
            initiative=initiative, kind=DecisionKind.EXCEPTION, approval__isnull=True
        )
        .exclude(proposal={})
        .order_by("-decided_at")
        .first()
    )


def pending_exceptions(portfolio: Portfolio) -> list[FundingDecision]:
    """Exception decisions about the portfolio's initiatives that wait for an executive."""
    return list(
        FundingDecision.objects.filter(
            portfolio=portfolio,
            initiative__isnull=False,
            kind=DecisionKind.EXCEPTION,
            approval__isnull=True,
        )
        .exclude(proposal={})
        .select_related("initiative")
        .order_by("decided_at")
    )


def portfolio_people(portfolio: Portfolio) -> QuerySet:
    """People who may own an initiative: those with a role in the portfolio or a seat in one of
    its teams now, by name."""
    roles = PortfolioMembership.objects.filter(portfolio=portfolio).values("user")
    seats = (
        TeamMembership.objects.current()
        .filter(team__value_stream__portfolio=portfolio)
        .values("person")
    )
    return User.objects.filter(Q(pk__in=roles) | Q(pk__in=seats)).order_by(
        "first_name", "last_name", "username"
    )


def portfolio_key_results(portfolio: Portfolio) -> QuerySet[KeyResult]:
    """Key results of the portfolio (what leading indicators link to), objectives selected."""
    return (
        KeyResult.objects.filter(objective__portfolio=portfolio)
        .select_related("objective")
        .order_by("closed", "objective__title", "metric")
    )


def transition_frame(portfolio: Portfolio) -> pd.DataFrame:
    """Every move of the portfolio's initiatives: initiative_id, from_state, to_state, moved_at."""
    rows = InitiativeTransition.objects.filter(initiative__portfolio=portfolio).values_list(
        "initiative_id", "from_state", "to_state", "moved_at"
    )
    frame = pd.DataFrame(list(rows), columns=metrics.TRANSITION_COLUMNS)
    frame["moved_at"] = pd.to_datetime(frame["moved_at"], utc=True)
    return frame


def team_link_frame(portfolio: Portfolio) -> pd.DataFrame:
    """The teams linked to the portfolio's initiatives: initiative_id, team_id, value_stream_id,
    year_cost (capacity FTE × loaded cost per FTE, float)."""
    through = Initiative.teams.through
    rows = through.objects.filter(initiative__portfolio=portfolio).values_list(
        "initiative_id",
        "productteam_id",
        "productteam__value_stream_id",
        "productteam__capacity_fte",
        "productteam__loaded_cost_per_fte",
    )
    return pd.DataFrame(
        [(i, t, vs, float(fte * cost)) for i, t, vs, fte, cost in rows],
        columns=["initiative_id", "team_id", "value_stream_id", "year_cost"],
    )


def _local_start(day: dt.date, tz: zoneinfo.ZoneInfo) -> pd.Timestamp:
    return pd.Timestamp(dt.datetime.combine(day, dt.time(0), tzinfo=tz)).tz_convert("UTC")


def pyramid_inputs(
    portfolio: Portfolio, as_of: dt.datetime
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(intervals with planned_end, team links, periods) for metrics.initiatives.pyramid_mix.

    Periods are the portfolio's funding periods, from local midnight of the first day to local
    midnight after the last (the portfolio's time zone). 4 queries.
    """
    tz = zoneinfo.ZoneInfo(portfolio.time_zone)
    stamp = pd.Timestamp(as_of).tz_convert("UTC")
    intervals = metrics.state_intervals(transition_frame(portfolio), stamp)
    ends = {
        pk: _local_start(end + dt.timedelta(days=1), tz)
        for pk, end in Initiative.objects.filter(
            portfolio=portfolio, funding_mode="fixed_scope", end_date__isnull=False
        ).values_list("pk", "end_date")
    }
    intervals["planned_end"] = pd.to_datetime(intervals["initiative_id"].map(ends), utc=True)
    periods = pd.DataFrame(
        [
            (
                p.name,
                _local_start(p.starts_on, tz),
                _local_start(p.ends_on + dt.timedelta(days=1), tz),
            )
            for p in FundingPeriod.objects.filter(portfolio=portfolio).order_by("starts_on")
        ],
        columns=["period", "start", "end"],
    )
    return intervals, team_link_frame(portfolio), periods


def key_result_figures(key_results: list[KeyResult], *, before: dt.datetime | None) -> list[dict]:
    """Each key result with its latest check-in (before `before`, when given), as JSON."""
    updates = OutcomeUpdate.objects.filter(key_result__in=key_results)
    if before is not None:
        updates = updates.filter(posted_at__lte=before)
    latest = {
        update.key_result_id: update
        for update in updates.order_by("key_result_id", "-posted_at", "-pk").distinct(
            "key_result_id"
        )
    }
    figures = []
    for key_result in key_results:
        update = latest.get(key_result.pk)
        figures.append(
            {
                "metric": key_result.metric,
                "unit": key_result.unit,
                "baseline": str(key_result.baseline.normalize()),
                "target": str(key_result.target.normalize()),
                "latest": None if update is None else str(update.value.normalize()),
                "status": None if update is None else update.status,
                "confidence": None if update is None else update.confidence,
                "at": None if update is None else update.posted_at.isoformat(),
            }
        )
    return figures


def initiative_evidence(
    initiative: Initiative, *, before: dt.datetime | None = None
) -> dict[str, Any]:
    """What deciders see about a bet, as JSON frozen into its start / stop / exception decision.

    Keys: `initiative` (title, state, shape, funding mode, WSJF with its inputs, hypothesis, teams,
    value streams), `key_results` (its leading indicators with their latest check-in),
    `value_streams` (name → evidence_snapshot of each linked value stream and each team's stream),
    `strategic_in_progress` and `cap` (the WIP guardrail's count, None without one).
    """
    initiative = initiative_for_page(initiative)
    teams = list(initiative.teams.all())
    streams = {team.value_stream for team in teams} | set(initiative.value_streams.all())
    score = initiative.wsjf
    cap = strategic_cap(initiative.portfolio)
    return {
        "initiative": {
            "title": initiative.title,
            "state": initiative.state,
            "shape": initiative.work_shape,
            "funding_mode": initiative.funding_mode,
            "end_date": initiative.end_date.isoformat() if initiative.end_date else None,
            "wsjf": {
                **{name: getattr(initiative, name) for name in WSJF_FIELDS},
                "cost_of_delay": score.cost_of_delay,
                "score": None if score.score is None else str(score.score.normalize()),
            },
            "hypothesis": {
                "we_believe": initiative.hypothesis_belief,
                "will_result_in": initiative.hypothesis_outcome,
                "measured_by": initiative.hypothesis_measure,
            },
            "teams": [team.name for team in teams],
            "value_streams": sorted(stream.name for stream in streams),
        },
        "key_results": key_result_figures(list(initiative.leading_indicators.all()), before=before),
        "value_streams": {
            stream.name: evidence_snapshot(stream, before=before)
            for stream in sorted(streams, key=lambda s: s.name)
        },
        "strategic_in_progress": len(strategic_in_progress(initiative.portfolio)),
        "cap": cap.max_count if cap else None,
    }


def decision_figures(decision: FundingDecision, *, before: dt.datetime | None = None) -> dict:
    """The figures a decision is judged by now (or as of `before`): its value stream's snapshot, or
    its initiative's evidence."""
    if decision.value_stream_id:
        return evidence_snapshot(decision.value_stream, before=before)
    return initiative_evidence(decision.initiative, before=before)


def initiative_history(initiative: Initiative, *, show_money: bool) -> list[HistoryEntry]:
    """Every recorded change of the initiative's fields (WSJF inputs included), newest first, with
    who made it, whatever path made it (2 queries), each change for people (plan_text.Change: the
    owner's name, money in the portfolio's currency, dates as dates). Money fields are left out
    unless `show_money`."""
    events = list(initiative.events.select_related("pgh_context").order_by("pgh_id"))
    user_ids = {
        event.pgh_context.metadata.get("user")
        for event in events
        if event.pgh_context and event.pgh_context.metadata.get("user")
    }
    owner_ids = {event.owner_id for event in events if event.owner_id}
    users = {
        user.pk: user.get_full_name() or user.username
        for user in User.objects.filter(pk__in=user_ids | owner_ids)
    }
    fields = [f for f in HISTORY_FIELDS if show_money or f not in MONEY_HISTORY_FIELDS]
    labels = {
        name: str(Initiative._meta.get_field(name.removesuffix("_id")).verbose_name)
        for name in fields
    }

    currency = initiative.portfolio.currency
    modes = dict(Initiative._meta.get_field("funding_mode").choices)

    def shown(name: str, value: Any) -> str:
        """A recorded value for people: names for ids, money with its currency, dates as dates."""
        if value is None or value == "":
            return MISSING
        if name == "owner_id":
            return users.get(value, str(value))
        if name in MONEY_HISTORY_FIELDS:
            return money(value, currency)
        if name == "funding_mode":
            return str(modes.get(value, value))
        if isinstance(value, dt.date):
            return f"{value.day} {value:%b %Y}"
        return str(value)

    entries, previous = [], None
    for event in events:
        metadata = event.pgh_context.metadata if event.pgh_context else {}
        changes = [
            plan_text.Change(
                labels[name].capitalize(),
                shown(name, getattr(previous, name)) if previous else MISSING,
                shown(name, getattr(event, name)),
            )
            for name in fields
            if (getattr(event, name) not in (None, "") if previous is None
                else getattr(previous, name) != getattr(event, name))
        ]  # fmt: skip
        if changes:
            entries.append(
                HistoryEntry(
                    at=event.pgh_created_at,
                    who=users.get(metadata.get("user"), "system"),
                    label=event.pgh_label,
                    url=metadata.get("url", metadata.get("via", "")),
                    changes=changes,
                )
            )
        previous = event
    return entries[::-1]


def streams_of(portfolio: Portfolio) -> QuerySet[ValueStream]:
    return ValueStream.objects.filter(portfolio=portfolio).order_by("name")


def teams_of(portfolio: Portfolio) -> QuerySet[ProductTeam]:
    return (
        ProductTeam.objects.filter(value_stream__portfolio=portfolio)
        .select_related("value_stream")
        .order_by("value_stream__name", "name")
    )


def initiative_frame(
    initiatives: list[Initiative], *, show_money: bool, now: dt.datetime
) -> pd.DataFrame:
    """The list as a table for downloads: one row per initiative with its state, shape, WSJF
    inputs and score (a number, empty without one), funding, links and days in its state. Money
    columns (cost estimate, scope budget) only with `show_money`. No queries (uses what
    initiative_list loaded)."""
    rows = []
    for initiative in initiatives:
        score = initiative.wsjf
        teams = list(initiative.teams.all())
        row: dict[str, Any] = {
            "id": initiative.pk,
            "title": initiative.title,
            "state": initiative.get_state_display(),
            "days_in_state": round((now - initiative.state_changed_at).total_seconds() / 86400, 1),
            "work_shape": initiative.work_shape_label,
            "user_business_value": initiative.user_business_value,
            "time_criticality": initiative.time_criticality,
            "risk_reduction_opportunity_enablement": initiative.risk_reduction,
            "cost_of_delay": score.cost_of_delay,
            "job_size": initiative.job_size,
            "wsjf": None if score.score is None else float(score.score),
            "funding_mode": initiative.get_funding_mode_display(),
            "end_date": initiative.end_date.isoformat() if initiative.end_date else None,
            "owner": (initiative.owner.get_full_name() or initiative.owner.username)
            if initiative.owner
            else "",
            "teams": "; ".join(team.name for team in teams),
            "value_streams": "; ".join(vs.name for vs in initiative.value_streams.all()),
            "themes": "; ".join(theme.name for theme in initiative.themes.all()),
            "we_believe": initiative.hypothesis_belief,
            "will_result_in": initiative.hypothesis_outcome,
            "measured_by": initiative.hypothesis_measure,
        }
        if show_money:
            row["cost_estimate"] = _money(initiative.cost_estimate)
            row["scope_budget"] = _money(initiative.scope_budget)
        rows.append(row)
    columns = list(rows[0]) if rows else [*EXPORT_COLUMNS, *(MONEY_COLUMNS if show_money else [])]
    return pd.DataFrame(rows, columns=columns)


EXPORT_COLUMNS = [
    "id", "title", "state", "days_in_state", "work_shape", "user_business_value",
    "time_criticality", "risk_reduction_opportunity_enablement", "cost_of_delay", "job_size",
    "wsjf", "funding_mode", "end_date", "owner", "teams", "value_streams", "themes",
    "we_believe", "will_result_in", "measured_by",
]  # fmt: skip
MONEY_COLUMNS = ["cost_estimate", "scope_budget"]


def _money(value) -> float | None:
    return None if value is None else float(value)


def stop_learnings(portfolio: Portfolio) -> dict[int, str]:
    """Initiative id → what its latest stop taught (the stop's reason), for stopped bets."""
    return dict(
        InitiativeTransition.objects.filter(
            initiative__portfolio=portfolio,
            initiative__state=InitiativeState.STOPPED,
            to_state=InitiativeState.STOPPED,
        )
        .order_by("initiative_id", "-moved_at", "-pk")
        .distinct("initiative_id")
        .values_list("initiative_id", "reason")
    )
