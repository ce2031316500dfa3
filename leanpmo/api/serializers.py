"""API shapes for funding. Serializers parse and present; rules live in models and services.

The parent a write names (portfolio, period, decision) is a WritableParent: it answers 404/403
before anything else is validated, so a refusal never tells an outsider what exists.
"""

from __future__ import annotations

from rest_framework import serializers

from leanpmo.models import (
    DecisionKind,
    DecisionReview,
    FundingDecision,
    FundingPeriod,
    Guardrail,
    ReviewOutcome,
    Scenario,
    ScenarioLine,
    ValueStreamBudget,
)
from leanpmo.plan_fields import (
    ALLOCATION_FIELD,
    FIXED_SCOPE_FIELD,
    GRID_FIELDS,
    HORIZON_AMOUNT_FIELD,
    THEME_SPLIT_FIELD,
)
from portfolio.api.access import WritableParent
from portfolio.models import Portfolio, validate_date_in_range
from valuestreams.models import ValueStream

MONEY = {"max_digits": 14, "decimal_places": 2}


class FundingPeriodSerializer(serializers.ModelSerializer):
    portfolio = WritableParent(Portfolio, refusal="Only the Lean PMO adds funding periods.")

    class Meta:
        model = FundingPeriod
        fields = ["id", "portfolio", "name", "starts_on", "ends_on", "status", "approved_at"]
        read_only_fields = ["status", "approved_at"]


class DecisionInputSerializer(serializers.Serializer):
    """The decision that must accompany a change of approved money."""

    kind = serializers.ChoiceField(choices=DecisionKind.choices)
    rationale = serializers.CharField()
    expected_outcome = serializers.CharField()
    options_considered = serializers.CharField(required=False, allow_blank=True, default="")
    leading_indicators = serializers.CharField(required=False, allow_blank=True, default="")
    review_due_on = serializers.DateField(
        required=False, allow_null=True, default=None, validators=[validate_date_in_range]
    )


# the plan's fields in the order the API shows them, with the total after the money by horizon
PLAN_API_FIELDS = [
    "value_stream",
    "value_stream_name",
    *HORIZON_AMOUNT_FIELD.values(),
    "total",
    FIXED_SCOPE_FIELD,
    *ALLOCATION_FIELD.values(),
    THEME_SPLIT_FIELD,
]


class MoneyPlanSerializer(serializers.ModelSerializer):
    """The fields a budget and a scenario line share (leanpmo.models.MoneyPlan); the model's rules
    (non-negative money, allocation = 100 %) are applied by the services, which name the field."""

    value_stream_name = serializers.CharField(source="value_stream.name", read_only=True)
    total = serializers.DecimalField(**MONEY, read_only=True)

    class Meta:
        extra_kwargs = {name: {"validators": []} for name in GRID_FIELDS}


class BudgetSerializer(MoneyPlanSerializer):
    """A value-stream budget; `version` is also sent as the ETag, and PUT/PATCH need it in If-Match."""

    decision = DecisionInputSerializer(write_only=True, required=False)

    class Meta(MoneyPlanSerializer.Meta):
        model = ValueStreamBudget
        fields = ["id", "period", *PLAN_API_FIELDS, "notes", "version", "updated_at", "decision"]
        read_only_fields = ["period", "value_stream", "version", "updated_at"]


class ReviewSerializer(serializers.ModelSerializer):
    decision = WritableParent(FundingDecision, refusal="Only the Lean PMO reviews decisions.")
    outcome = serializers.ChoiceField(choices=ReviewOutcome.choices)

    class Meta:
        model = DecisionReview
        fields = ["id", "decision", "outcome", "notes", "figures", "reviewed_by", "reviewed_at"]
        read_only_fields = ["figures", "reviewed_by", "reviewed_at"]


class DecisionSerializer(serializers.ModelSerializer):
    """A funding decision. Created with its evidence frozen by the server; never updated."""

    period = WritableParent(FundingPeriod, refusal="Only the Lean PMO records decisions.")
    approval = serializers.SerializerMethodField()

    class Meta:
        model = FundingDecision
        fields = [
            "id",
            "portfolio",
            "period",
            "value_stream",
            "initiative",
            "kind",
            "amount_before",
            "amount_after",
            "rationale",
            "options_considered",
            "expected_outcome",
            "leading_indicators",
            "evidence",
            "proposal",
            "decided_by",
            "decided_at",
            "review_due_on",
            "supersedes",
            "approval",
        ]
        read_only_fields = [
            "portfolio",
            "amount_before",
            "amount_after",
            "evidence",
            "proposal",
            "decided_by",
            "decided_at",
            "initiative",
        ]
        # decisions about initiatives are recorded by their moves (initiatives/{id}/transitions/)
        extra_kwargs = {
            "review_due_on": {"required": False},
            "value_stream": {"required": True, "allow_null": False},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:  # what the caller cannot see does not exist for them
            self.fields["value_stream"].queryset = ValueStream.objects.visible_to(request.user)
            self.fields["supersedes"].queryset = FundingDecision.objects.visible_to(request.user)

    def get_approval(self, decision: FundingDecision) -> str | None:
        approval = getattr(decision, "approval", None)
        if approval is None:
            return None
        return "approved" if approval.approved else "rejected"


class GuardrailSerializer(serializers.ModelSerializer):
    portfolio = WritableParent(Portfolio, refusal="Only the Lean PMO sets guardrails.")
    description = serializers.CharField(source="describe", read_only=True)

    class Meta:
        model = Guardrail
        fields = [
            "id",
            "portfolio",
            "kind",
            "horizon",
            "item_type",
            "min_percent",
            "max_percent",
            "max_count",
            "active",
            "description",
        ]
        extra_kwargs = {"min_percent": {"validators": []}, "max_percent": {"validators": []}}


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
