"""The outcomes API: members post check-ins for their own teams; Lean PMO manages OKRs."""

import pytest
from django.urls import reverse

from teams.models import Experiment, KeyResult, Objective, OutcomeUpdate
from tests.access import API_NOBODY_BUT_ADMIN, API_READERS, AccessContract
from tests.teams.factories import ExperimentFactory, KeyResultFactory


class TestKeyResultListAccess(AccessContract):
    url_name = "api:key-result-list"
    expected = {**API_READERS, "outsider": 200}


class TestKeyResultReadAccess(AccessContract):
    url_name = "api:key-result-detail"
    expected = API_READERS

    def url_kwargs(self, org):
        return {"pk": KeyResultFactory(objective__team=org.team).pk}


class TestForeignKeyResultReadAccess(AccessContract):
    url_name = "api:key-result-detail"
    expected = API_NOBODY_BUT_ADMIN

    def url_kwargs(self, org):
        return {"pk": KeyResultFactory(objective__team=org.foreign_team).pk}


class TestObjectiveReadAccess(AccessContract):
    url_name = "api:objective-detail"
    expected = API_READERS

    def url_kwargs(self, org):
        return {"pk": KeyResultFactory(objective__team=org.team).objective_id}


class TestExperimentReadAccess(AccessContract):
    url_name = "api:experiment-detail"
    expected = API_READERS

    def url_kwargs(self, org):
        return {"pk": ExperimentFactory(team=org.team).pk}


@pytest.mark.parametrize(
    "name",
    [
        "api:objective-list",
        "api:outcome-update-list",
        "api:experiment-list",
        "api:not-doing-list",
        "api:team-interaction-list",
        "api:realisation-metric-list",
        "api:realisation-point-list",
    ],
)
def test_lists_show_only_what_the_caller_may_read(org, client_for, outcomes, name):
    assert client_for("outsider").get(reverse(name)).json()["results"] == []
    assert client_for("anonymous").get(reverse(name)).status_code == 403
    assert client_for("member").get(reverse(name)).status_code == 200


def test_key_results_of_other_portfolios_stay_out_of_the_list(org, client_for, outcomes):
    ids = {
        row["id"]
        for row in client_for("member").get(reverse("api:key-result-list")).json()["results"]
    }
    assert ids == {outcomes.key_result.pk, outcomes.closed.pk, outcomes.other.pk}


def post_update(client, **fields):
    body = {"value": "94.2", "confidence": 8, "status": "at_risk", "learned": "", **fields}
    return client.post(reverse("api:outcome-update-list"), body, content_type="application/json")


def test_member_posts_a_check_in_on_their_own_key_result(org, client_for, outcomes):
    response = post_update(client_for("member"), key_result=outcomes.key_result.pk)
    assert response.status_code == 201, response.json()
    data = response.json()
    update = OutcomeUpdate.objects.get(pk=data["id"])
    assert (data["value"], data["posted_by"], data["status"]) == ("94.2000", "member", "at_risk")
    assert update.posted_by == org.users["member"]
    listed = client_for("executive").get(
        reverse("api:outcome-update-list"), {"key_result": outcomes.key_result.pk}
    )
    assert listed.json()["results"][0]["id"] == update.pk


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"value": "lots"}, "value", "A valid number is required."),
        ({"confidence": 11}, "confidence", "Ensure this value is less than or equal to 10."),
        ({"confidence": -2}, "confidence", "Ensure this value is greater than or equal to 0."),
        ({"status": "fine"}, "status", "is not a valid choice."),
        ("closed", "key_result", "is closed; it takes no more check-ins."),
        ({"learned": "x" * 2001}, "learned", "no more than 2000 characters"),
        ({"blockers": "x" * 2001}, "blockers", "no more than 2000 characters"),
    ],
)
def test_bad_check_in_through_the_api_is_a_400_naming_the_field(
    org, client_for, outcomes, fields, field, message
):
    if isinstance(fields, str):
        fields = {"key_result": getattr(outcomes, fields).pk}
    before = list(OutcomeUpdate.objects.values().order_by("pk"))
    response = post_update(client_for("member"), **{"key_result": outcomes.key_result.pk, **fields})
    assert response.status_code == 400
    assert message in " ".join(response.json()[field]), response.json()
    assert list(OutcomeUpdate.objects.values().order_by("pk")) == before


@pytest.mark.parametrize(
    ("who", "key_result", "status"),
    [
        ("executive", "key_result", 403),
        ("pmo", "key_result", 403),
        ("outsider", "key_result", 404),
        ("member", "other", 403),  # another team of their portfolio: they read it
        ("member", "foreign", 404),  # another portfolio: they do not
    ],
)
def test_only_team_members_post_team_check_ins(org, client_for, outcomes, who, key_result, status):
    before = OutcomeUpdate.objects.count()
    response = post_update(client_for(who), key_result=getattr(outcomes, key_result).pk)
    assert response.status_code == status
    assert OutcomeUpdate.objects.count() == before


def test_check_ins_are_append_only_through_the_api(org, client_for, outcomes):
    update = OutcomeUpdate.objects.get(key_result=outcomes.key_result)
    url = reverse("api:outcome-update-detail", args=[update.pk])
    client = client_for("member")
    assert client.patch(url, {"value": "1"}, content_type="application/json").status_code == 405
    assert client.delete(url).status_code == 405
    corrected = post_update(client, key_result=outcomes.key_result.pk, corrects=update.pk)
    assert corrected.status_code == 201
    assert OutcomeUpdate.objects.get(pk=corrected.json()["id"]).corrects == update


def test_member_updates_their_teams_experiment_but_not_another_teams(org, client_for):
    client = client_for("member")
    own = ExperimentFactory(team=org.team)
    other = ExperimentFactory(team=org.other_team)
    foreign = ExperimentFactory(team=org.foreign_team)
    body = {"result": "invalidated", "ended_on": "2025-04-01", "learning": "Nobody noticed."}

    def patch(experiment):
        return client.patch(
            reverse("api:experiment-detail", args=[experiment.pk]),
            body,
            content_type="application/json",
        )

    assert patch(own).status_code == 200
    assert patch(other).status_code == 403
    assert patch(foreign).status_code == 404
    assert list(Experiment.objects.exclude(result="").values_list("pk", flat=True)) == [own.pk]
    incomplete = client.patch(
        reverse("api:experiment-detail", args=[other.pk]),
        {"result": "validated"},
        content_type="application/json",
    )
    assert incomplete.status_code == 403


def test_experiment_result_needs_its_learning_through_the_api(org, client_for):
    own = ExperimentFactory(team=org.team)
    response = client_for("member").patch(
        reverse("api:experiment-detail", args=[own.pk]),
        {"result": "validated", "ended_on": "2025-04-01"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "Say what you learned" in response.json()["learning"][0]
    own.refresh_from_db()
    assert own.result == ""


def test_member_adds_not_doing_items_for_their_own_team_only(org, client_for):
    client = client_for("member")
    url = reverse("api:not-doing-list")
    body = {"what": "Cheques", "why": "Nobody uses them.", "decided_on": "2025-02-01"}
    assert (
        client.post(url, {**body, "team": org.team.pk}, content_type="application/json").status_code
        == 201
    )
    refused = client.post(url, {**body, "team": org.other_team.pk}, content_type="application/json")
    assert refused.status_code == 403
    assert "Only the team's own members" in refused.json()["detail"]


def test_lean_pmo_manages_objectives_and_key_results(org, client_for, outcomes):
    client = client_for("pmo")
    created = client.post(
        reverse("api:objective-list"),
        {
            "portfolio": org.portfolio.pk,
            "level": "team",
            "team": org.other_team.pk,
            "parent": outcomes.stream_objective.pk,
            "title": "Scheme connections nobody notices",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    objective = Objective.objects.get(pk=created.json()["id"])
    assert objective.value_stream == org.value_stream
    key_result = client.post(
        reverse("api:key-result-list"),
        {
            "objective": objective.pk,
            "metric": "Outage minutes",
            "unit": "min",
            "baseline": "95",
            "target": "20",
            "direction": "decrease",
            "cadence_days": 14,
            "starts_on": "2025-01-06",
        },
        content_type="application/json",
    )
    assert key_result.status_code == 201, key_result.json()
    closed = client.patch(
        reverse("api:key-result-detail", args=[key_result.json()["id"]]),
        {"closed": True},
        content_type="application/json",
    )
    assert closed.status_code == 200
    assert KeyResult.objects.get(pk=key_result.json()["id"]).closed


def test_a_key_result_target_must_lie_in_its_direction(org, client_for, outcomes):
    response = client_for("pmo").post(
        reverse("api:key-result-list"),
        {
            "objective": outcomes.key_result.objective_id,
            "metric": "Outage minutes",
            "baseline": "20",
            "target": "95",
            "direction": "decrease",
            "starts_on": "2025-01-06",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["target"] == ["To decrease, the target must be below the baseline."]


def test_a_team_objective_links_to_a_value_stream_objective(org, client_for, outcomes):
    response = client_for("pmo").post(
        reverse("api:objective-list"),
        {
            "portfolio": org.portfolio.pk,
            "level": "team",
            "team": org.other_team.pk,
            "parent": outcomes.key_result.objective_id,  # a team objective: wrong level
            "title": "Wrong parent",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "contributes to a value stream objective" in response.json()["parent"][0]


@pytest.mark.parametrize("who", ["member", "executive"])
def test_members_and_executives_do_not_write_okrs(org, client_for, outcomes, who):
    client = client_for(who)
    response = client.patch(
        reverse("api:key-result-detail", args=[outcomes.key_result.pk]),
        {"closed": True},
        content_type="application/json",
    )
    assert response.status_code == 403
    created = client.post(
        reverse("api:objective-list"),
        {"portfolio": org.portfolio.pk, "level": "portfolio", "title": "Ours"},
        content_type="application/json",
    )
    assert created.status_code == 403
    outcomes.key_result.refresh_from_db()
    assert not outcomes.key_result.closed


def test_lean_pmo_posts_realisation_points(org, client_for):
    client = client_for("pmo")
    metric = client.post(
        reverse("api:realisation-metric-list"),
        {"value_stream": org.value_stream.pk, "name": "NPS", "unit": "points"},
        content_type="application/json",
    )
    assert metric.status_code == 201
    url = reverse("api:realisation-point-list")
    for value in ("31", "33"):
        body = {"metric": metric.json()["id"], "on": "2025-03-31", "value": value}
        assert client.post(url, body, content_type="application/json").status_code == 201
    points = client_for("member").get(url, {"value_stream": org.value_stream.pk}).json()["results"]
    assert [(p["on"], p["value"]) for p in points] == [("2025-03-31", "33.0000")]
    refused = client_for("member").post(
        url,
        {"metric": metric.json()["id"], "on": "2025-04-30", "value": "1"},
        content_type="application/json",
    )
    assert refused.status_code == 403


def test_the_schema_documents_the_outcome_endpoints(client_for):
    schema = client_for("member").get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/v1/outcome-updates/",
        "/api/v1/key-results/{id}/",
        "/api/v1/objectives/",
        "/api/v1/experiments/{id}/",
        "/api/v1/not-doing/",
        "/api/v1/realisation-points/",
        "/api/v1/team-interactions/",
    ):
        assert path in schema["paths"], path
    assert "post" in schema["paths"]["/api/v1/outcome-updates/"]
    assert "patch" not in schema["paths"]["/api/v1/outcome-updates/{id}/"]


def test_a_key_result_takes_back_the_body_it_was_read_with(org, client_for, outcomes):
    client = client_for("pmo")
    url = reverse("api:key-result-detail", args=[outcomes.key_result.pk])
    body = client.get(url).json()
    response = client.patch(
        url, {**body, "metric": "Settled in 5 s"}, content_type="application/json"
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {**body, "metric": "Settled in 5 s"}
    put = client.put(url, {**body, "closed": True}, content_type="application/json")
    assert put.status_code == 200, put.json()
    assert KeyResult.objects.get(pk=outcomes.key_result.pk).closed


def test_a_key_result_does_not_move_to_another_objective(org, client_for, outcomes):
    client = client_for("pmo")
    url = reverse("api:key-result-detail", args=[outcomes.key_result.pk])
    before = list(KeyResult.objects.values())
    response = client.patch(
        url,
        {"objective": outcomes.other.objective_id, "metric": "Moved"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["objective"]
    assert "cannot move to another objective" in response.json()["objective"][0]
    assert list(KeyResult.objects.values()) == before


def test_a_value_stream_key_result_reads_with_a_null_team(org, client_for, outcomes):
    stream_key_result = KeyResultFactory(objective=outcomes.stream_objective)
    body = (
        client_for("member")
        .get(reverse("api:key-result-detail", args=[stream_key_result.pk]))
        .json()
    )
    assert body["team"] is None
    schema = client_for("member").get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    assert schema["components"]["schemas"]["KeyResult"]["properties"]["team"]["nullable"] is True
