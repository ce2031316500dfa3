"""DORA on an ordinary day: runs on the same local day compute no DORA row unless a record
reaches it, a new deployment rewrites only its own open week and month, and an ingest of
deployments asks for a run that reads no work item."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tests.factories import ProductTeamFactory
from tests.valuestreams.recompute_data import generated_dataset, map_statuses
from tests.valuestreams.test_recompute import published_rows
from tests.valuestreams.test_recompute_dora import (
    AS_OF,
    assert_incremental_equals_full,
    dora_dataset,
)
from valuestreams.models import DoraMetric, RecomputeJob
from valuestreams.recompute import read, recompute_full_now, recompute_job_run
from valuestreams.services.deliveries import deployments_ingest


@pytest.fixture
def teams(org):
    return [org.team, org.other_team, ProductTeamFactory(value_stream=org.value_stream)]


@pytest.mark.django_db
def test_runs_on_the_same_day_compute_dora_rows_only_for_a_new_deployment(org, teams):
    # AS_OF is 13:00 in Zurich: every run below is on the same local day
    dora_dataset(org.portfolio, teams, seed=21)
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)

    quiet = assert_incremental_equals_full(org.portfolio, as_of=AS_OF + dt.timedelta(hours=1))

    assert quiet["computed"] == 0
    open_rows = set(
        DoraMetric.objects.filter(portfolio=org.portfolio, window_end__gt=AS_OF).values_list(
            "pk", "row_hash"
        )
    )
    deployments_ingest(
        portfolio=org.portfolio,
        records=[
            {
                "key": "TODAY-1",
                "source": "ci",
                "team": org.team.pk,
                "finished_at": (AS_OF + dt.timedelta(hours=2)).isoformat(),
            }
        ],
    )

    busy = assert_incremental_equals_full(org.portfolio, as_of=AS_OF + dt.timedelta(hours=3))

    # the open week and month of its team, its value stream and the portfolio
    assert busy["computed"] == 6
    after = set(
        DoraMetric.objects.filter(portfolio=org.portfolio, window_end__gt=AS_OF).values_list(
            "pk", "row_hash"
        )
    )
    assert len(open_rows - after) == 6

    again = assert_incremental_equals_full(org.portfolio, as_of=AS_OF + dt.timedelta(hours=4))

    assert again["computed"] == 0


@pytest.mark.django_db
def test_the_first_run_after_local_midnight_recomputes_the_open_windows_exactly(org, teams):
    dora_dataset(org.portfolio, teams, seed=22)
    evening = dt.datetime(2026, 3, 3, 22, 30, tzinfo=dt.UTC)  # 23:30 in Zurich
    recompute_full_now(portfolio=org.portfolio, as_of=evening)

    before_midnight = assert_incremental_equals_full(
        org.portfolio, as_of=evening + dt.timedelta(minutes=29)
    )
    after_midnight = assert_incremental_equals_full(
        org.portfolio, as_of=evening + dt.timedelta(minutes=31)
    )

    assert before_midnight["computed"] == 0 < after_midnight["computed"]


@pytest.mark.django_db
def test_a_deployment_ingest_runs_a_recompute_that_reads_no_work_item(
    org, teams, monkeypatch, client_for
):
    map_statuses(org.portfolio)
    generated_dataset(
        org.portfolio, teams, items=150, start=AS_OF - dt.timedelta(days=120), days=120, seed=23
    )
    dora_dataset(org.portfolio, teams, seed=23)
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    deployments_ingest(
        portfolio=org.portfolio,
        records=[
            {
                "key": "TODAY-2",
                "source": "ci",
                "team": org.team.pk,
                "finished_at": (AS_OF + dt.timedelta(minutes=30)).isoformat(),
            }
        ],
    )
    job = RecomputeJob.objects.get(portfolio=org.portfolio, status="queued")
    assert (job.kind, job.dora_changed, job.team_ids, job.item_ids) == ("incremental", True, [], [])
    shown = client_for("pmo").get(f"/api/v1/recompute-jobs/{job.pk}/").json()
    assert (shown["kind"], shown["dora_changed"], shown["item_ids"]) == ("incremental", True, [])
    histories_read = []
    real_read_history = read.read_history

    def spy(portfolio, *, item_ids=None):
        histories_read.append(item_ids)
        return real_read_history(portfolio, item_ids=item_ids)

    monkeypatch.setattr(read, "read_history", spy)

    with time_machine.travel(AS_OF + dt.timedelta(hours=1), tick=False):
        run = recompute_job_run(job_id=job.pk)

    assert run.kind == "incremental"
    assert run.items_read == 0
    assert all(ids is not None and len(ids) == 0 for ids in histories_read)
    incremental = published_rows(org.portfolio)
    recompute_full_now(portfolio=org.portfolio, as_of=run.as_of)
    assert published_rows(org.portfolio) == incremental
    assert DoraMetric.objects.filter(
        portfolio=org.portfolio, scope_kind="team", scope_id=org.team.pk, deployments__gt=0
    ).exists()
