import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.access import NOBODY_BUT_ADMIN, READERS, AccessContract
from tests.factories import ProductTeamFactory, TeamMembershipFactory, ValueStreamFactory


class TestHomeAccess(AccessContract):
    url_name = "home"
    expected = {**READERS, "outsider": 200}


class TestPortfolioDetailAccess(AccessContract):
    url_name = "portfolio-detail"
    expected = READERS

    def url_kwargs(self, org):
        return {"pk": org.portfolio.pk}


class TestOtherPortfolioAccess(AccessContract):
    url_name = "portfolio-detail"
    expected = NOBODY_BUT_ADMIN

    def url_kwargs(self, org):
        return {"pk": org.other_portfolio.pk}


def test_home_lists_only_the_portfolios_a_person_belongs_to(org, client_for):
    page = client_for("member").get(reverse("home")).content.decode()
    assert "Everyday Banking" in page
    assert "Lending" not in page


def test_outsider_home_says_they_belong_to_no_portfolio(org, client_for):
    page = client_for("outsider").get(reverse("home")).content.decode()
    assert "not part of any portfolio" in page
    assert "Everyday Banking" not in page


def test_ended_seat_no_longer_opens_the_portfolio(org, client_for):
    seat = org.team.memberships.get(person=org.users["member"])
    seat.end_date = seat.start_date
    seat.save()
    response = client_for("member").get(reverse("portfolio-detail", args=[org.portfolio.pk]))
    assert response.status_code == 404


def test_portfolio_page_shows_value_streams_and_their_teams(org, client_for):
    response = client_for("executive").get(reverse("portfolio-detail", args=[org.portfolio.pk]))
    page = response.content.decode()
    for name in ("Payments", "Instant Payments", "Payment Rails"):
        assert name in page
    assert "Mortgages" not in page
    assert response.context["people_count"] == 1


@pytest.mark.parametrize(("who", "shown"), [("pmo", True), ("executive", False), ("member", False)])
def test_only_lean_pmo_is_offered_to_add_a_value_stream(org, client_for, who, shown):
    page = (
        client_for(who).get(reverse("portfolio-detail", args=[org.portfolio.pk])).content.decode()
    )
    assert ("New value stream" in page) is shown


def test_portfolio_page_query_count_does_not_grow_with_streams_teams_and_people(
    org, client_for, django_assert_max_num_queries
):
    client = client_for("executive")
    url = reverse("portfolio-detail", args=[org.portfolio.pk])
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for _ in range(6):
        stream = ValueStreamFactory(portfolio=org.portfolio)
        for team in ProductTeamFactory.create_batch(4, value_stream=stream):
            TeamMembershipFactory.create_batch(3, team=team)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)
