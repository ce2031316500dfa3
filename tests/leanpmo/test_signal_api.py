"""Signals API: who reads what, filters, money left out for members, acknowledging, thresholds."""

from __future__ import annotations

import datetime as dt
import json

from django.urls import reverse
from django.utils import timezone

from leanpmo.models import Signal, SignalAcknowledgement, SignalThresholds
from leanpmo.services.signals import signals_evaluate
from tests.access import API_READERS, AccessContract
from tests.leanpmo.signal_support import signal_for
from tests.leanpmo.support import funding_for
from tests.teams.factories import KeyResultFactory

API_EDITORS = {**API_READERS, "member": 403, "executive": 403, "pmo": 400, "admin": 400}


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def _patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


class TestSignalListAccess(AccessContract):
    url_name = "api:signal-list"
    expected = {**API_READERS, "outsider": 200}  # an empty list


class TestSignalDetailAccess(AccessContract):
    url_name = "api:signal-detail"
    expected = API_READERS

    def url_kwargs(self, org):
        return {"pk": signal_for(org).pk}


class TestAcknowledgementReadAccess(TestSignalDetailAccess):
    url_name = "api:signal-acknowledge"


class TestAcknowledgePostAccess(TestSignalDetailAccess):
    url_name = "api:signal-acknowledge"
    method = "post"
    expected = API_EDITORS  # an empty body is refused


class TestThresholdsDetailAccess(AccessContract):
    url_name = "api:signal-thresholds-detail"
    expected = API_READERS

    def url_kwargs(self, org):
        return {"pk": org.portfolio.pk}


def test_the_list_filters_by_state_and_detector_and_outsiders_see_nothing(org, client_for):
    signal = signal_for(org)
    url = reverse("api:signal-list")
    body = client_for("member").get(url, {"state": "new", "detector": "stale_outcomes"}).json()
    assert [item["id"] for item in body["results"]] == [signal.pk]
    item = body["results"][0]
    assert item["state"] == "new"
    assert item["team_name"] == "Instant Payments"
    assert item["explanation"].startswith("Instant Payments' only open key result")
    assert client_for("member").get(url, {"state": "resolved"}).json()["count"] == 0
    assert client_for("outsider").get(url).json()["count"] == 0
    bad = client_for("member").get(url, {"state": "sleeping"})
    assert bad.status_code == 400
    assert "state" in bad.json()


def test_members_get_facts_and_sentences_without_amounts_executives_with(org, client_for):
    funding = funding_for(org, approved=True)
    funding.budget.__class__.objects.filter(pk=funding.budget.pk).update(fixed_scope_amount=120000)
    KeyResultFactory(objective__team=org.team, starts_on=dt.date(2026, 5, 1))
    signals_evaluate(portfolio=org.portfolio, as_of=dt.datetime(2026, 5, 4, 9, tzinfo=dt.UTC))
    signal = Signal.objects.get(detector="project_economics")
    url = reverse("api:signal-detail", args=[signal.pk])
    member = client_for("member").get(url).json()
    executive = client_for("executive").get(url).json()
    assert "fixed_scope" not in member["facts"]
    assert "total" not in member["facts"]
    assert member["facts"]["share"] == 12.0
    assert "€" not in member["explanation"]
    assert all("/budgets/" not in link["url"] for link in member["evidence"])
    assert executive["facts"]["fixed_scope"] == "120000.00"
    assert "€120,000" in executive["explanation"]
    assert any("/budgets/" in link["url"] for link in executive["evidence"])


def test_the_pmo_acknowledges_through_the_api_and_reads_it_back(org, client_for):
    signal = signal_for(org)
    url = reverse("api:signal-acknowledge", args=[signal.pk])
    client = client_for("pmo")
    until = timezone.localdate() + dt.timedelta(days=14)
    response = _post(client, url, {"reason": "Planned break.", "until": until.isoformat()})
    assert response.status_code == 200
    assert response.json()["state"] == "acknowledged"
    assert response.json()["acknowledged_reason"] == "Planned break."
    assert client.get(url).json()["reason"] == "Planned break."
    open_now = client.get(reverse("api:signal-list"), {"state": "open"}).json()
    assert open_now["count"] == 0


def test_a_bad_acknowledgement_answers_400_per_field_and_changes_nothing(org, client_for):
    signal = signal_for(org)
    url = reverse("api:signal-acknowledge", args=[signal.pk])
    past = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    response = _post(client_for("pmo"), url, {"reason": "", "until": past})
    assert response.status_code == 400
    assert set(response.json()) == {"reason", "until"}
    malformed = _post(client_for("pmo"), url, {"reason": "x", "until": "next week"})
    assert malformed.status_code == 400
    assert "until" in malformed.json()
    assert not SignalAcknowledgement.objects.exists()


def test_an_executive_may_not_acknowledge_and_learns_nothing_from_validation(org, client_for):
    signal = signal_for(org)
    url = reverse("api:signal-acknowledge", args=[signal.pk])
    response = _post(client_for("executive"), url, {"reason": "", "until": "nonsense"})
    assert response.status_code == 403
    assert _post(client_for("outsider"), url, {}).status_code == 404


def test_thresholds_read_as_defaults_and_the_pmo_patches_them(org, client_for):
    url = reverse("api:signal-thresholds-detail", args=[org.portfolio.pk])
    body = client_for("member").get(url).json()
    assert body["churn_max_percent"] == 20
    assert body["flow_band_sigmas"] == "3.0"
    assert body["updated_at"] is None
    assert _patch(client_for("executive"), url, {"churn_max_percent": 30}).status_code == 403
    response = _patch(client_for("pmo"), url, {"churn_max_percent": 30, "flow_band_sigmas": "2.5"})
    assert response.status_code == 200
    assert response.json()["churn_max_percent"] == 30
    stored = SignalThresholds.objects.get(portfolio=org.portfolio)
    assert stored.events.count() == 1
    listed = client_for("member").get(reverse("api:signal-thresholds-list")).json()
    assert [item["portfolio"] for item in listed["results"]] == [org.portfolio.pk]


def test_a_threshold_out_of_bounds_answers_400_and_changes_nothing(org, client_for):
    url = reverse("api:signal-thresholds-detail", args=[org.portfolio.pk])
    response = _patch(client_for("pmo"), url, {"min_items": 0, "churn_max_percent": 50})
    assert response.status_code == 400
    assert list(response.json()) == ["min_items"]
    assert not SignalThresholds.objects.exists()
    foreign = reverse("api:signal-thresholds-detail", args=[org.other_portfolio.pk])
    assert _patch(client_for("pmo"), foreign, {"min_items": 30}).status_code == 404


def test_the_schema_documents_signals_and_their_errors(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    acknowledge = schema["paths"]["/api/v1/signals/{id}/acknowledge/"]["post"]
    assert {"200", "400", "403", "404"} <= set(acknowledge["responses"])
    listing = schema["paths"]["/api/v1/signals/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"state", "detector", "severity", "team", "value_stream", "portfolio"}  # fmt: skip
    assert "patch" in schema["paths"]["/api/v1/signal-thresholds/{id}/"]


def test_the_signal_list_takes_the_same_queries_with_many_more_signals(org, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import ProductTeamFactory
    from tests.leanpmo.signal_support import stale_key_result

    signal_for(org)
    client = client_for("member")
    url = reverse("api:signal-list")
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = count()
    for _ in range(6):
        stale_key_result(org, team=ProductTeamFactory(value_stream=org.value_stream), days=200)
    signals_evaluate(portfolio=org.portfolio, as_of=timezone.now())
    assert client.get(url).json()["count"] == 7
    assert count() == before
