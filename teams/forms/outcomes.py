"""Forms where a team's members write: a check-in (with the key results offered as radio buttons
carrying their facts), an experiment, a not-doing decision."""

import zoneinfo

from django import forms
from django.utils.html import format_html

from portfolio.widgets import date_input
from teams import selectors
from teams.models import Experiment, KeyResult, NotDoingItem, OutcomeUpdate, ProductTeam
from teams.plausibility import day, quantity


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
