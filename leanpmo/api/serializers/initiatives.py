"""API shapes for initiatives. Serializers parse and present; the rules live in the services."""

from __future__ import annotations

from rest_framework import serializers

from leanpmo.models import (
    WSJF_FIELDS,
    Initiative,
    InitiativeState,
    InitiativeTransition,
    StrategicTheme,
    WorkShape,
)
from teams.models import KeyResult, ProductTeam
from valuestreams.models import ValueStream

MONEY = {"max_digits": 14, "decimal_places": 2}
MONEY_FIELDS = ("cost_estimate", "scope_budget")
WSJF_INPUT = {"required": False, "allow_null": True, "min_value": 1, "max_value": 100}


class WsjfSerializer(serializers.Serializer):
    """WSJF inputs (whole numbers 1–100 on a relative scale, null when not estimated) and what the
    server computes from them: cost of delay = the sum of the three; wsjf = cost of delay ÷ job
    size, two decimals, null without every input (never 0)."""

    user_business_value = serializers.IntegerField(**WSJF_INPUT)
    time_criticality = serializers.IntegerField(**WSJF_INPUT)
    risk_reduction = serializers.IntegerField(
        **WSJF_INPUT, help_text="Risk reduction / opportunity enablement."
    )
    job_size = serializers.IntegerField(**WSJF_INPUT)
    cost_of_delay = serializers.SerializerMethodField()
    wsjf = serializers.SerializerMethodField()

    def get_cost_of_delay(self, initiative: Initiative) -> int | None:
        return initiative.wsjf.cost_of_delay

    def get_wsjf(self, initiative: Initiative) -> float | None:
        score = initiative.wsjf.score
        return None if score is None else float(score)


class InitiativeSerializer(serializers.ModelSerializer):
    """An initiative (a bet) of a portfolio kanban.

    `work_shape` is read from the linked teams (team_mission: one team; product_group: teams of one
    value stream; strategic_initiative: teams in two or more; null without teams); a shape sent on
    a write must agree with the teams, else 400. `state` changes only through
    POST /initiatives/{id}/transitions/. Money fields are null for people who may not see the
    portfolio's money.
    """

    work_shape = serializers.ChoiceField(
        choices=WorkShape.choices,
        required=False,
        allow_blank=True,
        help_text="Read: the shape that follows from the teams. Write (optional): the shape you "
        "expect, refused when the teams say otherwise.",
    )
    teams = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=ProductTeam.objects.all()
    )
    value_streams = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=ValueStream.objects.all()
    )
    themes = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=StrategicTheme.objects.all()
    )
    leading_indicators = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=KeyResult.objects.all()
    )
    user_business_value = serializers.IntegerField(**WSJF_INPUT)
    time_criticality = serializers.IntegerField(**WSJF_INPUT)
    risk_reduction = serializers.IntegerField(
        **WSJF_INPUT, help_text="Risk reduction / opportunity enablement."
    )
    job_size = serializers.IntegerField(**WSJF_INPUT)
    cost_of_delay = serializers.SerializerMethodField()
    wsjf = serializers.SerializerMethodField(
        help_text="Cost of delay ÷ job size, two decimals; null without every input."
    )
    cost_estimate = serializers.DecimalField(**MONEY, required=False, allow_null=True)
    scope_budget = serializers.DecimalField(**MONEY, required=False, allow_null=True)

    class Meta:
        model = Initiative
        fields = [
            "id",
            "portfolio",
            "title",
            "description",
            "owner",
            "state",
            "state_changed_at",
            "work_shape",
            "hypothesis_belief",
            "hypothesis_outcome",
            "hypothesis_measure",
            "leading_indicators",
            "mvp",
            "in_scope",
            "out_of_scope",
            "cost_estimate",
            "sponsors",
            "alternatives",
            "themes",
            "value_streams",
            "teams",
            "funding_mode",
            "end_date",
            "scope_budget",
            *WSJF_FIELDS,
            "cost_of_delay",
            "wsjf",
            "created_at",
        ]
        read_only_fields = ["state", "state_changed_at", "created_at"]
        # the title's uniqueness and the funding rules are checked by the service (field-named)
        validators: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        portfolio = self.context.get("portfolio")
        if portfolio is not None:
            # links are picked among the portfolio's own objects: other ids "do not exist"
            self.fields["teams"].child_relation.queryset = ProductTeam.objects.filter(
                value_stream__portfolio=portfolio
            )
            self.fields["value_streams"].child_relation.queryset = ValueStream.objects.filter(
                portfolio=portfolio
            )
            self.fields["themes"].child_relation.queryset = StrategicTheme.objects.filter(
                portfolio=portfolio
            )
            self.fields["leading_indicators"].child_relation.queryset = KeyResult.objects.filter(
                objective__portfolio=portfolio
            )
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["portfolio"].read_only = True

    def get_cost_of_delay(self, initiative: Initiative) -> int | None:
        return initiative.wsjf.cost_of_delay

    def get_wsjf(self, initiative: Initiative) -> float | None:
        score = initiative.wsjf.score
        return None if score is None else float(score)

    def to_representation(self, instance: Initiative) -> dict:
        data = super().to_representation(instance)
        if instance.portfolio_id not in self.context.get("money_portfolio_ids", set()):
            for name in MONEY_FIELDS:
                data[name] = None
        return data


class TransitionSerializer(serializers.ModelSerializer):
    """One move of an initiative: who, when, from, to, why, and the decision it was recorded with
    (a start, a stop, or the approved exception that let it pass the strategic cap)."""

    moved_by_name = serializers.SerializerMethodField()

    class Meta:
        model = InitiativeTransition
        fields = [
            "id",
            "initiative",
            "from_state",
            "to_state",
            "reason",
            "moved_by",
            "moved_by_name",
            "moved_at",
            "decision",
        ]
        read_only_fields = fields

    def get_moved_by_name(self, transition: InitiativeTransition) -> str:
        return transition.moved_by.get_full_name() or transition.moved_by.username


class MoveSerializer(serializers.Serializer):
    """A move on the kanban. `reason` is required (for a stop: what was learned). Into
    implementing, `expected_outcome` defaults to the hypothesis; with `request_exception` a move
    the strategic cap refuses is recorded as an exception decision for an executive (202)."""

    to_state = serializers.ChoiceField(choices=InitiativeState.choices)
    reason = serializers.CharField(allow_blank=True)
    expected_outcome = serializers.CharField(required=False, allow_blank=True, default="")
    review_due_on = serializers.DateField(required=False, allow_null=True, default=None)
    request_exception = serializers.BooleanField(required=False, default=False)


class GuardrailRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    description = serializers.CharField()
    max_count = serializers.IntegerField()


class InitiativeRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class CapRefusalSerializer(serializers.Serializer):
    """409: the move would exceed the strategic WIP cap; the guardrail and who holds the slots."""

    detail = serializers.CharField()
    code = serializers.CharField(help_text="strategic_wip_cap")
    guardrail = GuardrailRefSerializer()
    in_progress = InitiativeRefSerializer(many=True)


class PendingExceptionSerializer(serializers.Serializer):
    """202: the refused move was recorded as an exception decision waiting for an executive."""

    decision = serializers.IntegerField()
    pending_approval = serializers.BooleanField()
    detail = serializers.CharField()
