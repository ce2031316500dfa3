"""Forms of the signal pages: inbox filters, acknowledgement, thresholds, digest preference."""

from __future__ import annotations

import datetime as dt

from django import forms

from leanpmo.detectors.findings import SEVERITY_LABELS
from leanpmo.detectors.registry import DETECTORS
from leanpmo.detectors.thresholds import THRESHOLD_NAMES
from leanpmo.models import SignalThresholds
from leanpmo.panels.rows import STATE_LABELS
from portfolio.models import Portfolio
from portfolio.widgets import date_input
from teams.models import ProductTeam


class InboxFilterForm(forms.Form):
    """The inbox's filters (all optional; state defaults to open)."""

    state = forms.ChoiceField(
        choices=[
            (state, STATE_LABELS[state])
            for state in ("open", "new", "acknowledged", "resolved", "all")
        ],
        required=False,
    )
    detector = forms.ChoiceField(
        choices=[("", "Every detector")] + [(i.code, f"{i.number}. {i.label}") for i in DETECTORS],
        required=False,
    )
    severity = forms.TypedChoiceField(
        choices=[("", "Any severity")]
        + [(str(k), v) for k, v in sorted(SEVERITY_LABELS.items(), reverse=True)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    value_stream = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Every value stream"
    )
    team = forms.ModelChoiceField(queryset=None, required=False, empty_label="Every team")

    def __init__(self, *args, portfolio: Portfolio, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["value_stream"].queryset = portfolio.value_streams.order_by("name")
        self.fields["team"].queryset = ProductTeam.objects.filter(
            value_stream__portfolio=portfolio
        ).order_by("name")

    def filters(self) -> dict:
        """The valid filters (a bad one is left out and reported on its field)."""
        if not self.is_bound:
            return {"state": "open"}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


class AcknowledgeForm(forms.Form):
    """Why the signal can wait, and until when (through that day)."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What is being done about it, or why it can wait.",
    )
    until = forms.DateField(
        widget=date_input(),
        help_text="It comes back after this day, or sooner if it gets worse.",
    )

    @classmethod
    def for_today(cls, today: dt.date, data=None) -> AcknowledgeForm:
        return cls(data, initial={"until": today + dt.timedelta(days=14)})


class ThresholdsForm(forms.ModelForm):
    """Every threshold of the portfolio's detectors."""

    class Meta:
        model = SignalThresholds
        fields = list(THRESHOLD_NAMES)


class DigestPreferenceForm(forms.Form):
    weekly_digest = forms.BooleanField(
        required=False, label="Send me the weekly digest by e-mail (Monday morning)"
    )
