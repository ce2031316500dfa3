"""API shapes of signals, acknowledgements and thresholds (money left out for those who may not
see it)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema_field,
)
from rest_framework import serializers

from leanpmo.detectors.findings import SEVERITY_LABELS
from leanpmo.detectors.registry import DETECTOR_LABELS
from leanpmo.detectors.thresholds import DEFAULTS, SPECS
from leanpmo.detectors.wording import MONEY_FACTS
from leanpmo.models import Signal
from leanpmo.panels.rows import evidence_links, signal_state


class EvidenceSerializer(serializers.Serializer):
    label = serializers.CharField()
    url = serializers.CharField()


class SignalSerializer(serializers.ModelSerializer):
    """A signal: its detector, objects, severity, the sentence for you, facts (amounts of money
    left out unless you see the portfolio's money), evidence links, and when it was seen."""

    detector_label = serializers.SerializerMethodField()
    severity_label = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()
    explanation = serializers.SerializerMethodField()
    facts = serializers.SerializerMethodField()
    evidence = serializers.SerializerMethodField()
    value_stream_name = serializers.CharField(source="value_stream.name", default=None)
    team_name = serializers.CharField(source="team.name", default=None)
    acknowledged_until = serializers.DateTimeField(read_only=True, allow_null=True)
    acknowledged_reason = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Signal
        fields = [
            "id", "portfolio", "detector", "detector_label", "key", "severity", "severity_label",
            "state", "explanation", "facts", "evidence", "value_stream", "value_stream_name",
            "team", "team_name", "first_seen", "opened_at", "last_seen", "resolved_at",
            "acknowledged_until", "acknowledged_reason",
        ]  # fmt: skip

    def _money(self, signal: Signal) -> bool:
        return signal.portfolio_id in self.context["money_portfolios"]

    def get_detector_label(self, signal: Signal) -> str:
        return DETECTOR_LABELS.get(signal.detector, signal.detector)

    def get_severity_label(self, signal: Signal) -> str:
        return SEVERITY_LABELS.get(signal.severity, "")

    @extend_schema_field(serializers.ChoiceField(choices=["new", "open", "acknowledged", "resolved"]))  # fmt: skip
    def get_state(self, signal: Signal) -> str:
        return signal_state(signal, self.context["now"])

    def get_explanation(self, signal: Signal) -> str:
        return signal.explanation(show_money=self._money(signal))

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_facts(self, signal: Signal) -> dict:
        if self._money(signal):
            return signal.facts
        return {key: value for key, value in signal.facts.items() if key not in MONEY_FACTS}

    @extend_schema_field(EvidenceSerializer(many=True))
    def get_evidence(self, signal: Signal) -> list[dict]:
        links = evidence_links(
            signal.evidence,
            show_money=self._money(signal),
            can_edit=signal.portfolio_id in self.context["editable_portfolios"],
        )
        return [{"label": link.label, "url": link.url} for link in links]


class AcknowledgementSerializer(serializers.Serializer):
    """An acknowledgement: why, until when (exclusive end, in UTC), who and when."""

    reason = serializers.CharField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    severity = serializers.IntegerField(allow_null=True)
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", allow_null=True, default=None
    )
    acknowledged_at = serializers.DateTimeField(allow_null=True)


EMPTY_ACKNOWLEDGEMENT = dict.fromkeys(["reason", "expires_at", "severity", "acknowledged_at"])


class AcknowledgeSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, help_text="Why it can wait.")
    until = serializers.DateField(
        allow_null=True, help_text="The last day it stays aside (portfolio's time zone)."
    )


def _threshold_field(spec):
    default = getattr(DEFAULTS, spec.name)
    common = {"min_value": spec.minimum, "max_value": spec.maximum, "help_text": f"{spec.help} ({spec.unit})"}  # fmt: skip
    if isinstance(default, float):
        return serializers.DecimalField(max_digits=3, decimal_places=1, **common)
    return serializers.IntegerField(**common)


ThresholdsSerializer = type(
    "ThresholdsSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "A portfolio's thresholds (the defaults until the Lean PMO saved some).",
        "__module__": __name__,
        "portfolio": serializers.IntegerField(read_only=True),
        **{spec.name: _threshold_field(spec) for spec in SPECS},
        "updated_at": serializers.DateTimeField(read_only=True, allow_null=True),
    },
)
