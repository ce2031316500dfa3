"""Initiatives API: who gets what, create / change with the shape rule, moves (409 by the cap), WSJF."""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leanpmo.models import FundingDecision, Initiative
from portfolio.services import integration_token_issue
from tests.access import API_READERS, AccessContract
from tests.conftest import PEOPLE
from tests.leanpmo.initiative_support import (
    cards_team,
    initiative_for,
    set_cap,
    start,
    strategic,
    to_ready,
)
from tests.leanpmo.support import funding_for

API_WRITERS = {
    "anonymous": 403,
    "outsider": 404,
    "member": 403,
    "executive": 403,
    "pmo": 400,  # an empty body is refused with its reasons
    "admin": 400,
}


_initiative = initiative_for


def _json(client, method, url, body):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


class TestListAccess(AccessContract):
    url_name = "api:initiative-list"
    expected = {**API_READERS, "outsider": 200}  # an empty list


class TestDetailAccess(AccessContract):
    url_name = "api:initiative-detail"
    expected = API_READERS

    def url_kwargs(self, org):
        return {"pk": _initiative(org).pk}


class TestTransitionsAccess(TestDetailAccess):
    url_name = "api:initiative-transitions"


class TestWsjfAccess(TestDetailAccess):
    url_name = "api:initiative-wsjf"


class TestMoveAccess(TestTransitionsAccess):
    method = "post"
    expected = API_WRITERS


@pytest.mark.parametrize("name", ["api:initiative-detail", "api:initiative-wsjf"])
@pytest.mark.parametrize("who", PEOPLE)
def test_each_person_gets_what_their_role_allows_on_patch(org, client_for, who, name):
    url = reverse(name, args=[_initiative(org).pk])
    response = _json(client_for(who), "patch", url, {"job_size": 3})
    assert response.status_code == {**API_WRITERS, "pmo": 200, "admin": 200}[who], who


def test_an_integration_token_reads_nothing(org, client):
    initiative = _initiative(org)
    issued = integration_token_issue(
        portfolio=org.portfolio, name="ci", days=30, now=timezone.now()
    )
    headers = {"Authorization": f"Bearer {issued.text}"}
    for url in (
        reverse("api:initiative-list"),
        reverse("api:initiative-detail", args=[initiative.pk]),
        reverse("api:initiative-transitions", args=[initiative.pk]),
    ):
        assert client.get(url, headers=headers).status_code in {401, 403}


def test_create_checks_access_before_input(org, client_for):
    url = reverse("api:initiative-list")
    other = org.other_portfolio.pk
    answers = [
        _json(client_for("pmo"), "post", url, {"portfolio": other, "title": title})
        for title in ("", "Open banking", "x" * 500)
    ]
    assert {(a.status_code, a.content) for a in answers} == {
        (404, f'{{"detail":"No portfolio {other} here."}}'.encode())
    }
    member = _json(client_for("member"), "post", url, {"portfolio": org.portfolio.pk})
    assert member.status_code == 403
    assert not Initiative.objects.exists()


def test_create_with_wsjf_inputs_answers_the_score_and_the_shape(org, client_for):
    funding_for(org)
    response = _json(
        client_for("pmo"),
        "post",
        reverse("api:initiative-list"),
        {
            "portfolio": org.portfolio.pk, "title": "Open banking",
            "teams": [org.team.pk, cards_team(org).pk], "work_shape": "strategic_initiative",
            "user_business_value": 8, "time_criticality": 5, "risk_reduction": 3, "job_size": 5,
            "funding_mode": "fixed_scope", "end_date": "2026-12-31", "scope_budget": "450000.00",
        },
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["state"] == "funnel"
    assert data["work_shape"] == "strategic_initiative"
    assert (data["cost_of_delay"], data["wsjf"]) == (16, 3.2)
    assert data["scope_budget"] == "450000.00"
    member = client_for("member").get(reverse("api:initiative-detail", args=[data["id"]])).json()
    assert member["scope_budget"] is None
    assert member["wsjf"] == 3.2


def test_a_label_that_contradicts_the_teams_answers_400_and_writes_nothing(org, client_for):
    funding_for(org)
    response = _json(
        client_for("pmo"),
        "post",
        reverse("api:initiative-list"),
        {
            "portfolio": org.portfolio.pk, "title": "Faster rails",
            "teams": [org.team.pk, org.other_team.pk], "work_shape": "team_mission",
        },
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["work_shape"][0].startswith("A team mission has exactly one team")
    assert not Initiative.objects.exists()


def test_links_outside_the_portfolio_do_not_exist_for_the_api(org, client_for):
    funding_for(org)
    response = _json(
        client_for("pmo"),
        "post",
        reverse("api:initiative-list"),
        {"portfolio": org.portfolio.pk, "title": "Borrowed", "teams": [org.foreign_team.pk]},
    )
    assert response.status_code == 400
    assert "teams" in response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"job_size": 0}, "job_size"),
        ({"job_size": "big"}, "job_size"),
        ({"user_business_value": 101}, "user_business_value"),
        ({"funding_mode": "fixed_scope"}, "end_date"),
        ({"scope_budget": "-1"}, "scope_budget"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(org, client_for, body, field):
    initiative = _initiative(org)
    before = list(Initiative.objects.values())
    response = _json(
        client_for("pmo"), "patch", reverse("api:initiative-detail", args=[initiative.pk]), body
    )
    assert response.status_code == 400
    assert field in response.json()
    assert list(Initiative.objects.values()) == before


def test_wsjf_inputs_read_and_clear(org, client_for):
    initiative = _initiative(org)
    url = reverse("api:initiative-wsjf", args=[initiative.pk])
    client = client_for("pmo")
    body = {"user_business_value": 8, "time_criticality": 5, "risk_reduction": 3, "job_size": 5}
    set_inputs = _json(client, "patch", url, body)
    assert set_inputs.json() == {**body, "cost_of_delay": 16, "wsjf": 3.2}
    cleared = _json(client, "patch", url, {"job_size": None})
    assert cleared.json()["wsjf"] is None
    assert cleared.json()["cost_of_delay"] == 16
    listed = client.get(reverse("api:initiative-list"), {"portfolio": org.portfolio.pk}).json()
    assert listed["results"][0]["wsjf"] is None


def test_moves_over_the_api_409_by_the_cap_and_202_with_an_exception(org, client_for):
    set_cap(org, 1)
    start(org, strategic(org, "A"))
    waiting = to_ready(org, strategic(org, "B"))
    url = reverse("api:initiative-transitions", args=[waiting.pk])
    client = client_for("pmo")
    refused = _json(client, "post", url, {"to_state": "implementing", "reason": "Now."})
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "strategic_wip_cap"
    assert body["guardrail"]["description"] == "At most 1 strategic initiative in progress"
    assert [item["title"] for item in body["in_progress"]] == ["A"]
    assert body["detail"].startswith("Refused by the guardrail")
    asked = _json(
        client, "post", url,
        {"to_state": "implementing", "reason": "Deadline.", "request_exception": True},
    )  # fmt: skip
    assert asked.status_code == 202
    assert asked.json()["pending_approval"] is True
    waiting.refresh_from_db()
    assert waiting.state == "ready"
    moves = client_for("member").get(url).json()
    assert [move["to_state"] for move in moves] == ["funnel", "reviewing", "analysing", "ready"]


def test_a_move_without_reason_or_to_nowhere_answers_400(org, client_for):
    initiative = _initiative(org)
    url = reverse("api:initiative-transitions", args=[initiative.pk])
    client = client_for("pmo")
    silent = _json(client, "post", url, {"to_state": "stopped", "reason": ""})
    assert silent.status_code == 400
    assert silent.json()["reason"] == [
        "A stop needs its learning: say what you learned and why you stop."
    ]
    nowhere = _json(client, "post", url, {"to_state": "limbo", "reason": "?"})
    assert nowhere.status_code == 400
    assert "to_state" in nowhere.json()
    ok = _json(client, "post", url, {"to_state": "reviewing", "reason": "Worth a look."})
    assert ok.status_code == 201
    assert ok.json()["from_state"] == "funnel"


def test_relinking_teams_past_the_cap_answers_409(org, client_for):
    set_cap(org, 1)
    start(org, strategic(org, "A"))
    funding_for(org)
    mission = strategic(org, "Mission")
    client = client_for("pmo")
    url = reverse("api:initiative-detail", args=[mission.pk])
    assert _json(client, "patch", url, {"teams": [org.team.pk]}).status_code == 200
    start(org, mission)
    response = _json(client, "patch", url, {"teams": [org.team.pk, cards_team(org).pk]})
    assert response.status_code == 409
    assert response.json()["code"] == "strategic_wip_cap"


def test_list_filters_by_state_shape_team_and_money(org, client_for):
    set_cap(org, 5)
    start(org, strategic(org, "Running", cost_estimate=Decimal("10")))
    strategic(org, "Waiting")
    client = client_for("executive")
    url = reverse("api:initiative-list")

    def titles(**params):
        return [row["title"] for row in client.get(url, params).json()["results"]]

    assert titles(state="implementing") == ["Running"]
    assert titles(work_shape="strategic_initiative") == ["Running", "Waiting"]
    assert titles(work_shape="team_mission") == []
    assert titles(team=cards_team(org).pk) == ["Running", "Waiting"]
    assert titles(portfolio=org.other_portfolio.pk) == []


def test_list_query_count_does_not_grow_with_initiatives(org, client_for):
    set_cap(org, 10)
    strategic(org, "First")
    client = client_for("member")
    url = reverse("api:initiative-list")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for number in range(5):
        strategic(org, f"More {number}")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url).json()["results"]) == 6
    assert len(many) == len(few)


def test_initiatives_are_in_the_openapi_schema(client_for, org):
    schema = client_for("pmo").get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    move = paths["/api/v1/initiatives/{id}/transitions/"]["post"]
    assert set(move["responses"]) >= {"201", "202", "400", "403", "404", "409"}
    assert "patch" in paths["/api/v1/initiatives/{id}/wsjf/"]
    assert "post" in paths["/api/v1/initiatives/"]


def test_a_decision_over_the_api_still_names_its_value_stream(org, client_for):
    funding = funding_for(org)
    before = FundingDecision.objects.count()
    response = _json(
        client_for("pmo"), "post", reverse("api:decision-list"),
        {"period": funding.period.pk, "kind": "continue", "rationale": "Stable.",
         "expected_outcome": "Flow holds."},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["value_stream"] == ["This field is required."]
    assert FundingDecision.objects.count() == before


def test_initiative_decisions_are_listed_with_their_initiative(org, client_for):
    running = start(org, strategic(org, "Open banking"))
    rows = client_for("executive").get(reverse("api:decision-list"), {"initiative": running.pk})
    (start_decision,) = rows.json()["results"]
    assert start_decision["kind"] == "start"
    assert start_decision["initiative"] == running.pk
    assert start_decision["value_stream"] is None


def test_the_cap_guardrail_needs_its_count(org, client_for):
    url = reverse("api:guardrail-list")
    body = {"portfolio": org.portfolio.pk, "kind": "max_strategic_wip"}
    missing = _json(client_for("pmo"), "post", url, body)
    assert missing.status_code == 400
    assert missing.json()["max_count"] == ["This guardrail needs a value here."]
    made = _json(client_for("pmo"), "post", url, {**body, "max_count": 1})
    assert made.json()["description"] == "At most 1 strategic initiative in progress"
