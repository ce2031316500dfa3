"""Filter sets of the Lean PMO API's lists: initiatives and signals."""

from __future__ import annotations

import django_filters
from django_filters import rest_framework as filters

from leanpmo.models import (
    FundingMode,
    Initiative,
    InitiativeState,
    Signal,
    SignalDetector,
    SignalSeverity,
    WorkShape,
)
from leanpmo.panels.rows import STATE_LABELS


class InitiativeFilter(filters.FilterSet):
    state = filters.ChoiceFilter(choices=InitiativeState.choices)
    work_shape = filters.ChoiceFilter(
        field_name="shape", choices=WorkShape.choices, label="work shape"
    )
    funding_mode = filters.ChoiceFilter(choices=FundingMode.choices)
    theme = filters.NumberFilter(field_name="themes", distinct=True)
    value_stream = filters.NumberFilter(field_name="value_streams", distinct=True)
    team = filters.NumberFilter(field_name="teams", distinct=True)

    class Meta:
        model = Initiative
        fields = ["portfolio", "state", "work_shape", "funding_mode", "owner"]


class SignalFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=list(STATE_LABELS.items()),
        method="filter_state",
        help_text="new (opened in the last 7 days), open (waiting), acknowledged, resolved or all "
        "(default: all).",
    )
    detector = django_filters.ChoiceFilter(choices=SignalDetector.choices)
    severity = django_filters.TypedChoiceFilter(choices=SignalSeverity.choices, coerce=int)

    class Meta:
        model = Signal
        fields = ["portfolio", "detector", "severity", "value_stream", "team"]

    def filter_state(self, queryset, name, value):
        return queryset.in_state(value, self.request.now)
