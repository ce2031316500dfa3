"""Forms of funding decisions, their reviews and executives' answers to exceptions. They parse
what people type; the rules live in models and services."""

from __future__ import annotations

from django import forms

from leanpmo.models import DecisionKind, ReviewOutcome
from leanpmo.services.decisions import DecisionInput
from portfolio.models import validate_date_in_range
from portfolio.widgets import date_input


class DecisionForm(forms.Form):
    """The decision that goes with a change of approved money."""

    decision_kind = forms.ChoiceField(
        label="Decision", choices=[("", "—"), *DecisionKind.choices], required=False
    )
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    expected_outcome = forms.CharField(
        label="Expected outcome", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    leading_indicators = forms.CharField(
        label="Leading indicators", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    options_considered = forms.CharField(
        label="Options considered", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    review_due_on = forms.DateField(
        label="Review on",
        required=False,
        validators=[validate_date_in_range],
        widget=date_input(),
        help_text="Default: in 90 days.",
    )

    def decision_input(self) -> DecisionInput | None:
        data = self.cleaned_data
        if not (data.get("decision_kind") or data.get("rationale") or data.get("expected_outcome")):
            return None
        return DecisionInput(
            kind=data.get("decision_kind", ""),
            rationale=data.get("rationale", ""),
            expected_outcome=data.get("expected_outcome", ""),
            options_considered=data.get("options_considered", ""),
            leading_indicators=data.get("leading_indicators", ""),
            review_due_on=data.get("review_due_on"),
        )


class ReviewForm(forms.Form):
    """Did the expected outcome hold?"""

    outcome = forms.ChoiceField(choices=ReviewOutcome.choices, widget=forms.RadioSelect)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ApprovalForm(forms.Form):
    """An executive's answer to an exception decision."""

    approved = forms.TypedChoiceField(
        label="Answer",
        choices=[("yes", "Approve"), ("no", "Reject")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
