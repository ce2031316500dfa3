"""The published metrics: the recompute run record, the flow, DORA and time-in-status rows per
scope, grain and window, the per-item facts, and each portfolio's metric settings."""

from __future__ import annotations

from django.db import models

from portfolio.models import Portfolio
from valuestreams.models.mappings import FlowState
from valuestreams.models.records import SourceRecordQuerySet, WorkItem


class ScopeKind(models.TextChoices):
    PORTFOLIO = "portfolio", "Portfolio"
    VALUE_STREAM = "value_stream", "Value stream"
    TEAM = "team", "Team"


class Grain(models.TextChoices):
    WEEK = "week", "Week"
    MONTH = "month", "Month"


class MetricRun(models.Model):
    """One published recompute of a portfolio's metrics: when, as of when, and the caveats found."""

    class Kind(models.TextChoices):
        FULL = "full", "Full"
        INCREMENTAL = "incremental", "Incremental"

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="metric_runs")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    as_of = models.DateTimeField()
    computed_at = models.DateTimeField(auto_now_add=True)
    caveats = models.JSONField(default=dict, blank=True)
    last_status_change_id = models.BigIntegerField(
        default=0, help_text="Highest status change id read; later ids are new to the next run."
    )
    last_superseded_id = models.BigIntegerField(
        default=0,
        help_text="Highest superseded status change id when the run read; later ones hold "
        "histories the next run has not seen rewritten.",
    )
    items_read = models.IntegerField(default=0, help_text="Work items whose history was read.")
    windows = models.JSONField(
        default=dict, blank=True, help_text="Per grain: first and last window start published."
    )
    duration_s = models.FloatField(null=True, blank=True)
    dora_settings = models.CharField(
        max_length=80,
        blank=True,
        help_text="The DORA benchmark, longest incident gap and time zone the run computed with: "
        "the next incremental run recomputes every DORA row whose inputs changed when they differ.",
    )
    delivery_log = models.JSONField(
        default=list,
        blank=True,
        help_text="The delivery changes the run read, as [first, last] id runs: the next run "
        "reads the others and deletes these.",
    )
    exact_sums = models.BooleanField(
        default=False,
        help_text="Every published time-in-status row holds its exact integer time_us, so the "
        "next incremental run can carry the rows forward instead of re-reading open items.",
    )

    objects = SourceRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-computed_at"]
        get_latest_by = "computed_at"

    def __str__(self) -> str:
        return f"{self.portfolio} {self.kind} as of {self.as_of:%Y-%m-%d %H:%M}"


class MetricRowBase(models.Model):
    """A tidy precomputed row: one scope × grain × window (× item type where it applies)."""

    # derived rows, rewritten in bulk: no per-row foreign-key check (deletes still cascade), and
    # no index of its own (each table's (portfolio, ...) index leads with it)
    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    scope_kind = models.CharField(max_length=12, choices=ScopeKind.choices)
    scope_id = models.BigIntegerField()
    grain = models.CharField(max_length=5, choices=Grain.choices)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    label = models.CharField(max_length=16, help_text="e.g. 2026-W07 or 2026-02")

    objects = SourceRecordQuerySet.as_manager()

    class Meta:
        abstract = True


class FlowMetric(MetricRowBase):
    """Flow Framework metrics of one scope, window and flow-item type ("All" for every type)."""

    item_type = models.CharField(max_length=10)
    velocity = models.IntegerField(default=0)
    flow_time_p50_s = models.FloatField(null=True)
    flow_time_p85_s = models.FloatField(null=True)
    flow_time_p95_s = models.FloatField(null=True)
    flow_time_mean_s = models.FloatField(null=True)
    flow_efficiency = models.FloatField(null=True, help_text="Σ active ÷ Σ (active + wait), 0–1.")
    load_mean = models.FloatField(null=True)
    load_end = models.FloatField(null=True)
    share = models.FloatField(null=True, help_text="Share of this type among items done, 0–1.")
    target = models.FloatField(null=True, help_text="Target allocation of this type, 0–1.")
    row_hash = models.BigIntegerField(
        null=True,
        help_text="Hash of the row's published values (a full run rewrites only changes).",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope_kind", "scope_id", "grain", "window_start", "item_type"],
                name="flow_metric_key",
            ),
        ]
        indexes = [models.Index(fields=["portfolio", "scope_kind", "grain", "window_start"])]

    def __str__(self) -> str:
        return f"flow {self.scope_kind} {self.scope_id} {self.label} {self.item_type}"


class DoraMetric(MetricRowBase):
    """DORA metrics of one scope and window, with tiers from a versioned benchmark."""

    benchmark = models.CharField(max_length=20, default="dora-2023")
    deployments = models.IntegerField(default=0)
    deployment_days = models.IntegerField(default=0)
    median_deployment_days_per_week = models.FloatField(null=True)
    median_deployment_days_per_month = models.FloatField(null=True)
    deployment_frequency_tier = models.CharField(max_length=8, blank=True)
    changes_deployed = models.IntegerField(default=0)
    median_lead_time_minutes = models.FloatField(null=True)
    lead_time_tier = models.CharField(max_length=8, blank=True)
    failed_deployments = models.IntegerField(default=0)
    change_failure_rate = models.FloatField(null=True)
    change_failure_rate_tier = models.CharField(max_length=8, blank=True)
    incidents_recovered = models.IntegerField(default=0)
    median_recovery_time_minutes = models.FloatField(null=True)
    recovery_time_tier = models.CharField(max_length=8, blank=True)
    rework_deployments = models.IntegerField(default=0)
    deployment_rework_rate = models.FloatField(null=True)
    input_hash = models.BigIntegerField(
        null=True,
        help_text="Hash of every input the row is computed from (an incremental run recomputes "
        "only the rows whose inputs changed).",
    )
    row_hash = models.BigIntegerField(
        null=True,
        help_text="Hash of the row's published values (a run rewrites only changes).",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope_kind", "scope_id", "grain", "window_start"], name="dora_metric_key"
            ),
        ]
        indexes = [models.Index(fields=["portfolio", "scope_kind", "grain", "window_start"])]

    def __str__(self) -> str:
        return f"dora {self.scope_kind} {self.scope_id} {self.label}"

    @classmethod
    def metric_fields(cls) -> list[str]:
        """The names of the metric columns after the scope and window, in their order (what
        pages, CSV downloads and the API show of a row)."""
        window = {f.name for f in MetricRowBase._meta.get_fields()}
        window |= {"id", "row_hash", "input_hash"}
        return [f.name for f in cls._meta.concrete_fields if f.name not in window]


class StatusTime(MetricRowBase):
    """Time items done in the window spent in one source status ("where work waits")."""

    status = models.CharField(max_length=120)
    flow_state = models.CharField(max_length=10, choices=FlowState.choices)
    items = models.IntegerField(default=0)
    time_s = models.FloatField(default=0)
    time_us = models.BigIntegerField(
        default=0,
        help_text="time_s in whole microseconds, summed exactly (incremental runs add to it).",
    )
    share = models.FloatField(null=True)
    row_hash = models.BigIntegerField(
        null=True,
        help_text="Hash of the row's published values (a full run rewrites only changes).",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope_kind", "scope_id", "grain", "window_start", "status"],
                name="status_time_key",
            ),
        ]
        indexes = [models.Index(fields=["portfolio", "scope_kind", "grain", "window_start"])]

    def __str__(self) -> str:
        return f"{self.status} in {self.scope_kind} {self.scope_id} {self.label}"


class MetricSettings(models.Model):
    """Per portfolio: how its metrics are computed (the DORA benchmark version, incident linking)."""

    portfolio = models.OneToOneField(
        Portfolio, on_delete=models.CASCADE, primary_key=True, related_name="metric_settings"
    )
    dora_benchmark = models.CharField(
        max_length=20, default="dora-2023", help_text="Benchmark version the DORA tiers use."
    )
    incident_max_gap_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Link an incident to an earlier deployment only within this many hours.",
    )

    def __str__(self) -> str:
        return f"metric settings of {self.portfolio_id}"


class WorkItemFact(models.Model):
    """Per-item flow facts (SPEC §4) as of the last recompute that touched the item."""

    # derived rows, rewritten in bulk: no per-row foreign-key checks (deletes still cascade)
    item = models.OneToOneField(
        WorkItem,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="fact",
        db_constraint=False,
    )
    item_type = models.CharField(max_length=10)
    state = models.CharField(max_length=10, choices=FlowState.choices)
    start = models.DateTimeField(null=True)
    done = models.DateTimeField(null=True)
    canceled_at = models.DateTimeField(null=True)
    flow_time_s = models.FloatField(null=True)
    active_s = models.FloatField(null=True)
    wait_s = models.FloatField(null=True)
    reopen_count = models.IntegerField(default=0)
    truncated = models.BooleanField(default=False)
    done_without_start = models.BooleanField(default=False)
    unmapped_count = models.IntegerField(default=0)
    unmapped_type_count = models.IntegerField(default=0)
    portfolio = models.ForeignKey(  # indexed by (portfolio, state) below
        Portfolio, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    team_id = models.BigIntegerField(null=True, help_text="The item's team when computed.")
    value_stream_id = models.BigIntegerField(null=True)
    history_rows = models.IntegerField(default=0, help_text="Status changes known at as_of.")
    history_digest = models.BigIntegerField(
        default=0, help_text="Order-sensitive digest of those status changes (detects appends)."
    )
    row_hash = models.BigIntegerField(
        null=True,
        help_text="Hash of the row's published values (a full run rewrites only changes).",
    )

    class Meta:
        indexes = [
            # covering: an incremental recompute reads the facts of the items done in its
            # windows from the index alone (no visit per item to the table's pages)
            models.Index(
                fields=["done"],
                include=[
                    "portfolio",
                    "item",
                    "item_type",
                    "flow_time_s",
                    "active_s",
                    "team_id",
                    "value_stream_id",
                ],
                name="workitemfact_done_covering",
            ),
            models.Index(fields=["portfolio", "state"]),
        ]

    def __str__(self) -> str:
        return f"facts of item {self.item_id}"
