"""API shapes for funding decisions and their reviews. Serializers parse and present; rules live
in models and services."""

from __future__ import annotations

from rest_framework import serializers

from leanpmo.models import (
    DecisionKind,
    DecisionReview,
    FundingDecision,
    FundingPeriod,
    ReviewOutcome,
)
from portfolio.api.access import WritableParent
from portfolio.models import validate_date_in_range
from valuestreams.models import ValueStream


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
