"""The funding grid: saving, decisions in approved periods, exceptions, conflicts and bad input."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from leanpmo.models import (
    ExceptionApproval,
    FundingDecision,
    FundingPeriod,
    Guardrail,
    ValueStreamBudget,
)
from leanpmo.services.budgets import budget_apply, budget_create
from tests.leanpmo.support import funding_for, grid_post, make_budget, make_period

DECISION = {
    "decision_kind": "increase",
    "rationale": "Flow is healthy.",
    "expected_outcome": "Velocity up a fifth.",
}


def _editor(org, period):
    return reverse("funding-editor", args=[org.portfolio.pk, period.pk])


def _state():
    return (
        list(ValueStreamBudget.objects.values().order_by("pk")),
        FundingDecision.objects.count(),
        list(FundingPeriod.objects.values().order_by("pk")),
    )


@pytest.fixture
def two_streams(org):
    funding = funding_for(org)
    from tests.factories import ValueStreamFactory

    cards = ValueStreamFactory(portfolio=org.portfolio, name="Cards")
    other = make_budget(funding.period, cards, run="500000", grow="200000", transform="150000")
    return funding, other


def test_pmo_saves_the_whole_grid_in_a_draft_period(org, client_for, two_streams):
    funding, other = two_streams
    response = client_for("pmo").post(
        _editor(org, funding.period),
        grid_post(
            [funding.budget, other],
            **{"0-amount_run": "610000", "1-alloc_feature": "55", "1-alloc_debt": "20"},
        ),
    )
    assert response.status_code == 302
    funding.budget.refresh_from_db()
    other.refresh_from_db()
    assert funding.budget.amount_run == Decimal("610000.00")
    assert (other.alloc_feature, other.alloc_debt, other.version) == (55, 20, 2)
    assert FundingDecision.objects.count() == 1  # draft: no decision needed


def test_grid_shows_each_value_stream_as_a_row_with_totals(org, client_for, two_streams):
    funding, _ = two_streams
    response = client_for("pmo").get(_editor(org, funding.period))
    assert response.status_code == 200
    assert [row.item.value_stream.name for row in response.context["rows"]] == [
        "Cards",
        "Payments",
    ]
    assert response.context["summary"]["totals"]["total"] == Decimal("1850000.00")
    assert b"htmx-2.min.js" in response.content


def test_preview_recomputes_totals_and_guardrails_as_typed_without_saving(
    org, client_for, two_streams
):
    funding, other = two_streams
    before = _state()
    response = client_for("pmo").post(
        reverse("funding-preview", args=[org.portfolio.pk, funding.period.pk]),
        grid_post(
            [funding.budget, other],
            **{"1-amount_run": "100000", "1-alloc_debt": "5", "1-alloc_feature": "70"},
        ),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary["totals"]["total"] == Decimal("1450000.00")
    breached = {(r.scope, r.description) for r in summary["breaches"]}
    assert ("Cards", "At least 10 % of capacity for Debt") in breached
    assert f'id="row-total-{other.pk}" hx-swap-oob="true"'.encode() in response.content
    assert _state() == before


def test_approved_money_changes_only_with_a_decision(org, client_for):
    funding = funding_for(org, approved=True)
    url = _editor(org, funding.period)
    before = _state()
    response = client_for("pmo").post(
        url, grid_post([funding.budget], **{"0-amount_grow": "320000"})
    )
    assert response.status_code == 400
    assert "record a decision" in response.context["decision_form"].errors["decision_kind"][0]
    assert _state() == before
    response = client_for("pmo").post(
        url, {**grid_post([funding.budget], **{"0-amount_grow": "320000"}), **DECISION}
    )
    assert response.status_code == 302
    decision = FundingDecision.objects.latest("pk")
    assert (decision.kind, decision.amount_before, decision.amount_after) == (
        "increase",
        Decimal("1000000.00"),
        Decimal("1020000.00"),
    )
    assert decision.decided_by == org.users["pmo"]
    assert decision.review_due_on > timezone.localdate()


def test_a_breaching_change_needs_an_exception_that_an_executive_approves(org, client_for):
    funding = funding_for(org, approved=True)
    url = _editor(org, funding.period)
    breach = grid_post([funding.budget], **{"0-alloc_debt": "5", "0-alloc_feature": "70"})
    response = client_for("pmo").post(url, {**breach, **DECISION})
    assert response.status_code == 400
    assert "exception" in response.context["decision_form"].errors["decision_kind"][0]
    response = client_for("pmo").post(url, {**breach, **DECISION, "decision_kind": "exception"})
    assert response.status_code == 302
    funding.budget.refresh_from_db()
    assert funding.budget.alloc_debt == 15  # not applied until approved
    exception = FundingDecision.objects.get(kind="exception")
    assert exception.proposal == {"alloc_feature": 70, "alloc_debt": 5}
    approval_url = reverse("decision-approval", args=[exception.pk])
    assert client_for("pmo").post(approval_url, {"approved": "yes"}).status_code == 403
    response = client_for("executive").post(approval_url, {"approved": "yes", "note": "Deadline."})
    assert response.status_code == 302
    funding.budget.refresh_from_db()
    assert (funding.budget.alloc_debt, funding.budget.version) == (5, 2)
    assert ExceptionApproval.objects.get(decision=exception).decided_by == org.users["executive"]


def test_second_save_of_the_same_budget_gets_409_with_the_other_persons_change(org, client_for):
    funding = funding_for(org)
    stale = grid_post([funding.budget], **{"0-amount_run": "700000"})
    budget_apply(
        budget=funding.budget,
        expected_version=funding.budget.version,
        user=org.users["admin"],
        changes={"amount_grow": Decimal("333000")},
    )
    response = client_for("pmo").post(_editor(org, funding.period), stale)
    assert response.status_code == 409
    stored = ValueStreamBudget.objects.get(pk=funding.budget.pk)
    assert (stored.amount_run, stored.amount_grow) == (Decimal("600000.00"), Decimal("333000.00"))
    content = response.content.decode()
    assert "Someone else changed Payments" in content
    assert org.users["admin"].get_full_name() in content
    assert "Grow: 300,000 EUR → <strong>333,000 EUR</strong>" in content
    # the grid keeps the person's values and now names the stored version: saving again wins
    assert response.context["formset"].forms[0]["version"].value() == "2"


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ({"0-amount_run": "-5"}, "amount_run", "Money cannot be negative."),
        ({"0-amount_grow": "lots"}, "amount_grow", "Enter a number."),
        ({"0-alloc_feature": "50"}, "alloc_feature", "must add up to 100 %"),
        ({"0-fixed_scope_amount": "5000000"}, "fixed_scope_amount", "cannot exceed"),
        ({"0-budget": "999999"}, "__all__", "not in this period"),
    ],
)
def test_bad_grid_input_gets_a_clear_error_naming_the_field_and_changes_nothing(
    org, client_for, override, field, message
):
    funding = funding_for(org)
    before = _state()
    response = client_for("pmo").post(
        _editor(org, funding.period), grid_post([funding.budget], **override)
    )
    assert response.status_code == 400
    errors = response.context["formset"].forms[0].errors
    assert any(message in error for error in errors[field]), errors
    assert _state() == before


def test_overlapping_period_is_refused_with_a_clear_error(org, client_for):
    funding = funding_for(org)
    before = _state()
    response = client_for("pmo").post(
        reverse("funding-periods", args=[org.portfolio.pk]),
        {"name": "Overlap", "starts_on": "2026-06-01", "ends_on": "2026-08-31"},
    )
    assert response.status_code == 400
    assert "overlaps “2026 Q2”" in response.context["form"].errors["starts_on"][0]
    assert _state() == before
    assert funding.period.name == "2026 Q2"


def test_unknown_value_stream_in_an_import_changes_nothing(org, client_for):
    funding = funding_for(org)
    before = _state()
    csv_text = (
        "value_stream,run,grow,transform,feature,defect,risk,debt\n"
        "Payments,1,1,1,70,10,10,10\nMystery,1,1,1,70,10,10,10\n"
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_for("pmo").post(
        reverse("budget-import", args=[org.portfolio.pk, funding.period.pk]),
        {"file": SimpleUploadedFile("b.csv", csv_text.encode())},
    )
    assert response.status_code == 400
    assert "“Mystery” is not a value stream" in str(response.context["form"].errors)
    assert _state() == before


def test_a_budget_cannot_name_a_value_stream_of_another_portfolio(org):
    period = funding_for(org).period
    with pytest.raises(Exception, match="another portfolio"):
        budget_create(period=period, value_stream=org.other_value_stream, amount_run=Decimal(1))


def test_period_moves_draft_to_approved_to_closed_and_a_closed_one_refuses_changes(org, client_for):
    funding = funding_for(org)
    url = reverse("period-status", args=[org.portfolio.pk, funding.period.pk])
    client_for("pmo").post(url, {"status": "approved", "confirm": "on"})
    client_for("pmo").post(url, {"status": "closed", "confirm": "on"})
    funding.period.refresh_from_db()
    assert funding.period.status == "closed"
    response = client_for("pmo").post(
        _editor(org, funding.period),
        {**grid_post([funding.budget], **{"0-amount_run": "1"}), **DECISION},
    )
    assert response.status_code == 400
    assert ValueStreamBudget.objects.get(pk=funding.budget.pk).amount_run == Decimal("600000.00")


def test_periods_of_one_portfolio_may_follow_each_other(org):
    funding_for(org)
    later = make_period(org, name="2026 Q3", starts=dt.date(2026, 7, 1), ends=dt.date(2026, 9, 30))
    assert later.status == "draft"
    assert Guardrail.objects.filter(portfolio=org.portfolio).count() == 2


def test_a_refused_grid_shows_the_totals_sums_and_guardrails_of_what_was_typed(org, client_for):
    funding = funding_for(org)
    budget = funding.budget
    before = _state()
    typed = {"0-amount_run": "1400000", "0-fixed_scope_amount": "5000000", "0-alloc_debt": "5"}
    response = client_for("pmo").post(_editor(org, funding.period), grid_post([budget], **typed))
    assert response.status_code == 400
    assert _state() == before
    # each error on the field typed: the allocation on Debt %, not on Feature %
    errors = response.context["formset"].forms[0].errors
    assert "adds up to 90 %" in errors["alloc_debt"][0]
    assert "alloc_feature" not in errors
    assert "cannot exceed" in errors["fixed_scope_amount"][0]
    # totals, Σ and guardrails are those of the typed plan (1.8M, Run 77.8 %, Debt 5 %)
    summary = response.context["summary"]
    assert summary["totals"]["total"] == Decimal("1800000")
    assert summary["row_totals"][budget.pk] == (Decimal("1800000"), 90)
    row = response.context["rows"][0]
    assert (row.total, row.allocation) == (Decimal("1800000"), 90)
    assert {(r.scope, r.description) for r in summary["breaches"]} == {
        ("Portfolio", "Run between 40 % and 70 % of the money"),
        ("Payments", "At least 10 % of capacity for Debt"),
    }
    content = response.content.decode()
    assert f'<span id="row-total-{budget.pk}">1,800,000</span>' in content
    assert f'<span id="row-alloc-{budget.pk}" class="bad">90 %</span>' in content
    assert "2 breaches" in content
    assert "all within" not in content


def test_a_cell_that_is_no_number_leaves_the_totals_unknown_rather_than_stored(org, client_for):
    funding = funding_for(org)
    budget = funding.budget
    typed = {"0-amount_run": "1400000", "0-amount_grow": "lots"}
    response = client_for("pmo").post(_editor(org, funding.period), grid_post([budget], **typed))
    assert response.status_code == 400
    summary = response.context["summary"]
    assert (summary["readable"], summary["results"]) == (False, [])
    assert summary["totals"]["grow"] is None
    assert summary["totals"]["total"] is None
    assert summary["totals"]["run"] == Decimal("1400000")  # its cells can all be read
    assert summary["row_totals"][budget.pk] == (None, 100)
    assert summary["problems"] == ["Payments — Grow: Enter a number."]
    content = response.content.decode()
    assert f'<span id="row-total-{budget.pk}">—</span>' in content
    assert '<dd data-total="total">—</dd>' in content
    assert "not checked" in content
    assert "1,000,000" not in content  # the stored plan's total is nowhere
    preview = client_for("pmo").post(
        reverse("funding-preview", args=[org.portfolio.pk, funding.period.pk]),
        grid_post([budget], **typed),
    )
    assert preview.context["summary"]["totals"]["total"] is None
    assert f'id="row-total-{budget.pk}" hx-swap-oob="true">—<'.encode() in preview.content


def test_approving_a_period_asks_for_a_confirmation_first(org, client_for):
    funding = funding_for(org)
    url = reverse("period-status", args=[org.portfolio.pk, funding.period.pk])
    editor = client_for("pmo").get(_editor(org, funding.period)).content.decode()
    assert f'href="{url}"' in editor  # a link to the confirmation, not a form that acts at once
    assert "Approve this period…" in editor
    page = client_for("pmo").get(url)
    assert page.status_code == 200
    content = page.content.decode().replace("\xa0", " ")
    assert "Approve 2026 Q2?" in content
    assert "changes only through a recorded decision" in content
    assert "I have checked the plan and approve 2026 Q2: 1 value stream, 1,000,000 EUR" in content
    assert (
        "<script" not in content.split("</main>")[0]
    )  # no inline script: works without JavaScript
    funding.period.refresh_from_db()
    assert funding.period.status == "draft"  # showing the step changes nothing


def test_a_step_without_its_box_ticked_changes_nothing_and_says_why(org, client_for):
    funding = funding_for(org)
    url = reverse("period-status", args=[org.portfolio.pk, funding.period.pk])
    for unticked in ({"status": "approved"}, {}):
        response = client_for("pmo").post(url, unticked)
        assert response.status_code == 400
        assert "Tick the box to confirm: nothing changes until you do." in response.content.decode()
    funding.period.refresh_from_db()
    assert (funding.period.status, funding.period.approved_by) == ("draft", None)
    ticked = client_for("pmo").post(url, {"status": "approved", "confirm": "on"}, follow=True)
    assert "2026 Q2 is now approved: its money changes only through recorded decisions." in (
        ticked.content.decode()
    )
    funding.period.refresh_from_db()
    assert (funding.period.status, funding.period.approved_by) == ("approved", org.users["pmo"])
    closing = client_for("pmo").get(url).content.decode()
    assert "Close 2026 Q2?" in closing
    stale = client_for("pmo").post(url, {"status": "approved", "confirm": "on"})
    assert stale.status_code == 400  # a second tab's approval: refused, nothing moves
    funding.period.refresh_from_db()
    assert funding.period.status == "approved"


def test_a_closed_period_has_no_next_step(org, client_for):
    funding = funding_for(org)
    url = reverse("period-status", args=[org.portfolio.pk, funding.period.pk])
    for step in ("approved", "closed"):
        client_for("pmo").post(url, {"status": step, "confirm": "on"})
    response = client_for("pmo").get(url, follow=True)
    assert response.redirect_chain[-1][0] == _editor(org, funding.period)
    assert "2026 Q2 is closed: it has no next step." in response.content.decode()


def test_a_save_links_the_decision_it_recorded(org, client_for):
    funding = funding_for(org, approved=True)
    response = client_for("pmo").post(
        _editor(org, funding.period),
        {**grid_post([funding.budget], **{"0-amount_run": "650000"}), **DECISION},
        follow=True,
    )
    decision = FundingDecision.objects.get(kind="increase")
    content = response.content.decode()
    link = reverse("decision-detail", args=[decision.pk])
    assert (
        f'Saved: Payments. Decision recorded: <a href="{link}">Increase Payments (+50,000 EUR)</a>.'
        in content
    )


def test_the_grid_shows_the_previous_period_beside_each_row(org, client_for):
    funding = funding_for(org)
    later = make_period(org, name="2026 Q3", starts=dt.date(2026, 7, 1), ends=dt.date(2026, 9, 30))
    budget = make_budget(later, org.value_stream, run="700000")
    response = client_for("executive").get(_editor(org, later))
    row = response.context["rows"][0]
    assert (row.total, row.previous, row.change) == (Decimal("1100000"), Decimal("1000000"), 10)
    content = response.content.decode()
    assert "vs 2026 Q2" in content
    assert f'<span id="row-change-{budget.pk}" class="change up">+10 %</span>' in content
    assert "1,000,000" in content
    preview = (
        client_for("pmo")
        .post(
            reverse("funding-preview", args=[org.portfolio.pk, later.pk]),
            grid_post([budget], **{"0-amount_run": "400000"}),
        )
        .content.decode()
    )
    assert (
        f'<span id="row-change-{budget.pk}" class="change down" hx-swap-oob="true">−20 %</span>'
        in preview
    )
    assert funding.period.pk != later.pk
