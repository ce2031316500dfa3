"""Forms of the realisation metrics page: a new metric, one value, a CSV import."""

from django import forms

from portfolio.widgets import date_input
from teams.models import RealisationMetric, RealisationPoint
from valuestreams.models import ValueStream


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
        widgets = {"on": date_input()}
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
