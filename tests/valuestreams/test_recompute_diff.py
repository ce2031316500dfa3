"""A full run over published results writes only what differs, and publishes what a fresh run does."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import ProductTeamFactory
from tests.valuestreams.recompute_data import append_changes, generated_dataset, map_statuses
from tests.valuestreams.test_recompute import published_rows
from valuestreams.models import FlowMetric, StateMapping, StatusTime, WorkItemFact
from valuestreams.recompute import recompute_full_now

AS_OF = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)


def _clear_published(portfolio) -> None:
    for model in (WorkItemFact, FlowMetric, StatusTime):
        model.objects.filter(portfolio=portfolio).delete()


@pytest.mark.django_db
def test_a_full_run_after_changes_keeps_unchanged_rows_and_equals_a_run_into_empty_tables(org):
    teams = [org.team, org.other_team, ProductTeamFactory(value_stream=org.value_stream)]
    map_statuses(org.portfolio)
    generated_dataset(
        org.portfolio,
        teams,
        items=300,
        start=dt.datetime(2025, 9, 1, tzinfo=dt.UTC),
        days=180,
        seed=7,
    )
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    flow_ids = set(FlowMetric.objects.filter(portfolio=org.portfolio).values_list("pk", flat=True))
    status_ids = set(
        StatusTime.objects.filter(portfolio=org.portfolio).values_list("pk", flat=True)
    )
    facts = WorkItemFact.objects.filter(portfolio=org.portfolio)
    assert facts.filter(unmapped_count__gt=0).exists()
    append_changes(org.portfolio, since=AS_OF, seed=8, count=30)
    # a mapping edit changes facts without changing any history digest
    StateMapping.objects.create(
        portfolio=org.portfolio, source_status="Parked", flow_state="active"
    )
    later = AS_OF + dt.timedelta(days=1)

    recompute_full_now(portfolio=org.portfolio, as_of=later)
    over_published = published_rows(org.portfolio)
    assert not facts.filter(unmapped_count__gt=0).exists()
    kept_flow = flow_ids & set(
        FlowMetric.objects.filter(portfolio=org.portfolio).values_list("pk", flat=True)
    )
    kept_status = status_ids & set(
        StatusTime.objects.filter(portfolio=org.portfolio).values_list("pk", flat=True)
    )
    _clear_published(org.portfolio)
    recompute_full_now(portfolio=org.portfolio, as_of=later)
    fresh = published_rows(org.portfolio)

    for table in fresh:
        assert over_published[table] == fresh[table], table
    assert 0 < len(kept_flow) < len(flow_ids)
    assert 0 < len(kept_status) < len(status_ids)
