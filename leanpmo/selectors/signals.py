"""Reads for the signals: everything the detectors need about one portfolio, as of a time, in a
fixed number of queries whatever its size (`detector_inputs`), and the signal lists the pages show.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pandas as pd
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery

from leanpmo.detectors.inputs import (
    BLOCKED_COLUMNS,
    FLOW_WEEK_COLUMNS,
    INTERACTION_COLUMNS,
    BudgetInfo,
    DecisionInfo,
    FixedScopeInitiative,
    GuardrailCheck,
    KeyResultInfo,
    PortfolioInputs,
    RunInfo,
    ShapedWork,
    TeamInfo,
)
from leanpmo.detectors.thresholds import DEFAULTS, SPECS, THRESHOLD_NAMES, Thresholds
from leanpmo.metrics.scorecard import ScorecardInputs
from leanpmo.models import (
    ActualSpend,
    ExceptionApproval,
    FundingMode,
    FundingPeriod,
    Initiative,
    InitiativeState,
    ReviewOutcome,
    Signal,
    SignalThresholds,
    ValueStreamBudget,
)
from leanpmo.plan_fields import ALLOCATION_FIELD
from leanpmo.selectors.audit import HistoryEntry
from leanpmo.selectors.decisions import decision_log, latest_review
from leanpmo.selectors.funding import current_period, period_check, previous_period
from portfolio.models import Portfolio
from teams.models import KeyResult, OutcomeUpdate, ProductTeam, RealisationPoint, TeamInteraction
from teams.selectors import membership_frame
from valuestreams.models import (
    DoraMetric,
    FlowMetric,
    Grain,
    MetricRun,
    ScopeKind,
    ValueStream,
    WorkItem,
    WorkItemFact,
)


def portfolio_thresholds(portfolio: Portfolio) -> Thresholds:
    """The portfolio's thresholds (the defaults until the Lean PMO saved some). One query."""
    stored = SignalThresholds.objects.filter(portfolio=portfolio).first()
    return stored.as_thresholds() if stored else DEFAULTS


def local_today(portfolio: Portfolio, as_of: dt.datetime) -> dt.date:
    """`as_of`'s date in the portfolio's time zone."""
    return as_of.astimezone(zoneinfo.ZoneInfo(portfolio.time_zone)).date()


def _key_results(portfolio: Portfolio, as_of: dt.datetime) -> list[KeyResultInfo]:
    """Open key results of every level, with their last check-in up to `as_of` (local date)."""
    zone = zoneinfo.ZoneInfo(portfolio.time_zone)
    rows = (
        KeyResult.objects.filter(objective__portfolio=portfolio, closed=False)
        .annotate(last=Max("updates__posted_at", filter=Q(updates__posted_at__lte=as_of)))
        .values_list(
            "pk",
            "metric",
            "objective__level",
            "objective__team_id",
            "objective__value_stream_id",
            "starts_on",
            "cadence_days",
            "last",
        )
        .order_by("pk")
    )
    return [
        KeyResultInfo(pk, metric, level, team, stream, starts, cadence, last and last.astimezone(zone).date())
        for pk, metric, level, team, stream, starts, cadence, last in rows
    ]  # fmt: skip


def _decisions(portfolio: Portfolio, as_of: dt.datetime, zone) -> list[DecisionInfo]:
    """Current decisions recorded by `as_of`, each with whether a conclusive review exists (a
    "too early" review is not one, as in leanpmo.selectors.decisions.reviews_due). Two queries."""
    infos = []
    for decision in decision_log(portfolio).filter(decided_at__lte=as_of):
        if hasattr(decision, "superseded_by"):
            continue
        review = latest_review(decision)
        infos.append(
            DecisionInfo(
                id=decision.pk,
                kind=decision.kind,
                kind_label=decision.get_kind_display(),
                value_stream_id=decision.value_stream_id,
                decided_on=decision.decided_at.astimezone(zone).date(),
                review_due_on=decision.review_due_on,
                has_evidence_snapshot=decision.has_evidence_snapshot,
                has_expected_outcome=bool(decision.expected_outcome.strip()),
                reviewed=review is not None and review.outcome != ReviewOutcome.TOO_EARLY,
                initiative=decision.initiative.title if decision.initiative_id else "",
            )
        )
    return infos


def _funding(
    portfolio: Portfolio, today: dt.date
) -> tuple[GuardrailCheck | None, list[BudgetInfo]]:
    """The period in force (containing `today`, not a draft): its guardrail results with the
    approved exceptions that excuse breaches, and its budgets."""
    period = current_period(portfolio, today=today)
    if period is None or period.status == FundingPeriod.Status.DRAFT:
        return None, []
    if not period.starts_on <= today <= period.ends_on:
        return None, []
    check = period_check(period)
    approved = list(
        ExceptionApproval.objects.filter(decision__period=period, approved=True).values_list(
            "decision__value_stream_id", flat=True
        )
    )
    budgets = [
        BudgetInfo(
            id=budget.pk,
            value_stream_id=budget.value_stream_id,
            period_name=period.name,
            total=budget.total,
            fixed_scope=budget.fixed_scope_amount,
            allocation={kind: getattr(budget, name) for kind, name in ALLOCATION_FIELD.items()},
        )
        for budget in check.budgets
    ]
    guardrails = GuardrailCheck(
        period_id=period.pk,
        period_name=period.name,
        results=check.results,
        excused_streams=frozenset(approved),
        any_exception=bool(approved),
    )
    return guardrails, budgets


def flow_week_frame(portfolio: Portfolio, *, as_of: dt.datetime, weeks: int) -> pd.DataFrame:
    """Weekly flow rows (every item type) of the portfolio's value streams and teams whose window
    ended by `as_of` and started at most `weeks` weeks before it (FLOW_WEEK_COLUMNS). One query."""
    columns = FLOW_WEEK_COLUMNS
    rows = FlowMetric.objects.filter(
        portfolio=portfolio,
        grain=Grain.WEEK,
        scope_kind__in=[ScopeKind.VALUE_STREAM, ScopeKind.TEAM],
        window_start__gte=as_of - dt.timedelta(weeks=weeks),
        window_end__lte=as_of,
    ).values_list(*columns)
    frame = pd.DataFrame(list(rows), columns=columns)
    for column in ("window_start", "window_end"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


_BLOCKED_SQL = """
WITH items AS (
    SELECT f.item_id, w.team_id,
           greatest(f.start, %(since)s) AS lo,
           least(coalesce(f.done, f.canceled_at, %(as_of)s), %(as_of)s) AS hi
    FROM valuestreams_workitemfact f
    JOIN valuestreams_workitem w ON w.id = f.item_id
    WHERE f.portfolio_id = %(portfolio)s AND w.team_id IS NOT NULL AND f.start IS NOT NULL
      AND f.start < %(as_of)s AND coalesce(f.done, f.canceled_at, 'infinity') > %(since)s
), spans AS (
    SELECT i.team_id, i.lo, i.hi, sc.at, sc.blocked,
           lead(sc.at) OVER (PARTITION BY sc.item_id ORDER BY sc.at, sc.seq) AS next_at
    FROM items i JOIN valuestreams_statuschange sc ON sc.item_id = i.item_id
    WHERE sc.at < i.hi
), blocked AS (
    SELECT team_id,
           sum(extract(epoch FROM least(coalesce(next_at, hi), hi) - greatest(at, lo))) AS seconds
    FROM spans
    WHERE blocked AND least(coalesce(next_at, hi), hi) > greatest(at, lo)
    GROUP BY team_id
)
SELECT i.team_id, count(*), coalesce(max(b.seconds), 0), sum(extract(epoch FROM i.hi - i.lo))
FROM items i LEFT JOIN blocked b ON b.team_id = i.team_id
WHERE i.hi > i.lo
GROUP BY i.team_id
ORDER BY i.team_id
"""


def blocked_time_frame(portfolio: Portfolio, *, as_of: dt.datetime, weeks: int) -> pd.DataFrame:
    """Per team of the portfolio, over the `weeks` weeks before `as_of`: items in progress
    (started, not yet done or canceled) at some point, seconds they were flagged blocked and
    seconds they were in progress (BLOCKED_COLUMNS). From the stored item facts and the status
    history. One query."""
    since = as_of - dt.timedelta(weeks=weeks)
    with connection.cursor() as cursor:
        cursor.execute(_BLOCKED_SQL, {"portfolio": portfolio.pk, "as_of": as_of, "since": since})
        rows = cursor.fetchall()
    return pd.DataFrame(
        [(team, items, float(blocked), float(total)) for team, items, blocked, total in rows],
        columns=BLOCKED_COLUMNS,
    )


def work_shape_inputs(
    portfolio: Portfolio, as_of: dt.datetime
) -> tuple[list[ShapedWork], int | None]:
    """The portfolio's shaped work and its cap on strategic initiatives in progress.

    Each initiative that ever entered implementing is one ShapedWork: its shape follows from its
    teams now (links have no history), `started_on` is the local date it last entered
    implementing, `ended_on` the local date it left (done, stopped or moved back), None while it
    runs. The cap is the portfolio's active "max strategic initiatives in progress" guardrail.
    Three queries.
    """
    from leanpmo.metrics import initiatives as metrics
    from leanpmo.selectors.initiatives import strategic_cap, transition_frame

    zone = zoneinfo.ZoneInfo(portfolio.time_zone)
    intervals = metrics.state_intervals(
        transition_frame(portfolio), pd.Timestamp(as_of).tz_convert("UTC")
    )
    stints = intervals[intervals["state"] == InitiativeState.IMPLEMENTING]
    last = stints.sort_values("start").groupby("initiative_id").tail(1)
    initiatives = {
        row.pk: row
        for row in Initiative.objects.filter(pk__in=last["initiative_id"].tolist())
        .with_shape()
        .only("pk", "title")
    }

    def local_day(stamp) -> dt.date | None:
        return None if pd.isna(stamp) else stamp.to_pydatetime().astimezone(zone).date()

    work = [
        ShapedWork(
            id=int(row.initiative_id),
            name=initiatives[row.initiative_id].title,
            shape=initiatives[row.initiative_id].shape,
            started_on=local_day(row.start),
            ended_on=local_day(row.end),
        )
        for row in last.itertuples()
        if row.initiative_id in initiatives and initiatives[row.initiative_id].shape
    ]
    guardrail = strategic_cap(portfolio)
    return work, (guardrail.max_count if guardrail is not None else None)


def fixed_scope_initiatives(portfolio: Portfolio) -> list[FixedScopeInitiative]:
    """The portfolio's initiatives funded as fixed-scope projects that are not done or stopped,
    with their open leading-indicator key results counted and their value streams. Two queries."""
    rows = (
        Initiative.objects.filter(portfolio=portfolio, funding_mode=FundingMode.FIXED_SCOPE)
        .exclude(state__in=[InitiativeState.DONE, InitiativeState.STOPPED])
        .annotate(
            open_key_results=Count(
                "leading_indicators", filter=Q(leading_indicators__closed=False), distinct=True
            )
        )
        .prefetch_related("value_streams")
        .order_by("pk")
    )
    return [
        FixedScopeInitiative(
            id=row.pk,
            title=row.title,
            state=row.get_state_display(),
            implementing=row.state == InitiativeState.IMPLEMENTING,
            scope_budget=row.scope_budget,
            end_date=row.end_date,
            key_results=row.open_key_results,
            value_stream_ids=tuple(sorted(stream.pk for stream in row.value_streams.all())),
        )
        for row in rows
        if row.scope_budget is not None and row.end_date is not None  # always: a constraint
    ]


def _run(portfolio: Portfolio) -> tuple[RunInfo | None, int]:
    """The latest published run with the number of items with an unmapped status, or (None, the
    number of work items) when nothing was computed yet."""
    run = MetricRun.objects.filter(portfolio=portfolio).order_by("-computed_at").first()
    if run is None:
        return None, WorkItem.objects.filter(portfolio=portfolio).count()
    unmapped = WorkItemFact.objects.filter(portfolio=portfolio, unmapped_count__gt=0).count()
    caveats = run.caveats or {}
    return RunInfo(as_of=run.as_of, caveats=caveats, unmapped_items=unmapped), int(
        caveats.get("items") or 0
    )


def detector_inputs(
    portfolio: Portfolio, *, as_of: dt.datetime, thresholds: Thresholds
) -> PortfolioInputs:
    """Everything the detectors read about `portfolio`, as of `as_of`, in a fixed number of queries
    (about twenty) however many value streams, teams, key results and decisions it has."""
    zone = zoneinfo.ZoneInfo(portfolio.time_zone)
    today = as_of.astimezone(zone).date()
    streams = dict(
        ValueStream.objects.filter(portfolio=portfolio).order_by("pk").values_list("pk", "name")
    )
    team_rows = list(
        ProductTeam.objects.filter(value_stream__portfolio=portfolio)
        .order_by("pk")
        .values_list("pk", "name", "value_stream_id", "formed_on")
    )
    guardrails, budgets = _funding(portfolio, today)
    funded = {budget.value_stream_id for budget in budgets if budget.total > 0}
    teams = [
        TeamInfo(pk, name, stream, formed, funded=stream in funded)
        for pk, name, stream, formed in team_rows
    ]
    memberships = membership_frame([team.id for team in teams])
    people = {
        user.pk: user.get_full_name() or user.username
        for user in get_user_model().objects.filter(pk__in=set(memberships["person_id"]))
    }
    band_weeks = thresholds.flow_band_weeks + 2
    interactions = TeamInteraction.objects.filter(
        team__value_stream__portfolio=portfolio, depends_on__value_stream__portfolio=portfolio
    ).values_list("team_id", "depends_on_id", "blocking")
    run, items = _run(portfolio)
    shapes, cap = work_shape_inputs(portfolio, as_of)
    return PortfolioInputs(
        portfolio_id=portfolio.pk,
        portfolio=portfolio.name,
        currency=portfolio.currency,
        as_of=as_of,
        today=today,
        value_streams=streams,
        teams=teams,
        people=people,
        key_results=_key_results(portfolio, as_of),
        decisions=_decisions(portfolio, as_of, zone),
        guardrails=guardrails,
        budgets=budgets,
        flow_weeks=flow_week_frame(
            portfolio, as_of=as_of, weeks=max(band_weeks, thresholds.distribution_weeks, 12) + 1
        ),
        memberships=memberships,
        interactions=pd.DataFrame(list(interactions), columns=INTERACTION_COLUMNS),
        blocked=blocked_time_frame(portfolio, as_of=as_of, weeks=thresholds.flow_band_weeks),
        run=run,
        work_items=items,
        work_shapes=shapes,
        strategic_cap=cap,
        fixed_scope_initiatives=fixed_scope_initiatives(portfolio),
    )


def signal_list(portfolio: Portfolio, *, now: dt.datetime) -> QuerySet[Signal]:
    """The portfolio's signals with their value stream and team, annotated with the
    acknowledgement holding at `now` (see SignalQuerySet.with_acknowledgement)."""
    return (
        Signal.objects.filter(portfolio=portfolio)
        .select_related("portfolio", "value_stream", "team")
        .with_acknowledgement(now)
    )


# --- the scorecard ------------------------------------------------------------------------------


def scorecard_inputs(
    portfolio: Portfolio, *, as_of: dt.datetime, now: dt.datetime
) -> ScorecardInputs:
    """What the value-stream scorecard reads (about ten queries, whatever the number of value
    streams, key results or signals). Flow and DORA: the last four monthly windows."""
    today = local_today(portfolio, as_of)
    streams = list(
        ValueStream.objects.filter(portfolio=portfolio).order_by("name").values_list("pk", "name")
    )
    period = current_period(portfolio, today=today)
    budgets, previous, actuals = {}, {}, {}
    if period is not None:
        for pk, stream, run, grow, transform in ValueStreamBudget.objects.filter(
            period=period
        ).values_list("pk", "value_stream_id", "amount_run", "amount_grow", "amount_transform"):
            budgets[stream] = (pk, run + grow + transform)
        before = previous_period(period)
        if before is not None:
            previous = {
                stream: run + grow + transform
                for stream, run, grow, transform in ValueStreamBudget.objects.filter(
                    period=before
                ).values_list("value_stream_id", "amount_run", "amount_grow", "amount_transform")
            }
        actuals = dict(
            ActualSpend.objects.filter(period=period).values_list("value_stream_id", "amount")
        )
    since = as_of - dt.timedelta(days=124)
    monthly = {
        "portfolio": portfolio,
        "scope_kind": ScopeKind.VALUE_STREAM,
        "grain": Grain.MONTH,
        "window_start__gte": since,
    }
    flow_columns = ["scope_id", "window_start", "window_end", "label", "velocity", "flow_time_p85_s", "flow_efficiency", "load_mean"]  # fmt: skip
    flow = pd.DataFrame(
        list(FlowMetric.objects.filter(**monthly, item_type="All").values_list(*flow_columns)),
        columns=flow_columns,
    )
    dora_columns = ["scope_id", "window_end", "label", "deployment_frequency_tier", "lead_time_tier", "change_failure_rate_tier", "recovery_time_tier"]  # fmt: skip
    dora = pd.DataFrame(
        list(DoraMetric.objects.filter(**monthly).values_list(*dora_columns)), columns=dora_columns
    )
    for frame in (flow, dora):
        for column in ("window_start", "window_end"):
            if column in frame:
                frame[column] = pd.to_datetime(frame[column], utc=True)
    return ScorecardInputs(
        streams=streams,
        period=period.name if period else "",
        budgets=budgets,
        previous=previous,
        actuals=actuals,
        flow=flow,
        dora=dora,
        key_results=_scorecard_key_results(portfolio, as_of),
        realisation=_realisation_points(portfolio),
        signals=dict(
            signal_list(portfolio, now=now)
            .in_state("open", now)
            .filter(value_stream__isnull=False)
            .values_list("value_stream_id")
            .annotate(n=Count("pk"))
            .order_by()
        ),
    )


def _scorecard_key_results(portfolio: Portfolio, as_of: dt.datetime) -> pd.DataFrame:
    """Open key results of value streams and their teams, with the latest value and last check-in
    date (local) up to `as_of`. One query."""
    zone = zoneinfo.ZoneInfo(portfolio.time_zone)
    latest = OutcomeUpdate.objects.filter(key_result=OuterRef("pk"), posted_at__lte=as_of).order_by(
        "-posted_at", "-pk"
    )
    rows = (
        KeyResult.objects.filter(
            objective__portfolio=portfolio, objective__value_stream__isnull=False, closed=False
        )
        .annotate(
            latest_value=Subquery(latest.values("value")[:1]),
            last=Subquery(latest.values("posted_at")[:1]),
        )
        .values_list(
            "objective__value_stream_id", "baseline", "target", "latest_value", "starts_on",
            "cadence_days", "last",
        )
    )  # fmt: skip
    columns = ["value_stream_id", "baseline", "target", "value", "starts_on", "cadence_days", "last_check_in"]  # fmt: skip
    return pd.DataFrame(
        [(*row[:6], row[6].astimezone(zone).date() if row[6] else None) for row in rows],
        columns=columns,
    ).astype(object)


def _realisation_points(portfolio: Portfolio) -> pd.DataFrame:
    """Every realisation point of the portfolio's value streams: value_stream_id, metric,
    higher_is_better, on, value (float). One query."""
    columns = ["value_stream_id", "metric", "higher_is_better", "on", "value"]
    rows = RealisationPoint.objects.filter(metric__value_stream__portfolio=portfolio).values_list(
        "metric__value_stream_id", "metric__name", "metric__higher_is_better", "on", "value"
    )
    return pd.DataFrame(
        [(stream, name, better, on, float(value)) for stream, name, better, on, value in rows],
        columns=columns,
    )


def thresholds_history(portfolio: Portfolio) -> list[HistoryEntry]:
    """Every recorded change of the portfolio's thresholds, newest first: who, when and each
    changed threshold old → new (two queries)."""
    events = list(
        SignalThresholds.pgh_event_model.objects.filter(pgh_obj_id=portfolio.pk)
        .select_related("pgh_context")
        .order_by("pgh_id")
    )
    user_ids = {
        event.pgh_context.metadata.get("user")
        for event in events
        if event.pgh_context and event.pgh_context.metadata.get("user")
    }
    users = {
        user.pk: user.get_full_name() or user.username
        for user in get_user_model().objects.filter(pk__in=user_ids)
    }
    labels = {spec.name: spec.label for spec in SPECS}
    entries, previous = [], None
    for event in events:
        metadata = event.pgh_context.metadata if event.pgh_context else {}
        changes = [
            (labels[name], getattr(previous, name) if previous else getattr(DEFAULTS, name), getattr(event, name))
            for name in THRESHOLD_NAMES
            if (getattr(previous, name) if previous else getattr(DEFAULTS, name)) != getattr(event, name)
        ]  # fmt: skip
        entries.append(
            HistoryEntry(
                at=event.pgh_created_at,
                who=users.get(metadata.get("user"), "system"),
                label=event.pgh_label,
                url=metadata.get("url", ""),
                changes=changes,
            )
        )
        previous = event
    return entries[::-1]
