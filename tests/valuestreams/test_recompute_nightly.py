"""The nightly full recompute: requested by the first hourly beat after each portfolio's own local
midnight, once per local day, and made up by a later beat when one was missed."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tests.factories import PortfolioFactory
from valuestreams.models import JobStatus, MetricRun, RecomputeJob
from valuestreams.recompute import recompute_nightly

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def _beat(moment: dt.datetime) -> set[str]:
    """Run the beat entry at ``moment``; the names of the portfolios it asked for (their jobs
    are then marked done, as a worker would, so that the next beat cannot merge into them)."""
    with time_machine.travel(moment, tick=False):
        ids = recompute_nightly()
    jobs = RecomputeJob.objects.filter(pk__in=ids)
    assert all(job.kind == MetricRun.Kind.FULL for job in jobs)
    names = {job.portfolio.name for job in jobs}
    jobs.update(status=JobStatus.SUCCEEDED)
    return names


def test_each_portfolio_is_recomputed_once_after_its_own_local_midnight():
    PortfolioFactory(name="Zurich", time_zone="Europe/Zurich")  # UTC+1 in December
    PortfolioFactory(name="New York", time_zone="America/New_York")  # UTC-5
    # 22:10 UTC on 5 Dec: 23:10 in Zurich, 17:10 in New York; neither has had a run today
    assert _beat(dt.datetime(2026, 12, 5, 22, 10, tzinfo=UTC)) == {"Zurich", "New York"}
    assert _beat(dt.datetime(2026, 12, 5, 22, 40, tzinfo=UTC)) == set()
    # 23:10 UTC: ten past midnight on 6 Dec in Zurich, still 5 Dec in New York
    assert _beat(dt.datetime(2026, 12, 5, 23, 10, tzinfo=UTC)) == {"Zurich"}
    assert _beat(dt.datetime(2026, 12, 6, 4, 10, tzinfo=UTC)) == set()
    # 05:10 UTC: ten past midnight in New York
    assert _beat(dt.datetime(2026, 12, 6, 5, 10, tzinfo=UTC)) == {"New York"}
    assert _beat(dt.datetime(2026, 12, 6, 6, 10, tzinfo=UTC)) == set()


def test_a_missed_beat_is_made_up_and_a_queued_full_run_is_not_requested_twice():
    PortfolioFactory(name="Zurich", time_zone="Europe/Zurich")
    with time_machine.travel(dt.datetime(2026, 12, 5, 23, 10, tzinfo=UTC), tick=False):
        first = recompute_nightly()
    # the worker was down: the job is still queued at the next beats, which ask for nothing more
    with time_machine.travel(dt.datetime(2026, 12, 6, 0, 10, tzinfo=UTC), tick=False):
        assert recompute_nightly() == []
    assert RecomputeJob.objects.count() == 1
    RecomputeJob.objects.filter(pk__in=first).update(status=JobStatus.SUCCEEDED)
    # no beat ran on 6 Dec after 01:00 UTC until 8 Dec 09:10 (Zurich 10:10): it asks then
    assert _beat(dt.datetime(2026, 12, 8, 9, 10, tzinfo=UTC)) == {"Zurich"}


def test_an_unknown_stored_time_zone_is_still_requested_once_a_day_by_utc():
    portfolio = PortfolioFactory(name="Mars", time_zone="Europe/Zurich")
    type(portfolio).objects.filter(pk=portfolio.pk).update(time_zone="Mars/Olympus")
    assert _beat(dt.datetime(2026, 12, 5, 23, 10, tzinfo=UTC)) == {"Mars"}
    assert _beat(dt.datetime(2026, 12, 5, 23, 50, tzinfo=UTC)) == set()
    assert _beat(dt.datetime(2026, 12, 6, 0, 10, tzinfo=UTC)) == {"Mars"}
