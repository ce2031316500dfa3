"""The guardrail form: parses what people type; the rules live in the model and services."""

from __future__ import annotations

from django import forms

from leanpmo.models import Guardrail


class GuardrailForm(forms.ModelForm):
    """A guardrail's kind and parameters."""

    class Meta:
        model = Guardrail
        fields = [
            "kind",
            "horizon",
            "item_type",
            "min_percent",
            "max_percent",
            "max_count",
            "active",
        ]
