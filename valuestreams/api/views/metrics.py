"""The metrics read API: work-item facts, flow, DORA, time in status, runs and recompute jobs.

Session authentication only (integration tokens read nothing here); every queryset goes through
``visible_to``. Metric lists answer from the precomputed tables. With ``?as_of=<ISO datetime>``
different from the latest run's as_of, the flow, DORA and time-in-status lists compute the ONE
requested scope (``scope`` and ``id`` are then required) on the fly from the pure metrics and
nothing is stored — see :func:`valuestreams.recompute.live_flow_rows`. Such live computations are
limited per person (``LIVE_METRICS_RATE``, 429 past it) and an answer is cached until the next
recompute publishes (at most ``LIVE_METRICS_CACHE_SECONDS``); a cached answer costs nothing.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from portfolio.access import get_for_user
from portfolio.api.access import IdFilterSet
from portfolio.api.authentication import PeopleOnly
from portfolio.date_range import date_range_problem
from portfolio.models import Portfolio
from teams.models import ProductTeam
from valuestreams.api.serializers import metrics as s
from valuestreams.models import (
    DoraMetric,
    FlowItemType,
    FlowMetric,
    FlowState,
    Grain,
    MetricRun,
    RecomputeJob,
    ScopeKind,
    StatusTime,
    ValueStream,
    WorkItem,
)
from valuestreams.recompute import live_dora_rows, live_flow_rows, recompute_request

AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATETIME,
    description="Compute the one scope given by scope and id live as of this time (ISO 8601) "
    "when it differs from the stored run's as_of; nothing is stored. Live computations are "
    "limited per person (30 an hour unless the instance says otherwise; past it 429 with "
    "Retry-After); the same question is answered from a cache until the next recompute and "
    "does not count.",
)


def live_list_schema(serializer: type):
    """A metric list's schema: its rows, the as_of parameter and the 429 of the live limit."""
    too_many = "Too many live as_of computations; retry after Retry-After seconds."
    return extend_schema(
        parameters=[AS_OF],
        responses={200: serializer(many=True), 429: OpenApiResponse(description=too_many)},
    )


class LiveMetricsThrottle(UserRateThrottle):
    """Live ``as_of`` computations per person (``settings.LIVE_METRICS_RATE``, e.g. "30/hour")."""

    scope = "live_metrics"

    def get_rate(self) -> str:
        return settings.LIVE_METRICS_RATE


class SessionOnly:
    """Integration tokens may push events but never read metrics: they get a 403 that says so."""

    permission_classes = [PeopleOnly]


# --- work items with their facts --------------------------------------------------------------


class WorkItemFilter(IdFilterSet):
    value_stream = filters.NumberFilter(field_name="team__value_stream")
    state = filters.ChoiceFilter(field_name="fact__state", choices=FlowState.choices)
    type = filters.ChoiceFilter(field_name="fact__item_type", choices=FlowItemType.choices)
    done_from = filters.IsoDateTimeFilter(field_name="fact__done", lookup_expr="gte")
    done_to = filters.IsoDateTimeFilter(field_name="fact__done", lookup_expr="lt")

    class Meta:
        model = WorkItem
        fields = ["portfolio", "team", "value_stream", "state", "type", "done_from", "done_to"]


class WorkItemViewSet(SessionOnly, viewsets.ReadOnlyModelViewSet):
    """Work items of your portfolios with their flow facts as of the last recompute."""

    serializer_class = s.WorkItemWithFactsSerializer
    filterset_class = WorkItemFilter

    def get_queryset(self):
        return (
            WorkItem.objects.visible_to(self.request.user)
            .select_related("fact")
            .order_by("portfolio", "external_key", "pk")
        )


# --- precomputed metrics ---------------------------------------------------------------------


class MetricFilter(IdFilterSet):
    scope = filters.ChoiceFilter(field_name="scope_kind", choices=ScopeKind.choices)
    id = filters.NumberFilter(field_name="scope_id")
    grain = filters.ChoiceFilter(choices=Grain.choices)
    portfolio = filters.NumberFilter()


MetricFilter.base_filters["from"] = filters.IsoDateTimeFilter(
    field_name="window_start", lookup_expr="gte", label="Windows starting at or after (ISO 8601)"
)
MetricFilter.base_filters["to"] = filters.IsoDateTimeFilter(
    field_name="window_start", lookup_expr="lte", label="Windows starting at or before (ISO 8601)"
)


class FlowMetricFilter(MetricFilter):
    type = filters.CharFilter(field_name="item_type", help_text="Feature, Defect, Risk, Debt, All")

    class Meta:
        model = FlowMetric
        fields = []


class DoraMetricFilter(MetricFilter):
    class Meta:
        model = DoraMetric
        fields = []


class StatusTimeFilter(MetricFilter):
    class Meta:
        model = StatusTime
        fields = []


FlowMetricFilter.base_filters.update({k: MetricFilter.base_filters[k] for k in ("from", "to")})
DoraMetricFilter.base_filters.update({k: MetricFilter.base_filters[k] for k in ("from", "to")})
StatusTimeFilter.base_filters.update({k: MetricFilter.base_filters[k] for k in ("from", "to")})


def _scope_portfolio(user, scope_kind: str | None, scope_id: str | None) -> Portfolio:
    """The portfolio of the scope named by ?scope=&id= (404 when the user may not see it)."""
    errors = {}
    if scope_kind not in ScopeKind.values:
        errors["scope"] = ["as_of needs scope=team|value_stream|portfolio."]
    if not (scope_id or "").isdigit():
        errors["id"] = ["as_of needs the id of the scope."]
    if errors:
        raise ValidationError(errors)
    model = {"team": ProductTeam, "value_stream": ValueStream, "portfolio": Portfolio}[scope_kind]
    found = get_for_user(model, user, int(scope_id))
    if scope_kind == "team":
        return found.value_stream.portfolio
    return found.portfolio if scope_kind == "value_stream" else found


class MetricViewSet(SessionOnly, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Shared list behaviour: stored rows, or one scope computed live for another as_of."""

    model: type
    live_kind = "flow"
    ordering = ["scope_kind", "scope_id", "grain", "window_start"]

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user).order_by(*self.ordering, "pk")

    def list(self, request, *args, **kwargs):
        raw = request.query_params.get("as_of")
        if not raw:
            return super().list(request, *args, **kwargs)
        try:
            as_of = filters.IsoDateTimeFilter().field.clean(raw)
        except DjangoValidationError:
            as_of = None
        if as_of is None or as_of.tzinfo is None:
            raise ValidationError({"as_of": ["Give an ISO 8601 time with its offset."]})
        if problem := date_range_problem(as_of):
            raise ValidationError({"as_of": [problem]})
        params = request.query_params
        portfolio = _scope_portfolio(request.user, params.get("scope"), params.get("id"))
        latest = MetricRun.objects.filter(portfolio=portfolio).order_by("-computed_at").first()
        if latest is not None and latest.as_of == as_of:
            return super().list(request, *args, **kwargs)
        rows = self.cached_live_rows(portfolio, latest, params["scope"], int(params["id"]), as_of)
        rows = [r for r in rows if self.keep(r, params)]
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def cached_live_rows(self, portfolio, latest, scope_kind: str, scope_id: int, as_of) -> list:
        """The live rows of one scope, from the cache when the same question was asked since the
        latest run; a computation counts against the person's LiveMetricsThrottle (429 past it)."""
        grain = self.request.query_params.get("grain") or ""
        run = f"{latest.pk}@{latest.computed_at.timestamp()}" if latest else "none"
        key = (
            f"steward:live-metrics:{self.live_kind}:{portfolio.pk}:{run}:"
            f"{scope_kind}:{scope_id}:{grain}:{as_of.astimezone(dt.UTC).isoformat()}"
        )
        rows = cache.get(key)
        if rows is None:
            throttle = LiveMetricsThrottle()
            if not throttle.allow_request(self.request, self):
                wait = throttle.wait()
                raise Throttled(
                    wait,
                    detail=f"Live as_of computations are limited to {settings.LIVE_METRICS_RATE} "
                    "per person; the stored metrics (no as_of, or the latest run's) are not.",
                )
            rows = self.live_rows(portfolio, scope_kind, scope_id, as_of)
            cache.set(key, rows, settings.LIVE_METRICS_CACHE_SECONDS)
        return rows

    def live_rows(self, portfolio, scope_kind, scope_id, as_of):
        grain = self.request.query_params.get("grain") or None
        if self.live_kind == "dora":
            return live_dora_rows(
                portfolio, scope_kind=scope_kind, scope_id=scope_id, as_of=as_of, grain=grain
            )
        return live_flow_rows(
            portfolio,
            scope_kind=scope_kind,
            scope_id=scope_id,
            as_of=as_of,
            grain=grain,
            status_time=self.live_kind == "status",
        )

    def keep(self, row, params) -> bool:
        bounds = self.filterset_class(params, queryset=self.model.objects.none())
        if not bounds.is_valid():
            raise ValidationError(bounds.errors)
        data = bounds.form.cleaned_data
        if data.get("from") and row.window_start < data["from"]:
            return False
        if data.get("to") and row.window_start > data["to"]:
            return False
        return not (data.get("type") and getattr(row, "item_type", None) != data["type"])


@extend_schema_view(list=live_list_schema(s.FlowMetricSerializer))
class FlowMetricViewSet(MetricViewSet):
    """Flow velocity, time, efficiency, load and distribution per scope, window and item type.

    Rows are sparse: a window with no completion and no load for a scope has no row."""

    model = FlowMetric
    serializer_class = s.FlowMetricSerializer
    filterset_class = FlowMetricFilter
    ordering = ["scope_kind", "scope_id", "grain", "window_start", "item_type"]


@extend_schema_view(list=live_list_schema(s.DoraMetricSerializer))
class DoraMetricViewSet(MetricViewSet):
    """The five DORA metrics per scope and window, with tiers and the benchmark version."""

    model = DoraMetric
    serializer_class = s.DoraMetricSerializer
    filterset_class = DoraMetricFilter
    live_kind = "dora"


@extend_schema_view(list=live_list_schema(s.StatusTimeSerializer))
class StatusTimeViewSet(MetricViewSet):
    """Time the items done in a window spent in each source status (where work waits)."""

    model = StatusTime
    serializer_class = s.StatusTimeSerializer
    filterset_class = StatusTimeFilter
    live_kind = "status"
    ordering = ["scope_kind", "scope_id", "grain", "window_start", "-time_s"]


class MetricRunViewSet(SessionOnly, viewsets.ReadOnlyModelViewSet):
    """Published recomputes, newest first, with their data-quality caveats (the first row of
    ``?portfolio=<id>`` is the latest)."""

    serializer_class = s.MetricRunSerializer
    filterset_fields = ["portfolio", "kind"]

    def get_queryset(self):
        return MetricRun.objects.visible_to(self.request.user).order_by("-computed_at", "-pk")


# --- recompute jobs --------------------------------------------------------------------------


class RecomputeJobViewSet(SessionOnly, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Recompute jobs of your portfolios and their progress; Lean PMO may request one (POST)."""

    serializer_class = s.RecomputeJobSerializer
    filterset_fields = ["portfolio", "status"]

    def get_queryset(self):
        return RecomputeJob.objects.visible_to(self.request.user).order_by("-created_at", "-pk")

    @extend_schema(request=s.RecomputeRequestSerializer, responses={202: s.RecomputeJobSerializer})
    def create(self, request, *args, **kwargs):
        wanted = s.RecomputeRequestSerializer(data=request.data, context={"request": request})
        wanted.is_valid(raise_exception=True)
        data = wanted.validated_data
        portfolio = data["portfolio"]
        job = recompute_request(
            portfolio=portfolio,
            item_ids=[] if data["full"] else data["item_ids"],
            team_ids=[] if data["full"] else data["team_ids"],
            full=data["full"],
            requested_by=request.user,
        )
        body = s.RecomputeJobSerializer(job).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


routes = [
    ("work-items", WorkItemViewSet, "work-item"),
    ("metrics/flow", FlowMetricViewSet, "flow-metric"),
    ("metrics/dora", DoraMetricViewSet, "dora-metric"),
    ("metrics/status-time", StatusTimeViewSet, "status-time"),
    ("metrics/runs", MetricRunViewSet, "metric-run"),
    ("recompute-jobs", RecomputeJobViewSet, "recompute-job"),
]
