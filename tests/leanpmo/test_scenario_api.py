"""Scenario API: create by naming a period, edit lines with If-Match, promote into decisions."""

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from leanpmo.models import FundingDecision, Scenario, ScenarioLine, ValueStreamBudget
from leanpmo.services.budgets import budget_apply
from tests.access import API_READERS, AccessContract
from tests.factories import ValueStreamFactory
from tests.leanpmo.support import funding_for, make_budget, scenario_for


def _send(client, method, url, body, **headers):
    return getattr(client, method)(
        url, json.dumps(body), content_type="application/json", headers=headers
    )


def _state():
    return (
        list(ValueStreamBudget.objects.values().order_by("pk")),
        list(ScenarioLine.objects.values().order_by("pk")),
        list(Scenario.objects.values().order_by("pk")),
        FundingDecision.objects.count(),
    )


class TestScenarioListAccess(AccessContract):
    url_name = "api:scenario-list"
    expected = {**API_READERS, "outsider": 200}  # an empty list


class TestScenarioDetailApiAccess(AccessContract):
    url_name = "api:scenario-detail"
    expected = {**API_READERS, "member": 404}

    def url_kwargs(self, org):
        return {"pk": scenario_for(org).pk}


class TestScenarioPromotePlanAccess(TestScenarioDetailApiAccess):
    url_name = "api:scenario-promote"


class TestScenarioPromoteApiAccess(TestScenarioDetailApiAccess):
    url_name = "api:scenario-promote"
    method = "post"
    expected = {**API_READERS, "member": 404, "executive": 403, "pmo": 400, "admin": 400}


class TestScenarioLineDetailAccess(AccessContract):
    url_name = "api:scenario-line-detail"
    expected = {**API_READERS, "member": 404}

    def url_kwargs(self, org):
        return {"pk": scenario_for(org).lines.first().pk}


def test_members_list_no_scenarios_even_when_the_portfolio_shares_its_money(org, client_for):
    scenario_for(org)
    org.portfolio.funding_transparency = True
    org.portfolio.save()
    for url in (reverse("api:scenario-list"), reverse("api:scenario-line-list")):
        assert client_for("member").get(url).json()["count"] == 0
        assert client_for("executive").get(url).json()["count"] == 1


def test_pmo_creates_edits_and_promotes_a_scenario_over_the_api(org, client_for):
    funding = funding_for(org)
    cards = make_budget(funding.period, ValueStreamFactory(portfolio=org.portfolio, name="Cards"))
    client = client_for("pmo")
    created = _send(client, "post", reverse("api:scenario-list"),
                    {"period": funding.period.pk, "name": "More cards"})  # fmt: skip
    assert created.status_code == 201, created.json()
    scenario = created.json()
    detail = client.get(reverse("api:scenario-detail", args=[scenario["id"]])).json()
    assert [line["value_stream_name"] for line in detail["lines"]] == ["Cards", "Payments"]
    assert detail["drift"] == []
    lines = {line["value_stream_name"]: line for line in detail["lines"]}
    for name, run in (("Cards", "700000.00"), ("Payments", "500000.00")):
        url = reverse("api:scenario-line-detail", args=[lines[name]["id"]])
        assert client.get(url)["ETag"] == '"1"'
        assert _send(client, "patch", url, {"amount_run": run}).status_code == 428
        ok = _send(client, "patch", url, {"amount_run": run}, **{"If-Match": '"1"'})
        assert ok.status_code == 200
        assert ok["ETag"] == '"2"'
        stale = _send(client, "patch", url, {"amount_run": "1.00"}, **{"If-Match": '"1"'})
        assert stale.status_code == 412
        assert stale.json()["current"]["amount_run"] == run
    promote = reverse("api:scenario-promote", args=[scenario["id"]])
    suggested = {
        item["value_stream_name"]: item["suggested_kind"] for item in client.get(promote).json()
    }
    assert suggested == {"Cards": "increase", "Payments": "decrease"}
    body = {"decisions": [
        {"value_stream": cards.value_stream_id, "kind": "increase", "rationale": "r", "expected_outcome": "e"},
        {"value_stream": org.value_stream.pk, "kind": "decrease", "rationale": "r", "expected_outcome": "e"},
    ]}  # fmt: skip
    response = _send(client, "post", promote, body)
    assert response.status_code == 200, response.json()
    assert sorted(item["kind"] for item in response.json()) == ["decrease", "increase"]
    assert ValueStreamBudget.objects.get(pk=cards.pk).amount_run == Decimal("700000.00")
    done = client.get(reverse("api:scenario-detail", args=[scenario["id"]])).json()
    assert done["status"] == "promoted"
    assert len(done["decisions"]) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount_run": "-1.00"}, "amount_run"),
        ({"amount_grow": "a lot"}, "amount_grow"),
        ({"alloc_feature": 10}, "alloc_feature"),
    ],
)
def test_bad_line_input_over_the_api_names_the_field_and_changes_nothing(
    org, client_for, body, field
):
    line = scenario_for(org).lines.first()
    before = _state()
    response = _send(
        client_for("pmo"), "patch", reverse("api:scenario-line-detail", args=[line.pk]), body,
        **{"If-Match": '"1"'},
    )  # fmt: skip
    assert response.status_code == 400
    assert field in response.json()
    assert _state() == before


def test_bad_promotion_input_names_the_stream_and_field_and_changes_nothing(org, client_for):
    scenario = scenario_for(org)
    line = scenario.lines.get()
    line.amount_run = Decimal("650000")
    line.save()
    url = reverse("api:scenario-promote", args=[scenario.pk])
    before = _state()
    blank = {"decisions": [{"value_stream": org.value_stream.pk, "kind": "increase",
                            "rationale": "", "expected_outcome": "e"}]}  # fmt: skip
    response = _send(client_for("pmo"), "post", url, blank)
    assert response.status_code == 400
    assert "rationale" in response.json()["decisions"]["0"]  # the first decision sent
    missing = _send(client_for("pmo"), "post", url, {"decisions": []})
    assert missing.status_code == 400
    assert list(missing.json()["decisions"][str(org.value_stream.pk)]) == ["kind"]
    assert _state() == before


def test_a_stale_scenario_is_refused_with_409_and_the_drift(org, client_for):
    scenario = scenario_for(org)
    line = scenario.lines.get()
    line.amount_run = Decimal("650000")
    line.save()
    funding = funding_for(org)
    budget_apply(budget=funding.budget, expected_version=1, user=org.users["admin"],
                 changes={"amount_transform": Decimal("90000")})  # fmt: skip
    before = _state()
    body = {"decisions": [{"value_stream": org.value_stream.pk, "kind": "increase",
                           "rationale": "r", "expected_outcome": "e"}]}  # fmt: skip
    response = _send(
        client_for("pmo"), "post", reverse("api:scenario-promote", args=[scenario.pk]), body
    )
    assert response.status_code == 409
    assert response.json()["drift"][0]["changes"] == [["Transform", "100000.00", "90000.00"]]
    assert _state() == before


def test_executives_may_not_create_scenarios_and_closed_periods_are_refused(org, client_for):
    funding = funding_for(org)
    body = {"period": funding.period.pk, "name": "Mine"}
    assert (
        _send(client_for("executive"), "post", reverse("api:scenario-list"), body).status_code
        == 403
    )
    funding.period.status = "closed"
    funding.period.save()
    refused = _send(client_for("pmo"), "post", reverse("api:scenario-list"), body)
    assert refused.status_code == 400
    assert "closed" in refused.json()["period"][0]
    assert not Scenario.objects.exists()


def test_scenarios_are_in_the_openapi_schema(client):
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    assert "/api/v1/scenarios/" in schema["paths"]
    assert "post" in schema["paths"]["/api/v1/scenarios/{id}/promote/"]
    line = schema["paths"]["/api/v1/scenario-lines/{id}/"]["patch"]
    assert any(p["name"] == "If-Match" for p in line["parameters"])
