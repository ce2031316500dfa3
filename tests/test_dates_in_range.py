"""Every date that enters Steward lies between 1970-01-01 and 2200-12-31 (portfolio.date_range):
funding periods and decisions (API and pages), team, key-result, experiment, not-doing, pulse and
realisation dates, ingested and imported timestamps, the metrics' as_of. A date outside is refused
with a message naming the field and the range, and nothing is written."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leanpmo.api.serializers.decisions import DecisionInputSerializer
from leanpmo.models import FundingDecision, FundingPeriod
from portfolio.date_range import date_range_problem, in_date_range
from portfolio.models import validate_date_in_range
from portfolio.services import integration_token_issue
from teams.models import (
    Experiment,
    KeyResult,
    NotDoingItem,
    ProductTeam,
    PulseRound,
    RealisationPoint,
)
from tests.leanpmo.support import funding_for
from tests.teams.factories import KeyResultFactory, RealisationMetricFactory
from valuestreams.models import Change, Deployment, Incident, StatusChange, WorkItem
from valuestreams.parsing.csvpair import parse_csv_pair
from valuestreams.parsing.jira import parse_jira_search

RANGE = "1970-01-01 to 2200-12-31"
FAR = "4061-03-31"  # a typo for 2061
ANCIENT = "0003-01-01"  # a typo for 2023


@pytest.mark.parametrize(
    ("value", "inside"),
    [
        (dt.date(1970, 1, 1), True),
        (dt.date(1969, 12, 31), False),
        (dt.date(2200, 12, 31), True),
        (dt.date(2201, 1, 1), False),
        (dt.date(4061, 3, 31), False),
        (dt.date(3, 1, 1), False),
        (dt.datetime(2200, 12, 31, 22, tzinfo=dt.UTC), True),
        # an aware time counts by its day in UTC
        (dt.datetime(2200, 12, 31, 22, tzinfo=dt.timezone(dt.timedelta(hours=-5))), False),
        (dt.datetime(1970, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))), False),
        # the ends of Python's calendar cannot be moved across an offset: refused, not an error
        (dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-5))), False),
        (dt.datetime(1, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))), False),
    ],
)
def test_the_accepted_range_and_its_message(value, inside):
    assert in_date_range(value) is inside
    problem = date_range_problem(value)
    assert (problem is None) is inside
    if not inside:
        assert RANGE in problem
        assert str(value.year).zfill(4) in problem


# date fields the server sets itself (from the clock, a computation or a number of days): every
# other date field of the project's models is entered by someone and must carry the check
SET_BY_THE_SERVER = {
    "portfolio.IntegrationToken": {"expires_at", "last_used_at", "revoked_at"},
    "portfolio.OidcIdentity": {"last_login_at"},
    "portfolio.DataChange": {"at"},  # the data-change trigger's clock (portfolio.sections)
    "valuestreams.MetricRun": {"as_of"},
    "valuestreams.FlowMetric": {"window_start", "window_end"},
    "valuestreams.DoraMetric": {"window_start", "window_end"},
    "valuestreams.StatusTime": {"window_start", "window_end"},
    "valuestreams.WorkItemFact": {"start", "done", "canceled_at"},
    "valuestreams.RecomputeJob": {"enqueued_at", "started_at", "heartbeat_at", "finished_at"},
    "valuestreams.ImportJob": {"enqueued_at", "started_at", "heartbeat_at", "finished_at"},
    # a trigger's copy of a status change being replaced (its time was checked when it came in)
    "valuestreams.SupersededStatusChange": {"at"},
    # copies of delivery records' times, written by the triggers that log them
    "valuestreams.DeliveryChange": {"at", "resolved_at"},
    "teams.OutcomeUpdate": {"posted_at"},
    "leanpmo.FundingPeriod": {"approved_at"},
    "leanpmo.FundingDecision": {"decided_at"},
    "leanpmo.ExceptionApproval": {"decided_at"},
    "leanpmo.DecisionReview": {"reviewed_at"},
    "leanpmo.Scenario": {"created_at", "promoted_at"},
    "leanpmo.Initiative": {"created_at", "state_changed_at"},
    "leanpmo.InitiativeTransition": {"moved_at"},
    "leanpmo.Signal": {"first_seen", "opened_at", "last_seen", "resolved_at"},
    # from the `until` someone enters, which the service keeps within a year from today
    "leanpmo.SignalAcknowledgement": {"expires_at", "acknowledged_at"},
    "leanpmo.SignalEvaluation": {
        "requested_at",
        "enqueued_at",
        "started_at",
        "evaluated_at",
        "as_of",
    },
    "leanpmo.SignalDailyCount": {"day"},
    "leanpmo.DigestDelivery": {"sent_at"},
}


def test_every_entered_date_field_checks_the_range():
    unchecked = []
    for model in apps.get_models():
        label = model._meta.label
        if model._meta.app_label not in {"portfolio", "teams", "leanpmo", "valuestreams"}:
            continue
        if label.endswith("Event"):  # pghistory's copies of tracked models
            continue
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.DateField):  # DateTimeField is one too
                continue
            if field.auto_now or field.auto_now_add:
                continue
            if field.name in SET_BY_THE_SERVER.get(label, set()):
                continue
            if validate_date_in_range not in field.validators:
                unchecked.append(f"{label}.{field.name}")
    assert not unchecked, (
        f"add validate_date_in_range to {unchecked} (or list them as set by the server)"
    )


def _field_errors(body: dict, field: str) -> str:
    """The error text of ``field`` in a DRF error body (nested fields as "a.b")."""
    found = body
    for part in field.split("."):
        found = found[part]
    return " ".join(found) if isinstance(found, list) else str(found)


def _post(client, name, body, **kwargs):
    return client.post(reverse(name, **kwargs), json.dumps(body), content_type="application/json")


# (who, url name, body builder, the field named in the error, the model that must not grow)
API_CASES = {
    "funding period that ends in 4061": (
        "pmo",
        "api:funding-period-list",
        lambda org: {
            "portfolio": org.portfolio.pk,
            "name": "2061 Q1",
            "starts_on": "2061-01-01",
            "ends_on": FAR,
        },
        "ends_on",
        FundingPeriod,
    ),
    "funding period that starts in year 3": (
        "pmo",
        "api:funding-period-list",
        lambda org: {
            "portfolio": org.portfolio.pk,
            "name": "2023",
            "starts_on": ANCIENT,
            "ends_on": "2023-12-31",
        },
        "starts_on",
        FundingPeriod,
    ),
    "decision reviewed in 4061": (
        "pmo",
        "api:decision-list",
        lambda org: {
            "period": funding_for(org).period.pk,
            "value_stream": org.value_stream.pk,
            "kind": "continue",
            "rationale": "Flow holds.",
            "expected_outcome": "Lead time stays under a week.",
            "review_due_on": FAR,
        },
        "review_due_on",
        FundingDecision,
    ),
    "key result starting in 4061": (
        "pmo",
        "api:key-result-list",
        lambda org: {
            "objective": KeyResultFactory(objective__team=org.team).objective_id,
            "metric": "Outage minutes",
            "unit": "min",
            "baseline": "95",
            "target": "20",
            "direction": "decrease",
            "cadence_days": 14,
            "starts_on": FAR,
        },
        "starts_on",
        KeyResult,
    ),
    "experiment started in year 3": (
        "member",
        "api:experiment-list",
        lambda org: {
            "team": org.team.pk,
            "hypothesis": "A progress bar raises completion.",
            "metric": "Completion",
            "started_on": ANCIENT,
        },
        "started_on",
        Experiment,
    ),
    "not-doing decided in 4061": (
        "member",
        "api:not-doing-list",
        lambda org: {"team": org.team.pk, "what": "Cheques", "why": "Unused.", "decided_on": FAR},
        "decided_on",
        NotDoingItem,
    ),
    "realisation point in 4061": (
        "pmo",
        "api:realisation-point-list",
        lambda org: {
            "metric": RealisationMetricFactory(value_stream=org.value_stream).pk,
            "on": FAR,
            "value": "31",
        },
        "on",
        RealisationPoint,
    ),
}


@pytest.mark.parametrize("case", list(API_CASES))
def test_an_api_date_outside_the_range_is_refused_naming_the_field(org, client_for, case):
    who, name, body, field, model = API_CASES[case]
    payload = body(org)
    before = model.objects.count()
    response = _post(client_for(who), name, payload)
    assert response.status_code == 400, response.content
    assert RANGE in _field_errors(response.json(), field)
    assert model.objects.count() == before


def test_the_decision_that_goes_with_a_budget_change_checks_its_review_date():
    data = {"kind": "increase", "rationale": "r", "expected_outcome": "o", "review_due_on": FAR}
    parsed = DecisionInputSerializer(data=data)
    assert not parsed.is_valid()
    assert RANGE in " ".join(parsed.errors["review_due_on"])


# --- pages ---------------------------------------------------------------------------------------


def test_a_funding_period_in_4061_is_refused_on_the_page(org, client_for):
    response = client_for("pmo").post(
        reverse("funding-periods", args=[org.portfolio.pk]),
        {"name": "2061 Q1", "starts_on": "2061-01-01", "ends_on": FAR},
    )
    assert response.status_code == 400
    assert RANGE in " ".join(response.context["form"].errors["ends_on"])
    assert not FundingPeriod.objects.exists()


def test_a_team_formed_in_year_3_is_refused_on_the_page(org, client_for):
    before = ProductTeam.objects.count()
    response = client_for("pmo").post(
        reverse("team-create", args=[org.value_stream.pk]),
        {
            "name": "Card Controls",
            "value_stream": org.value_stream.pk,
            "topology": "stream_aligned",
            "formed_on": ANCIENT,
            "capacity_fte": "6.5",
            "loaded_cost_per_fte": "118000",
        },
    )
    assert response.status_code == 400
    assert RANGE in " ".join(response.context["form"].errors["formed_on"])
    assert ProductTeam.objects.count() == before


def test_a_pulse_round_in_4061_is_refused_on_the_page(org, client_for):
    response = client_for("pmo").post(
        reverse("pulse-round-create", args=[org.team.pk]),
        {"opens_on": FAR, "closes_on": "4061-04-14", "questions": "I can ship."},
    )
    assert response.status_code == 400
    assert RANGE in " ".join(response.context["form"].errors["opens_on"])
    assert not PulseRound.objects.exists()


def test_a_realisation_import_with_a_date_in_4061_names_the_row(org, client_for):
    upload = SimpleUploadedFile(
        "points.csv",
        f"metric,unit,date,value\nNPS,points,2025-03-31,31\nNPS,points,{FAR},33\n".encode(),
    )
    response = client_for("pmo").post(
        reverse("realisation-import", args=[org.value_stream.pk]), {"file": upload}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Row 3, date:" in page
    assert RANGE in page
    assert not RealisationPoint.objects.exists()


# --- ingest, imports and the metrics' as_of ------------------------------------------------------


@pytest.fixture
def send(org):
    token = integration_token_issue(
        portfolio=org.portfolio, name="ci", days=30, now=timezone.now()
    ).text

    def post(name: str, record: dict):
        return Client().post(
            reverse(name),
            json.dumps({"source": "ci", "records": [record]}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    return post


ITEM = {
    "key": "STW-1",
    "type": "Story",
    "created_at": "2025-03-04T09:00:00Z",
    "status_history": [
        {"at": "2025-03-04T09:00:00Z", "status": "To Do"},
        {"at": "2025-03-05T10:00:00Z", "status": "Done"},
    ],
}
INGEST_CASES = {
    "work item created in year 3": (
        "api:ingest-work-items-list",
        {**ITEM, "created_at": "0003-03-04T09:00:00Z"},
        "created_at",
        WorkItem,
    ),
    "status change in 4061": (
        "api:ingest-work-items-list",
        {
            **ITEM,
            "status_history": [
                {"at": "2025-03-04T09:00:00Z", "status": "To Do"},
                {"at": "4061-03-05T10:00:00+02:00", "status": "Done"},
            ],
        },
        "status_history[1].at",
        StatusChange,
    ),
    "deployment finished in 4061": (
        "api:ingest-deployments-list",
        {"key": "D-1", "finished_at": "4061-03-05T10:00:00Z"},
        "finished_at",
        Deployment,
    ),
    "incident resolved in 4061": (
        "api:ingest-incidents-list",
        {"key": "I-1", "created_at": "2025-03-05T10:00:00Z", "resolved_at": "4061-03-05T11:00Z"},
        "resolved_at",
        Incident,
    ),
    "change first committed in year 3": (
        "api:ingest-changes-list",
        {"key": "C-1", "first_commit_at": "0003-03-05T10:00:00Z"},
        "first_commit_at",
        Change,
    ),
}


@pytest.mark.parametrize("case", list(INGEST_CASES))
def test_an_ingested_time_outside_the_range_is_refused_naming_the_record(org, send, case):
    name, record, field, model = INGEST_CASES[case]
    response = send(name, record)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(0, field)]
    assert RANGE in errors[0]["message"]
    assert not model.objects.exists()


def test_an_imported_time_outside_the_range_is_a_row_error():
    issues = b"key,type,created,status,title,team\nSTW-1,Story,2025-03-04T09:00:00Z,To Do,T,\n"
    changes = b"key,time,field,from,to\nSTW-1,4061-03-05T10:00:00Z,status,To Do,Done\n"
    result = parse_csv_pair(issues, changes)
    assert [(e.row, e.field) for e in result.errors] == [(2, "time")]
    assert RANGE in result.errors[0].message
    jira = {
        "startAt": 0,
        "maxResults": 50,
        "total": 1,
        "issues": [
            {
                "id": "1",
                "key": "STW-1",
                "fields": {
                    "summary": "S",
                    "issuetype": {"name": "Story"},
                    "status": {"name": "To Do"},
                    "created": "0003-03-04T09:00:00.000+0100",
                },
                "changelog": {"startAt": 0, "maxResults": 100, "total": 0, "histories": []},
            }
        ],
    }
    result = parse_jira_search(jira)
    assert [e.field for e in result.errors] == ["fields.created"]
    assert RANGE in result.errors[0].message
    assert not result.items


@pytest.mark.parametrize("as_of", ["4061-03-01T00:00:00+00:00", "0003-03-01T00:00:00+01:00"])
def test_an_as_of_outside_the_range_is_refused(org, client_for, as_of):
    response = client_for("pmo").get(
        reverse("api:flow-metric-list"), {"scope": "team", "id": org.team.pk, "as_of": as_of}
    )
    assert response.status_code == 400
    assert RANGE in " ".join(response.json()["as_of"])
