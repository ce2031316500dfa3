"""Who gets what on the Lean PMO pages, and what the decision pages show."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import ProgrammingError, transaction
from django.urls import reverse

from leanpmo.models import DecisionReview, FundingDecision
from leanpmo.selectors.decisions import decision_log, decision_quality, evidence_snapshot
from leanpmo.services.decisions import DecisionInput, decision_record, review_record
from tests.access import EDITORS, AccessContract
from tests.leanpmo.support import NOW, funding_for
from valuestreams.models import DoraMetric, FlowMetric, MetricRun

MONEY_READERS = {
    "anonymous": 302,
    "outsider": 404,
    "member": 403,
    "executive": 200,
    "pmo": 200,
    "admin": 200,
}


class PortfolioPage(AccessContract):
    expected = MONEY_READERS

    def url_kwargs(self, org):
        funding_for(org)
        return {"pk": org.portfolio.pk}


class TestFundingPeriodsAccess(PortfolioPage):
    url_name = "funding-periods"


class TestGuardrailsAccess(PortfolioPage):
    url_name = "guardrail-list"


class TestDecisionLogAccess(PortfolioPage):
    url_name = "decision-log"


class TestInvestmentAccess(PortfolioPage):
    url_name = "investment-mix"


class TestChartCsvAccess(AccessContract):
    url_name = "investment-chart-csv"
    expected = MONEY_READERS

    def url_kwargs(self, org):
        funding_for(org)
        return {"pk": org.portfolio.pk, "chart": "horizons"}


class TestExportAccess(AccessContract):
    url_name = "funding-export"
    expected = MONEY_READERS

    def url_kwargs(self, org):
        funding_for(org)
        return {"pk": org.portfolio.pk, "what": "budgets", "fmt": "xlsx"}


class TestEditorAccess(AccessContract):
    url_name = "funding-editor"
    expected = MONEY_READERS

    def url_kwargs(self, org):
        return {"pk": org.portfolio.pk, "period_pk": funding_for(org).period.pk}


class TestEditorPostAccess(TestEditorAccess):
    method = "post"
    expected = {**EDITORS, "pmo": 400, "admin": 400}  # an empty grid post is refused


class TestPreviewAccess(TestEditorAccess):
    url_name = "funding-preview"
    method = "post"
    expected = EDITORS


class TestPeriodStatusAccess(TestEditorAccess):
    url_name = "period-status"
    method = "post"
    expected = {**EDITORS, "pmo": 302, "admin": 302}

    def payload(self, org):
        return {"status": "approved", "confirm": "on"}


class TestPeriodConfirmationAccess(TestEditorAccess):
    url_name = "period-status"
    expected = EDITORS  # the confirmation page


class TestImportAccess(TestEditorAccess):
    url_name = "budget-import"
    expected = EDITORS


class TestBudgetDetailAccess(AccessContract):
    url_name = "budget-detail"
    expected = MONEY_READERS

    def url_kwargs(self, org):
        return {"pk": funding_for(org).budget.pk}


class TestDecisionDetailAccess(AccessContract):
    url_name = "decision-detail"
    expected = MONEY_READERS

    def url_kwargs(self, org):
        return {"pk": funding_for(org).decision.pk}


class TestDecisionReviewAccess(TestDecisionDetailAccess):
    url_name = "decision-review"
    expected = EDITORS


class TestDecisionApprovalAccess(TestDecisionDetailAccess):
    url_name = "decision-approval"
    expected = {**MONEY_READERS, "pmo": 403}


def test_members_see_the_investment_page_when_the_portfolio_shares_its_money(org, client_for):
    funding_for(org)
    org.portfolio.funding_transparency = True
    org.portfolio.save()
    assert (
        client_for("member").get(reverse("investment-mix", args=[org.portfolio.pk])).status_code
        == 200
    )
    assert (
        client_for("member")
        .get(reverse("funding-editor", args=[org.portfolio.pk, funding_for(org).period.pk]))
        .status_code
        == 200
    )
    assert (
        client_for("member")
        .post(reverse("funding-preview", args=[org.portfolio.pk, funding_for(org).period.pk]))
        .status_code
        == 403
    )


def test_portfolio_page_links_to_the_investment_mix_only_for_people_who_see_money(org, client_for):
    url = reverse("portfolio-detail", args=[org.portfolio.pk])
    link = reverse("investment-mix", args=[org.portfolio.pk]).encode()
    assert link in client_for("executive").get(url).content
    assert link not in client_for("member").get(url).content


def test_decisions_are_append_only_in_the_database(org):
    decision = funding_for(org).decision
    with pytest.raises(ProgrammingError), transaction.atomic():
        FundingDecision.objects.filter(pk=decision.pk).update(rationale="rewritten")
    with pytest.raises(ProgrammingError), transaction.atomic():
        decision.delete()
    assert FundingDecision.objects.get(pk=decision.pk).rationale == "Healthy flow."


def test_a_correction_supersedes_and_cannot_be_superseded_twice(org):
    funding = funding_for(org)
    args = {
        "period": funding.period,
        "value_stream": org.value_stream,
        "decision": DecisionInput(kind="decrease", rationale="Fix.", expected_outcome="Less."),
        "amount_before": Decimal(1),
        "amount_after": Decimal(1),
        "user": org.users["pmo"],
        "now": NOW,
    }
    correction = decision_record(**args, supersedes=funding.decision)
    assert FundingDecision.objects.get(pk=funding.decision.pk).superseded_by == correction
    with pytest.raises(Exception, match="already corrected"):
        decision_record(**args, supersedes=funding.decision)


def _metrics(org):
    window = {
        "portfolio": org.portfolio,
        "scope_kind": "value_stream",
        "scope_id": org.value_stream.pk,
        "grain": "month",
    }
    for month, velocity in ((3, 7), (4, 11)):
        start = dt.datetime(2026, month, 1, tzinfo=dt.UTC)
        end = dt.datetime(2026, month + 1, 1, tzinfo=dt.UTC)
        for item_type, share in (("All", None), ("Feature", 0.8), ("Debt", 0.2)):
            FlowMetric.objects.create(
                **window, window_start=start, window_end=end, label=f"2026-0{month}",
                item_type=item_type, velocity=velocity, flow_time_p85_s=86400 * 9.5, share=share,
            )  # fmt: skip
    DoraMetric.objects.create(
        **window, window_start=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
        window_end=dt.datetime(2026, 5, 1, tzinfo=dt.UTC), label="2026-04", deployments=9,
        change_failure_rate=0.11, change_failure_rate_tier="medium",
    )  # fmt: skip
    MetricRun.objects.create(
        portfolio=org.portfolio, kind="full", as_of=NOW, caveats={"truncated_histories": 2}
    )


def test_evidence_is_frozen_from_the_latest_month_of_precomputed_metrics(org):
    _metrics(org)
    evidence = evidence_snapshot(org.value_stream)
    assert evidence["window"] == "2026-04"
    assert evidence["flow"]["All"]["velocity"] == 11
    assert evidence["flow"]["Debt"]["share"] == 0.2
    assert evidence["flow"]["All"]["flow_time_p85_days"] == 9.5
    assert evidence["dora"]["deployments"] == 9
    assert evidence["caveats"] == {"truncated_histories": 2}
    decision = decision_record(
        period=funding_for(org).period,
        value_stream=org.value_stream,
        decision=DecisionInput(kind="increase", rationale="r", expected_outcome="e"),
        amount_before=Decimal(1),
        amount_after=Decimal(2),
        user=org.users["pmo"],
        now=NOW,
    )
    FlowMetric.objects.filter(scope_id=org.value_stream.pk).update(velocity=99)
    decision.refresh_from_db()
    assert decision.evidence["flow"]["All"]["velocity"] == 11  # frozen
    assert decision.has_evidence


def test_decision_quality_counts_evidence_timely_reviews_and_what_held(org):
    funding = funding_for(org)
    _metrics(org)
    pmo = org.users["pmo"]
    made = []
    for due in (dt.date(2026, 6, 1), dt.date(2026, 6, 10), dt.date(2026, 8, 1)):
        made.append(
            decision_record(
                period=funding.period,
                value_stream=org.value_stream,
                user=pmo,
                now=NOW,
                decision=DecisionInput(
                    kind="increase", rationale="r", expected_outcome="e", review_due_on=due
                ),
                amount_before=Decimal(1),
                amount_after=Decimal(2),
            )
        )
    at = lambda day: NOW.replace(year=2026, month=day.month, day=day.day)  # noqa: E731
    review_record(
        decision=made[0], outcome="held", notes="", user=pmo, now=at(dt.date(2026, 5, 30))
    )
    review_record(
        decision=made[1], outcome="did_not_hold", notes="", user=pmo, now=at(dt.date(2026, 6, 20))
    )
    quality = decision_quality(list(decision_log(org.portfolio)), today=dt.date(2026, 7, 1))
    # the fixture's decision (no metrics then, due 2026-08-02) and three with evidence
    assert quality.decisions == 4
    assert quality.with_evidence == 0.75
    assert (quality.due, quality.reviewed_in_time) == (2, 1)
    assert quality.reviewed_on_time == 0.5
    assert quality.held == 0.5
    assert DecisionReview.objects.count() == 2


@time_machine.travel(dt.datetime(2026, 7, 1, 12, tzinfo=dt.UTC))
def test_decision_log_lists_reviews_due_with_overdue_ones(org, client_for):
    funding = funding_for(org)
    decision_record(
        period=funding.period, value_stream=org.value_stream, user=org.users["pmo"], now=NOW,
        decision=DecisionInput(kind="stop", rationale="r", expected_outcome="e", review_due_on=dt.date(2020, 1, 1)),
        amount_before=Decimal(1), amount_after=Decimal(0),
    )  # fmt: skip
    response = client_for("executive").get(reverse("decision-log", args=[org.portfolio.pk]))
    assert [d.kind for d in response.context["due"]] == ["stop"]
    assert b"overdue" in response.content


def test_lean_pmo_reviews_a_decision_beside_its_evidence(org, client_for):
    decision = funding_for(org).decision
    response = client_for("pmo").post(
        reverse("decision-review", args=[decision.pk]), {"outcome": "partly", "notes": "Half."}
    )
    assert response.status_code == 302
    assert DecisionReview.objects.get(decision=decision).outcome == "partly"
    bad = client_for("pmo").post(reverse("decision-review", args=[decision.pk]), {"outcome": "meh"})
    assert bad.status_code == 400
    assert DecisionReview.objects.count() == 1
