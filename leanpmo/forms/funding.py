"""Forms of the money plan: a grid row, a funding period, its status step, a budget import. They
parse what people type; the rules (allocation, periods) live in models and services."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from leanpmo.models import FundingPeriod
from leanpmo.plan_fields import ALLOCATION_FIELD, FIELD_LABELS, GRID_FIELDS, MONEY_FIELDS
from portfolio.widgets import DirectHiddenInput, DirectTextInput, date_input

MONEY_WIDGET = DirectTextInput(attrs={"inputmode": "decimal", "class": "money", "size": 10})
PERCENT_WIDGET = DirectTextInput(attrs={"inputmode": "numeric", "class": "percent", "size": 3})


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
        self.fields[key] = forms.IntegerField(widget=DirectHiddenInput)
        self.fields["version"] = forms.IntegerField(widget=DirectHiddenInput)
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


class BudgetImportForm(forms.Form):
    """A CSV of budgets: value_stream, run, grow, transform, feature, defect, risk, debt."""

    file = forms.FileField(
        help_text="CSV with columns value_stream, run, grow, transform, feature, defect, risk, debt."
    )

    def text(self) -> str:
        return self.cleaned_data["file"].read().decode("utf-8-sig")
