"""Team members post check-ins, experiments and not-doing items for their own team only."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from teams.models import Experiment, NotDoingItem, OutcomeUpdate, PulseAnswer, PulseResponse
from tests.access import NOBODY_BUT_ADMIN, READERS, AccessContract
from tests.teams.factories import (
    ExperimentFactory,
    OutcomeUpdateFactory,
    PulseRoundFactory,
)

MEMBERS_ONLY = {
    "anonymous": 302,
    "outsider": 404,
    "member": 200,
    "executive": 403,
    "pmo": 403,
    "admin": 200,
}
CHECK_IN = {"value": "93.5", "confidence": "7", "status": "on_track", "learned": "", "blockers": ""}


class TestCheckInFormAccess(AccessContract):
    url_name = "outcome-update-create"
    expected = MEMBERS_ONLY

    def url_kwargs(self, org):
        return {"pk": org.team.pk}


class TestCheckInPostAccess(AccessContract):
    url_name = "outcome-update-create"
    method = "post"
    expected = {**MEMBERS_ONLY, "member": 302, "admin": 302}

    def url_kwargs(self, org):
        return {"pk": org.team.pk}

    def payload(self, org):
        from tests.teams.factories import KeyResultFactory

        return {**CHECK_IN, "key_result": KeyResultFactory(objective__team=org.team).pk}


class TestCheckInOnAnotherTeamAccess(AccessContract):
    """Another team of the member's portfolio: visible, so writing is 403."""

    url_name = "outcome-update-create"
    method = "post"
    expected = {**MEMBERS_ONLY, "member": 403, "admin": 302}

    def url_kwargs(self, org):
        return {"pk": org.other_team.pk}

    def payload(self, org):
        from tests.teams.factories import KeyResultFactory

        return {**CHECK_IN, "key_result": KeyResultFactory(objective__team=org.other_team).pk}


class TestCheckInOnAForeignTeamAccess(AccessContract):
    url_name = "outcome-update-create"
    method = "post"
    expected = {**NOBODY_BUT_ADMIN, "admin": 400}  # the admin posts no key result: refused

    def url_kwargs(self, org):
        return {"pk": org.foreign_team.pk}

    def payload(self, org):
        return CHECK_IN


class TestExperimentCreateAccess(AccessContract):
    url_name = "experiment-create"
    expected = MEMBERS_ONLY

    def url_kwargs(self, org):
        return {"pk": org.team.pk}


class TestExperimentEditAccess(AccessContract):
    url_name = "experiment-edit"
    expected = MEMBERS_ONLY

    def url_kwargs(self, org):
        return {"pk": ExperimentFactory(team=org.team).pk}


class TestOtherTeamsExperimentEditAccess(AccessContract):
    url_name = "experiment-edit"
    expected = {**MEMBERS_ONLY, "member": 403}

    def url_kwargs(self, org):
        return {"pk": ExperimentFactory(team=org.other_team).pk}


class TestNotDoingCreateAccess(AccessContract):
    url_name = "not-doing-create"
    expected = MEMBERS_ONLY

    def url_kwargs(self, org):
        return {"pk": org.team.pk}


class TestPulseAnswerAccess(AccessContract):
    url_name = "pulse-answer"
    expected = MEMBERS_ONLY

    def url_kwargs(self, org):
        return {"pk": PulseRoundFactory(team=org.team).pk}


def post_check_in(client, org, **fields):
    return client.post(reverse("outcome-update-create", args=[org.team.pk]), {**CHECK_IN, **fields})


def test_member_posts_a_check_in_and_sees_it_in_the_feed_and_the_chart(org, client_for, outcomes):
    client = client_for("member")
    response = post_check_in(
        client, org, key_result=outcomes.key_result.pk, learned="Retries hide timeouts."
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"#key-result-{outcomes.key_result.pk}")
    update = OutcomeUpdate.objects.latest("pk")
    assert (update.value, update.confidence, update.posted_by) == (
        Decimal("93.5"),
        7,
        org.users["member"],
    )
    page = client.get(reverse("team-detail", args=[org.team.pk]))
    assert page.context["outcomes"].feed[0] == update
    row = next(
        r for r in page.context["outcomes"].key_results if r.key_result == outcomes.key_result
    )
    assert row.chart["figure"]["data"][0]["y"][-1] == 93.5
    assert row.latest["value"] == Decimal("93.5")
    assert row.progress == pytest.approx((93.5 - 80) / (99 - 80))
    assert "Retries hide timeouts." in page.content.decode()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"value": "lots"}, "value", "Enter a number."),
        ({"value": ""}, "value", "Give the key result's value today."),
        ({"confidence": "11"}, "confidence", "Ensure this value is less than or equal to 10."),
        ({"confidence": "-1"}, "confidence", "Ensure this value is greater than or equal to 0."),
        ({"status": "fine"}, "status", "Select a valid choice."),
        ("other", "key_result", "Pick one of this team's key results."),
        ("foreign", "key_result", "Pick one of this team's key results."),
        ("closed", "key_result", "is closed; it takes no more check-ins."),
        ({"learned": "x" * 2001}, "learned", "at most 2000 characters (it has 2001)"),
    ],
)
def test_bad_check_in_gets_a_clear_error_and_changes_nothing(
    org, client_for, outcomes, change, field, message
):
    if isinstance(change, str):
        change = {"key_result": getattr(outcomes, change).pk}
    before = list(OutcomeUpdate.objects.values().order_by("pk"))
    response = post_check_in(
        client_for("member"), org, **{"key_result": outcomes.key_result.pk, **change}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    assert message in response.content.decode().replace("&#x27;", "'")
    assert list(OutcomeUpdate.objects.values().order_by("pk")) == before


def test_a_correction_is_a_new_update_and_the_corrected_one_leaves_the_chart(
    org, client_for, outcomes
):
    wrong = OutcomeUpdate.objects.get(key_result=outcomes.key_result)
    client = client_for("member")
    form = client.get(
        reverse("outcome-update-create", args=[org.team.pk]),
        {"key_result": outcomes.key_result.pk, "corrects": wrong.pk},
    )
    assert "Correct a check-in" in form.content.decode()
    assert form.context["form"].initial["value"] == "85"  # the corrected check-in's values
    response = post_check_in(
        client,
        org,
        key_result=outcomes.key_result.pk,
        corrects=wrong.pk,
        value="86",
        status="at_risk",
    )
    assert response.status_code == 302
    assert OutcomeUpdate.objects.filter(key_result=outcomes.key_result).count() == 2
    wrong.refresh_from_db()
    assert wrong.value == Decimal("85")  # untouched: append-only
    page = client.get(reverse("team-detail", args=[org.team.pk]))
    row = next(
        r for r in page.context["outcomes"].key_results if r.key_result == outcomes.key_result
    )
    assert row.chart["figure"]["data"][0]["y"] == [86.0]
    assert [u.corrected for u in page.context["outcomes"].feed] == [False, True]
    again = post_check_in(
        client, org, key_result=outcomes.key_result.pk, corrects=wrong.pk, value="87"
    )
    assert again.status_code == 400
    assert "already been corrected" in again.content.decode()


def test_an_update_cannot_correct_an_update_of_another_key_result(org, client_for, outcomes):
    wrong = OutcomeUpdate.objects.get(key_result=outcomes.key_result)
    other = OutcomeUpdateFactory(
        key_result=outcomes.closed, posted_by=org.users["member"]
    )  # same team, other key result
    response = post_check_in(
        client_for("member"), org, key_result=outcomes.key_result.pk, corrects=other.pk
    )
    assert response.status_code == 400
    assert "A correction must be on the same key result." in response.content.decode()
    assert not OutcomeUpdate.objects.filter(corrects__isnull=False).exists()
    assert wrong.corrections.count() == 0


def test_only_the_teams_members_see_the_check_in_form(org, client_for, outcomes):
    url = reverse("team-detail", args=[org.team.pk])
    assert "Post an update" in client_for("member").get(url).content.decode()
    assert "Post an update" not in client_for("executive").get(url).content.decode()
    assert "Post an update" not in client_for("pmo").get(url).content.decode()
    other = reverse("team-detail", args=[org.other_team.pk])
    assert "Post an update" not in client_for("member").get(other).content.decode()


def test_team_page_query_count_does_not_grow_with_updates(org, client_for, outcomes):
    client = client_for("member")
    url = reverse("team-detail", args=[org.team.pk])
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for days in range(40):
        OutcomeUpdateFactory(
            key_result=outcomes.key_result,
            posted_by=org.users["member"],
            posted_at=outcomes.key_result.created_at - dt.timedelta(days=days),
        )
    ExperimentFactory.create_batch(5, team=org.team)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(response.context["outcomes"].feed) == 10


@time_machine.travel(dt.datetime(2025, 6, 2, 12, tzinfo=dt.UTC), tick=False)
def test_stale_key_results_are_marked_on_the_team_page(org, client_for, outcomes):
    OutcomeUpdateFactory(
        key_result=outcomes.other,
        posted_by=org.users["member"],
        posted_at=dt.datetime(2025, 5, 30, tzinfo=dt.UTC),
    )
    url = reverse("team-detail", args=[org.other_team.pk])
    # a 14-day cadence: stale once more than 28 days passed since the last check-in
    with time_machine.travel(dt.datetime(2025, 6, 27, 12, tzinfo=dt.UTC), tick=False):
        fresh = client_for("executive").get(url)
    with time_machine.travel(dt.datetime(2025, 6, 28, 12, tzinfo=dt.UTC), tick=False):
        stale = client_for("executive").get(url)
    assert [r.stale for r in fresh.context["outcomes"].key_results] == [False]
    assert [r.stale for r in stale.context["outcomes"].key_results] == [True]
    assert "Stale" not in fresh.content.decode()
    assert "1 stale key result" in stale.content.decode()


def test_members_record_an_experiment_and_its_invalidated_result_reads_as_learning(org, client_for):
    client = client_for("member")
    response = client.post(
        reverse("experiment-create", args=[org.team.pk]),
        {
            "hypothesis": "We believe a progress bar raises completion.",
            "metric": "Completion",
            "started_on": "2025-03-01",
        },
    )
    assert response.status_code == 302
    experiment = Experiment.objects.get(team=org.team)
    assert (experiment.result, experiment.created_by) == ("", org.users["member"])
    response = client.post(
        reverse("experiment-edit", args=[experiment.pk]),
        {
            "hypothesis": experiment.hypothesis,
            "metric": "Completion",
            "started_on": "2025-03-01",
            "ended_on": "2025-04-01",
            "result": "invalidated",
            "learning": "People drop out at the ID check.",
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("team-detail", args=[org.team.pk])).content.decode()
    assert "Learning: hypothesis invalidated" in page
    assert "People drop out at the ID check." in page
    assert "fail" not in page.lower()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"ended_on": "2025-02-01"}, "ended_on", "cannot end before it starts"),
        ({"result": "validated", "ended_on": ""}, "ended_on", "Give the end date"),
        ({"result": "validated", "learning": ""}, "learning", "Say what you learned"),
        ({"started_on": "soon"}, "started_on", "Enter a valid date."),
        ({"result": "failed"}, "result", "Select a valid choice."),
    ],
)
def test_bad_experiment_input_gets_a_clear_error_and_changes_nothing(
    org, client_for, change, field, message
):
    experiment = ExperimentFactory(team=org.team)
    before = list(Experiment.objects.values().order_by("pk"))
    response = client_for("member").post(
        reverse("experiment-edit", args=[experiment.pk]),
        {
            "hypothesis": "H",
            "metric": "M",
            "started_on": "2025-03-01",
            "ended_on": "2025-04-01",
            "result": "",
            "learning": "L",
            **change,
        },
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    assert list(Experiment.objects.values().order_by("pk")) == before


def test_an_experiment_cannot_point_at_another_teams_key_result(org, client_for, outcomes):
    response = client_for("member").post(
        reverse("experiment-create", args=[org.team.pk]),
        {
            "hypothesis": "H",
            "metric": "M",
            "started_on": "2025-03-01",
            "key_result": outcomes.other.pk,
        },
    )
    assert response.status_code == 400
    assert "key_result" in response.context["form"].errors
    assert not Experiment.objects.exists()


def test_members_add_to_the_not_doing_list(org, client_for):
    client = client_for("member")
    response = client.post(
        reverse("not-doing-create", args=[org.team.pk]),
        {"what": "Cheque imaging", "why": "Nobody pays by cheque.", "decided_on": "2025-02-03"},
    )
    assert response.status_code == 302
    item = NotDoingItem.objects.get()
    assert (item.team, item.recorded_by, item.decided_on) == (
        org.team,
        org.users["member"],
        dt.date(2025, 2, 3),
    )
    bad = client.post(
        reverse("not-doing-create", args=[org.team.pk]),
        {"what": "", "why": "", "decided_on": "yesterday"},
    )
    assert bad.status_code == 400
    assert set(bad.context["form"].errors) == {"what", "why", "decided_on"}
    assert NotDoingItem.objects.count() == 1
    page = client.get(reverse("team-detail", args=[org.team.pk])).content.decode()
    assert "Cheque imaging" in page
    assert "Nobody pays by cheque." in page


@time_machine.travel(dt.datetime(2025, 3, 5, 12, tzinfo=dt.UTC), tick=False)
def test_pulse_answers_are_anonymous_and_shown_only_from_three_people(org, client_for):
    from tests.factories import TeamMembershipFactory, UserFactory

    pulse_round = PulseRoundFactory(team=org.team)
    questions = list(pulse_round.questions.all())
    people = ["member", "p2", "p3"]
    for username in people[1:]:
        TeamMembershipFactory(team=org.team, person=UserFactory(username=username))
    url = reverse("team-detail", args=[org.team.pk])
    for count, username in enumerate(people, start=1):
        client = client_for("member") if username == "member" else _login(username)
        assert "Answer this round" in client.get(url).content.decode()
        response = client.post(
            reverse("pulse-answer", args=[pulse_round.pk]),
            {f"question_{q.pk}": str(count + i) for i, q in enumerate(questions)},
        )
        assert response.status_code == 302
        assert "Answer this round" not in client.get(url).content.decode()
        summary = client_for("executive").get(url).context["outcomes"].pulse[0].summary
        assert summary.shown is (count >= 3)
    assert [f.name for f in PulseAnswer._meta.get_fields()] == ["id", "question", "score"]
    assert summary.questions["mean"].tolist() == [2.0, 3.0]
    twice = client_for("member").post(
        reverse("pulse-answer", args=[pulse_round.pk]),
        {f"question_{q.pk}": "5" for q in questions},
    )
    assert twice.status_code == 400
    assert "already answered" in twice.content.decode()
    assert PulseResponse.objects.count() == 3
    assert PulseAnswer.objects.count() == 6


def _login(username):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def test_team_page_shows_stability_from_memberships(org, client_for):
    from tests.factories import ProductTeamFactory, TeamMembershipFactory

    member = org.users["member"]
    for _n in range(2):
        TeamMembershipFactory(team=ProductTeamFactory(value_stream=org.value_stream), person=member)
    page = client_for("executive").get(reverse("team-detail", args=[org.team.pk]))
    stability = page.context["outcomes"].stability
    assert stability.spread_people == [member.pk]
    assert page.context["outcomes"].spread_names == [member.get_full_name()]
    assert len(stability.churn) == 4


class TestTeamPageStillReadable(AccessContract):
    url_name = "team-detail"
    expected = READERS

    def url_kwargs(self, org):
        from tests.teams.factories import KeyResultFactory

        OutcomeUpdateFactory(key_result=KeyResultFactory(objective__team=org.team))
        return {"pk": org.team.pk}
