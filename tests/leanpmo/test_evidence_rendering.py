"""Evidence snapshots render their caveats as sentences, whatever keys the recompute stored."""

import datetime as dt

from django.urls import reverse

from tests.leanpmo.support import funding_for
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
