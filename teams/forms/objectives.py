"""Forms of the OKR cascade: an objective of one level, a key result's definition."""

from django import forms

from portfolio.models import Portfolio
from portfolio.widgets import date_input
from teams.models import KeyResult, Objective, ProductTeam


class ObjectiveForm(forms.ModelForm):
    """Parses an objective of one level. Only the fields of that level are shown, and only the
    value streams, teams, themes and parents (one level up) of the portfolio are offered."""

    LEVEL_FIELDS = {
        Objective.Level.PORTFOLIO: ["strategic_theme"],
        Objective.Level.VALUE_STREAM: ["value_stream", "parent"],
        Objective.Level.TEAM: ["team", "parent"],
    }
    PARENT_LEVEL = {
        Objective.Level.VALUE_STREAM: Objective.Level.PORTFOLIO,
        Objective.Level.TEAM: Objective.Level.VALUE_STREAM,
    }

    level = forms.ChoiceField(choices=Objective.Level.choices, widget=forms.HiddenInput)

    class Meta:
        model = Objective
        fields = [
            "level",
            "title",
            "description",
            "strategic_theme",
            "value_stream",
            "team",
            "parent",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {"parent": "Contributes to"}
        error_messages = {
            "value_stream": {"invalid_choice": "Pick a value stream of this portfolio."},
            "team": {"invalid_choice": "Pick a team of this portfolio."},
            "strategic_theme": {"invalid_choice": "Pick a strategic theme of this portfolio."},
            "parent": {
                "invalid_choice": "Pick an objective one level up in this portfolio: a "
                "portfolio objective for a value-stream objective, a value-stream objective "
                "for a team objective."
            },
        }

    def __init__(self, *args, portfolio: Portfolio, level: str, **kwargs):
        super().__init__(*args, **kwargs)
        level = level if level in Objective.Level.values else Objective.Level.TEAM
        for name in {"strategic_theme", "value_stream", "team", "parent"} - set(
            self.LEVEL_FIELDS[level]
        ):
            del self.fields[name]
        if "strategic_theme" in self.fields:
            self.fields["strategic_theme"].queryset = portfolio.themes.order_by("position", "name")
        if "value_stream" in self.fields:
            self.fields["value_stream"].queryset = portfolio.value_streams.order_by("name")
            self.fields["value_stream"].required = True
        if "team" in self.fields:
            self.fields["team"].queryset = (
                ProductTeam.objects.filter(value_stream__portfolio=portfolio)
                .select_related("value_stream")
                .order_by("value_stream__name", "name")
            )
            self.fields["team"].label_from_instance = lambda t: f"{t.value_stream.name} · {t.name}"
            self.fields["team"].required = True
        if "parent" in self.fields:
            self.fields["parent"].queryset = (
                Objective.objects.filter(portfolio=portfolio, level=self.PARENT_LEVEL[level])
                .select_related("value_stream")
                .order_by("value_stream__name", "title")
            )
            self.fields["parent"].label_from_instance = lambda o: (
                f"{o.value_stream.name} · {o.title}" if o.value_stream_id else o.title
            )
            self.fields["parent"].empty_label = "— not linked yet —"

    def _post_clean(self) -> None:
        """No model validation here: the service validates the objective in its chain."""


class KeyResultForm(forms.ModelForm):
    """Parses a key result's definition (the rules are the model's and the service's)."""

    class Meta:
        model = KeyResult
        fields = ["metric", "unit", "baseline", "target", "direction", "cadence_days", "starts_on"]
        widgets = {"starts_on": date_input()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("baseline", "target"):
            self.fields[name].widget.attrs.update({"step": "any", "inputmode": "decimal"})
        # the model's own validators (1–92 days) give the message; the browser must not stop at 0
        self.fields["cadence_days"].widget.attrs.pop("min", None)
