"""Funding API: ETag / If-Match on budgets, append-only decisions, reviews, guardrails, schema."""

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from leanpmo.models import DecisionReview, FundingDecision, ScenarioLine, ValueStreamBudget
from tests.access import API_READERS, AccessContract
from tests.leanpmo.support import funding_for, scenario_for


def _patch(client, url, body, **headers):
    return client.patch(url, json.dumps(body), content_type="application/json", headers=headers)


class TestBudgetListAccess(AccessContract):
    url_name = "api:budget-list"
    expected = {**API_READERS, "outsider": 200}  # an empty list


class TestBudgetDetailAccess(AccessContract):
    url_name = "api:budget-detail"
    expected = {**API_READERS, "member": 404}

    def url_kwargs(self, org):
        return {"pk": funding_for(org).budget.pk}


class TestDecisionDetailAccess(AccessContract):
    url_name = "api:decision-detail"
    expected = {**API_READERS, "member": 404}

    def url_kwargs(self, org):
        return {"pk": funding_for(org).decision.pk}


def test_members_list_no_money_without_transparency_and_see_it_with(org, client_for):
    funding_for(org)
    url = reverse("api:budget-list")
    assert client_for("member").get(url).json()["count"] == 0
    org.portfolio.funding_transparency = True
    org.portfolio.save()
    assert client_for("member").get(url).json()["count"] == 1
    assert client_for("outsider").get(url).json()["count"] == 0


def test_budget_carries_its_version_as_etag_and_put_patch_require_if_match(org, client_for):
    budget = funding_for(org).budget
    client = client_for("pmo")
    url = reverse("api:budget-detail", args=[budget.pk])
    response = client.get(url)
    assert response["ETag"] == '"1"'
    assert response.json()["amount_run"] == "600000.00"
    missing = _patch(client, url, {"amount_run": "1.00"})
    assert missing.status_code == 428
    ok = _patch(client, url, {"amount_run": "610000.00"}, **{"If-Match": '"1"'})
    assert ok.status_code == 200
    assert ok["ETag"] == '"2"'
    stale = _patch(client, url, {"amount_run": "1.00"}, **{"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["current"]["amount_run"] == "610000.00"
    assert ValueStreamBudget.objects.get(pk=budget.pk).amount_run == Decimal("610000.00")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount_run": "-1.00"}, "amount_run"),
        ({"amount_grow": "a lot"}, "amount_grow"),
        ({"alloc_feature": 10}, "alloc_feature"),
    ],
)
def test_bad_budget_input_over_the_api_names_the_field_and_changes_nothing(
    org, client_for, body, field
):
    budget = funding_for(org).budget
    before = list(ValueStreamBudget.objects.values())
    response = _patch(
        client_for("pmo"),
        reverse("api:budget-detail", args=[budget.pk]),
        body,
        **{"If-Match": '"1"'},
    )
    assert response.status_code == 400
    assert field in response.json()
    assert list(ValueStreamBudget.objects.values()) == before


def test_approved_budget_change_over_the_api_needs_a_decision(org, client_for):
    budget = funding_for(org, approved=True).budget
    url = reverse("api:budget-detail", args=[budget.pk])
    refused = _patch(client_for("pmo"), url, {"amount_grow": "350000.00"}, **{"If-Match": '"1"'})
    assert refused.status_code == 400
    assert list(refused.json()) == ["decision"]  # the API's field, not the form's decision_kind
    assert "record a decision" in refused.json()["decision"][0]
    decision = {"kind": "increase", "rationale": "Healthy.", "expected_outcome": "Faster flow."}
    accepted = _patch(
        client_for("pmo"),
        url,
        {"amount_grow": "350000.00", "decision": decision},
        **{"If-Match": '"1"'},
    )
    assert accepted.status_code == 200
    assert FundingDecision.objects.get(pk=accepted.json()["decision_id"]).amount_after == Decimal(
        "1050000.00"
    )


def test_executives_read_budgets_but_may_not_change_them(org, client_for):
    budget = funding_for(org).budget
    url = reverse("api:budget-detail", args=[budget.pk])
    assert client_for("executive").get(url).status_code == 200
    assert (
        _patch(
            client_for("executive"), url, {"amount_run": "1.00"}, **{"If-Match": '"1"'}
        ).status_code
        == 403
    )


def test_decisions_are_created_with_evidence_and_never_updated_or_deleted(org, client_for):
    funding = funding_for(org)
    client = client_for("pmo")
    response = client.post(
        reverse("api:decision-list"),
        {
            "period": funding.period.pk,
            "value_stream": org.value_stream.pk,
            "kind": "continue",
            "rationale": "Stable.",
            "expected_outcome": "Same flow.",
            "supersedes": funding.decision.pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    created = FundingDecision.objects.get(pk=response.json()["id"])
    assert created.supersedes == funding.decision
    assert created.evidence["value_stream"] == "Payments"
    url = reverse("api:decision-detail", args=[created.pk])
    assert client.patch(url, {"rationale": "x"}, content_type="application/json").status_code == 405
    assert client.delete(url).status_code == 405


def test_reviews_are_recorded_over_the_api(org, client_for):
    decision = funding_for(org).decision
    response = client_for("pmo").post(
        reverse("api:decision-review-list"),
        {"decision": decision.pk, "outcome": "held", "notes": "Worked."},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert DecisionReview.objects.get(decision=decision).reviewed_by == org.users["pmo"]
    bad = client_for("pmo").post(
        reverse("api:decision-review-list"),
        {"decision": decision.pk, "outcome": "fine"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "outcome" in bad.json()


def test_overlapping_period_over_the_api_is_refused(org, client_for):
    funding_for(org)
    response = client_for("pmo").post(
        reverse("api:funding-period-list"),
        {
            "portfolio": org.portfolio.pk,
            "name": "Clash",
            "starts_on": "2026-05-01",
            "ends_on": "2026-07-31",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "overlaps" in response.json()["starts_on"][0]


def test_guardrails_are_listed_and_changed_by_the_lean_pmo_only(org, client_for):
    funding_for(org)
    listed = client_for("executive").get(reverse("api:guardrail-list")).json()
    assert listed["count"] == 2
    guardrail_id = listed["results"][0]["id"]
    url = reverse("api:guardrail-detail", args=[guardrail_id])
    assert _patch(client_for("executive"), url, {"active": False}).status_code == 403
    assert _patch(client_for("pmo"), url, {"max_percent": "80"}).status_code == 200


def test_funding_endpoints_are_in_the_openapi_schema(client_for, org):
    schema = client_for("pmo").get(reverse("api-schema"), {"format": "json"}).json()
    for path in (
        "/api/v1/budgets/{id}/",
        "/api/v1/decisions/",
        "/api/v1/decision-reviews/",
        "/api/v1/guardrails/",
        "/api/v1/funding-periods/",
    ):
        assert path in schema["paths"], path
    parameters = schema["paths"]["/api/v1/budgets/{id}/"]["patch"]["parameters"]
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in parameters)
    assert "put" not in schema["paths"]["/api/v1/decisions/{id}/"]


@pytest.mark.parametrize("resource", ["budget", "scenario line"])
@pytest.mark.parametrize(
    ("if_match", "status"),
    [('W/"1"', 412), ("W/1", 412), ("1", 412), ('"1", "2"', 412), ("*", 428)],
)
def test_if_match_compares_strong_etags_only_and_a_weak_one_changes_nothing(
    org, client_for, resource, if_match, status
):
    if resource == "budget":
        url = reverse("api:budget-detail", args=[funding_for(org).budget.pk])
    else:
        url = reverse("api:scenario-line-detail", args=[scenario_for(org).lines.first().pk])
    client = client_for("pmo")
    assert client.get(url)["ETag"] == '"1"'  # the version that is current, as a strong tag
    before = (list(ValueStreamBudget.objects.values()), list(ScenarioLine.objects.values()))
    refused = _patch(client, url, {"amount_run": "610000.00"}, **{"If-Match": if_match})
    assert refused.status_code == status, refused.json()
    assert "ETag" in refused.json()["detail"]
    assert (list(ValueStreamBudget.objects.values()), list(ScenarioLine.objects.values())) == before
    accepted = _patch(client, url, {"amount_run": "610000.00"}, **{"If-Match": '"1"'})
    assert accepted.status_code == 200


@pytest.mark.parametrize("resource", ["budget", "scenario line"])
def test_an_allocation_that_does_not_add_up_is_refused_on_the_share_the_client_sent(
    org, client_for, resource
):
    if resource == "budget":
        url = reverse("api:budget-detail", args=[funding_for(org).budget.pk])
    else:
        url = reverse("api:scenario-line-detail", args=[scenario_for(org).lines.first().pk])
    before = (list(ValueStreamBudget.objects.values()), list(ScenarioLine.objects.values()))
    response = _patch(client_for("pmo"), url, {"alloc_debt": 5}, **{"If-Match": '"1"'})
    assert response.status_code == 400
    assert "adds up to 90 %" in response.json()["alloc_debt"][0]
    assert "alloc_feature" not in response.json()
    assert (list(ValueStreamBudget.objects.values()), list(ScenarioLine.objects.values())) == before
