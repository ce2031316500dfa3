"""The metrics read API: who reads what, filters, live as_of, the recompute request, query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.access import API_NOBODY_BUT_ADMIN, API_READERS, AccessContract
from tests.valuestreams.recompute_data import add_item, at, small_dataset
from valuestreams.models import FlowMetric, RecomputeJob
from valuestreams.recompute import recompute_full_now

AS_OF = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)
LIST_READERS = {**API_READERS, "outsider": 200}
API_EDITORS = {**API_READERS, "member": 403, "executive": 403, "pmo": 202, "admin": 202}


class TestWorkItemListAccess(AccessContract):
    url_name = "api:work-item-list"
    expected = LIST_READERS


class TestFlowMetricListAccess(AccessContract):
    url_name = "api:flow-metric-list"
    expected = LIST_READERS


class TestDoraMetricListAccess(AccessContract):
    url_name = "api:dora-metric-list"
    expected = LIST_READERS


class TestStatusTimeListAccess(AccessContract):
    url_name = "api:status-time-list"
    expected = LIST_READERS


class TestMetricRunListAccess(AccessContract):
    url_name = "api:metric-run-list"
    expected = LIST_READERS


class TestRecomputeJobListAccess(AccessContract):
    url_name = "api:recompute-job-list"
    expected = LIST_READERS


class TestRecomputeJobReadAccess(AccessContract):
    url_name = "api:recompute-job-detail"
    expected = API_READERS

    def url_kwargs(self, org):
        job = RecomputeJob.objects.create(portfolio=org.portfolio, kind="full")
        return {"pk": job.pk}


class TestForeignRecomputeJobReadAccess(AccessContract):
    url_name = "api:recompute-job-detail"
    expected = API_NOBODY_BUT_ADMIN

    def url_kwargs(self, org):
        job = RecomputeJob.objects.create(portfolio=org.other_portfolio, kind="full")
        return {"pk": job.pk}


class TestRecomputeRequestAccess(AccessContract):
    url_name = "api:recompute-job-list"
    method = "post"
    expected = API_EDITORS

    def payload(self, org):
        return {"portfolio": org.portfolio.pk, "full": True}


class TestWorkItemReadAccess(AccessContract):
    url_name = "api:work-item-detail"
    expected = API_READERS

    def url_kwargs(self, org):
        return {"pk": add_item(org.portfolio, org.team, "X-1", "Story", [(at(2), "To Do")]).pk}


@pytest.fixture
def computed(org):
    items = small_dataset(org)
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    return items


def test_flow_metrics_of_a_team_week_are_listed_with_their_values(org, client_for, computed):
    url = reverse("api:flow-metric-list")
    body = client_for("member").get(
        url, {"scope": "team", "id": org.team.pk, "grain": "week", "type": "All",
              "from": "2026-02-01T00:00:00Z", "to": "2026-02-08T00:00:00Z"},
    ).json()  # fmt: skip
    assert [row["label"] for row in body["results"]] == ["2026-W06"]
    row = body["results"][0]
    assert (row["velocity"], row["flow_time_p50_s"], row["flow_efficiency"]) == (2, 172800.0, 0.75)


def test_an_unknown_scope_is_refused_naming_the_field(org, client_for, computed):
    response = client_for("member").get(reverse("api:flow-metric-list"), {"scope": "galaxy"})
    assert response.status_code == 400
    assert "scope" in response.json()


def test_work_items_carry_their_flow_facts_and_filter_by_state(org, client_for, computed):
    body = client_for("member").get(reverse("api:work-item-list"), {"state": "done"}).json()
    keys = sorted(row["external_key"] for row in body["results"])
    assert keys == ["A-1", "A-2", "B-1"]
    a1 = next(r for r in body["results"] if r["external_key"] == "A-1")
    assert a1["facts"]["flow_time_s"] == 3 * 86400
    assert a1["facts"]["active_s"] == 2 * 86400


def test_as_of_computes_one_scope_live_without_storing_anything(org, client_for, computed):
    stored = FlowMetric.objects.count()
    response = client_for("member").get(
        reverse("api:flow-metric-list"),
        {"scope": "team", "id": org.team.pk, "grain": "week", "type": "All",
         "as_of": "2026-02-05T12:00:00+00:00"},
    )  # fmt: skip
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["label"] for r in rows] == ["2026-W06"]
    assert rows[0]["velocity"] == 1  # only A-2 was done by then
    assert FlowMetric.objects.count() == stored


def _live(client, org, as_of: str, kind: str = "api:flow-metric-list"):
    query = {"scope": "team", "id": org.team.pk, "grain": "week", "as_of": as_of}
    return client.get(reverse(kind), query)


@pytest.fixture
def live_rate(org, settings):
    """Two live computations an hour per person, and no earlier computation remembered."""
    from django.core.cache import cache

    settings.LIVE_METRICS_RATE = "2/hour"
    cache.delete_many([f"throttle_live_metrics_{user.pk}" for user in org.users.values()])


def test_live_as_of_computations_are_limited_per_person_with_a_clear_429(
    org, client_for, computed, live_rate
):
    member = client_for("member")
    assert _live(member, org, "2026-02-05T12:00:00+00:00").status_code == 200
    assert (
        _live(member, org, "2026-02-06T12:00:00+00:00", "api:dora-metric-list").status_code == 200
    )
    refused = _live(member, org, "2026-02-07T12:00:00+00:00", "api:status-time-list")
    assert refused.status_code == 429
    assert "limited to 2/hour per person" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 3000
    # the stored metrics stay open, and another person has their own allowance
    assert member.get(reverse("api:flow-metric-list"), {"scope": "team"}).status_code == 200
    assert _live(client_for("pmo"), org, "2026-02-07T12:00:00+00:00").status_code == 200


def test_the_same_live_question_is_answered_from_the_cache_until_the_next_recompute(
    org, client_for, computed, live_rate
):
    member = client_for("member")
    first = _live(member, org, "2026-02-05T12:00:00+00:00")
    for _ in range(3):  # asked again, also in another offset: the same rows, nothing counted
        assert _live(member, org, "2026-02-05T13:00:00+01:00").json() == first.json()
    assert _live(member, org, "2026-02-06T12:00:00+00:00").status_code == 200
    assert _live(member, org, "2026-02-05T12:00:00+00:00").json() == first.json()
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)  # a new run: a new question
    assert _live(member, org, "2026-02-05T12:00:00+00:00").status_code == 429


def test_as_of_needs_a_scope(org, client_for, computed):
    response = client_for("member").get(
        reverse("api:flow-metric-list"), {"as_of": "2026-02-05T12:00:00+00:00"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"scope", "id"}


def test_as_of_on_a_scope_outside_your_portfolios_is_404(org, client_for, computed):
    response = client_for("member").get(
        reverse("api:flow-metric-list"),
        {"scope": "team", "id": org.foreign_team.pk, "as_of": "2026-02-05T12:00:00+00:00"},
    )
    assert response.status_code == 404


def test_the_latest_run_shows_its_caveats(org, client_for, computed):
    body = (
        client_for("executive")
        .get(reverse("api:metric-run-list"), {"portfolio": org.portfolio.pk})
        .json()
    )
    caveats = body["results"][0]["caveats"]
    assert caveats["unmapped_statuses"] == ["Parked"]
    assert caveats["truncated_histories"] == 1


def test_a_lean_pmo_request_creates_a_queued_job_and_a_bad_one_changes_nothing(org, client_for):
    url = reverse("api:recompute-job-list")
    bad = client_for("pmo").post(url, {"portfolio": "x"}, content_type="application/json")
    assert bad.status_code == 400
    assert "portfolio" in bad.json()
    assert not RecomputeJob.objects.exists()
    good = client_for("pmo").post(
        url, {"portfolio": org.portfolio.pk, "full": True}, content_type="application/json"
    )
    assert good.status_code == 202
    assert good.json()["status"] == "queued"


@pytest.mark.parametrize(
    "name", ["api:flow-metric-list", "api:status-time-list", "api:work-item-list"]
)
def test_list_query_counts_do_not_grow_with_rows(org, client_for, name):
    small_dataset(org)
    client = client_for("member")
    recompute_full_now(portfolio=org.portfolio, as_of=at(7))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(name)).status_code == 200
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse(name)).status_code == 200
    assert len(many) == len(few) <= 6


@pytest.mark.parametrize(
    "name", ["api:flow-metric-list", "api:work-item-list", "api:recompute-job-list"]
)
def test_integration_tokens_cannot_read_metrics(org, client, computed, name):
    from django.utils import timezone

    from portfolio.services import integration_token_issue

    token = integration_token_issue(portfolio=org.portfolio, name="ci", days=30, now=timezone.now())
    response = client.get(reverse(name), HTTP_AUTHORIZATION=f"Bearer {token.text}")
    assert response.status_code in {401, 403}


def test_a_scope_whose_items_never_started_is_computed_live_and_recomputed(org, client_for):
    """Items that went straight from new to done (none ever waiting or active) used to raise
    IndexError in item_arrays: the live answer was a 500 and the portfolio's recompute failed."""
    add_item(org.portfolio, org.team, "S-1", "Story", [(at(2), "To Do"), (at(3), "Done")])
    add_item(org.portfolio, org.team, "S-2", "Story", [(at(4), "Done")])  # created in done
    run = recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    assert run.caveats["done_without_start"] == 2
    assert run.caveats["truncated_histories"] == 0
    for name in ("api:status-time-list", "api:flow-metric-list"):
        response = client_for("pmo").get(
            reverse(name),
            {"scope": "team", "id": org.team.pk, "grain": "week",
             "as_of": "2026-02-20T12:00:00+00:00"},
        )  # fmt: skip
        assert response.status_code == 200, response.content
    rows = response.json()["results"]
    velocity = {r["label"]: r["velocity"] for r in rows if r["item_type"] == "All"}
    assert velocity == {"2026-W06": 2}


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("4724-03-19T12:32:59Z", "outside the dates Steward accepts (1970-01-01 to 2200-12-31)"),
        ("not a time", "ISO 8601"),
    ],
)
def test_an_as_of_that_cannot_be_computed_is_refused_naming_it(
    org, client_for, computed, as_of, message
):
    for name in ("api:flow-metric-list", "api:dora-metric-list", "api:status-time-list"):
        response = client_for("member").get(
            reverse(name), {"scope": "team", "id": org.team.pk, "as_of": as_of}
        )
        assert response.status_code == 400, (name, response.content[:300])
        assert list(response.json()) == ["as_of"]
        assert message in response.json()["as_of"][0]
