"""Forms for initiatives parse what people type; the rules (shape, cap, moves) live in the services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from leanpmo.models import (
    FundingMode,
    Initiative,
    InitiativeState,
    StrategicTheme,
    WorkShape,
)
from leanpmo.selectors.initiatives import (
    InitiativeFilters,
    portfolio_key_results,
    portfolio_people,
    streams_of,
    teams_of,
)
from leanpmo.services.initiative_edits import LINK_FIELDS, SCALAR_FIELDS
from portfolio.models import Portfolio
from portfolio.widgets import date_input

TEXT = {"widget": forms.Textarea(attrs={"rows": 2}), "required": False}
MONEY_WIDGET = forms.TextInput(attrs={"inputmode": "decimal", "class": "money"})
WSJF_WIDGET = forms.NumberInput(attrs={"min": 1, "max": 100, "class": "wsjf-input"})


def _wsjf_field(label: str, help_text: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=1,
        max_value=100,
        widget=WSJF_WIDGET,
        help_text=help_text,
    )


def _money_field(label: str, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(0),
        widget=MONEY_WIDGET,
        help_text=help_text,
        error_messages={"min_value": "Money cannot be negative."},
    )


class TeamChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.value_stream.name})"


class KeyResultChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.metric} — {obj.objective.title}" + (" (closed)" if obj.closed else "")


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.username


class InitiativeForm(forms.Form):
    """An initiative's fields, grouped as the page shows them (see `fieldsets`)."""

    title = forms.CharField(max_length=200)
    description = forms.CharField(**TEXT)
    owner = PersonChoiceField(queryset=None, required=False)
    teams = TeamChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Who does the work. The shape follows from them: one team = team mission; "
        "teams of one value stream = product group; teams in two or more = strategic initiative.",
    )
    work_shape = forms.ChoiceField(
        label="Work shape",
        required=False,
        choices=[("", "Follow the linked teams"), *WorkShape.choices],
        help_text="Optional: a shape you name must agree with the linked teams.",
    )
    value_streams = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The linked teams' value streams are added.",
    )
    themes = forms.ModelMultipleChoiceField(
        label="Strategic themes",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    hypothesis_belief = forms.CharField(label="We believe …", **TEXT)
    hypothesis_outcome = forms.CharField(label="will result in …", **TEXT)
    hypothesis_measure = forms.CharField(label="measured by …", **TEXT)
    leading_indicators = KeyResultChoiceField(
        label="Leading indicators (key results)",
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    mvp = forms.CharField(label="MVP", **TEXT)
    in_scope = forms.CharField(label="In scope", **TEXT)
    out_of_scope = forms.CharField(label="Out of scope", **TEXT)
    cost_estimate = _money_field("Cost estimate")
    sponsors = forms.CharField(**TEXT)
    alternatives = forms.CharField(label="Alternatives considered", **TEXT)
    funding_mode = forms.ChoiceField(
        choices=FundingMode.choices, initial=FundingMode.CAPACITY, widget=forms.RadioSelect
    )
    end_date = forms.DateField(
        required=False, widget=date_input(), help_text="Needed for a fixed-scope project."
    )
    scope_budget = _money_field("Scope budget", "Needed for a fixed-scope project.")
    user_business_value = _wsjf_field(
        "User-business value", "1–100, relative (e.g. 1, 2, 3, 5, 8…)"
    )
    time_criticality = _wsjf_field("Time criticality", "1–100, relative")
    risk_reduction = _wsjf_field("Risk reduction / opportunity enablement", "1–100, relative")
    job_size = _wsjf_field("Job size", "1–100, relative; without it there is no WSJF score")

    FIELDSETS = (
        ("The bet", ("title", "description", "owner")),
        ("Hypothesis", ("hypothesis_belief", "hypothesis_outcome", "hypothesis_measure")),
        ("Leading indicators", ("leading_indicators",)),
        ("Who works on it", ("teams", "work_shape", "value_streams", "themes")),
        (
            "Lean business case",
            ("mvp", "in_scope", "out_of_scope", "cost_estimate", "sponsors", "alternatives"),
        ),
        ("Funding", ("funding_mode", "end_date", "scope_budget")),
        ("WSJF", ("user_business_value", "time_criticality", "risk_reduction", "job_size")),
    )

    def __init__(self, *args, portfolio: Portfolio, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = portfolio_people(portfolio)
        self.fields["teams"].queryset = teams_of(portfolio)
        self.fields["value_streams"].queryset = streams_of(portfolio)
        self.fields["themes"].queryset = StrategicTheme.objects.filter(portfolio=portfolio)
        self.fields["leading_indicators"].queryset = portfolio_key_results(portfolio)

    def fieldsets(self) -> list[tuple[str, list]]:
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]

    def service_kwargs(self) -> dict[str, Any]:
        """The cleaned values as the services take them (`declared_shape` for the shape)."""
        data = self.cleaned_data
        values: dict[str, Any] = {
            name: data[name] for name in (*SCALAR_FIELDS, *LINK_FIELDS) if name in data
        }
        values["declared_shape"] = data.get("work_shape", "")
        return values

    @staticmethod
    def initial_for(initiative: Initiative) -> dict[str, Any]:
        """What the edit form starts with (links as lists of ids)."""
        initial: dict[str, Any] = {name: getattr(initiative, name) for name in SCALAR_FIELDS}
        initial["owner"] = initiative.owner_id
        for name in LINK_FIELDS:
            initial[name] = [item.pk for item in getattr(initiative, name).all()]
        return initial


class MoveForm(forms.Form):
    """A move on the kanban: where to and why (the reason is the learning for a stop)."""

    to_state = forms.ChoiceField(label="Move to", choices=InitiativeState.choices)
    reason = forms.CharField(
        label="Why",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Every move carries its reason; for a stop, what we learned.",
    )
    expected_outcome = forms.CharField(required=False, widget=forms.HiddenInput)
    review_due_on = forms.DateField(required=False, widget=date_input())
    origin = forms.ChoiceField(
        choices=[("board", "board"), ("detail", "detail")],
        required=False,
        widget=forms.HiddenInput,
    )


class ExceptionRequestForm(forms.Form):
    """Ask an executive to let a strategic initiative start above the cap."""

    reason = forms.CharField(
        label="Why this start cannot wait",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    expected_outcome = forms.CharField(
        label="Expected outcome",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Defaults to the hypothesis (will result in …).",
    )
    review_due_on = forms.DateField(label="Review on", required=False, widget=date_input())


class InitiativeFilterForm(forms.Form):
    """The list's filters (all optional, sent as a query string)."""

    state = forms.ChoiceField(required=False, choices=[("", "Any state"), *InitiativeState.choices])
    shape = forms.ChoiceField(required=False, choices=[("", "Any shape"), *WorkShape.choices])
    funding_mode = forms.ChoiceField(
        label="Funding", required=False, choices=[("", "Any funding"), *FundingMode.choices]
    )
    theme = forms.ModelChoiceField(queryset=None, required=False, empty_label="Any theme")
    value_stream = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Any value stream"
    )
    team = forms.ModelChoiceField(queryset=None, required=False, empty_label="Any team")
    owner = PersonChoiceField(queryset=None, required=False, empty_label="Any owner")
    q = forms.CharField(label="Search", required=False)

    def __init__(self, *args, portfolio: Portfolio, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].queryset = StrategicTheme.objects.filter(portfolio=portfolio)
        self.fields["value_stream"].queryset = streams_of(portfolio)
        self.fields["team"].queryset = teams_of(portfolio)
        self.fields["owner"].queryset = portfolio_people(portfolio)

    def filters(self) -> InitiativeFilters | None:
        """The chosen filters; None when a value is not one of the choices (the list is empty)."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        return InitiativeFilters(
            state=data["state"],
            shape=data["shape"],
            funding_mode=data["funding_mode"],
            theme=data["theme"].pk if data["theme"] else None,
            value_stream=data["value_stream"].pk if data["value_stream"] else None,
            team=data["team"].pk if data["team"] else None,
            owner=data["owner"].pk if data["owner"] else None,
            search=data["q"].strip(),
        )
