"""One error shape across the API: 400s keyed by the field the client sent (``non_field_errors`` for
what concerns no single field, nested for nested fields), other refusals as ``{"detail": ...}``.
Sampled on endpoints of every app, and on the handler itself."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.exceptions import ValidationError

from leanpmo.models import FundingDecision, FundingPeriod, ValueStreamBudget
from portfolio.api.errors import api_validation_error, exception_handler
from tests.leanpmo.support import funding_for
from tests.teams.factories import ExperimentFactory
from valuestreams.models import ImportJob


def _send(client, method: str, url: str, body: dict, **headers):
    return getattr(client, method)(
        url, json.dumps(body), content_type="application/json", headers=headers
    )


def test_a_model_rule_on_no_single_field_answers_under_non_field_errors(org, client_for):
    response = _send(
        client_for("pmo"),
        "post",
        reverse("api:funding-period-list"),
        {
            "portfolio": org.portfolio.pk,
            "name": "Backwards",
            "starts_on": "2026-06-30",
            "ends_on": "2026-04-01",
        },
    )
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["A period must end on or after its first day."]}
    assert not FundingPeriod.objects.filter(name="Backwards").exists()


def test_an_approved_budget_change_without_a_decision_answers_under_decision(org, client_for):
    budget = funding_for(org, approved=True).budget
    before = list(ValueStreamBudget.objects.values())
    response = _send(
        client_for("pmo"),
        "patch",
        reverse("api:budget-detail", args=[budget.pk]),
        {"amount_grow": "350000.00"},
        **{"If-Match": '"1"'},
    )
    assert response.status_code == 400
    assert list(response.json()) == ["decision"]
    assert list(ValueStreamBudget.objects.values()) == before


def test_a_decision_of_the_wrong_kind_answers_under_decision_kind_as_sent(org, client_for):
    budget = funding_for(org, approved=True).budget
    decisions = FundingDecision.objects.count()
    response = _send(
        client_for("pmo"),
        "patch",
        reverse("api:budget-detail", args=[budget.pk]),
        {
            "amount_run": "2000000.00",  # run becomes 83 % of the total: breaches its 70 % cap
            "decision": {"kind": "increase", "rationale": "r", "expected_outcome": "e"},
        },
        **{"If-Match": '"1"'},
    )
    assert response.status_code == 400
    assert list(response.json()) == ["decision"]
    assert list(response.json()["decision"]) == ["kind"]
    assert "exception decision" in response.json()["decision"]["kind"][0]
    assert FundingDecision.objects.count() == decisions


def test_a_decision_for_another_portfolios_stream_names_the_field_sent(org, client_for):
    funding = funding_for(org)
    response = _send(
        client_for("pmo"),
        "post",
        reverse("api:decision-list"),
        {
            "period": funding.period.pk,
            "value_stream": org.other_value_stream.pk,
            "kind": "continue",
            "rationale": "r",
            "expected_outcome": "e",
        },
    )
    assert response.status_code == 400
    assert list(response.json()) == ["value_stream"]


def test_a_teams_service_refusal_names_the_field_sent(org, client_for):
    experiment = ExperimentFactory(team=org.team, created_by=org.users["member"])
    response = _send(
        client_for("member"),
        "patch",
        reverse("api:experiment-detail", args=[experiment.pk]),
        {"result": "validated"},  # a result needs an end date and the learning
    )
    assert response.status_code == 400
    assert set(response.json()) == {"ended_on", "learning"}


def test_an_import_service_refusal_names_the_field_sent(org, client_for):
    response = client_for("pmo").post(
        reverse("api:ingest-import-list"),
        {
            "portfolio": org.portfolio.pk,
            "format": "csv",
            "team_field": "customfield_10001",
            "file": SimpleUploadedFile("issues.csv", b"key,type,title,team,created\n"),
            "changes_file": SimpleUploadedFile("changes.csv", b"key,from,to,time\n"),
        },
    )
    assert response.status_code == 400
    assert list(response.json()) == ["team_field"]
    assert not ImportJob.objects.exists()


def test_a_refusal_that_is_not_about_input_answers_detail(org, client_for):
    response = client_for("anonymous").get(reverse("api:portfolio-list"))
    assert response.status_code == 403
    assert list(response.json()) == ["detail"]
    missing = client_for("member").get(reverse("api:team-detail", args=[org.foreign_team.pk]))
    assert missing.status_code == 404
    assert list(missing.json()) == ["detail"]


@pytest.mark.parametrize(
    ("error", "fields", "within", "expected"),
    [
        (DjangoValidationError("No."), None, "", {"non_field_errors": ["No."]}),
        (DjangoValidationError({"__all__": "No."}), None, "", {"non_field_errors": ["No."]}),
        (
            DjangoValidationError({"decision_kind": "Pick.", "notes": "Long."}),
            {"decision_kind": "decision.kind"},
            "",
            {"decision": {"kind": ["Pick."]}, "notes": ["Long."]},
        ),
        (
            DjangoValidationError({"decision_kind": "Pick."}),
            {"decision_kind": "kind"},
            "decisions.7",
            {"decisions": {"7": {"kind": ["Pick."]}}},
        ),
    ],
)
def test_a_service_error_becomes_the_apis_shape(error, fields, within, expected):
    assert api_validation_error(error, fields=fields, within=within).detail == expected


def test_the_handler_answers_a_stray_service_error_and_a_bare_list_as_an_object():
    stray = exception_handler(DjangoValidationError({"__all__": ["No."]}), {})
    assert (stray.status_code, stray.data) == (400, {"non_field_errors": ["No."]})
    bare = exception_handler(ValidationError(["No."]), {})
    assert (bare.status_code, bare.data) == (400, {"non_field_errors": ["No."]})


def test_a_decision_text_over_its_limit_answers_under_the_field_sent(org, client_for):
    budget = funding_for(org, approved=True).budget
    decisions = FundingDecision.objects.count()
    response = _send(
        client_for("pmo"),
        "patch",
        reverse("api:budget-detail", args=[budget.pk]),
        {
            "amount_grow": "350000.00",
            "decision": {"kind": "increase", "rationale": "r" * 10_001, "expected_outcome": "e"},
        },
        **{"If-Match": '"1"'},
    )
    assert response.status_code == 400
    assert list(response.json()) == ["decision"]
    assert "10000 characters" in response.json()["decision"]["rationale"][0]
    assert FundingDecision.objects.count() == decisions


def test_free_texts_are_limited_at_the_model_so_every_path_refuses_them():
    from leanpmo.models import FundingDecision as Decision
    from teams.models import Experiment, NotDoingItem, OutcomeUpdate

    for model, field, limit in [
        (OutcomeUpdate, "learned", 2_000),
        (OutcomeUpdate, "blockers", 2_000),
        (Experiment, "hypothesis", 2_000),
        (Experiment, "learning", 10_000),
        (NotDoingItem, "why", 2_000),
        (Decision, "rationale", 10_000),
    ]:
        with pytest.raises(DjangoValidationError) as refused:
            model._meta.get_field(field).clean("x" * (limit + 1), None)
        assert f"at most {limit} characters" in refused.value.messages[0]


def test_every_operation_documents_its_refusals_with_a_body(client_for):
    schema = client_for("member").get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = operation["responses"]
            assert "403" in codes, (method, path)
            assert "{id}" not in path or "404" in codes, (method, path)
            assert method not in ("post", "put", "patch") or {"400", "413", "415"} <= set(codes)
            assert path.startswith("/api/v1/ingest/") == ("401" in codes), (method, path)
            for code, answer in codes.items():
                assert code < "400" or "application/json" in answer["content"], (code, path)
