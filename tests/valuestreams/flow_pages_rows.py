"""Precomputed metric rows written straight into the tables, as a recompute would publish them.

The flow-page tests use these so they depend on the shape of FlowMetric / DoraMetric / StatusTime /
MetricRun only, not on the recompute that fills them in production.
"""

from __future__ import annotations

import datetime as dt

from valuestreams.models import DoraMetric, FlowMetric, MetricRun, StatusTime

AS_OF = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)  # a Wednesday
TYPES = {"Feature": 5, "Defect": 2, "Risk": 1, "Debt": 0}
TARGETS = {"Feature": 0.5, "Defect": 0.2, "Risk": 0.1, "Debt": 0.2}
STATUSES = [
    ("In Progress", "active", 3 * 86_400),
    ("In Review", "waiting", 2 * 86_400),
    ("Awaiting Vendor", "waiting", 86_400),
]


def week_windows(count: int, *, as_of: dt.datetime = AS_OF) -> list[tuple[str, dt.datetime]]:
    """The `count` ISO weeks up to and including the one holding `as_of` (label, start)."""
    monday = dt.datetime.combine(
        as_of.date() - dt.timedelta(days=as_of.weekday()), dt.time(0), tzinfo=dt.UTC
    )
    starts = [monday - dt.timedelta(weeks=n) for n in reversed(range(count))]
    return [(f"{s.isocalendar().year}-W{s.isocalendar().week:02d}", s) for s in starts]


def month_windows(count: int, *, as_of: dt.datetime = AS_OF) -> list[tuple[str, dt.datetime]]:
    """The `count` months up to and including the one holding `as_of` (label, start)."""
    year, month = as_of.year, as_of.month
    windows = []
    for _ in range(count):
        windows.append((f"{year}-{month:02d}", dt.datetime(year, month, 1, tzinfo=dt.UTC)))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(windows))


def _end(grain: str, start: dt.datetime) -> dt.datetime:
    if grain == "week":
        return start + dt.timedelta(weeks=1)
    return (start + dt.timedelta(days=32)).replace(day=1)


def publish(
    portfolio,
    scope_kind: str,
    scope_id: int,
    *,
    weeks: int = 8,
    months: int = 3,
    scale: int = 1,
    dora_tier: str = "high",
    status_prefix: str = "",
) -> None:
    """Flow, status-time and DORA rows for one scope at both grains (velocity × `scale`).

    Replaces the scope's earlier rows, as a recompute publishes a scope's rows anew.
    """
    for model in (FlowMetric, StatusTime, DoraMetric):
        model.objects.filter(scope_kind=scope_kind, scope_id=scope_id).delete()
    flow, statuses, dora = [], [], []
    for grain, windows in (("week", week_windows(weeks)), ("month", month_windows(months))):
        for n, (label, start) in enumerate(windows):
            common = {
                "portfolio": portfolio,
                "scope_kind": scope_kind,
                "scope_id": scope_id,
                "grain": grain,
                "window_start": start,
                "window_end": _end(grain, start),
                "label": label,
            }
            total = sum(TYPES.values()) * scale
            for item_type, velocity in [*TYPES.items(), ("All", total)]:
                velocity = velocity * scale if item_type != "All" else velocity
                flow.append(
                    FlowMetric(
                        **common,
                        item_type=item_type,
                        velocity=velocity,
                        flow_time_p50_s=(2 + n) * 86_400,
                        flow_time_p85_s=(5 + n) * 86_400,
                        flow_time_p95_s=(9 + n) * 86_400,
                        flow_time_mean_s=(3 + n) * 86_400,
                        flow_efficiency=0.25,
                        load_mean=10.5,
                        load_end=12,
                        share=velocity / total if item_type != "All" else None,
                        target=TARGETS.get(item_type),
                    )
                )
            for status, state, seconds in STATUSES:
                statuses.append(
                    StatusTime(
                        **common,
                        status=status_prefix + status,
                        flow_state=state,
                        items=3,
                        time_s=seconds,
                        share=None,
                    )
                )
            dora.append(
                DoraMetric(
                    **common,
                    deployments=12,
                    deployment_days=9,
                    median_deployment_days_per_week=2,
                    median_deployment_days_per_month=9,
                    deployment_frequency_tier=dora_tier,
                    changes_deployed=30,
                    median_lead_time_minutes=2 * 1440 + n,
                    lead_time_tier="high",
                    failed_deployments=1,
                    change_failure_rate=1 / 12,
                    change_failure_rate_tier="high",
                    incidents_recovered=1,
                    median_recovery_time_minutes=45,
                    recovery_time_tier="elite",
                    rework_deployments=2,
                    deployment_rework_rate=2 / 12,
                )
            )
    FlowMetric.objects.bulk_create(flow)
    StatusTime.objects.bulk_create(statuses)
    DoraMetric.objects.bulk_create(dora)


def metric_run(portfolio, caveats: dict | None = None) -> MetricRun:
    return MetricRun.objects.create(
        portfolio=portfolio, kind=MetricRun.Kind.FULL, as_of=AS_OF, caveats=caveats or {}
    )
