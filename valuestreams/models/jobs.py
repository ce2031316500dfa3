"""Background jobs whose row is the source of truth: metric recomputes and file imports."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from portfolio.models import Portfolio
from valuestreams.models.metrics import MetricRun
from valuestreams.models.records import SourceRecordQuerySet


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
