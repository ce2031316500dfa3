"""Whether a portfolio's metrics could be recomputed: the failure of its latest recompute, shown on
its pages and in the portfolio API until a later run publishes.

A recompute isolates bad data and configuration it can (records and funding periods dated
outside the accepted range, an unknown DORA benchmark: the run publishes with a caveat), so a
failure here is one it could not isolate; the figures shown stay those of the last good run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery

from portfolio.models import Portfolio
from valuestreams.models import JobStatus, MetricRun, RecomputeJob

_FIELDS = ("recompute_job_id", "recompute_status", "recompute_error", "recompute_finished_at")


@dataclass(frozen=True)
class RecomputeFailure:
    """The latest recompute of a portfolio failed: which job, when, and why (``error``)."""

    job_id: int
    failed_at: datetime
    error: str


def with_recompute_state(portfolios: QuerySet[Portfolio]) -> QuerySet[Portfolio]:
    """``portfolios`` annotated with their latest finished recompute job (id, status, error,
    finished_at) and latest published run, for :func:`recompute_failure` (no query per row)."""
    latest = RecomputeJob.objects.filter(
        portfolio=OuterRef("pk"), finished_at__isnull=False
    ).order_by("-finished_at", "-pk")
    published = MetricRun.objects.filter(portfolio=OuterRef("pk")).order_by("-computed_at")
    return portfolios.annotate(
        recompute_job_id=Subquery(latest.values("pk")[:1]),
        recompute_status=Subquery(latest.values("status")[:1]),
        recompute_error=Subquery(latest.values("error")[:1]),
        recompute_finished_at=Subquery(latest.values("finished_at")[:1]),
        recompute_published_at=Subquery(published.values("computed_at")[:1]),
    )


def recompute_failure(portfolio: Portfolio | int) -> RecomputeFailure | None:
    """The failure of the portfolio's latest finished recompute job, None when it succeeded,
    none ever finished, or a run was published after it failed (e.g. a synchronous one).

    Reads the annotations of :func:`with_recompute_state` when ``portfolio`` carries them, else
    runs one query."""
    if not hasattr(portfolio, _FIELDS[0]):
        pk = portfolio if isinstance(portfolio, int) else portfolio.pk
        portfolio = with_recompute_state(Portfolio.objects.filter(pk=pk)).get()
    if portfolio.recompute_status != JobStatus.FAILED:
        return None
    published = portfolio.recompute_published_at
    if published is not None and published > portfolio.recompute_finished_at:
        return None
    return RecomputeFailure(
        job_id=portfolio.recompute_job_id,
        failed_at=portfolio.recompute_finished_at,
        error=portfolio.recompute_error or "The recompute stopped without a reason.",
    )
