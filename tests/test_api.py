import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.access import API_NOBODY_BUT_ADMIN, API_READERS, AccessContract
from tests.factories import (
    PortfolioMembershipFactory,
    ProductTeamFactory,
    TeamMembershipFactory,
    ValueStreamFactory,
)


class TestPortfolioListAccess(AccessContract):
    url_name = "api:portfolio-list"
    expected = {**API_READERS, "outsider": 200}


class TestPortfolioReadAccess(AccessContract):
    url_name = "api:portfolio-detail"
    expected = API_READERS

    def url_kwargs(self, org):
        return {"pk": org.portfolio.pk}


class TestForeignPortfolioReadAccess(AccessContract):
    url_name = "api:portfolio-detail"
    expected = API_NOBODY_BUT_ADMIN

    def url_kwargs(self, org):
        return {"pk": org.other_portfolio.pk}


class TestValueStreamReadAccess(AccessContract):
    url_name = "api:value-stream-detail"
    expected = API_READERS

    def url_kwargs(self, org):
        return {"pk": org.value_stream.pk}


class TestTeamReadAccess(AccessContract):
    url_name = "api:team-detail"
    expected = API_READERS

    def url_kwargs(self, org):
        return {"pk": org.team.pk}


class TestForeignTeamReadAccess(AccessContract):
    url_name = "api:team-detail"
    expected = API_NOBODY_BUT_ADMIN

    def url_kwargs(self, org):
        return {"pk": org.foreign_team.pk}


@pytest.mark.parametrize(
    ("who", "portfolios"),
    [
        ("outsider", []),
        ("member", ["Everyday Banking"]),
        ("executive", ["Everyday Banking"]),
        ("admin", ["Everyday Banking", "Lending"]),
    ],
)
def test_portfolio_list_holds_exactly_what_the_person_may_see(org, client_for, who, portfolios):
    body = client_for(who).get(reverse("api:portfolio-list")).json()
    assert [row["name"] for row in body["results"]] == portfolios
    assert body["count"] == len(portfolios)


def test_api_is_read_only(org, client_for):
    response = client_for("pmo").post(
        reverse("api:value-stream-list"), {"name": "x", "portfolio": 1}
    )
    assert response.status_code == 405


def test_value_streams_filter_by_portfolio(org, client_for):
    client = client_for("admin")
    body = client.get(
        reverse("api:value-stream-list"), {"portfolio": org.other_portfolio.pk}
    ).json()
    assert [row["name"] for row in body["results"]] == ["Mortgages"]


def test_teams_carry_their_members_and_filter_by_portfolio(org, client_for):
    body = (
        client_for("executive")
        .get(reverse("api:team-list"), {"portfolio": org.portfolio.pk})
        .json()
    )
    teams = {row["name"]: row for row in body["results"]}
    assert set(teams) == {"Instant Payments", "Payment Rails"}
    assert [m["allocation_percent"] for m in teams["Instant Payments"]["members"]] == [100]
    assert teams["Instant Payments"]["portfolio"] == org.portfolio.pk


@pytest.mark.parametrize(
    ("who", "transparency", "cost"),
    [("executive", False, "120000.00"), ("member", False, None), ("member", True, "120000.00")],
)
def test_team_cost_in_the_api_follows_the_money_rule(org, client_for, who, transparency, cost):
    org.portfolio.funding_transparency = transparency
    org.portfolio.save()
    body = client_for(who).get(reverse("api:team-detail", args=[org.team.pk])).json()
    assert body["loaded_cost_per_fte"] == cost


def test_unknown_filter_value_gets_a_clear_error(org, client_for):
    response = client_for("admin").get(reverse("api:team-list"), {"topology": "matrix"})
    assert response.status_code == 400
    assert "topology" in response.json()


@pytest.mark.parametrize("name", ["api:portfolio-list", "api:value-stream-list", "api:team-list"])
def test_list_query_count_does_not_grow_with_rows(org, client_for, name):
    client = client_for("executive")
    client.get(reverse(name))
    with CaptureQueriesContext(connection) as small:
        before = client.get(reverse(name)).json()["count"]
    for _ in range(4):
        portfolio = PortfolioMembershipFactory(user=org.users["executive"]).portfolio
        stream = ValueStreamFactory(portfolio=portfolio)
        for team in ProductTeamFactory.create_batch(3, value_stream=stream):
            TeamMembershipFactory.create_batch(2, team=team)
    with CaptureQueriesContext(connection) as large:
        response = client.get(reverse(name))
    assert response.json()["count"] > before
    assert len(large.captured_queries) == len(small.captured_queries)


def test_openapi_schema_documents_the_endpoints(client):
    response = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/portfolios/", "/api/v1/value-streams/{id}/", "/api/v1/teams/"):
        assert path in paths


def test_interactive_docs_are_served_from_our_own_static_files(client):
    page = client.get(reverse("api-docs")).content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower()


def test_openapi_schema_validates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    assert "/api/v1/ingest/work-items/" in (tmp_path / "schema.yml").read_text()


def test_a_teams_hidden_cost_is_null_and_documented_so(org, client_for):
    body = client_for("member").get(reverse("api:team-detail", args=[org.team.pk])).json()
    assert body["loaded_cost_per_fte"] is None
    schema = client_for("member").get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    cost = schema["components"]["schemas"]["ProductTeam"]["properties"]["loaded_cost_per_fte"]
    assert cost["nullable"] is True
