"""API shapes for funding periods and money plans (budgets; scenario lines extend them).
Serializers parse and present; rules live in models and services.

The parent a write names (portfolio, period, decision) is a WritableParent: it answers 404/403
before anything else is validated, so a refusal never tells an outsider what exists.
"""

from __future__ import annotations

from rest_framework import serializers

from leanpmo.api.serializers.decisions import DecisionInputSerializer
from leanpmo.models import (
    FundingPeriod,
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
from portfolio.models import Portfolio

MONEY = {"max_digits": 14, "decimal_places": 2}


class FundingPeriodSerializer(serializers.ModelSerializer):
    portfolio = WritableParent(Portfolio, refusal="Only the Lean PMO adds funding periods.")

    class Meta:
        model = FundingPeriod
        fields = ["id", "portfolio", "name", "starts_on", "ends_on", "status", "approved_at"]
        read_only_fields = ["status", "approved_at"]


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
