"""The decision log, decision pages, reviews and executives' answers to exceptions."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from leanpmo import evidence
from leanpmo.access import get_money_object, get_money_portfolio
from leanpmo.forms.decisions import ApprovalForm, DecisionForm, ReviewForm
from leanpmo.guardrails import wip_sentence
from leanpmo.models import FundingDecision, FundingPeriod, ValueStreamBudget
from leanpmo.panels.navigation import funding_nav
from leanpmo.selectors.decisions import (
    decision_log,
    decision_quality,
    exception_check,
    latest_review,
    reviews_due,
)
from leanpmo.selectors.initiatives import decision_figures
from leanpmo.services.decisions import decision_record, review_record
from leanpmo.services.exception_approvals import exception_decide, may_approve_exceptions
from leanpmo.services.money_plans import VersionConflict
from portfolio.access import can_edit_structure
from portfolio.form_errors import add_service_errors
from portfolio.http import form_status
from valuestreams.models import ValueStream


class DecisionCreateForm(DecisionForm):
    """A decision without a budget change (e.g. continue): which value stream, which period."""

    value_stream = forms.ModelChoiceField(queryset=ValueStream.objects.none())
    period = forms.ModelChoiceField(queryset=FundingPeriod.objects.none())

    def __init__(self, *args, portfolio, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value_stream"].queryset = portfolio.value_streams.order_by("name")
        self.fields["period"].queryset = portfolio.funding_periods.order_by("-starts_on")
        self.order_fields(["value_stream", "period", "decision_kind"])


def decision_log_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Every decision with its latest review, the reviews due, and the portfolio's decision quality."""
    portfolio, role = get_money_portfolio(request.user, pk, write=request.method == "POST")
    form = DecisionCreateForm(
        request.POST if request.method == "POST" else None, portfolio=portfolio
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        budget = ValueStreamBudget.objects.filter(
            period=data["period"], value_stream=data["value_stream"]
        ).first()
        amount = budget.total if budget else 0
        decision = form.decision_input()
        try:
            if decision is None:
                raise ValidationError({"decision_kind": "Choose what kind of decision this is."})
            recorded = decision_record(
                period=data["period"], value_stream=data["value_stream"], decision=decision,
                amount_before=amount, amount_after=amount, user=request.user, now=timezone.now(),
            )  # fmt: skip
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Decision recorded with its evidence.")
            return redirect("decision-detail", pk=recorded.pk)
    decisions = list(decision_log(portfolio))
    for decision in decisions:
        decision.latest_review = latest_review(decision)
    today = timezone.localdate()
    context = {
        "portfolio": portfolio,
        "funding_nav": funding_nav(portfolio, request.user),
        "decisions": decisions,
        "quality": decision_quality(decisions, today=today),
        "due": reviews_due(portfolio, today=today),
        "today": today,
        "form": form,
        "can_edit": can_edit_structure(role),
    }
    return render(request, "leanpmo/decision_log.html", context, status=form_status(form))


@require_safe
def decision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A decision: what was expected beside what happened, its frozen evidence beside the same
    figures now (complete months both), its reviews and, for an exception, where it stands."""
    decision = get_money_object(FundingDecision, request.user, pk)
    context = _decision_context(request, decision)
    return render(request, "leanpmo/decision_detail.html", context)


def _pending(decision: FundingDecision) -> bool:
    return (
        decision.kind == "exception"
        and bool(decision.proposal)
        and not hasattr(decision, "approval")
    )


def _decision_context(request: HttpRequest, decision: FundingDecision) -> dict:
    """What the decision, review and approval pages share: the decision, the figures then beside
    now, its reviews, the exception's proposal with the guardrails it breaches, and who may do
    what."""
    now_figures = decision_figures(decision, before=timezone.now())
    reviews = list(decision.reviews.select_related("reviewed_by"))
    pending = _pending(decision)
    return {
        "decision": decision,
        "portfolio": decision.portfolio,
        "reviews": reviews,
        "latest_review": reviews[-1] if reviews else None,
        "now_figures": now_figures,
        "comparison": evidence.compare(decision.evidence, now_figures),
        "exception": exception_check(decision),
        "wip": _wip_sentence(decision),
        "evidence_template": "leanpmo/_initiative_evidence.html"
        if decision.initiative_id
        else "leanpmo/_evidence.html",
        "pending": pending,
        "today": timezone.localdate(),
        "can_review": FundingDecision.objects.editable_by(request.user)
        .filter(pk=decision.pk)
        .exists(),
        "can_approve": pending and may_approve_exceptions(request.user, decision.portfolio),
    }


def _wip_sentence(decision: FundingDecision) -> str:
    """For an exception to the strategic WIP cap, the cap in words (as it stood when asked)."""
    if decision.kind != "exception" or not decision.initiative_id or not decision.proposal:
        return ""
    in_progress = decision.proposal.get("in_progress") or []
    return wip_sentence(in_progress=len(in_progress), limit=decision.evidence.get("cap"))


def decision_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Lean PMO records whether the decision's expected outcome held, reading what was expected
    beside what happened."""
    decision = get_money_object(FundingDecision, request.user, pk, write=True)
    form = ReviewForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            review_record(
                decision=decision, user=request.user, now=timezone.now(), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Review recorded.")
            return redirect("decision-detail", pk=decision.pk)
    context = {**_decision_context(request, decision), "form": form}
    status = form_status(form) if request.method == "POST" else 200
    return render(request, "leanpmo/decision_review.html", context, status=status)


def decision_approval(request: HttpRequest, pk: int) -> HttpResponse:
    """An executive reads what an exception asks (the money before and after, the guardrail it
    breaches in words, who asks and why) and approves (the change is applied) or rejects it."""
    decision = get_money_object(FundingDecision, request.user, pk)
    if not may_approve_exceptions(request.user, decision.portfolio):
        raise PermissionDenied("Only an executive approves exceptions.")
    form = ApprovalForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            exception_decide(
                decision=decision, user=request.user, now=timezone.now(), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except VersionConflict as exc:
            form.add_error(None, f"{exc} Ask the Lean PMO to record a new exception.")
            status = 409
        else:
            answer = (
                "approved: the change is applied" if form.cleaned_data["approved"] else "rejected"
            )
            messages.success(request, f"Exception {answer}.")
            return redirect("decision-detail", pk=decision.pk)
    if request.method == "POST" and status == 200:
        status = 400
    context = {**_decision_context(request, decision), "form": form}
    return render(request, "leanpmo/decision_approval.html", context, status=status)
