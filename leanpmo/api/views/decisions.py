"""Funding API: decisions (create + read) and reviews. People only; reads narrowed by
`visible_to`, writes need `editable_by` (else 403)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import mixins

from leanpmo.api.serializers.decisions import DecisionSerializer, ReviewSerializer
from leanpmo.api.views.funding import DECISION_FIELDS, MoneyViewSet
from leanpmo.models import (
    DecisionReview,
    FundingDecision,
    FundingPeriod,
    ValueStreamBudget,
)
from leanpmo.services.decisions import DecisionInput, decision_record, review_record
from portfolio.api.errors import api_validation_error


class DecisionViewSet(
    MoneyViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Funding decisions: created with evidence frozen by the server, never updated or deleted."""

    model = FundingDecision
    serializer_class = DecisionSerializer
    filterset_fields = ["portfolio", "period", "value_stream", "initiative", "kind"]

    def get_queryset(self):
        return super().get_queryset().select_related("approval").order_by("-decided_at", "-pk")

    def perform_create(self, serializer):
        data = serializer.validated_data
        period: FundingPeriod = data["period"]
        budget = ValueStreamBudget.objects.filter(
            period=period, value_stream=data["value_stream"]
        ).first()
        amount = budget.total if budget else 0
        try:
            serializer.instance = decision_record(
                period=period,
                value_stream=data["value_stream"],
                decision=DecisionInput(
                    kind=data["kind"], rationale=data["rationale"], expected_outcome=data["expected_outcome"],
                    options_considered=data.get("options_considered", ""),
                    leading_indicators=data.get("leading_indicators", ""), review_due_on=data.get("review_due_on"),
                ),
                amount_before=amount, amount_after=amount, user=self.request.user, now=timezone.now(),
                supersedes=data.get("supersedes"),
            )  # fmt: skip
        except DjangoValidationError as exc:
            raise api_validation_error(exc, fields=DECISION_FIELDS) from exc


class ReviewViewSet(
    MoneyViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Decision reviews (append-only): did the expected outcome hold?"""

    model = DecisionReview
    serializer_class = ReviewSerializer
    filterset_fields = ["decision", "outcome"]

    def get_queryset(self):
        return super().get_queryset().order_by("-reviewed_at")

    def perform_create(self, serializer):
        decision = serializer.validated_data["decision"]
        try:
            serializer.instance = review_record(
                decision=decision, outcome=serializer.validated_data["outcome"],
                notes=serializer.validated_data.get("notes", ""), user=self.request.user, now=timezone.now(),
            )  # fmt: skip
        except DjangoValidationError as exc:
            raise api_validation_error(exc) from exc
