"""Value streams: long-lived flows of value for a customer journey, funded per period."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from portfolio.fields import LONG_TEXT, LimitedTextField
from portfolio.models import Portfolio, validate_date_in_range


class ValueStreamQuerySet(models.QuerySet):
    def visible_to(self, user) -> ValueStreamQuerySet:
        """Value streams of the portfolios the user may read."""
        return self.filter(portfolio__in=Portfolio.objects.visible_to(user))

    def editable_by(self, user) -> ValueStreamQuerySet:
        """Value streams of the portfolios whose structure the user may change."""
        return self.filter(portfolio__in=Portfolio.objects.editable_by(user))


class ValueStream(models.Model):
    """A long-lived flow of value for a customer or business outcome, owned across its teams."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="value_streams")
    name = models.CharField(max_length=120)
    customer = models.CharField(
        max_length=200, blank=True, help_text="The customer or journey this value stream serves."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_value_streams",
    )
    description = LimitedTextField(blank=True, max_length=LONG_TEXT)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ValueStreamQuerySet.as_manager()

    class Meta:
        ordering = ["portfolio", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "name"],
                name="value_stream_name_unique_in_portfolio",
                violation_error_message="This portfolio already has a value stream with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FlowState(models.TextChoices):
    NEW = "new", "New"
    WAITING = "waiting", "Waiting"
    ACTIVE = "active", "Active"
    DONE = "done", "Done"
    CANCELED = "canceled", "Canceled"


class FlowItemType(models.TextChoices):
    FEATURE = "Feature", "Feature"
    DEFECT = "Defect", "Defect"
    RISK = "Risk", "Risk"
    DEBT = "Debt", "Debt"


class StateMapping(models.Model):
    """Per portfolio: a source status name (matched case-insensitively) → one flow state."""

    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, related_name="state_mappings"
    )
    source_status = models.CharField(max_length=120)
    flow_state = models.CharField(max_length=10, choices=FlowState.choices)

    class Meta:
        ordering = ["portfolio", "source_status"]
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("source_status"),
                "portfolio",
                name="state_mapping_unique_status",
                violation_error_message="This status is already mapped in this portfolio.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_status} → {self.flow_state}"


class TypeMapping(models.Model):
    """Per portfolio: a source item type name (case-insensitive) → one flow-item type."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="type_mappings")
    source_type = models.CharField(max_length=120)
    flow_item_type = models.CharField(max_length=10, choices=FlowItemType.choices)

    class Meta:
        ordering = ["portfolio", "source_type"]
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("source_type"),
                "portfolio",
                name="type_mapping_unique_type",
                violation_error_message="This item type is already mapped in this portfolio.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_type} → {self.flow_item_type}"


class SourceRecordQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Records of the portfolios the user may read."""
        return self.filter(portfolio__in=Portfolio.objects.visible_to(user))


class WorkItem(models.Model):
    """An item from a source system; (portfolio, source, external_key) is its identity."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="work_items")
    source = models.CharField(max_length=40, help_text="e.g. jira, github, csv")
    external_key = models.CharField(max_length=120)
    title = models.CharField(max_length=500, blank=True)
    source_type = models.CharField(
        max_length=120, help_text="The item's current type in the source."
    )
    source_team = models.CharField(max_length=200, blank=True)
    team = models.ForeignKey(
        "teams.ProductTeam",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="work_items",
    )
    created_at = models.DateTimeField(validators=[validate_date_in_range])
    url = models.URLField(max_length=500, blank=True)
    content_hash = models.CharField(
        max_length=64,
        blank=True,
        help_text="Digest of the last ingested payload (idempotent ingest).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = SourceRecordQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "source", "external_key"], name="work_item_identity"
            ),
        ]
        indexes = [models.Index(fields=["team"]), models.Index(fields=["portfolio", "created_at"])]

    def __str__(self) -> str:
        return self.external_key


class StatusChange(models.Model):
    """The state of a work item from `at` on: its source status, type and blocked flag.

    One row per change of any of the three (the first row is the creation), so the history is the
    metrics' `transitions` frame as stored. `seq` orders rows of one item with the same time.
    """

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="status_changes")
    at = models.DateTimeField(validators=[validate_date_in_range])
    seq = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=120)
    source_type = models.CharField(max_length=120)
    blocked = models.BooleanField(default=False)

    class Meta:
        ordering = ["item", "at", "seq"]
        indexes = [models.Index(fields=["item", "at", "seq"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.item_id} → {self.status} at {self.at:%Y-%m-%d %H:%M}"


class SupersededStatusChange(models.Model):
    """A status change as it was before it was deleted or updated: the previous rows of an
    item whose history was rewritten (an ingest re-sending it replaces every row, a correction
    updates one), kept so that the next incremental recompute can subtract the item's exact old
    contribution instead of reading every item reaching its windows.

    Written by a trigger on ``valuestreams_statuschange`` (migration 0019) in the transaction
    that deletes or updates the rows, whoever does it (the ingest services, the admin, raw SQL,
    an item's deletion). ``status_change_id`` is the row's id; ``portfolio_id`` its item's
    portfolio when it was superseded (None if the item was already gone). A run reads those
    superseded after the previous run's ``last_superseded_id`` and deletes those that run had
    consumed: nothing relies on them being there (the item's stored digest is checked first),
    they only spare reads."""

    portfolio_id = models.BigIntegerField(null=True)
    status_change_id = models.BigIntegerField()
    item_id = models.BigIntegerField()
    at = models.DateTimeField()
    seq = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=120)
    source_type = models.CharField(max_length=120)
    blocked = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["item_id", "id"]),
            models.Index(fields=["portfolio_id", "id"]),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} → {self.status} at {self.at:%Y-%m-%d %H:%M} (superseded)"


class SourceRecord(models.Model):
    """What every record from a delivery tool has: its identity (portfolio, source, key) and team."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="%(class)ss")
    source = models.CharField(max_length=40)
    external_key = models.CharField(max_length=120)
    team = models.ForeignKey(
        "teams.ProductTeam",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="%(class)ss",
    )
    content_hash = models.CharField(
        max_length=64,
        blank=True,
        help_text="Digest of the last ingested payload (idempotent ingest).",
    )

    objects = SourceRecordQuerySet.as_manager()

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "source", "external_key"], name="%(class)s_identity"
            ),
        ]

    def __str__(self) -> str:
        return self.external_key


class Deployment(SourceRecord):
    """A deployment from CI/CD; only successful production ones count for DORA."""

    environment = models.CharField(max_length=40, default="production")
    successful = models.BooleanField(default=True)
    is_rework = models.BooleanField(
        default=False,
        help_text="An unplanned fix of a user-visible problem (deployment rework rate).",
    )
    started_at = models.DateTimeField(null=True, blank=True, validators=[validate_date_in_range])
    finished_at = models.DateTimeField(validators=[validate_date_in_range])

    class Meta(SourceRecord.Meta):
        indexes = [models.Index(fields=["team", "finished_at"])]


class Change(SourceRecord):
    """A commit or pull request: its first-commit time and the deployment that shipped it."""

    first_commit_at = models.DateTimeField(validators=[validate_date_in_range])
    deployment = models.ForeignKey(
        Deployment, on_delete=models.SET_NULL, null=True, blank=True, related_name="changes"
    )

    class Meta(SourceRecord.Meta):
        indexes = [models.Index(fields=["team", "first_commit_at"])]


class Incident(SourceRecord):
    """A production incident; linked to the deployment named in its data, else inferred (SPEC §5)."""

    title = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(validators=[validate_date_in_range])
    resolved_at = models.DateTimeField(null=True, blank=True, validators=[validate_date_in_range])
    deployment = models.ForeignKey(
        Deployment, on_delete=models.SET_NULL, null=True, blank=True, related_name="incidents"
    )

    class Meta(SourceRecord.Meta):
        indexes = [models.Index(fields=["team", "created_at"])]


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


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class RecomputeJob(models.Model):
    """A requested metrics recompute: the row, not the broker message, is the source of truth."""

    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, related_name="recompute_jobs"
    )
    kind = models.CharField(max_length=12, choices=MetricRun.Kind.choices)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    item_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    team_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    dora_changed = models.BooleanField(
        default=False,
        help_text="DORA inputs (deployments, changes, incidents) changed: an incremental run "
        "that needs no team's work items read (every run recomputes the DORA rows whose inputs "
        "changed).",
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text="0–100")
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    run = models.ForeignKey(
        MetricRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = SourceRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} recompute of {self.portfolio_id} ({self.status})"


class ImportJob(models.Model):
    """A file import (Jira search JSON or CSV pair) run by a Celery worker, with a dry-run mode."""

    class Format(models.TextChoices):
        JIRA = "jira", "Jira search results (JSON, expand=changelog)"
        CSV = "csv", "CSV pair (issues + status changes)"

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    format = models.CharField(max_length=8, choices=Format.choices)
    dry_run = models.BooleanField(default=False)
    file_name = models.CharField(max_length=255, blank=True)
    team_field = models.CharField(
        max_length=120,
        blank=True,
        help_text="Jira only: the field holding the team (customfield_10001, or its name).",
    )
    payload = models.BinaryField(help_text="The uploaded file (the issues file for a CSV pair).")
    payload_changes = models.BinaryField(
        null=True, blank=True, help_text="CSV pair: status changes."
    )
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="0–100")
    summary = models.JSONField(
        default=dict, blank=True, help_text="created / updated / unchanged counts"
    )
    errors = models.JSONField(default=list, blank=True, help_text="row-by-row errors")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="times a worker claimed it")
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]  # the job sweep

    def __str__(self) -> str:
        return f"{self.get_format_display()} import {self.pk} ({self.status})"
