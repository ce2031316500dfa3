from django import forms

from portfolio.models import Portfolio
from teams.models import (
    Experiment,
    KeyResult,
    NotDoingItem,
    OutcomeUpdate,
    ProductTeam,
    PulseRound,
    RealisationMetric,
    RealisationPoint,
)
from valuestreams.models import ValueStream


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
            "formed_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, portfolio: Portfolio, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value_stream"].queryset = portfolio.value_streams.order_by("name")


class OutcomeUpdateForm(forms.ModelForm):
    """A check-in: parses the fields; the key result is picked among the team's key results."""

    class Meta:
        model = OutcomeUpdate
        fields = ["key_result", "value", "confidence", "status", "learned", "blockers", "corrects"]
        widgets = {
            "learned": forms.Textarea(attrs={"rows": 2}),
            "blockers": forms.Textarea(attrs={"rows": 2}),
            "confidence": forms.NumberInput(attrs={"min": 0, "max": 10}),
            "corrects": forms.HiddenInput,
        }
        error_messages = {
            "key_result": {"invalid_choice": "Pick one of this team's key results."},
            "corrects": {"invalid_choice": "You can only correct an update of this team."},
        }

    def __init__(self, *args, team: ProductTeam, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key_result"].queryset = KeyResult.objects.filter(
            objective__team=team
        ).order_by("closed", "metric")
        self.fields["key_result"].empty_label = None
        self.fields["corrects"].queryset = OutcomeUpdate.objects.filter(
            key_result__objective__team=team
        )
        self.fields["value"].widget.attrs.update({"step": "any", "inputmode": "decimal"})
        self.fields["status"].widget = forms.RadioSelect(choices=OutcomeUpdate.Status.choices)


class ExperimentForm(forms.ModelForm):
    """Parses an experiment; its key result is picked among the team's key results."""

    class Meta:
        model = Experiment
        fields = [
            "hypothesis",
            "metric",
            "key_result",
            "started_on",
            "ended_on",
            "result",
            "learning",
        ]
        widgets = {
            "hypothesis": forms.Textarea(attrs={"rows": 3}),
            "learning": forms.Textarea(attrs={"rows": 3}),
            "started_on": forms.DateInput(attrs={"type": "date"}),
            "ended_on": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {"result": "Result (leave empty while it runs)"}

    def __init__(self, *args, team: ProductTeam, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key_result"].queryset = KeyResult.objects.filter(objective__team=team)


class NotDoingForm(forms.ModelForm):
    """Parses a not-doing decision."""

    class Meta:
        model = NotDoingItem
        fields = ["what", "why", "decided_on"]
        widgets = {
            "why": forms.Textarea(attrs={"rows": 3}),
            "decided_on": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {"what": "What we will not do", "why": "Why", "decided_on": "Decided on"}


class RealisationMetricForm(forms.ModelForm):
    """Parses a new realisation metric."""

    class Meta:
        model = RealisationMetric
        fields = ["name", "unit", "description", "higher_is_better"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class RealisationPointForm(forms.ModelForm):
    """Parses one value of a metric; the metric is picked among the value stream's metrics."""

    class Meta:
        model = RealisationPoint
        fields = ["metric", "on", "value"]
        widgets = {"on": forms.DateInput(attrs={"type": "date"})}
        error_messages = {"metric": {"invalid_choice": "Pick one of this value stream's metrics."}}

    def __init__(self, *args, value_stream: ValueStream, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"].queryset = value_stream.realisation_metrics.order_by("name")

    def validate_unique(self) -> None:
        """A second value on the same date replaces the first (the service does), so no refusal."""


class RealisationImportForm(forms.Form):
    """A CSV file of realisation points."""

    file = forms.FileField(
        label="CSV file",
        help_text="Columns: metric, unit, date (YYYY-MM-DD), value. All rows or none are imported.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 2_000_000:
            raise forms.ValidationError("The file is larger than 2 MB.")
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError("The file is not UTF-8 text.") from exc


class PulseAnswerForm(forms.Form):
    """One 1–5 choice per question of a pulse round."""

    SCORES = [(n, str(n)) for n in range(1, 6)]

    def __init__(self, *args, pulse_round: PulseRound, **kwargs):
        super().__init__(*args, **kwargs)
        for question in pulse_round.questions.all():
            self.fields[f"question_{question.pk}"] = forms.TypedChoiceField(
                label=question.text,
                choices=self.SCORES,
                coerce=int,
                widget=forms.RadioSelect,
                help_text="1 = strongly disagree, 5 = strongly agree",
            )

    def scores(self) -> dict[int, int]:
        return {int(name.split("_")[1]): value for name, value in self.cleaned_data.items()}
