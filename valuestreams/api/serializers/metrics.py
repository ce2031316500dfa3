"""Serializers of the metrics read API: explicit fields, read-only, plus the recompute request."""

from __future__ import annotations

from rest_framework import serializers

from portfolio.api.access import WritableParent
from portfolio.models import Portfolio
from valuestreams.models import (
    DoraMetric,
    FlowMetric,
    MetricRun,
    RecomputeJob,
    StatusTime,
    WorkItem,
    WorkItemFact,
)

WINDOW_FIELDS = ["scope_kind", "scope_id", "grain", "label", "window_start", "window_end"]


class WorkItemFactSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkItemFact
        fields = [
            "item_type",
            "state",
            "start",
            "done",
            "canceled_at",
            "flow_time_s",
            "active_s",
            "wait_s",
            "reopen_count",
            "truncated",
            "done_without_start",
            "unmapped_count",
        ]


class WorkItemWithFactsSerializer(serializers.ModelSerializer):
    facts = WorkItemFactSerializer(source="fact", read_only=True, allow_null=True)

    class Meta:
        model = WorkItem
        fields = [
            "id",
            "portfolio",
            "source",
            "external_key",
            "title",
            "source_type",
            "team",
            "created_at",
            "url",
            "facts",
        ]


class FlowMetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = FlowMetric
        fields = [
            *WINDOW_FIELDS,
            "item_type",
            "velocity",
            "flow_time_p50_s",
            "flow_time_p85_s",
            "flow_time_p95_s",
            "flow_time_mean_s",
            "flow_efficiency",
            "load_mean",
            "load_end",
            "share",
            "target",
        ]


class DoraMetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = DoraMetric
        fields = [*WINDOW_FIELDS, *DoraMetric.metric_fields()]


class StatusTimeSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatusTime
        fields = [*WINDOW_FIELDS, "status", "flow_state", "items", "time_s", "share"]


class MetricRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = MetricRun
        fields = ["id", "portfolio", "kind", "as_of", "computed_at", "caveats", "duration_s"]


class RecomputeJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = RecomputeJob
        fields = [
            "id",
            "portfolio",
            "kind",
            "status",
            "progress",
            "item_ids",
            "team_ids",
            "dora_changed",
            "attempts",
            "error",
            "run",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class RecomputeRequestSerializer(serializers.Serializer):
    """What a Lean PMO may ask for: a full recompute, or one of some work items and teams."""

    portfolio = WritableParent(Portfolio, refusal="Only the Lean PMO requests recomputes.")
    full = serializers.BooleanField(default=True)
    item_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    team_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
