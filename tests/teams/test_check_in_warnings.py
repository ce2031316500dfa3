"""The check-in form shows what a value is checked against, warns on implausible values and asks the
member to confirm; the API saves and answers with the warnings; a member's home page leads to
their team and its check-ins due."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from teams.models import KeyResult, OutcomeUpdate
from tests.factories import TeamMembershipFactory
from tests.teams.factories import KeyResultFactory, OutcomeUpdateFactory

NOW = dt.datetime(2026, 6, 10, 10, tzinfo=dt.UTC)
pytestmark = pytest.mark.usefixtures("frozen_now")


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def key_result(org):
    """Payments settled within 10 s: 91 → 99 % from 1 Jan 2026; last check-in 94.5 % on 1 Jun."""
    kr = KeyResultFactory(
        objective__team=org.team,
        metric="Payments settled within 10 seconds",
        unit="%",
        baseline=Decimal(91),
        target=Decimal(99),
        starts_on=dt.date(2026, 1, 1),
        cadence_days=7,
    )
    OutcomeUpdateFactory(
        key_result=kr,
        value=Decimal("94.5"),
        posted_by=org.users["member"],
        posted_at=dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC),
    )
    return kr


def post(client, org, key_result, **fields):
    data = {
        "key_result": key_result.pk,
        "value": "95",
        "confidence": "7",
        "status": "on_track",
        "learned": "",
        "blockers": "",
        **fields,
    }
    return client.post(reverse("outcome-update-create", args=[org.team.pk]), data)


def test_the_form_shows_unit_baseline_target_direction_and_last_value(org, client_for, key_result):
    for url in (
        reverse("team-detail", args=[org.team.pk]),
        reverse("outcome-update-create", args=[org.team.pk]) + f"?key_result={key_result.pk}",
    ):
        page = client_for("member").get(url).content.decode()
        assert "Payments settled within 10 seconds" in page
        assert "Last 94.5 % on 1 Jun 2026" in page
        assert "baseline 91 % → target 99 % (increase)" in page
        assert "check-in every 7 days" in page
        assert 'data-unit="%"' in page


def test_the_unit_follows_the_key_result_picked(org, client_for, key_result):
    url = reverse("outcome-update-create", args=[org.team.pk])
    page = client_for("member").get(url, {"key_result": key_result.pk})
    assert page.context["form"].selected_unit == "%"
    assert '<span class="unit" data-unit-of="id_value">%</span>' in page.content.decode()


def test_a_plausible_check_in_is_posted_at_once(org, client_for, key_result):
    response = post(client_for("member"), org, key_result, value="95.2")
    assert response.status_code == 302
    assert key_result.updates.count() == 2


def test_an_implausible_jump_asks_to_confirm_and_saves_only_then(org, client_for, key_result):
    client = client_for("member")
    asked = post(client, org, key_result, value="945", status="at_risk")
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "Please look again before posting" in page
    assert "945 % is 850.5 % away from the last check-in (94.5 % on 1 Jun 2026)" in page
    assert 'name="confirm"' in page
    assert "autofocus" in page.split('name="confirm"')[1].split(">")[0]
    assert key_result.updates.count() == 1
    # fields keep what was typed
    assert asked.context["form"]["value"].value() == "945"
    confirmed = post(
        client,
        org,
        key_result,
        value="945",
        status="at_risk",
        confirm=asked.context["warnings_digest"],
    )
    assert confirmed.status_code == 302
    assert key_result.updates.order_by("-pk").first().value == Decimal(945)


def test_a_confirmation_covers_only_the_warnings_it_was_shown(org, client_for, key_result):
    client = client_for("member")
    digest = post(client, org, key_result, value="945", status="at_risk").context["warnings_digest"]
    again = post(client, org, key_result, value="9450", status="at_risk", confirm=digest)
    assert again.status_code == 200
    assert "9,450 %" in again.content.decode()
    assert key_result.updates.count() == 1
    assert post(client, org, key_result, value="946", confirm="whatever").status_code == 200


def test_a_status_that_contradicts_the_value_is_warned_about(org, client_for, key_result):
    client = client_for("member")
    met = post(client, org, key_result, value="99.2", status="off_track").content.decode()
    assert "You say off track, but 99.2 % already meets the target of 99 %." in met
    behind = post(client, org, key_result, value="91.5", status="on_track").content.decode()
    assert "You say on track, but 91.5 % has come 6 % of the way" in behind
    assert key_result.updates.count() == 1


def test_a_refusal_comes_before_any_question_about_warnings(org, client_for, key_result):
    wrong = key_result.updates.get()
    client = client_for("member")
    assert post(client, org, key_result, value="95", corrects=wrong.pk).status_code == 302
    refused = post(client, org, key_result, value="945", status="at_risk", corrects=wrong.pk)
    assert refused.status_code == 400
    assert "already been corrected" in refused.content.decode()
    assert "Please look again" not in refused.content.decode()


def test_a_correction_compares_with_the_check_in_before_the_one_it_corrects(
    org, client_for, key_result
):
    typo = OutcomeUpdateFactory(
        key_result=key_result,
        value=Decimal(955),
        posted_by=org.users["member"],
        posted_at=dt.datetime(2026, 6, 8, 9, tzinfo=dt.UTC),
    )
    client = client_for("member")
    form = client.get(reverse("outcome-update-create", args=[org.team.pk]), {"corrects": typo.pk})
    initial = form.context["form"].initial
    assert (initial["key_result"], initial["value"], initial["status"]) == (
        key_result.pk,
        "955",
        "on_track",
    )
    assert "You are correcting the check-in of 8 Jun 2026" in form.content.decode()
    # 95.5 against the 94.5 before the typo: plausible, posted at once
    response = post(client, org, key_result, value="95.5", corrects=typo.pk)
    assert response.status_code == 302
    assert OutcomeUpdate.objects.get(corrects=typo).value == Decimal("95.5")


def test_a_correction_of_another_teams_check_in_is_not_prefilled(org, client_for, key_result):
    other = OutcomeUpdateFactory(key_result=KeyResultFactory(objective__team=org.other_team))
    form = client_for("member").get(
        reverse("outcome-update-create", args=[org.team.pk]), {"corrects": other.pk}
    )
    assert form.context["corrected"] is None
    assert "value" not in form.context["form"].initial


def test_errors_are_summarised_linked_and_tied_to_their_inputs(org, client_for, key_result):
    response = post(client_for("member"), org, key_result, value="", confidence="11")
    assert response.status_code == 400
    page = response.content.decode()
    assert '<a href="#id_value">Current value</a>' in page
    assert '<a href="#id_confidence">Confidence (0–10)</a>' in page
    assert 'aria-describedby="id_value_helptext id_value_error"' in page
    assert 'id="id_value_error"' in page
    assert 'id="id_value_helptext"' in page
    assert 'aria-invalid="true"' in page
    # choices are fieldsets with a legend; the first error gets the focus
    assert "<legend>Key result" in page
    assert "<legend>Status" in page
    value_input = page.split('id="id_value"')[0].rsplit("<input", 1)[1]
    assert "autofocus" in value_input


def test_closed_key_results_are_not_offered(org, client_for, key_result):
    closed = KeyResultFactory(objective=key_result.objective, metric="Uptime", closed=True)
    page = client_for("member").get(reverse("outcome-update-create", args=[org.team.pk]))
    assert f'value="{closed.pk}"' not in page.content.decode()
    assert f'value="{key_result.pk}"' in page.content.decode()


def test_the_check_in_page_query_count_does_not_grow_with_check_ins(org, client_for, key_result):
    client = client_for("member")
    url = reverse("outcome-update-create", args=[org.team.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"key_result": key_result.pk})
    for day in range(30):
        OutcomeUpdateFactory(
            key_result=key_result,
            posted_by=org.users["member"],
            posted_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC) + dt.timedelta(days=day),
        )
    KeyResultFactory.create_batch(3, objective=key_result.objective)
    with CaptureQueriesContext(connection) as many:
        client.get(url, {"key_result": key_result.pk})
    assert len(many.captured_queries) == len(few.captured_queries)


# --- the API -----------------------------------------------------------------------------------


def post_api(client, **body):
    return client.post(reverse("api:outcome-update-list"), body, content_type="application/json")


def test_the_api_saves_an_implausible_check_in_and_answers_with_the_warnings(
    org, client_for, key_result
):
    response = post_api(
        client_for("member"),
        key_result=key_result.pk,
        value="945",
        confidence=5,
        status="off_track",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [w["code"] for w in body["warnings"]] == ["jump", "off_track_met"]
    assert "94.5 % on 1 Jun 2026" in body["warnings"][0]["message"]
    assert OutcomeUpdate.objects.filter(pk=body["id"], value=945).exists()
    # its correction is compared with the check-in before it (94.5 %): nothing to warn about
    plain = post_api(
        client_for("member"),
        key_result=key_result.pk,
        value="95",
        confidence=7,
        status="at_risk",
        corrects=body["id"],
    )
    assert plain.status_code == 201
    assert plain.json()["warnings"] == []
    read = client_for("member").get(reverse("api:outcome-update-detail", args=[body["id"]]))
    assert "warnings" not in read.json()


def test_the_schema_documents_the_check_in_warnings(client_for):
    schema = client_for("member").get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    created = schema["paths"]["/api/v1/outcome-updates/"]["post"]["responses"]["201"]
    ref = created["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "warnings" in schema["components"]["schemas"][ref]["properties"]


# --- the member's home page --------------------------------------------------------------------


def test_a_members_home_page_leads_to_their_team_and_its_check_ins_due(org, client_for, key_result):
    fresh = KeyResultFactory(
        objective=key_result.objective, metric="Failed payments", starts_on=dt.date(2026, 1, 1)
    )
    OutcomeUpdateFactory(key_result=fresh, posted_by=org.users["member"], posted_at=NOW)
    KeyResult.objects.filter(pk=fresh.pk).update(cadence_days=14)
    page = client_for("member").get(reverse("home"))
    (entry,) = page.context["your_teams"]
    assert entry.team == org.team
    assert [row.key_result for row in entry.due] == [key_result]  # last 1 Jun, every 7 days
    assert entry.due[0].due_on == dt.date(2026, 6, 8)
    text = page.content.decode()
    assert "Your team</h2>" in text
    assert f'href="/teams/{org.team.pk}/"' in text
    assert "1 check-in due" in text
    assert f"/teams/{org.team.pk}/updates/new/?key_result={key_result.pk}" in text


def test_people_without_a_seat_see_no_team_block(org, client_for, key_result):
    for who in ("executive", "pmo", "outsider"):
        page = client_for(who).get(reverse("home"))
        assert page.context["your_teams"] == []
        assert "your-teams-heading" not in page.content.decode()


def test_a_member_of_two_teams_sees_both(org, client_for, key_result):
    TeamMembershipFactory(team=org.other_team, person=org.users["member"], allocation_percent=20)
    page = client_for("member").get(reverse("home"))
    assert [entry.team for entry in page.context["your_teams"]] == [org.team, org.other_team]
    assert "Your teams</h2>" in page.content.decode()
    assert "The team has no open key results." in page.content.decode()


def test_the_home_page_query_count_does_not_grow_with_teams_or_check_ins(
    org, client_for, key_result
):
    client = client_for("member")
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("home"))
    TeamMembershipFactory(team=org.other_team, person=org.users["member"], allocation_percent=20)
    for number in range(6):
        kr = KeyResultFactory(objective__team=org.other_team)
        OutcomeUpdateFactory(
            key_result=kr, posted_by=org.users["member"], posted_at=NOW - dt.timedelta(days=number)
        )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("home"))
    assert len(many.captured_queries) == len(few.captured_queries)


# --- the outcomes page ties each theme to its money ------------------------------------------


def test_the_outcomes_page_shows_each_themes_money_to_those_who_see_money(org, client_for):
    from leanpmo.services.budgets import budget_create
    from leanpmo.services.periods import period_create
    from leanpmo.services.structure import theme_create
    from teams.models import Objective

    digital = theme_create(portfolio=org.portfolio, name="Digital first", position=0)
    trust = theme_create(portfolio=org.portfolio, name="Trust & safety", position=1)
    Objective.objects.create(
        portfolio=org.portfolio,
        level=Objective.Level.PORTFOLIO,
        title="Become the bank customers use every day",
        strategic_theme=digital,
    )
    period = period_create(
        portfolio=org.portfolio,
        name="2026 Q2",
        starts_on=dt.date(2026, 4, 1),
        ends_on=dt.date(2026, 6, 30),
    )
    for stream, split in (
        (org.value_stream, {str(digital.pk): 60, str(trust.pk): 40}),
        (
            type(org.value_stream).objects.create(portfolio=org.portfolio, name="Cards"),
            {str(trust.pk): 100},
        ),
    ):
        budget_create(
            period=period,
            value_stream=stream,
            amount_run=Decimal(600000),
            amount_grow=Decimal(300000),
            amount_transform=Decimal(100000),
            alloc_feature=60,
            alloc_defect=15,
            alloc_risk=10,
            alloc_debt=15,
            theme_split=split,
        )
    url = reverse("portfolio-outcomes", args=[org.portfolio.pk])
    page = client_for("executive").get(url)
    money = {g.theme.name: g.theme.money for g in page.context["tree"].themes if g.theme}
    assert money["Digital first"].amount == Decimal(600000)
    assert money["Trust & safety"].amount == Decimal(1400000)
    text = page.content.decode()
    assert "2026 Q2: <strong>600,000 EUR</strong>, 30 % of the portfolio" in text
    assert "2026 Q2: <strong>1,400,000 EUR</strong>, 70 % of the portfolio" in text
    assert f"/portfolios/{org.portfolio.pk}/investment/?period={period.pk}" in text
    member = client_for("member").get(url).content.decode()
    assert "EUR" not in member
    assert "Digital first" not in member
