"""Serializers for outcomes, learning, dependencies and realisation metrics: explicit fields only.

The parent a write names (portfolio, objective, key result, team, value stream, metric) is a
WritableParent: 404 when the caller may not see it, 403 when they may not write into it, before
anything else is validated. Other related objects a caller may pick are narrowed in `__init__` to
what they may write, so another team's key result is refused as a field error (400) that reveals
nothing about it.
"""

from __future__ import annotations

from rest_framework import serializers

from portfolio.api.access import WritableParent
from portfolio.models import Portfolio
from teams.models import (
    Experiment,
    KeyResult,
    NotDoingItem,
    Objective,
    OutcomeUpdate,
    ProductTeam,
    RealisationMetric,
    RealisationPoint,
    TeamInteraction,
)
from valuestreams.models import ValueStream


def _user(serializer: serializers.Serializer):
    return serializer.context["request"].user


class ObjectiveSerializer(serializers.ModelSerializer):
    """An objective; Lean PMO writes, picking a portfolio they manage."""

    portfolio = WritableParent(Portfolio, refusal="Only the Lean PMO sets objectives.")

    class Meta:
        model = Objective
        fields = [
            "id",
            "portfolio",
            "level",
            "value_stream",
            "team",
            "parent",
            "strategic_theme",
            "title",
            "description",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _user(self)
        self.fields["value_stream"].queryset = ValueStream.objects.editable_by(user)
        self.fields["team"].queryset = ProductTeam.objects.editable_by(user)
        self.fields["parent"].queryset = Objective.objects.editable_by(user)
        theme = self.fields["strategic_theme"]
        theme.queryset = theme.queryset.model.objects.editable_by(user)


class KeyResultSerializer(serializers.ModelSerializer):
    """A key result with the team it belongs to (null above team level); Lean PMO writes."""

    objective = WritableParent(Objective, refusal="Only the Lean PMO sets key results.")
    team = serializers.IntegerField(source="objective.team_id", read_only=True, allow_null=True)

    class Meta:
        model = KeyResult
        fields = [
            "id",
            "objective",
            "team",
            "metric",
            "unit",
            "baseline",
            "target",
            "direction",
            "cadence_days",
            "starts_on",
            "closed",
        ]


class OutcomeUpdateSerializer(serializers.ModelSerializer):
    """A check-in. Post to key results of your own teams; `corrects` names the update it corrects."""

    key_result = WritableParent(
        KeyResult,
        write_rule="updatable_by",
        refusal="Only the team's own members post check-ins on its key results.",
    )
    corrects = serializers.PrimaryKeyRelatedField(
        queryset=OutcomeUpdate.objects.none(),
        required=False,
        allow_null=True,
        error_messages={
            "does_not_exist": "You can only correct an update of your own teams (id {pk_value} is not one)."
        },
    )
    posted_by = serializers.CharField(source="posted_by.username", read_only=True)

    class Meta:
        model = OutcomeUpdate
        fields = [
            "id",
            "key_result",
            "value",
            "confidence",
            "status",
            "learned",
            "blockers",
            "corrects",
            "posted_by",
            "posted_at",
        ]
        read_only_fields = ["posted_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _user(self)
        self.fields["corrects"].queryset = OutcomeUpdate.objects.editable_by(user)


class CheckInWarningSerializer(serializers.Serializer):
    """What looks implausible in a check-in (teams.plausibility): `code` and a sentence."""

    code = serializers.CharField()
    message = serializers.CharField()


class OutcomeUpdatePostedSerializer(serializers.ModelSerializer):
    """The answer to posting a check-in (for the schema): the check-in and its `warnings`, what
    looked implausible about it (it is saved all the same)."""

    posted_by = serializers.CharField(source="posted_by.username", read_only=True)
    warnings = CheckInWarningSerializer(many=True, read_only=True)

    class Meta:
        model = OutcomeUpdate
        fields = [*OutcomeUpdateSerializer.Meta.fields, "warnings"]
        read_only_fields = fields


class ExperimentSerializer(serializers.ModelSerializer):
    """An experiment of one of your own teams."""

    team = WritableParent(
        ProductTeam,
        write_rule="outcomes_editable_by",
        refusal="Only the team's own members write its experiments.",
    )

    class Meta:
        model = Experiment
        fields = [
            "id",
            "team",
            "hypothesis",
            "metric",
            "key_result",
            "started_on",
            "ended_on",
            "result",
            "learning",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key_result"].queryset = KeyResult.objects.updatable_by(_user(self))


class NotDoingItemSerializer(serializers.ModelSerializer):
    """An item of one of your own teams' not-doing lists."""

    team = WritableParent(
        ProductTeam,
        write_rule="outcomes_editable_by",
        refusal="Only the team's own members write its not-doing list.",
    )

    class Meta:
        model = NotDoingItem
        fields = ["id", "team", "what", "why", "decided_on"]


class TeamInteractionSerializer(serializers.ModelSerializer):
    """`team` depends on `depends_on` in an interaction mode."""

    class Meta:
        model = TeamInteraction
        fields = ["id", "team", "depends_on", "mode", "blocking", "note", "since"]


class RealisationMetricSerializer(serializers.ModelSerializer):
    """A value stream's realisation metric; Lean PMO adds them."""

    value_stream = WritableParent(
        ValueStream, refusal="Only the Lean PMO adds realisation metrics."
    )

    class Meta:
        model = RealisationMetric
        fields = ["id", "value_stream", "name", "unit", "description", "higher_is_better"]


class RealisationPointSerializer(serializers.ModelSerializer):
    """One value of a realisation metric on a date; posting a date again replaces its value."""

    metric = WritableParent(RealisationMetric, refusal="Only the Lean PMO records these values.")

    class Meta:
        model = RealisationPoint
        fields = ["id", "metric", "on", "value"]
        validators: list = []  # a repeated date replaces the value (the service upserts)
