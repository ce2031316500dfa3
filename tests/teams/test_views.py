import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from teams.models import ProductTeam
from teams.services.teams import team_update
from tests.access import EDITORS, NOBODY_BUT_ADMIN, READERS, AccessContract

VALID = {
    "name": "Card Controls",
    "topology": "stream_aligned",
    "mission": "Customers control their cards.",
    "formed_on": "2025-01-06",
    "capacity_fte": "6.5",
    "loaded_cost_per_fte": "118000",
}


class TestTeamDetailAccess(AccessContract):
    url_name = "team-detail"
    expected = READERS

    def url_kwargs(self, org):
        return {"pk": org.team.pk}


class TestForeignTeamAccess(AccessContract):
    url_name = "team-detail"
    expected = NOBODY_BUT_ADMIN

    def url_kwargs(self, org):
        return {"pk": org.foreign_team.pk}


class TestTeamCreateFormAccess(AccessContract):
    url_name = "team-create"
    expected = EDITORS

    def url_kwargs(self, org):
        return {"value_stream_pk": org.value_stream.pk}


class TestTeamCreatePostAccess(AccessContract):
    url_name = "team-create"
    method = "post"
    expected = {**EDITORS, "pmo": 302, "admin": 302}

    def url_kwargs(self, org):
        return {"value_stream_pk": org.value_stream.pk}

    def payload(self, org):
        return {**VALID, "value_stream": org.value_stream.pk}


class TestTeamEditAccess(AccessContract):
    url_name = "team-edit"
    expected = EDITORS

    def url_kwargs(self, org):
        return {"pk": org.team.pk}


class TestTeamEditPostAccess(AccessContract):
    url_name = "team-edit"
    method = "post"
    expected = {**EDITORS, "pmo": 302, "admin": 302}

    def url_kwargs(self, org):
        return {"pk": org.team.pk}

    def payload(self, org):
        return {**VALID, "name": "Instant Payments", "value_stream": org.value_stream.pk}


def test_lean_pmo_creates_a_team_in_a_value_stream(org, client_for):
    response = client_for("pmo").post(
        reverse("team-create", args=[org.value_stream.pk]),
        {**VALID, "value_stream": org.value_stream.pk},
    )
    team = ProductTeam.objects.get(name="Card Controls")
    assert response["Location"] == reverse("team-detail", args=[team.pk])
    assert (team.value_stream, str(team.capacity_fte), team.topology) == (
        org.value_stream,
        "6.50",
        "stream_aligned",
    )


def test_team_form_starts_in_the_value_stream_it_was_opened_from(org, client_for):
    response = client_for("pmo").get(reverse("team-create", args=[org.value_stream.pk]))
    assert response.context["form"]["value_stream"].value() == org.value_stream.pk


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"capacity_fte": "lots"}, "capacity_fte", "Enter a number."),
        (
            {"capacity_fte": "-1"},
            "capacity_fte",
            "Ensure this value is greater than or equal to 0.",
        ),
        ({"loaded_cost_per_fte": "12O000"}, "loaded_cost_per_fte", "Enter a number."),
        ({"formed_on": "31/02/2025"}, "formed_on", "Enter a valid date."),
        ({"topology": "matrix"}, "topology", "Select a valid choice."),
        (
            {"name": "Payment Rails"},
            "__all__",
            "This value stream already has a team with this name.",
        ),
    ],
)
def test_bad_team_input_gets_a_clear_error_and_changes_nothing(
    org, client_for, change, field, message
):
    before = list(ProductTeam.objects.values().order_by("pk"))
    response = client_for("pmo").post(
        reverse("team-edit", args=[org.team.pk]),
        {**VALID, "value_stream": org.value_stream.pk, **change},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    assert list(ProductTeam.objects.values().order_by("pk")) == before


def test_team_cannot_be_moved_into_another_portfolio(org, client_for):
    response = client_for("pmo").post(
        reverse("team-edit", args=[org.team.pk]),
        {**VALID, "value_stream": org.other_value_stream.pk},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.context["form"].errors["value_stream"][0]
    with pytest.raises(ValidationError, match="its own portfolio"):
        team_update(
            team=ProductTeam.objects.get(pk=org.team.pk), value_stream=org.other_value_stream
        )
    org.team.refresh_from_db()
    assert org.team.value_stream == org.value_stream


def test_team_page_shows_who_is_in_the_team(org, client_for):
    response = client_for("executive").get(reverse("team-detail", args=[org.team.pk]))
    assert [seat.person.username for seat in response.context["roster"]] == ["member"]


@pytest.mark.parametrize(
    ("who", "transparency", "shown"),
    [
        ("executive", False, True),
        ("pmo", False, True),
        ("member", False, False),
        ("member", True, True),
    ],
)
def test_team_cost_is_shown_only_to_those_who_may_see_money(
    org, client_for, who, transparency, shown
):
    org.portfolio.funding_transparency = transparency
    org.portfolio.save()
    page = client_for(who).get(reverse("team-detail", args=[org.team.pk])).content.decode()
    assert ("720,000 EUR" in page) is shown
    assert ("Loaded cost per FTE" in page) is shown


def test_member_sees_their_own_team_marked(org, client_for):
    assert (
        "Your team"
        in client_for("member").get(reverse("team-detail", args=[org.team.pk])).content.decode()
    )
    assert (
        "Your team"
        not in client_for("member")
        .get(reverse("team-detail", args=[org.other_team.pk]))
        .content.decode()
    )
