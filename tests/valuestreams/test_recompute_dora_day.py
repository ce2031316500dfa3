"""DORA on an ordinary day: runs on the same local day compute no DORA row unless a record
reaches it, and a new deployment rewrites only its own open week and month."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import ProductTeamFactory
from tests.valuestreams.test_recompute_dora import (
    AS_OF,
    assert_incremental_equals_full,
    dora_dataset,
)
from valuestreams.models import DoraMetric
from valuestreams.recompute import recompute_full_now
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
