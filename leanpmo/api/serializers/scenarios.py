"""API shapes for scenarios, their lines, drift and promotion."""

from __future__ import annotations

from rest_framework import serializers

from leanpmo.api.serializers.decisions import DecisionInputSerializer
from leanpmo.api.serializers.funding import MONEY, PLAN_API_FIELDS, MoneyPlanSerializer
from leanpmo.models import (
    FundingPeriod,
    Scenario,
    ScenarioLine,
)
from portfolio.api.access import WritableParent


class ScenarioSerializer(serializers.ModelSerializer):
    """A scenario: a what-if copy of one period's plan. Created by naming the period to copy."""

    period = WritableParent(FundingPeriod, refusal="Only the Lean PMO makes scenarios.")
    status = serializers.CharField(read_only=True, help_text="draft or promoted")

    class Meta:
        model = Scenario
        read_only_fields = [
            "status",
            "created_by",
            "created_at",
            "promoted_by",
            "promoted_at",
            "decisions",
        ]
        fields = ["id", "period", "name", "description", *read_only_fields]
        # the service checks the name (unique in the period) and names the field when it refuses
        validators: list = []


class ScenarioLineSerializer(MoneyPlanSerializer):
    """One value stream in a scenario; `version` is its ETag, and PUT/PATCH need it in If-Match."""

    class Meta(MoneyPlanSerializer.Meta):
        model = ScenarioLine
        fields = ["id", "scenario", *PLAN_API_FIELDS, "base_version", "version"]
        read_only_fields = ["scenario", "value_stream", "base_version", "version"]


class DriftSerializer(serializers.Serializer):
    """How one value stream's budget changed since the scenario copied it."""

    value_stream = serializers.CharField()
    kind = serializers.CharField(
        help_text="changed, added (a budget the scenario lacks) or removed"
    )
    changes = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))


class ScenarioDetailSerializer(ScenarioSerializer):
    """A scenario with its lines and how the plan changed since it was copied (empty: not stale)."""

    lines = ScenarioLineSerializer(many=True, read_only=True)
    drift = DriftSerializer(many=True, read_only=True)

    class Meta(ScenarioSerializer.Meta):
        fields = [*ScenarioSerializer.Meta.fields, "lines", "drift"]


class PromotionDecisionSerializer(DecisionInputSerializer):
    """The decision for one value stream the scenario changes."""

    value_stream = serializers.IntegerField()


class PromotionSerializer(serializers.Serializer):
    """One decision per value stream whose budget the scenario changes."""

    decisions = PromotionDecisionSerializer(many=True)


class PromotionResultSerializer(serializers.Serializer):
    """What promoting did for one value stream."""

    value_stream = serializers.IntegerField()
    decision = serializers.IntegerField()
    kind = serializers.CharField()
    pending_approval = serializers.BooleanField()


class PromotionPlanSerializer(serializers.Serializer):
    """What promoting would do for one value stream the scenario changes."""

    value_stream = serializers.IntegerField()
    value_stream_name = serializers.CharField()
    amount_before = serializers.DecimalField(**MONEY)
    amount_after = serializers.DecimalField(**MONEY)
    suggested_kind = serializers.CharField()
    breaches = serializers.ListField(child=serializers.CharField())
