"""Seats (team memberships) in the UI and the API: Lean PMO adds people, changes allocations and
ends seats; members and executives read; outsiders get 404; history and audit are kept."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from teams.models import TeamMembership
from teams.services.seats import team_membership_add, team_membership_change, team_membership_end
from tests.access import API_READERS, EDITORS, NOBODY_BUT_ADMIN, READERS, AccessContract
from tests.factories import TeamMembershipFactory, UserFactory

TODAY = dt.date(2026, 6, 10)
pytestmark = pytest.mark.usefixtures("frozen_today")


@pytest.fixture
def frozen_today():
    with time_machine.travel(dt.datetime(2026, 6, 10, 10, tzinfo=dt.UTC), tick=False):
        yield


def _seat(org):
    return TeamMembership.objects.get(team=org.team, person=org.users["member"])


def seats_of(team):
    return list(
        TeamMembership.objects.filter(team=team)
        .order_by("pk")
        .values_list("person__username", "allocation_percent", "start_date", "end_date")
    )


# --- who may do what ------------------------------------------------------------------------------


class TestSeatCreateFormAccess(AccessContract):
    url_name = "team-seat-create"
    expected = EDITORS

    def url_kwargs(self, org):
        return {"pk": org.team.pk}


class TestSeatCreatePostAccess(AccessContract):
    url_name = "team-seat-create"
    method = "post"
    expected = {**EDITORS, "pmo": 302, "admin": 302}

    def url_kwargs(self, org):
        return {"pk": org.team.pk}

    def payload(self, org):
        newcomer = UserFactory()
        return {"person": newcomer.pk, "allocation_percent": 50, "start_date": "2026-06-15"}


class TestForeignSeatCreateAccess(AccessContract):
    url_name = "team-seat-create"
    expected = NOBODY_BUT_ADMIN

    def url_kwargs(self, org):
        return {"pk": org.foreign_team.pk}


class TestSeatEndAccess(AccessContract):
    url_name = "team-seat-end"
    expected = EDITORS

    def url_kwargs(self, org):
        return {"pk": _seat(org).pk}


class TestSeatEndPostAccess(AccessContract):
    url_name = "team-seat-end"
    method = "post"
    expected = {**EDITORS, "pmo": 302, "admin": 302}

    def url_kwargs(self, org):
        return {"pk": TeamMembershipFactory(team=org.team).pk}

    def payload(self, org):
        return {"end_date": "2026-06-30"}


class TestSeatChangeAccess(AccessContract):
    url_name = "team-seat-change"
    expected = EDITORS

    def url_kwargs(self, org):
        return {"pk": _seat(org).pk}


class TestForeignSeatChangeAccess(AccessContract):
    url_name = "team-seat-change"
    method = "post"
    expected = NOBODY_BUT_ADMIN | {"admin": 302}

    def url_kwargs(self, org):
        return {"pk": TeamMembershipFactory(team=org.foreign_team).pk}

    def payload(self, org):
        return {"allocation_percent": 40, "on": "2026-07-01"}


class TestTeamPageStillReadable(AccessContract):
    url_name = "team-detail"
    expected = READERS

    def url_kwargs(self, org):
        return {"pk": org.team.pk}


# --- the pages ------------------------------------------------------------------------------------


def test_only_lean_pmo_sees_the_seat_buttons_on_the_team_page(org, client_for):
    url = reverse("team-detail", args=[org.team.pk])
    add = reverse("team-seat-create", args=[org.team.pk])
    end = reverse("team-seat-end", args=[_seat(org).pk])
    for who, shown in (("pmo", True), ("admin", True), ("executive", False), ("member", False)):
        page = client_for(who).get(url).content.decode()
        assert (add in page and end in page) is shown, who


def test_lean_pmo_adds_a_person_and_the_stability_figures_follow(org, client_for):
    newcomer = UserFactory(first_name="Ana", last_name="Costa")
    client = client_for("pmo")
    url = reverse("team-detail", args=[org.team.pk])
    before = client.get(url).context["outcomes"].stability
    assert (before.headcount, before.latest_churn) == (1, 0.0)
    response = client.post(
        reverse("team-seat-create", args=[org.team.pk]),
        {
            "person": newcomer.pk,
            "role_title": "Designer",
            "allocation_percent": "60",
            "start_date": "2026-06-10",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/teams/{org.team.pk}/#people")
    page = client.get(url)
    assert "Ana Costa joins Instant Payments at 60 % from 10 Jun 2026." in page.content.decode()
    after = page.context["outcomes"].stability
    # one joined a team of one: (1 + 0) ÷ 2 ÷ mean headcount (1 + 2) / 2
    assert (after.headcount, after.latest_churn) == (2, pytest.approx(1 / 3))
    assert {s.person for s in page.context["people"].current} == {newcomer, org.users["member"]}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"allocation_percent": "0"}, "allocation_percent", "at least 1 %"),
        ({"allocation_percent": "101"}, "allocation_percent", "at most 100 %"),
        ({"allocation_percent": ""}, "allocation_percent", "Give the allocation, 1 to 100 %."),
        (
            {"end_date": "2026-06-01"},
            "end_date",
            "A seat cannot end before it starts (10 Jun 2026).",
        ),
        ({"start_date": ""}, "start_date", "Give the first day in the team."),
        ({"person": ""}, "person", "Pick the person who joins the team."),
        ({"person": "999999"}, "person", "Pick one of the people listed"),
        ("member", "start_date", "already has a seat in Instant Payments from 1 Mar 2024"),
    ],
)
def test_a_bad_seat_is_refused_on_its_field_and_changes_nothing(
    org, client_for, change, field, message
):
    newcomer = UserFactory()
    if change == "member":
        change = {"person": org.users["member"].pk}
    before = seats_of(org.team)
    data = {"person": newcomer.pk, "allocation_percent": "50", "start_date": "2026-06-10"}
    response = client_for("pmo").post(
        reverse("team-seat-create", args=[org.team.pk]), {**data, **change}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    page = response.content.decode().replace("&#x27;", "'")
    assert message in page
    assert f'href="#id_{field}"' in page  # the error summary links to the field
    assert seats_of(org.team) == before


def test_more_than_full_time_asks_to_confirm_and_then_saves(org, client_for):
    busy = UserFactory(first_name="Ben", last_name="Busy")
    TeamMembershipFactory(team=org.other_team, person=busy, allocation_percent=80)
    client = client_for("pmo")
    url = reverse("team-seat-create", args=[org.team.pk])
    data = {"person": busy.pk, "allocation_percent": "40", "start_date": "2026-06-10"}
    asked = client.post(url, data)
    assert asked.status_code == 200
    text = asked.content.decode()
    assert "Ben Busy would be allocated 120 % in total from 10 Jun 2026" in text
    assert "(Payment Rails 80 %, Instant Payments 40 %)" in text
    assert not TeamMembership.objects.filter(team=org.team, person=busy).exists()
    digest = asked.context["warnings_digest"]
    stale = client.post(url, {**data, "allocation_percent": "60", "confirm": digest})
    assert stale.status_code == 200  # other figures, other warning: asked again
    assert "140 %" in stale.content.decode()
    assert not TeamMembership.objects.filter(team=org.team, person=busy).exists()
    saved = client.post(url, {**data, "confirm": digest})
    assert saved.status_code == 302
    assert TeamMembership.objects.get(team=org.team, person=busy).allocation_percent == 40


def test_ending_a_seat_keeps_it_and_the_churn_counts_the_leaver(org, client_for):
    leaver = TeamMembershipFactory(team=org.team, start_date=dt.date(2025, 1, 1))
    client = client_for("pmo")
    response = client.post(reverse("team-seat-end", args=[leaver.pk]), {"end_date": "2026-06-09"})
    assert response.status_code == 302
    leaver.refresh_from_db()
    assert leaver.end_date == dt.date(2026, 6, 9)
    page = client.get(reverse("team-detail", args=[org.team.pk]))
    people = page.context["people"]
    assert leaver in people.past
    assert leaver not in people.current
    stability = page.context["outcomes"].stability
    # two at the start of the quarter, one at its end, one left: 1 ÷ 2 ÷ 1.5
    assert (stability.headcount, stability.latest_churn) == (1, pytest.approx(1 / 3))
    assert "1 earlier seat" in page.content.decode()


def test_a_seat_cannot_end_before_it_starts(org, client_for):
    seat = _seat(org)
    response = client_for("pmo").post(
        reverse("team-seat-end", args=[seat.pk]), {"end_date": "2024-02-01"}
    )
    assert response.status_code == 400
    assert "A seat cannot end before it starts (1 Mar 2024)." in response.content.decode()
    seat.refresh_from_db()
    assert seat.end_date is None


def test_changing_an_allocation_ends_the_seat_and_starts_a_new_one(org, client_for):
    response = client_for("pmo").post(
        reverse("team-seat-change", args=[_seat(org).pk]),
        {"allocation_percent": "60", "on": "2026-07-01", "role_title": "Tech lead"},
    )
    assert response.status_code == 302
    assert seats_of(org.team) == [
        ("member", 100, dt.date(2024, 3, 1), dt.date(2026, 6, 30)),
        ("member", 60, dt.date(2026, 7, 1), None),
    ]
    assert TeamMembership.objects.get(end_date=None, team=org.team).role_title == "Tech lead"


def test_an_allocation_change_from_the_first_day_corrects_the_seat(org):
    seat = TeamMembershipFactory(team=org.team, start_date=dt.date(2026, 6, 1))
    new = team_membership_change(
        membership=seat, allocation_percent=50, on=dt.date(2026, 6, 1), by=org.users["pmo"]
    )
    assert new.pk == seat.pk
    assert TeamMembership.objects.get(pk=seat.pk).allocation_percent == 50


def test_an_allocation_change_after_the_seat_ended_is_refused(org):
    seat = TeamMembershipFactory(team=org.team, end_date=dt.date(2026, 1, 31))
    with pytest.raises(ValidationError) as refused:
        team_membership_change(
            membership=seat, allocation_percent=50, on=dt.date(2026, 3, 1), by=org.users["pmo"]
        )
    assert "ended on 31 Jan 2026" in refused.value.message_dict["on"][0]
    assert TeamMembership.objects.filter(team=org.team, person=seat.person).count() == 1


def test_seats_of_one_person_in_one_team_never_overlap(org):
    person = UserFactory()
    pmo = org.users["pmo"]
    team_membership_add(
        team=org.team,
        person=person,
        allocation_percent=50,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 3, 31),
        by=pmo,
    )
    with pytest.raises(ValidationError) as refused:
        team_membership_add(
            team=org.team,
            person=person,
            allocation_percent=50,
            start_date=dt.date(2025, 6, 1),
            end_date=dt.date(2026, 1, 1),
            by=pmo,
        )
    assert "from 1 Jan 2026 (until 31 Mar 2026)" in refused.value.message_dict["start_date"][0]
    # the day after is fine, and another team is fine
    team_membership_add(
        team=org.team, person=person, allocation_percent=50, start_date=dt.date(2026, 4, 1), by=pmo
    )
    team_membership_add(
        team=org.other_team,
        person=person,
        allocation_percent=50,
        start_date=dt.date(2026, 1, 1),
        by=pmo,
    )
    # ending the first seat after the second started would overlap
    first = TeamMembership.objects.get(team=org.team, person=person, start_date=dt.date(2026, 1, 1))
    with pytest.raises(ValidationError) as late:
        team_membership_end(membership=first, end_date=dt.date(2026, 4, 2), by=pmo)
    assert "end_date" in late.value.message_dict
    assert TeamMembership.objects.get(pk=first.pk).end_date == dt.date(2026, 3, 31)


def test_every_seat_change_is_in_the_audit_history_with_who_made_it(org, client_for):
    newcomer = UserFactory()
    client = client_for("pmo")
    client.post(
        reverse("team-seat-create", args=[org.team.pk]),
        {"person": newcomer.pk, "allocation_percent": "50", "start_date": "2026-06-10"},
    )
    seat = TeamMembership.objects.get(person=newcomer)
    client.post(
        reverse("team-seat-change", args=[seat.pk]), {"allocation_percent": 80, "on": "2026-06-20"}
    )
    client.post(reverse("team-seat-end", args=[seat.pk]), {"end_date": "2026-06-15"})
    events = list(
        TeamMembership.pgh_event_model.objects.filter(person=newcomer)
        .select_related("pgh_context")
        .order_by("pgh_id")
    )
    labels = [(e.pgh_label, e.allocation_percent, e.end_date) for e in events]
    assert labels == [
        ("insert", 50, None),
        ("update", 50, dt.date(2026, 6, 19)),  # the allocation change ends the old seat ...
        ("insert", 80, None),  # ... and starts a new one
        ("update", 50, dt.date(2026, 6, 15)),  # the end moved earlier by hand
    ]
    assert {e.pgh_context.metadata["user"] for e in events} == {org.users["pmo"].pk}


def test_the_service_names_who_changed_a_seat_outside_a_request(org):
    seat = team_membership_add(
        team=org.team,
        person=UserFactory(),
        allocation_percent=30,
        start_date=TODAY,
        by=org.users["admin"],
    )
    event = TeamMembership.pgh_event_model.objects.get(pgh_obj=seat)
    assert event.pgh_context.metadata["user"] == org.users["admin"].pk


def test_searching_people_offers_anyone_by_name_and_the_portfolio_by_default(org, client_for):
    stranger = UserFactory(first_name="Zoë", last_name="Quist")
    url = reverse("team-seat-create", args=[org.team.pk])
    client = client_for("pmo")
    default = client.get(url).context["form"].fields["person"].widget.choices
    offered = {label for _, label in default}
    assert any(label.endswith("(member) — Instant Payments 100 %") for label in offered)
    assert not any("Quist" in label for label in offered)
    found = client.get(url, {"q": "zoë qu"}).context["form"].fields["person"].widget.choices
    assert [pk for pk, _ in found] == ["", stranger.pk]
    assert "Zoë Quist (" in found[1][1]
    assert "in no team today" in found[1][1]


def test_team_page_query_count_does_not_grow_with_seats(org, client_for):
    client = client_for("pmo")
    url = reverse("team-detail", args=[org.team.pk])
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for number in range(12):
        person = UserFactory()
        TeamMembershipFactory(team=org.team, person=person, start_date=dt.date(2025, 1, 1))
        TeamMembershipFactory(
            team=org.team, start_date=dt.date(2025, 1, 1), end_date=dt.date(2026, 5, number + 1)
        )
        TeamMembershipFactory(team=org.other_team, person=person, allocation_percent=20)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["people"].current) == 13
    assert len(many.captured_queries) == len(few.captured_queries)


def test_seat_form_query_count_does_not_grow_with_people(org, client_for):
    client = client_for("pmo")
    url = reverse("team-seat-create", args=[org.team.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(15):
        TeamMembershipFactory(team=org.other_team, allocation_percent=50)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)


# --- the API ----------------------------------------------------------------------------------


class TestSeatListAccess(AccessContract):
    url_name = "api:team-seat-list"
    expected = {**API_READERS, "outsider": 200}


class TestSeatReadAccess(AccessContract):
    url_name = "api:team-seat-detail"
    expected = API_READERS

    def url_kwargs(self, org):
        return {"pk": _seat(org).pk}


def post_seat(client, **body):
    return client.post(reverse("api:team-seat-list"), body, content_type="application/json")


def test_lean_pmo_adds_a_seat_through_the_api_and_hears_about_over_allocation(org, client_for):
    person = UserFactory()
    TeamMembershipFactory(team=org.other_team, person=person, allocation_percent=90)
    response = post_seat(
        client_for("pmo"),
        team=org.team.pk,
        person=person.pk,
        allocation_percent=20,
        start_date="2026-06-10",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["team"], body["person"], body["allocation_percent"]) == (
        org.team.pk,
        person.pk,
        20,
    )
    assert [w["code"] for w in body["warnings"]] == ["over_allocated"]
    assert "110 %" in body["warnings"][0]["message"]
    assert TeamMembership.objects.filter(team=org.team, person=person).exists()
    listed = client_for("member").get(reverse("api:team-seat-list"), {"team": org.team.pk})
    assert {row["person"] for row in listed.json()["results"]} == {
        org.users["member"].pk,
        person.pk,
    }
    assert "warnings" not in listed.json()["results"][0]


@pytest.mark.parametrize(
    ("who", "team", "status"),
    [
        ("member", "team", 403),
        ("executive", "team", 403),
        ("outsider", "team", 404),
        ("pmo", "foreign_team", 404),
        ("anonymous", "team", 403),
    ],
)
def test_only_lean_pmo_adds_seats_and_access_comes_before_validation(
    org, client_for, who, team, status
):
    before = seats_of(org.team)
    # the body is invalid too: a refusal for access must not tell about the fields
    response = post_seat(
        client_for(who), team=getattr(org, team).pk, person=999999, allocation_percent=500
    )
    assert response.status_code == status
    assert seats_of(org.team) == before


def test_bad_seats_through_the_api_are_400s_naming_the_field(org, client_for):
    client = client_for("pmo")
    person = UserFactory()
    base = {
        "team": org.team.pk,
        "person": person.pk,
        "allocation_percent": 50,
        "start_date": "2026-06-10",
    }
    cases = [
        ({"allocation_percent": 0}, "allocation_percent", "at least 1 %"),
        ({"end_date": "2026-01-01"}, "end_date", "cannot end before it starts"),
        ({"person": org.users["member"].pk}, "start_date", "already has a seat"),
        ({"team": "x"}, "team", "Give the id of a team."),
    ]
    for change, field, message in cases:
        response = post_seat(client, **{**base, **change})
        assert response.status_code == 400, change
        assert message in " ".join(response.json()[field]), response.json()
    assert not TeamMembership.objects.filter(person=person).exists()


def test_lean_pmo_ends_a_seat_through_the_api(org, client_for):
    seat = TeamMembershipFactory(team=org.team, start_date=dt.date(2025, 1, 1))
    url = reverse("api:team-seat-end", args=[seat.pk])
    assert client_for("member").post(url, {}, content_type="application/json").status_code == 403
    assert client_for("outsider").post(url, {}, content_type="application/json").status_code == 404
    refused = client_for("pmo").post(
        url, {"end_date": "2024-01-01"}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert "cannot end before it starts" in " ".join(refused.json()["end_date"])
    response = client_for("pmo").post(url, {}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["end_date"] == "2026-06-10"  # default: today
    seat.refresh_from_db()
    assert seat.end_date == TODAY


def test_seats_are_never_deleted_and_outsiders_learn_nothing_of_them(org, client_for):
    url = reverse("api:team-seat-detail", args=[_seat(org).pk])
    assert client_for("pmo").delete(url).status_code == 405
    assert client_for("outsider").delete(url).status_code == 404
    end = reverse("api:team-seat-end", args=[_seat(org).pk])
    assert client_for("pmo").get(end).status_code == 405
    assert client_for("outsider").get(end).status_code == 404
    assert TeamMembership.objects.filter(pk=_seat(org).pk).exists()


def test_the_seat_list_pins_its_query_count(org, client_for):
    client = client_for("executive")
    url = reverse("api:team-seat-list")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    TeamMembershipFactory.create_batch(20, team=org.team)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url).json()["results"]) == 21
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_schema_documents_the_seat_endpoints(client_for):
    schema = client_for("member").get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    assert "post" in schema["paths"]["/api/v1/team-seats/"]
    assert "post" in schema["paths"]["/api/v1/team-seats/{id}/end/"]
    assert "delete" not in schema["paths"]["/api/v1/team-seats/{id}/"]


def test_seats_in_portfolios_the_pmo_does_not_see_count_but_stay_unnamed(org, client_for):
    busy = UserFactory(first_name="Ben", last_name="Busy", username="ben.busy")
    TeamMembershipFactory(team=org.foreign_team, person=busy, allocation_percent=70)
    TeamMembershipFactory(team=org.other_team, person=busy, allocation_percent=20)
    client = client_for("pmo")
    url = reverse("team-seat-create", args=[org.team.pk])
    choices = client.get(url, {"q": "ben busy"}).context["form"].fields["person"].widget.choices
    assert choices[1][1] == "Ben Busy (ben.busy) — Payment Rails 20 %, 70 % elsewhere"
    asked = client.post(
        url, {"person": busy.pk, "allocation_percent": "30", "start_date": "2026-06-10"}
    )
    text = asked.content.decode()
    assert "Ben Busy would be allocated 120 % in total" in text
    assert "a team you do not see 70 %" in text
    assert org.foreign_team.name not in text
    response = post_seat(
        client, team=org.team.pk, person=busy.pk, allocation_percent=30, start_date="2026-06-10"
    )
    assert org.foreign_team.name not in response.json()["warnings"][0]["message"]
