"""Signals for the `org` fixture: hand-built situations in the database, and one signal of each
kind the pages need (idempotent, for the URL sweep)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from leanpmo.models import Signal
from leanpmo.services.signals import signals_evaluate
from teams.models import KeyResult, OutcomeUpdate
from tests.teams.factories import KeyResultFactory
from valuestreams.models import FlowMetric, Grain, MetricRun, ScopeKind

AS_OF = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)  # Monday, 08:00 in Zurich
DAY = 86400


def stale_key_result(org, *, days: int = 40, cadence: int = 14, team=None) -> KeyResult:
    """A key result of the team (default org.team) whose last check-in is `days` before AS_OF."""
    kr = KeyResultFactory(
        objective__team=team or org.team,
        metric="Payments settled within 10 s",
        cadence_days=cadence,
        starts_on=dt.date(2025, 6, 2),
    )
    OutcomeUpdate.objects.create(
        key_result=kr,
        value=Decimal("90"),
        confidence=6,
        status=OutcomeUpdate.Status.AT_RISK,
        posted_by=org.users["member"],
        posted_at=AS_OF - dt.timedelta(days=days),
    )
    return kr


def check_in(org, kr: KeyResult, *, at: dt.datetime) -> OutcomeUpdate:
    from teams.services.outcomes import outcome_update_post

    return outcome_update_post(
        key_result=kr,
        posted_by=org.users["member"],
        posted_at=at,
        value=Decimal("95"),
        confidence=8,
        status=OutcomeUpdate.Status.ON_TRACK,
    )


def weekly_rows(
    portfolio, scope_kind: str, scope_id: int, *, weeks: int, item_type: str = "All", **series
) -> list[FlowMetric]:
    """Weekly flow rows ending at AS_OF's week; `series` maps a column to its values, oldest
    first (a single value is repeated)."""
    last = dt.datetime(2026, 2, 23, tzinfo=dt.UTC)
    rows = []
    for index in range(weeks):
        start = last - dt.timedelta(weeks=weeks - 1 - index)
        values = {
            column: (value[index] if isinstance(value, list) else value)
            for column, value in series.items()
        }
        iso = start.isocalendar()
        rows.append(
            FlowMetric(
                portfolio=portfolio,
                scope_kind=scope_kind,
                scope_id=scope_id,
                grain=Grain.WEEK,
                window_start=start,
                window_end=start + dt.timedelta(weeks=1),
                label=f"{iso.year}-W{iso.week:02d}",
                item_type=item_type,
                **values,
            )
        )
    return FlowMetric.objects.bulk_create(rows)


def metric_run(portfolio, *, as_of=AS_OF, **caveats) -> MetricRun:
    return MetricRun.objects.create(
        portfolio=portfolio, kind=MetricRun.Kind.FULL, as_of=as_of, caveats=caveats
    )


def signal_for(org) -> Signal:
    """Idempotent: an open stale-outcomes signal of org.team, evaluated as of now."""
    signal = Signal.objects.filter(portfolio=org.portfolio, detector="stale_outcomes").first()
    if signal is None:
        stale_key_result(org, days=200)
        signals_evaluate(portfolio=org.portfolio, as_of=timezone.now())
        signal = Signal.objects.get(portfolio=org.portfolio, detector="stale_outcomes")
    return signal


__all__ = ["AS_OF", "DAY", "ScopeKind", "check_in", "metric_run", "signal_for", "stale_key_result", "weekly_rows"]  # fmt: skip
