import pytest
from django.urls import reverse

from tests.access import EDITORS, NOBODY_BUT_ADMIN, READERS, AccessContract
from tests.factories import UserFactory
from valuestreams.models import ValueStream


class TestValueStreamDetailAccess(AccessContract):
    url_name = "value-stream-detail"
    expected = READERS

    def url_kwargs(self, org):
        return {"pk": org.value_stream.pk}


class TestForeignValueStreamAccess(AccessContract):
    url_name = "value-stream-detail"
    expected = NOBODY_BUT_ADMIN

    def url_kwargs(self, org):
        return {"pk": org.other_value_stream.pk}


class TestValueStreamCreateFormAccess(AccessContract):
    url_name = "value-stream-create"
    expected = EDITORS

    def url_kwargs(self, org):
        return {"portfolio_pk": org.portfolio.pk}


class TestValueStreamCreatePostAccess(AccessContract):
    url_name = "value-stream-create"
    method = "post"
    expected = {**EDITORS, "pmo": 302, "admin": 302}

    def url_kwargs(self, org):
        return {"portfolio_pk": org.portfolio.pk}

    def payload(self, org):
        return {"name": "Cards", "customer": "Card holders"}


class TestValueStreamEditAccess(AccessContract):
    url_name = "value-stream-edit"
    expected = EDITORS

    def url_kwargs(self, org):
        return {"pk": org.value_stream.pk}


class TestValueStreamEditPostAccess(AccessContract):
    url_name = "value-stream-edit"
    method = "post"
    expected = {**EDITORS, "pmo": 302, "admin": 302}

    def url_kwargs(self, org):
        return {"pk": org.value_stream.pk}

    def payload(self, org):
        return {"name": "Payments & Transfers"}


def test_lean_pmo_creates_a_value_stream(org, client_for):
    owner = org.users["executive"]
    response = client_for("pmo").post(
        reverse("value-stream-create", args=[org.portfolio.pk]),
        {
            "name": "Cards",
            "customer": "Card holders",
            "owner": owner.pk,
            "description": "All cards.",
        },
    )
    created = ValueStream.objects.get(portfolio=org.portfolio, name="Cards")
    assert response.status_code == 302
    assert response["Location"] == reverse("value-stream-detail", args=[created.pk])
    assert (created.customer, created.owner, created.description) == (
        "Card holders",
        owner,
        "All cards.",
    )


def test_lean_pmo_edits_a_value_stream(org, client_for):
    response = client_for("pmo").post(
        reverse("value-stream-edit", args=[org.value_stream.pk]),
        {"name": "Payments & Transfers", "customer": "Everyone who pays"},
    )
    assert response.status_code == 302
    org.value_stream.refresh_from_db()
    assert (org.value_stream.name, org.value_stream.customer) == (
        "Payments & Transfers",
        "Everyone who pays",
    )


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "x" * 121}, "name", "Ensure this value has at most 120 characters"),
        (
            {"name": "Payments"},
            "__all__",
            "This portfolio already has a value stream with this name.",
        ),
        ({"name": "Cards", "owner": "999999"}, "owner", "Select a valid choice."),
        ({"name": "Cards", "owner": "not-a-number"}, "owner", "Select a valid choice."),
    ],
)
def test_bad_value_stream_input_gets_a_clear_error_and_creates_nothing(
    org, client_for, payload, field, message
):
    before = ValueStream.objects.count()
    response = client_for("pmo").post(
        reverse("value-stream-create", args=[org.portfolio.pk]), payload
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    assert message.split("“")[0] in response.content.decode().replace("&#x27;", "'")
    assert ValueStream.objects.count() == before


def test_owner_must_belong_to_the_portfolio(org, client_for):
    stranger = UserFactory()
    response = client_for("pmo").post(
        reverse("value-stream-create", args=[org.portfolio.pk]),
        {"name": "Cards", "owner": stranger.pk},
    )
    assert response.status_code == 400
    assert "owner" in response.context["form"].errors
    assert not ValueStream.objects.filter(name="Cards").exists()


def test_renaming_onto_an_existing_name_is_refused_and_changes_nothing(org, client_for):
    response = client_for("pmo").post(
        reverse("value-stream-edit", args=[org.value_stream.pk]),
        {"name": "Payments", "customer": "x"},
    )
    assert response.status_code == 302  # same name on itself is fine
    second = ValueStream.objects.create(portfolio=org.portfolio, name="Cards")
    response = client_for("pmo").post(
        reverse("value-stream-edit", args=[second.pk]), {"name": "Payments", "customer": "changed"}
    )
    assert response.status_code == 400
    assert "already has a value stream with this name" in response.content.decode()
    second.refresh_from_db()
    assert (second.name, second.customer) == ("Cards", "")


def test_value_stream_page_lists_its_teams(org, client_for):
    page = client_for("member").get(reverse("value-stream-detail", args=[org.value_stream.pk]))
    assert [team.name for team in page.context["teams"]] == ["Instant Payments", "Payment Rails"]
    assert "Edit" not in page.content.decode()
