"""The decision pages an executive reads: the approval page names the breached guardrail, its limit
and value in words with the money before and after, who asks and why; the decision and review pages
set the expected outcome beside what happened, comparing whole months with whole months."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from leanpmo.models import ExceptionApproval, FundingDecision
from leanpmo.services.budgets import budget_change
from leanpmo.services.decisions import DecisionInput, decision_record
from tests.leanpmo.support import NOW, funding_for
from valuestreams.models import DoraMetric, FlowMetric

UTC = dt.UTC


@pytest.fixture
def exception(org):
    """An exception asking to raise Payments' Run money from 600,000 to 1,200,000 EUR (Run then
    75 % of the money, above the 70 % guardrail), waiting for an executive."""
    funding = funding_for(org, approved=True)
    result = budget_change(
        budget=funding.budget,
        expected_version=funding.budget.version,
        user=org.users["pmo"],
        changes={"amount_run": Decimal("1200000")},
        decision=DecisionInput(
            kind="exception",
            rationale="The instant-payments regulation lands this quarter.",
            expected_outcome="SEPA Instant live for every customer by 30 June.",
            options_considered="Delay the regulation work; borrow a team from Cards.",
        ),
        now=NOW,
    )
    assert result.pending
    return result.decision


def test_the_approval_page_names_the_breach_the_money_and_who_asks_why(org, client_for, exception):
    response = client_for("executive").get(reverse("decision-approval", args=[exception.pk]))
    assert response.status_code == 200
    page = response.content.decode().replace("\xa0", " ")  # figures keep their unit on one line
    assert "Run would be 75 % of the money; the limit is 70 %." in page
    assert "Guardrail: Run between 40 % and 70 % of the money." in page
    check = response.context["exception"]
    assert [(c.label, c.before, c.after) for c in check.changes] == [
        ("Run", "600,000", "1,200,000")
    ]
    assert (check.before, check.after) == (Decimal("1000000.00"), Decimal("1600000.00"))
    assert "+600,000 · +60 %" in page
    assert "Asked by <strong>" + org.users["pmo"].get_full_name() + "</strong>" in page
    assert "The instant-payments regulation lands this quarter." in page
    assert "Delay the regulation work" in page
    assert "amount_run" not in page
    assert "1200000" not in page
    assert 'name="approved"' in page
    assert "Answer" in page


def test_approving_from_the_page_applies_the_change_and_says_so(org, client_for, exception):
    url = reverse("decision-approval", args=[exception.pk])
    response = client_for("executive").post(
        url, {"approved": "yes", "note": "Deadline."}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("decision-detail", args=[exception.pk])
    assert "Exception approved: the change is applied." in response.content.decode()
    assert ExceptionApproval.objects.get(decision=exception).approved
    again = client_for("executive").get(url).content.decode()
    assert "Already answered:" in again
    assert 'name="approved"' not in again


def test_an_answer_without_a_choice_changes_nothing(org, client_for, exception):
    response = client_for("executive").post(reverse("decision-approval", args=[exception.pk]), {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not ExceptionApproval.objects.filter(decision=exception).exists()


def test_the_decision_page_leads_the_executive_to_the_approval(org, client_for, exception):
    page = client_for("executive").get(reverse("decision-detail", args=[exception.pk]))
    content = page.content.decode().replace("\xa0", " ")
    assert f'href="{reverse("decision-approval", args=[exception.pk])}"' in content
    assert "Review and answer" in content
    assert "Run would be 75 % of the money; the limit is 70 %." in content
    pmo = client_for("pmo").get(reverse("decision-detail", args=[exception.pk])).content.decode()
    assert "Review and answer" not in pmo  # the Lean PMO does not answer its own exception
    assert "Nothing changes until an executive answers it." in pmo


def _month(org, label, start, end, *, velocity, p85_days, deployments):
    common = {
        "portfolio": org.portfolio, "scope_kind": "value_stream", "scope_id": org.value_stream.pk,
        "grain": "month", "window_start": start, "window_end": end, "label": label,
    }  # fmt: skip
    FlowMetric.objects.create(
        **common, item_type="All", velocity=velocity, flow_time_p85_s=p85_days * 86400,
        flow_efficiency=0.3, load_mean=12.0,
    )  # fmt: skip
    DoraMetric.objects.create(
        **common, deployments=deployments, median_lead_time_minutes=3493.0,
        lead_time_tier="high", change_failure_rate=0.242, change_failure_rate_tier="low",
    )  # fmt: skip


def test_expected_beside_what_happened_compares_whole_months_never_the_current_few_days(
    org, client_for
):
    funding = funding_for(org)
    _month(org, "2026-04", dt.datetime(2026, 4, 1, tzinfo=UTC), dt.datetime(2026, 5, 1, tzinfo=UTC),
           velocity=30, p85_days=10, deployments=20)  # fmt: skip
    decision = decision_record(
        period=funding.period, value_stream=org.value_stream,
        decision=DecisionInput(kind="increase", rationale="More money for instant payments.",
                               expected_outcome="Velocity up 20 % by the end of June."),
        amount_before=Decimal("1000000"), amount_after=Decimal("1100000"),
        user=org.users["pmo"], now=NOW,
    )  # fmt: skip
    _month(org, "2026-05", dt.datetime(2026, 5, 1, tzinfo=UTC), dt.datetime(2026, 6, 1, tzinfo=UTC),
           velocity=36, p85_days=8, deployments=1)  # fmt: skip
    # five days of June: a month that has not ended, never set beside a whole one
    _month(org, "2026-06", dt.datetime(2026, 6, 1, tzinfo=UTC), dt.datetime(2026, 7, 1, tzinfo=UTC),
           velocity=4, p85_days=30, deployments=1)  # fmt: skip
    with time_machine.travel(dt.datetime(2026, 6, 5, 12, tzinfo=UTC), tick=False):
        response = client_for("executive").get(reverse("decision-detail", args=[decision.pk]))
        review = client_for("pmo").get(reverse("decision-review", args=[decision.pk]))
    comparison = response.context["comparison"]
    assert (comparison.then_window, comparison.now_window) == ("April 2026", "May 2026")
    rows = {row.measure: row for row in comparison.rows}
    assert (rows["Items finished"].then, rows["Items finished"].now) == ("30 items", "36 items")
    assert (rows["Items finished"].change, rows["Items finished"].trend) == ("+6", "better")
    assert rows["Deployments"].now == "1 deployment"  # not "1 deployments"
    assert rows["Lead time for changes (median)"].then == "2.4 days (high)"  # not "3493.0 min"
    assert rows["Change failure rate"].then == "24.2 % (low)"  # not "0.242"
    page = response.content.decode().replace("\xa0", " ")
    assert "What was expected" in page
    assert "Velocity up 20 % by the end of June." in page
    assert "Whole months compared: April 2026" in page
    assert "with May 2026" in page
    assert "June 2026" not in page
    assert review.status_code == 200
    review_page = review.content.decode().replace("\xa0", " ")
    assert "Did “Increase Payments” hold?" in review_page
    assert "Velocity up 20 % by the end of June." in review_page
    assert review.context["comparison"].now_window == "May 2026"


def test_the_review_page_is_the_lean_pmos(org, client_for):
    decision = funding_for(org).decision
    url = reverse("decision-review", args=[decision.pk])
    assert client_for("executive").get(url).status_code == 403
    assert client_for("pmo").get(url).status_code == 200
    bad = client_for("pmo").post(url, {"outcome": "maybe"})
    assert bad.status_code == 400
    assert not decision.reviews.exists()


def test_an_initiative_exception_reads_as_the_cap_it_would_pass(org, client_for):
    from tests.leanpmo.test_initiative_views import set_cap, start, strategic, to_ready

    set_cap(org, 1)
    start(org, strategic(org, "A"))
    waiting = to_ready(org, strategic(org, "B"))
    client_for("pmo").post(
        reverse("initiative-exception", args=[waiting.pk]), {"reason": "Regulator's deadline."}
    )
    decision = FundingDecision.objects.get(initiative=waiting)
    page = client_for("executive").get(reverse("decision-approval", args=[decision.pk]))
    content = page.content.decode().replace("\xa0", " ")
    assert "Starting it would make 2 strategic initiatives in progress; the limit is 1." in content
    assert "Start “B” above the cap" in content


def test_a_decision_that_is_no_exception_has_nothing_to_approve(org, client_for):
    decision = funding_for(org).decision  # a "continue"
    page = client_for("executive").get(reverse("decision-approval", args=[decision.pk]))
    assert page.status_code == 200
    assert "there is nothing to approve" in page.content.decode()
    assert 'name="approved"' not in page.content.decode()
    refused = client_for("executive").post(
        reverse("decision-approval", args=[decision.pk]), {"approved": "yes"}
    )
    assert refused.status_code == 400
    assert not ExceptionApproval.objects.filter(decision=decision).exists()
