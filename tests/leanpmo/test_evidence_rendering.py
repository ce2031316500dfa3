"""Evidence snapshots render their caveats as sentences, whatever keys the recompute stored."""

import datetime as dt
from decimal import Decimal

from django.urls import reverse

from leanpmo.selectors.decisions import evidence_snapshot
from leanpmo.services.decisions import DecisionInput, decision_record
from tests.leanpmo.support import funding_for, make_period
from valuestreams.models import FlowMetric, MetricRun

CAVEATS = {
    "items": 5416,  # a count named like dict.items: templates must not loop over the dict
    "unmapped_status_changes": 112,
    "unmapped_statuses": ["Awaiting Vendor"],
    "incidents_unlinked": 11,
}


def test_decision_page_shows_the_frozen_caveats_in_plain_words(org, client_for):
    MetricRun.objects.create(
        portfolio=org.portfolio,
        kind="full",
        as_of=dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
        caveats=CAVEATS,
    )
    FlowMetric.objects.create(
        portfolio=org.portfolio,
        scope_kind="value_stream",
        scope_id=org.value_stream.pk,
        grain="month",
        window_start=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
        window_end=dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
        label="2026-04",
        item_type="All",
        velocity=7,
    )
    decision = funding_for(org).decision
    assert decision.evidence["caveats"]["items"] == 5416
    response = client_for("executive").get(reverse("decision-detail", args=[decision.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "112 status changes went into an unmapped status (Awaiting Vendor)" in page


def _month(org, label, start, end, velocity):
    FlowMetric.objects.create(
        portfolio=org.portfolio,
        scope_kind="value_stream",
        scope_id=org.value_stream.pk,
        grain="month",
        window_start=start,
        window_end=end,
        label=label,
        item_type="All",
        velocity=velocity,
    )


def test_a_decision_freezes_the_latest_month_that_had_ended_when_it_was_taken(org):
    _month(
        org,
        "2026-03",
        dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
        5,
    )
    _month(
        org,
        "2026-04",
        dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
        9,
    )
    period = make_period(org)
    decision = decision_record(
        period=period,
        value_stream=org.value_stream,
        decision=DecisionInput(kind="continue", rationale="r", expected_outcome="o"),
        amount_before=Decimal(1),
        amount_after=Decimal(1),
        user=org.users["pmo"],
        now=dt.datetime(2026, 4, 15, tzinfo=dt.UTC),
    )
    assert decision.evidence["window"] == "2026-03"
    assert decision.evidence["flow"]["All"]["velocity"] == 5
    assert evidence_snapshot(org.value_stream)["window"] == "2026-04"  # "figures now": the latest
