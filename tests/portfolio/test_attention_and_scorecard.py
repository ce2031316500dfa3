"""“Needs your attention” first on the home and portfolio pages, per role, and the value-stream
scorecard on the portfolio page: content, money, sorting, CSV and query counts."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leanpmo.models import ActualSpend, ExceptionApproval, FundingPeriod, ValueStreamBudget
from leanpmo.services.decisions import DecisionInput, decision_record
from leanpmo.services.signals import signals_evaluate
from tests.factories import ImportJobFactory, ProductTeamFactory, ValueStreamFactory
from tests.leanpmo.support import funding_for
from tests.teams.factories import KeyResultFactory, RealisationPointFactory
from valuestreams.models import DoraMetric, FlowMetric, Grain, JobStatus

NOW = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)  # inside the 2026 Q2 period


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def pending_exception(org):
    funding = funding_for(org, approved=True)
    return decision_record(
        period=funding.period,
        value_stream=org.value_stream,
        decision=DecisionInput(
            kind="exception", rationale="Regulatory deadline.", expected_outcome="Live in time."
        ),
        amount_before=Decimal("1000000"),
        amount_after=Decimal("1250000"),
        user=org.users["pmo"],
        now=NOW - dt.timedelta(days=1),
        proposal={"amount_transform": "350000"},
        base_version=1,
    )


def attention_of(client, url):
    return client.get(url).context["attention"]


# --- attention ----------------------------------------------------------------------------------


def test_an_executive_sees_the_exception_waiting_with_a_link_straight_to_the_approval(
    org, client_for, at_now
):
    decision = pending_exception(org)
    page = client_for("executive").get(reverse("portfolio-detail", args=[org.portfolio.pk]))
    items = page.context["attention"][0].items
    assert [item.kind for item in items][:1] == ["approval"]
    assert items[0].url == reverse("decision-approval", args=[decision.pk])
    assert items[0].title == "Exception for Payments"
    assert "+€250,000 for Payments" in items[0].detail
    html = page.content.decode()
    assert html.index("Needs your attention") < html.index("Value-stream scorecard")


def test_the_pmo_sees_it_waiting_for_an_executive_and_a_member_not_at_all(org, client_for, at_now):
    pending_exception(org)
    url = reverse("portfolio-detail", args=[org.portfolio.pk])
    pmo = attention_of(client_for("pmo"), url)[0].items
    assert [item.kind for item in pmo] == ["waiting_approval"]
    assert not any(
        i.kind.endswith("approval") for i in attention_of(client_for("member"), url)[0].items
    )


def test_an_answered_exception_leaves_the_list(org, client_for, at_now):
    decision = pending_exception(org)
    ExceptionApproval.objects.create(
        decision=decision, approved=False, decided_by=org.users["executive"], decided_at=NOW
    )
    url = reverse("portfolio-detail", args=[org.portfolio.pk])
    assert attention_of(client_for("executive"), url)[0].items == []
    assert "Nothing needs you right now." in client_for("executive").get(url).content.decode()


def test_reviews_overdue_breaches_and_signals_for_stewards_data_quality_and_imports_for_the_pmo(
    org, client_for, at_now
):
    funding = funding_for(org, approved=True)
    decision_record(
        period=funding.period,
        value_stream=org.value_stream,
        decision=DecisionInput(
            kind="decrease", rationale="x", expected_outcome="y", review_due_on=dt.date(2026, 4, 1)
        ),
        amount_before=Decimal(1),
        amount_after=Decimal(1),
        user=org.users["pmo"],
        now=NOW - dt.timedelta(days=60),
    )
    from valuestreams.models import MetricRun

    MetricRun.objects.create(portfolio=org.portfolio, kind="full", as_of=NOW - dt.timedelta(days=9))
    ImportJobFactory(portfolio=org.portfolio, status=JobStatus.FAILED, file_name="issues.csv")
    signals_evaluate(portfolio=org.portfolio, as_of=NOW)
    url = reverse("portfolio-detail", args=[org.portfolio.pk])
    executive = {item.kind for item in attention_of(client_for("executive"), url)[0].items}
    pmo = {item.kind for item in attention_of(client_for("pmo"), url)[0].items}
    assert "review" in executive
    assert "data" not in executive
    assert "import" not in executive
    assert {"review", "data", "import"} <= pmo


def test_a_member_sees_their_key_result_due_with_one_click_to_the_check_in(org, client_for, at_now):
    kr = KeyResultFactory(objective__team=org.team, cadence_days=14, starts_on=dt.date(2026, 3, 1))
    KeyResultFactory(objective__team=org.other_team, starts_on=dt.date(2026, 3, 1))  # not theirs
    url = reverse("portfolio-detail", args=[org.portfolio.pk])
    items = attention_of(client_for("member"), url)[0].items
    assert [(item.kind, item.label) for item in items] == [("key_result", "Stale key result")]
    assert items[0].url == (
        reverse("outcome-update-create", args=[org.team.pk]) + f"?key_result={kr.pk}"
    )
    assert items[0].detail == "Every 14 days; no check-in yet."


def test_a_key_result_checked_in_recently_needs_nobody(org, client_for, at_now):
    from tests.teams.factories import OutcomeUpdateFactory

    kr = KeyResultFactory(objective__team=org.team, cadence_days=14, starts_on=dt.date(2026, 3, 1))
    OutcomeUpdateFactory(key_result=kr, posted_at=NOW - dt.timedelta(days=3))
    page = client_for("member").get(reverse("home"))
    assert page.context["attention"][0].items == []
    assert "Nothing needs you right now." in page.content.decode()


def test_the_home_page_puts_attention_first_across_the_person_s_portfolios(org, client_for, at_now):
    pending_exception(org)
    page = client_for("executive").get(reverse("home"))
    html = page.content.decode()
    assert html.index("Needs your attention") < html.index('class="cards"')
    assert "Exception for Payments" in html
    assert f'href="{reverse("portfolio-detail", args=[org.portfolio.pk])}"' in html


# --- the scorecard ------------------------------------------------------------------------------


def monthly(org, stream, label, start, *, velocity, p85_days, efficiency, load):
    end = (start + dt.timedelta(days=32)).replace(day=1)
    common = {
        "portfolio": org.portfolio,
        "scope_kind": "value_stream",
        "scope_id": stream.pk,
        "grain": Grain.MONTH,
        "window_start": start,
        "window_end": end,
        "label": label,
    }
    FlowMetric.objects.create(
        **common,
        item_type="All",
        velocity=velocity,
        flow_time_p85_s=p85_days * 86400,
        flow_efficiency=efficiency,
        load_mean=load,
    )
    DoraMetric.objects.create(
        **common, deployment_frequency_tier="high", lead_time_tier="elite",
        change_failure_rate_tier="medium", recovery_time_tier="low",
    )  # fmt: skip


@pytest.fixture
def scored(org, at_now):
    funding = funding_for(org, approved=True)
    previous = FundingPeriod.objects.create(
        portfolio=org.portfolio, name="2026 Q1", starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 3, 31), status="closed",
    )  # fmt: skip
    ValueStreamBudget.objects.create(
        period=previous, value_stream=org.value_stream, amount_run=Decimal("800000")
    )
    ActualSpend.objects.create(
        period=funding.period, value_stream=org.value_stream, amount=Decimal("310000")
    )
    cards = ValueStreamFactory(portfolio=org.portfolio, name="Cards")
    ValueStreamBudget.objects.create(
        period=funding.period, value_stream=cards, amount_run=Decimal("200000")
    )
    april = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    march = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    monthly(org, org.value_stream, "2026-03", march, velocity=40, p85_days=10, efficiency=0.3, load=20)  # fmt: skip
    monthly(org, org.value_stream, "2026-04", april, velocity=50, p85_days=15, efficiency=0.35, load=25)  # fmt: skip
    monthly(org, cards, "2026-04", april, velocity=12, p85_days=4, efficiency=0.5, load=5)
    KeyResultFactory(objective__team=org.team, starts_on=dt.date(2026, 1, 5))  # stale
    RealisationPointFactory(metric__value_stream=org.value_stream, on=dt.date(2025, 12, 31), value=Decimal("100"))  # fmt: skip
    RealisationPointFactory(
        metric=org.value_stream.realisation_metrics.first(), on=dt.date(2026, 4, 30), value=Decimal("110")
    )  # fmt: skip
    return funding


def test_the_scorecard_sets_money_beside_flow_dora_outcomes_and_realisation(
    org, client_for, scored
):
    page = client_for("executive").get(reverse("portfolio-detail", args=[org.portfolio.pk]))
    card = page.context["scorecard"]
    assert [label.label for label in card.columns][:4] == [
        "Value stream", "Budget", "Actual", "Change vs last period",
    ]  # fmt: skip
    payments = card.frame[card.frame["value_stream"] == "Payments"].iloc[0]
    assert payments["budget"] == 1_000_000.0
    assert payments["budget_change"] == 25.0
    assert payments["velocity"] == 50
    assert payments["velocity_change"] == 25.0
    assert payments["flow_time_p85_days"] == 15.0
    assert payments["efficiency"] == 35.0
    assert payments["load_change"] == 25.0
    assert payments["lead_time_tier"] == "elite"
    assert payments["stale_share"] == 100
    assert payments["realisation_change"] == 10.0
    html = page.content.decode()
    assert "€1,000,000" in html
    assert "€310,000" in html
    assert "↑ 25 %" in html
    assert "15 days" in html
    assert reverse("budget-detail", args=[scored.budget.pk]) in html
    assert f"{reverse('signal-inbox', args=[org.portfolio.pk])}?value_stream={org.value_stream.pk}" in html  # fmt: skip


def test_a_member_sees_no_money_in_the_scorecard_nor_its_csv(org, client_for, scored):
    client = client_for("member")
    card = client.get(reverse("portfolio-detail", args=[org.portfolio.pk])).context["scorecard"]
    assert not card.show_money
    assert "Budget" not in [c.label for c in card.columns]
    html = client.get(reverse("portfolio-detail", args=[org.portfolio.pk])).content.decode()
    assert "€1,000,000" not in html
    rows = list(csv.reader(io.StringIO(client.get(reverse("scorecard-csv", args=[org.portfolio.pk])).content.decode())))  # fmt: skip
    assert not any("Budget" in header for header in rows[0])
    assert rows[0][0] == "Value stream"
    executive = client_for("executive").get(reverse("scorecard-csv", args=[org.portfolio.pk]))
    header = next(csv.reader(io.StringIO(executive.content.decode())))
    assert "Budget 2026 Q2 (EUR)" in header


def test_the_scorecard_sorts_on_the_server_and_ignores_money_sorts_without_money(
    org, client_for, scored
):
    url = reverse("portfolio-detail", args=[org.portfolio.pk])
    by_budget = client_for("executive").get(url, {"sort": "-budget"}).context["scorecard"]
    assert list(by_budget.frame["value_stream"]) == ["Payments", "Cards"]
    assert by_budget.sort == "-budget"
    ascending = client_for("executive").get(url, {"sort": "budget"}).context["scorecard"]
    assert list(ascending.frame["value_stream"]) == ["Cards", "Payments"]
    member = client_for("member").get(url, {"sort": "-budget"}).context["scorecard"]
    assert member.sort == "value_stream"
    nonsense = client_for("member").get(url, {"sort": "'; drop"}).context["scorecard"]
    assert nonsense.sort == "value_stream"
    html = client_for("executive").get(url, {"sort": "-budget"}).content.decode()
    assert 'aria-sort="descending"' in html
    assert "?sort=budget#scorecard" in html  # clicking again flips the order


# --- query counts -------------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_portfolio_page_takes_the_same_queries_with_more_streams_teams_and_signals(
    org, client_for, scored
):
    url = reverse("portfolio-detail", args=[org.portfolio.pk])
    clients = {who: client_for(who) for who in ("executive", "pmo", "member")}
    for client in clients.values():
        client.get(url)
    before = {who: _count(client, url) for who, client in clients.items()}
    for number in range(4):
        stream = ValueStreamFactory(portfolio=org.portfolio)
        ValueStreamBudget.objects.create(
            period=scored.period, value_stream=stream, amount_run=Decimal(1000)
        )
        for _ in range(2):
            team = ProductTeamFactory(value_stream=stream)
            KeyResultFactory(objective__team=team, starts_on=dt.date(2026, 1, 5))
        monthly(org, stream, "2026-04", dt.datetime(2026, 4, 1, tzinfo=dt.UTC), velocity=number, p85_days=3, efficiency=0.4, load=3)  # fmt: skip
    pending_exception(org)
    signals_evaluate(portfolio=org.portfolio, as_of=timezone.now())
    after = {who: _count(client, url) for who, client in clients.items()}
    assert after == before


def test_the_home_page_takes_the_same_queries_with_more_portfolios_and_signals(
    org, client_for, at_now
):
    from tests.factories import PortfolioFactory, PortfolioMembershipFactory

    client = client_for("executive")
    client.get(reverse("home"))
    before = _count(client, reverse("home"))
    for _ in range(3):
        portfolio = PortfolioFactory()
        PortfolioMembershipFactory(portfolio=portfolio, user=org.users["executive"])
        stream = ValueStreamFactory(portfolio=portfolio)
        team = ProductTeamFactory(value_stream=stream)
        KeyResultFactory(objective__team=team, starts_on=dt.date(2026, 1, 5))
        signals_evaluate(portfolio=portfolio, as_of=timezone.now())
    assert _count(client, reverse("home")) == before


def test_the_home_page_keeps_the_list_short_and_the_portfolio_page_shows_everything(
    org, client_for, at_now
):
    pending_exception(org)
    for _ in range(6):
        stale = ProductTeamFactory(value_stream=org.value_stream)
        KeyResultFactory(objective__team=stale, starts_on=dt.date(2026, 1, 5))
    signals_evaluate(portfolio=org.portfolio, as_of=NOW)
    home = client_for("executive").get(reverse("home"))
    group = home.context["attention"][0]
    assert len(group.items) == 5
    assert group.items[0].kind == "approval"  # the most pressing stays
    assert group.more_items == 1
    assert "1 more on the Everyday Banking page" in home.content.decode()
    page = client_for("executive").get(reverse("portfolio-detail", args=[org.portfolio.pk]))
    assert len(page.context["attention"][0].items) == 6  # the exception and 5 stale teams
