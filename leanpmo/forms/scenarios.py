"""Forms of scenarios: a new scenario and the decision its promotion records."""

from __future__ import annotations

from django import forms

from leanpmo.forms.decisions import DecisionForm
from leanpmo.models import DecisionKind, FundingPeriod


class ScenarioForm(forms.Form):
    """A new scenario: a name and the period whose plan it copies."""

    name = forms.CharField(max_length=120)
    period = forms.ModelChoiceField(
        queryset=FundingPeriod.objects.none(), help_text="Its budgets are copied into the scenario."
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="What if…"
    )

    def __init__(self, *args, portfolio, current: FundingPeriod | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].queryset = portfolio.funding_periods.exclude(
            status=FundingPeriod.Status.CLOSED
        ).order_by("starts_on")
        if current is not None and current.status != FundingPeriod.Status.CLOSED:
            self.fields["period"].initial = current.pk


class PromotionDecisionForm(DecisionForm):
    """The decision for one value stream that a promoted scenario changes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("decision_kind", "rationale", "expected_outcome"):
            self.fields[name].required = True
        self.fields["decision_kind"].choices = DecisionKind.choices
        self.fields["review_due_on"].widget.format = "%Y-%m-%d"  # what <input type=date> reads
