"""One portfolio's bad data or configuration never blocks its own or another portfolio's recompute:
records and funding periods stored with dates outside 1970-01-01 – 2200-12-31 (before the entry
points checked them, or by hand) are left out with a caveat, an unknown DORA benchmark falls back
to the default, and a failure the recompute cannot isolate is shown on the portfolio (page and
API) while the nightly run recomputes every other portfolio."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from leanpmo.models import FundingPeriod
from tests.factories import PortfolioFactory, ProductTeamFactory, ValueStreamFactory
from tests.leanpmo.support import make_budget, make_period
from tests.valuestreams.recompute_data import add_item, at, small_dataset
from tests.valuestreams.test_recompute import published_rows
from tests.valuestreams.test_recompute_jobs import wait_for
from valuestreams.models import (
    Change,
    Deployment,
    DoraMetric,
    FlowMetric,
    Incident,
    JobStatus,
    MetricRun,
    MetricSettings,
    RecomputeJob,
    StatusChange,
    WorkItem,
)
from valuestreams.recompute import (
    publish,
    recompute_full_now,
    recompute_incremental_now,
    recompute_job_run,
    recompute_nightly,
)

AS_OF = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
FAR = dt.datetime(4061, 3, 1, 10, tzinfo=dt.UTC)
ANCIENT = dt.datetime(3, 3, 1, 10, tzinfo=dt.UTC)
RANGE = "1970-01-01 to 2200-12-31"


def _funded(org, *, bad_start: dt.date | None = None, bad_end: dt.date | None = None) -> None:
    """An approved 2026 Q1 with its allocation, and an approved period stored with far-off dates
    (written past the validation, as rows from before it would be)."""
    good = make_period(org, name="2026 Q1", starts=dt.date(2026, 1, 1), ends=dt.date(2026, 3, 31))
    make_budget(good, org.value_stream)
    bad = make_period(org, name="2061 Q1", starts=dt.date(2061, 1, 1), ends=dt.date(2061, 3, 31))
    make_budget(bad, org.value_stream)
    FundingPeriod.objects.filter(pk=bad.pk).update(
        starts_on=bad_start or bad.starts_on, ends_on=bad_end or bad.ends_on
    )
    FundingPeriod.objects.filter(portfolio=org.portfolio).update(status="approved")


@pytest.mark.parametrize(
    "dates",
    [{"bad_end": dt.date(4061, 3, 31)}, {"bad_start": dt.date(3, 1, 1)}],
    ids=["ends in 4061", "starts in year 3"],
)
def test_a_funding_period_stored_with_far_off_dates_is_left_out_and_the_rest_publishes(
    org, client_for, dates
):
    small_dataset(org)
    _funded(org, **dates)
    run = recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    assert run.caveats["funding_periods_out_of_range"] == ["2061 Q1"]
    # the allocation of the good period is still the target
    february = FlowMetric.objects.get(
        scope_kind="value_stream",
        scope_id=org.value_stream.pk,
        grain="month",
        label="2026-02",
        item_type="Feature",
    )
    assert february.target == pytest.approx(0.60)
    page = client_for("executive").get(reverse("value-stream-detail", args=[org.value_stream.pk]))
    assert "Funding periods “2061 Q1” have dates outside" in page.content.decode()
    assert RANGE in page.content.decode()


def _bad_records(org, items) -> None:
    """Records dated outside the range, written past the validation."""
    StatusChange.objects.create(item=items["a3"], at=FAR, seq=9, status="Done", source_type="Story")
    StatusChange.objects.create(
        item=items["b1"], at=ANCIENT, seq=9, status="Review", source_type="Story"
    )
    WorkItem.objects.filter(pk=items["a1"].pk).update(created_at=ANCIENT)
    team = {"portfolio": org.portfolio, "source": "ci", "team": org.team}
    Deployment.objects.create(external_key="D-far", finished_at=FAR, **team)
    Incident.objects.create(external_key="I-far", created_at=at(10), resolved_at=FAR, **team)
    Change.objects.create(external_key="C-old", first_commit_at=ANCIENT, **team)


def test_records_stored_with_far_off_dates_are_left_out_with_a_caveat(org, client_for):
    items = small_dataset(org)
    team = {"portfolio": org.portfolio, "source": "ci", "team": org.team}
    shipped = Deployment.objects.create(external_key="D-1", finished_at=at(6), **team)
    Change.objects.create(external_key="C-1", first_commit_at=at(4), deployment=shipped, **team)
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    clean = published_rows(org.portfolio)

    _bad_records(org, items)
    run = recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    assert published_rows(org.portfolio) == clean  # the far-off rows change no figure
    assert {key: run.caveats[key] for key in run.caveats if key.endswith("_out_of_range")} == {
        "status_changes_out_of_range": 2,
        "work_items_out_of_range": 1,
        "deployments_out_of_range": 1,
        "changes_out_of_range": 1,
        "incidents_out_of_range": 1,
        "funding_periods_out_of_range": [],
    }
    page = client_for("member").get(reverse("value-stream-detail", args=[org.value_stream.pk]))
    assert "2 status changes, 1 work item creation times, 1 deployments" in page.content.decode()

    # an incremental run carries the counts; the live answer for another as_of works too
    added = add_item(org.portfolio, org.team, "A-9", "Bug", [(at(20), "In Progress")])
    later = recompute_incremental_now(
        portfolio=org.portfolio, item_ids=[added.pk], as_of=AS_OF + dt.timedelta(days=1)
    )
    assert later.kind == "incremental"
    assert later.caveats["status_changes_out_of_range"] == 2
    live = client_for("pmo").get(
        reverse("api:status-time-list"),
        {"scope": "team", "id": org.team.pk, "as_of": "2026-02-20T00:00:00+00:00"},
    )
    assert live.status_code == 200


def test_an_unknown_benchmark_and_an_endless_gap_do_not_stop_the_recompute(org):
    small_dataset(org)
    team = {"portfolio": org.portfolio, "source": "ci", "team": org.team}
    Deployment.objects.create(external_key="D-1", finished_at=at(6), **team)
    MetricSettings.objects.create(
        portfolio=org.portfolio, dora_benchmark="dora-1999", incident_max_gap_hours=2**31 - 1
    )
    run = recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    assert run.caveats["benchmark"] == "dora-2023"
    assert run.caveats["settings_ignored"] == [
        "The DORA benchmark “dora-1999” is unknown; dora-2023 was used."
    ]
    assert set(DoraMetric.objects.values_list("benchmark", flat=True)) == {"dora-2023"}


# --- a failure the recompute cannot isolate ------------------------------------------------------


def test_a_failed_recompute_is_shown_on_the_portfolio_until_a_run_publishes(
    org, client_for, monkeypatch
):
    small_dataset(org)
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    detail = reverse("api:portfolio-detail", args=[org.portfolio.pk])
    assert client_for("executive").get(detail).json()["recompute_failure"] is None

    def fail(step):
        if step == "flow":
            raise RuntimeError("disk full")

    monkeypatch.setattr(publish, "_publish_checkpoint", fail)
    job = RecomputeJob.objects.create(portfolio=org.portfolio, kind="full")
    with pytest.raises(RuntimeError):
        recompute_job_run(job_id=job.pk)

    failure = client_for("executive").get(detail).json()["recompute_failure"]
    assert failure["job_id"] == job.pk
    assert failure["error"] == "RuntimeError: disk full"
    listed = client_for("member").get(reverse("api:portfolio-list")).json()["results"]
    assert [p["recompute_failure"]["job_id"] for p in listed] == [job.pk]
    for url in (
        reverse("portfolio-detail", args=[org.portfolio.pk]),
        reverse("value-stream-detail", args=[org.value_stream.pk]),
        reverse("team-detail", args=[org.team.pk]),
    ):
        html = client_for("member").get(url).content.decode()
        assert "The metrics could not be recomputed" in html, url
        assert "RuntimeError: disk full" in html

    monkeypatch.undo()
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)  # a run publishes: it is over
    assert client_for("executive").get(detail).json()["recompute_failure"] is None
    page = client_for("member").get(reverse("portfolio-detail", args=[org.portfolio.pk]))
    assert "The metrics could not be recomputed" not in page.content.decode()


@pytest.mark.celery
def test_the_nightly_run_recomputes_every_portfolio_past_one_that_fails(org, celery_worker):
    """Three portfolios on a real worker: one with a funding period stored in 4061 (it publishes,
    with a caveat), one whose stored time zone no longer exists (it fails, and says why), and a
    third after them that publishes."""
    small_dataset(org)
    _funded(org, bad_end=dt.date(4061, 3, 31))
    other_team = ProductTeamFactory(value_stream=org.other_value_stream, name="Origination squad 2")
    add_item(org.other_portfolio, other_team, "L-1", "Story", [(at(2), "To Do"), (at(3), "Done")])
    type(org.portfolio).objects.filter(pk=org.other_portfolio.pk).update(time_zone="Mars/Olympus")
    last = PortfolioFactory(name="Wealth")
    last_team = ProductTeamFactory(value_stream=ValueStreamFactory(portfolio=last))
    add_item(last, last_team, "W-1", "Story", [(at(2), "To Do"), (at(3), "In Progress")])

    job_ids = recompute_nightly()
    assert len(job_ids) == 3

    def finished() -> bool:
        return not RecomputeJob.objects.filter(
            pk__in=job_ids, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
        ).exists()

    assert wait_for(finished, 120)
    status = dict(RecomputeJob.objects.filter(pk__in=job_ids).values_list("portfolio", "status"))
    assert status == {
        org.portfolio.pk: JobStatus.SUCCEEDED,
        org.other_portfolio.pk: JobStatus.FAILED,
        last.pk: JobStatus.SUCCEEDED,
    }
    failed = RecomputeJob.objects.get(portfolio=org.other_portfolio)
    assert "Mars/Olympus" in failed.error
    assert MetricRun.objects.get(portfolio=org.portfolio).caveats[
        "funding_periods_out_of_range"
    ] == ["2061 Q1"]
    assert MetricRun.objects.filter(portfolio=last).exists()
    assert not MetricRun.objects.filter(portfolio=org.other_portfolio).exists()
