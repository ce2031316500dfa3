"""The form for a team's definition."""

from django import forms

from portfolio.models import Portfolio
from portfolio.widgets import date_input
from teams.models import ProductTeam


class ProductTeamForm(forms.ModelForm):
    """Parses a team's fields; its value stream is picked among the portfolio's value streams."""

    class Meta:
        model = ProductTeam
        fields = [
            "name",
            "value_stream",
            "topology",
            "mission",
            "formed_on",
            "capacity_fte",
            "loaded_cost_per_fte",
        ]
        widgets = {
            "mission": forms.Textarea(attrs={"rows": 3}),
            "formed_on": date_input(),
        }

    def __init__(self, *args, portfolio: Portfolio, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value_stream"].queryset = portfolio.value_streams.order_by("name")
