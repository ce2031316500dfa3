"""The form for a dependency between two teams."""

from django import forms

from portfolio.widgets import date_input
from teams.models import ProductTeam, TeamInteraction
from valuestreams.models import ValueStream


class TeamInteractionForm(forms.ModelForm):
    """Parses a dependency: a team of the value stream depends on a team of the portfolio."""

    class Meta:
        model = TeamInteraction
        fields = ["team", "depends_on", "mode", "blocking", "note", "since"]
        widgets = {"since": date_input()}
        labels = {"note": "What for", "blocking": "Blocking now"}
        error_messages = {
            "team": {"invalid_choice": "Pick a team of this value stream."},
            "depends_on": {"invalid_choice": "Pick a team of this portfolio."},
        }

    def __init__(self, *args, value_stream: ValueStream, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["team"]
            del self.fields["depends_on"]
            return
        self.fields["team"].queryset = value_stream.teams.order_by("name")
        self.fields["depends_on"].queryset = (
            ProductTeam.objects.filter(value_stream__portfolio_id=value_stream.portfolio_id)
            .select_related("value_stream")
            .order_by("value_stream__name", "name")
        )
        self.fields["depends_on"].label_from_instance = lambda t: (
            f"{t.value_stream.name} · {t.name}"
        )

    def validate_unique(self) -> None:
        """The service refuses a second record of a pair, naming the field."""

    def validate_constraints(self) -> None:
        """The service validates the constraints, naming the field at fault."""
