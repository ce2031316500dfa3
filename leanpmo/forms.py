"""Forms parse what people type; the rules (allocation, periods, guardrails) live in models and services."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from leanpmo.models import DecisionKind, FundingPeriod, Guardrail, ReviewOutcome
from leanpmo.plan_fields import ALLOCATION_FIELD, FIELD_LABELS, GRID_FIELDS, MONEY_FIELDS
from leanpmo.services import DecisionInput
from portfolio.models import validate_date_in_range
from portfolio.widgets import date_input

MONEY_WIDGET = forms.TextInput(attrs={"inputmode": "decimal", "class": "money", "size": 10})
PERCENT_WIDGET = forms.TextInput(attrs={"inputmode": "numeric", "class": "percent", "size": 3})


def money_field(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(0),
        widget=MONEY_WIDGET,
        error_messages={"min_value": "Money cannot be negative."},
    )


def percent_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=100, widget=PERCENT_WIDGET)


class PlanRowForm(forms.Form):
    """One row of a money grid (the funding editor's budgets, a scenario's lines): the row's id in
    the hidden field named `key` ("budget" or "line"), the version the person edited, and the plan's
    money and allocation fields (leanpmo.plan_fields.GRID_FIELDS, in column order)."""

    def __init__(self, *args, key: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.key = key
        self.fields[key] = forms.IntegerField(widget=forms.HiddenInput)
        self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput)
        for name in MONEY_FIELDS:
            self.fields[name] = money_field(FIELD_LABELS[name])
        for name in ALLOCATION_FIELD.values():
            self.fields[name] = percent_field(FIELD_LABELS[name])

    @property
    def row_id(self) -> int | None:
        """The id the row names (None when it names none)."""
        value = self[self.key].value()
        return int(value) if str(value or "").isdigit() else None

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in GRID_FIELDS}


PlanRowFormSet = forms.formset_factory(PlanRowForm, extra=0)


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


class PeriodForm(forms.ModelForm):
    """A new funding period."""

    class Meta:
        model = FundingPeriod
        fields = ["name", "starts_on", "ends_on"]
        widgets = {
            "starts_on": date_input(),
            "ends_on": date_input(),
        }


class PeriodStepForm(forms.Form):
    """The confirmation of a period's next step (draft → approved → closed): the step, and a box
    the person ticks to say they checked the plan."""

    status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in FundingPeriod.Status], widget=forms.HiddenInput
    )
    confirm = forms.BooleanField(
        error_messages={"required": "Tick the box to confirm: nothing changes until you do."}
    )

    def __init__(self, *args, period: FundingPeriod, step: str, summary: str, **kwargs):
        super().__init__(*args, initial={"status": step}, **kwargs)
        verb = "approve" if step == FundingPeriod.Status.APPROVED else "close"
        self.fields[
            "confirm"
        ].label = f"I have checked the plan and {verb} {period.name}: {summary}"


class GuardrailForm(forms.ModelForm):
    """A guardrail's kind and parameters."""

    class Meta:
        model = Guardrail
        fields = [
            "kind",
            "horizon",
            "item_type",
            "min_percent",
            "max_percent",
            "max_count",
            "active",
        ]


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


class BudgetImportForm(forms.Form):
    """A CSV of budgets: value_stream, run, grow, transform, feature, defect, risk, debt."""

    file = forms.FileField(
        help_text="CSV with columns value_stream, run, grow, transform, feature, defect, risk, debt."
    )

    def text(self) -> str:
        return self.cleaned_data["file"].read().decode("utf-8-sig")


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
