"""API shape of a guardrail. It parses and presents; rules live in the model and services."""

from __future__ import annotations

from rest_framework import serializers

from leanpmo.models import (
    Guardrail,
)
from portfolio.api.access import WritableParent
from portfolio.models import Portfolio


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
