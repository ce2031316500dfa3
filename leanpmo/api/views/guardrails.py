"""Funding API: guardrails. People only; reads narrowed by `visible_to`, writes need
`editable_by` (else 403)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import mixins

from leanpmo.api.serializers.guardrails import GuardrailSerializer
from leanpmo.api.views.funding import MoneyViewSet
from leanpmo.models import (
    Guardrail,
)
from leanpmo.services.structure import guardrail_save
from portfolio.api.errors import api_validation_error


class GuardrailViewSet(
    MoneyViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
):
    """Guardrails of your portfolios; Lean PMO creates and changes them (every change is audited)."""

    model = Guardrail
    serializer_class = GuardrailSerializer
    filterset_fields = ["portfolio", "kind", "active"]

    def get_queryset(self):
        return super().get_queryset().order_by("portfolio", "kind")

    def _save(self, serializer, guardrail: Guardrail | None):
        data = dict(serializer.validated_data)
        portfolio = data.pop("portfolio", None) or guardrail.portfolio
        try:
            serializer.instance = guardrail_save(
                portfolio=portfolio, user=self.request.user, guardrail=guardrail, **data
            )
        except DjangoValidationError as exc:
            raise api_validation_error(exc) from exc

    def perform_create(self, serializer):
        self._save(serializer, None)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)
