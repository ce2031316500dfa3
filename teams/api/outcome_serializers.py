"""Serializers for outcomes, learning, dependencies and realisation metrics: explicit fields only.

Related objects a caller may pick are narrowed in `__init__` to what they may write, so another
team's key result is refused as a field error (400) that reveals nothing about it.
"""

from __future__ import annotations

from rest_framework import serializers

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
        self.fields["portfolio"].queryset = Portfolio.objects.editable_by(user)
        self.fields["value_stream"].queryset = ValueStream.objects.editable_by(user)
        self.fields["team"].queryset = ProductTeam.objects.editable_by(user)
        self.fields["parent"].queryset = Objective.objects.editable_by(user)


class KeyResultSerializer(serializers.ModelSerializer):
    """A key result with the team it belongs to (null above team level); Lean PMO writes."""

    team = serializers.IntegerField(source="objective.team_id", read_only=True)

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["objective"].queryset = Objective.objects.editable_by(_user(self))


class OutcomeUpdateSerializer(serializers.ModelSerializer):
    """A check-in. Post to key results of your own teams; `corrects` names the update it corrects."""

    key_result = serializers.PrimaryKeyRelatedField(
        queryset=KeyResult.objects.none(),
        error_messages={
            "does_not_exist": "Pick a key result of one of your own teams (id {pk_value} is not one)."
        },
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
        self.fields["key_result"].queryset = KeyResult.objects.updatable_by(user)
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

    team = serializers.PrimaryKeyRelatedField(
        queryset=ProductTeam.objects.none(),
        error_messages={"does_not_exist": "Pick one of your own teams (id {pk_value} is not one)."},
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
        user = _user(self)
        self.fields["team"].queryset = ProductTeam.objects.outcomes_editable_by(user)
        self.fields["key_result"].queryset = KeyResult.objects.updatable_by(user)


class NotDoingItemSerializer(serializers.ModelSerializer):
    """An item of one of your own teams' not-doing lists."""

    team = serializers.PrimaryKeyRelatedField(
        queryset=ProductTeam.objects.none(),
        error_messages={"does_not_exist": "Pick one of your own teams (id {pk_value} is not one)."},
    )

    class Meta:
        model = NotDoingItem
        fields = ["id", "team", "what", "why", "decided_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = ProductTeam.objects.outcomes_editable_by(_user(self))


class TeamInteractionSerializer(serializers.ModelSerializer):
    """`team` depends on `depends_on` in an interaction mode."""

    class Meta:
        model = TeamInteraction
        fields = ["id", "team", "depends_on", "mode", "blocking", "note", "since"]


class RealisationMetricSerializer(serializers.ModelSerializer):
    """A value stream's realisation metric; Lean PMO adds them."""

    class Meta:
        model = RealisationMetric
        fields = ["id", "value_stream", "name", "unit", "description", "higher_is_better"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value_stream"].queryset = ValueStream.objects.editable_by(_user(self))


class RealisationPointSerializer(serializers.ModelSerializer):
    """One value of a realisation metric on a date; posting a date again replaces its value."""

    class Meta:
        model = RealisationPoint
        fields = ["id", "metric", "on", "value"]
        validators: list = []  # a repeated date replaces the value (the service upserts)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"].queryset = RealisationMetric.objects.editable_by(_user(self))
