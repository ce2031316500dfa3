import zoneinfo

from django import forms
from django.utils.html import format_html

from portfolio.models import Portfolio
from portfolio.widgets import date_input
from teams import selectors
from teams.models import (
    Experiment,
    KeyResult,
    NotDoingItem,
    Objective,
    OutcomeUpdate,
    ProductTeam,
    PulseRound,
    RealisationMetric,
    RealisationPoint,
    TeamInteraction,
)
from teams.plausibility import day, quantity
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
            "formed_on": date_input(),
        }

    def __init__(self, *args, portfolio: Portfolio, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value_stream"].queryset = portfolio.value_streams.order_by("name")


class ChoiceGroup(forms.RadioSelect):
    """Radio buttons whose first option alone takes `autofocus` (one focus target per page)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if index:
            option["attrs"].pop("autofocus", None)
        return option


class KeyResultChoice(ChoiceGroup):
    """The key results to check in on, as radio buttons whose labels carry the facts a member
    checks the value against; each input carries its unit (`data-unit`) for static/js/checkin.js.
    Closed key results are valid choices (the service then says they are closed) but not shown."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-unit"] = instance.unit
            option["closed"] = instance.closed
        return option

    def optgroups(self, name, value, attrs=None):
        return [
            (group, [option for option in options if not option.get("closed")], index)
            for group, options, index in super().optgroups(name, value, attrs)
        ]


def key_result_choice_label(key_result: KeyResult, time_zone: str) -> str:
    """A key result as the check-in form offers it: its metric, then its last value with its date,
    baseline → target with the direction, and the cadence (HTML, escaped)."""
    unit = key_result.unit
    if getattr(key_result, "last_value", None) is not None:
        posted = key_result.last_posted_at.astimezone(zoneinfo.ZoneInfo(time_zone)).date()
        last = f"Last {quantity(key_result.last_value, unit)} on {day(posted)}"
    else:
        last = "No check-in yet"
    span = (
        f"baseline {quantity(key_result.baseline, unit)} → target "
        f"{quantity(key_result.target, unit)} ({key_result.get_direction_display().lower()})"
    )
    cadence = (
        f"check-in every {key_result.cadence_days} day{'s' if key_result.cadence_days != 1 else ''}"
    )
    return format_html(
        '<span class="kr-choice-metric">{}</span><span class="kr-choice-facts">{} · {} · {}</span>',
        key_result.metric,
        last,
        span,
        cadence,
    )


class OutcomeUpdateForm(forms.ModelForm):
    """A check-in: parses the fields; the key result is picked among the team's key results (open
    ones shown), each with its unit, last value, baseline, target and direction."""

    class Meta:
        model = OutcomeUpdate
        fields = ["key_result", "value", "confidence", "status", "learned", "blockers", "corrects"]
        widgets = {
            "learned": forms.Textarea(attrs={"rows": 2}),
            "blockers": forms.Textarea(attrs={"rows": 2}),
            "confidence": forms.NumberInput(attrs={"min": 0, "max": 10}),
            "corrects": forms.HiddenInput,
        }
        labels = {"key_result": "Key result", "confidence": "Confidence (0–10)"}
        error_messages = {
            "key_result": {
                "invalid_choice": "Pick one of this team's key results.",
                "required": "Pick the key result this check-in is about.",
            },
            "corrects": {"invalid_choice": "You can only correct an update of this team."},
            "value": {"required": "Give the key result's value today."},
            "status": {"required": "Say whether the key result is on track, at risk or off track."},
            "confidence": {"required": "Say how confident you are, from 0 to 10."},
        }

    def __init__(self, *args, team: ProductTeam, **kwargs):
        super().__init__(*args, **kwargs)
        time_zone = team.value_stream.portfolio.time_zone
        field = self.fields["key_result"]
        field.widget = KeyResultChoice()
        field.empty_label = None
        field.queryset = selectors.check_in_key_results(team)
        field.label_from_instance = lambda kr: key_result_choice_label(kr, time_zone)
        self.fields["corrects"].queryset = OutcomeUpdate.objects.filter(
            key_result__objective__team=team
        )
        self.fields["value"].widget.attrs.update(
            {"step": "any", "inputmode": "decimal", "autocomplete": "off"}
        )
        self.fields["value"].help_text = "In the key result's unit, as measured today."
        self.fields["status"].widget = ChoiceGroup(choices=OutcomeUpdate.Status.choices)

    @property
    def selected_unit(self) -> str:
        """The unit of the key result picked (in the data, or initially), "" when none is."""
        picked = self["key_result"].value()
        if not str(picked or "").isdigit():
            return ""
        units = self.fields["key_result"].queryset.filter(pk=int(picked)).values_list("unit")
        return next(iter(units), ("",))[0]


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
            "started_on": date_input(),
            "ended_on": date_input(),
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
            "decided_on": date_input(),
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


DEFAULT_PULSE_QUESTIONS = (
    "I can ship a change without waiting on other teams.",
    "Our tools and environments let me work in flow.",
    "I know why our current work matters to customers.",
)


class PulseRoundForm(forms.ModelForm):
    """Parses a pulse round: its dates and its questions, one per line."""

    questions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One question per line, each answered from 1 (strongly disagree) to 5.",
        initial="\n".join(DEFAULT_PULSE_QUESTIONS),
    )

    class Meta:
        model = PulseRound
        fields = ["opens_on", "closes_on"]
        widgets = {
            "opens_on": date_input(),
            "closes_on": date_input(),
        }

    def clean_questions(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["questions"].splitlines()]

    def _post_clean(self) -> None:
        """No model validation here: the service validates the round and its questions together."""
