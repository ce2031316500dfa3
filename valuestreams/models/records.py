"""Records from delivery tools, identified by (portfolio, source, external key): work items with
their status history (and the rows a rewrite superseded), deployments, changes and incidents."""

from __future__ import annotations

from django.db import models

from portfolio.models import Portfolio, validate_date_in_range


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
        indexes = [
            models.Index(fields=["team", "finished_at"]),
            models.Index(fields=["portfolio", "finished_at"]),
        ]


class Change(SourceRecord):
    """A commit or pull request: its first-commit time and the deployment that shipped it."""

    first_commit_at = models.DateTimeField(validators=[validate_date_in_range])
    deployment = models.ForeignKey(
        Deployment, on_delete=models.SET_NULL, null=True, blank=True, related_name="changes"
    )

    class Meta(SourceRecord.Meta):
        indexes = [
            models.Index(fields=["team", "first_commit_at"]),
            models.Index(fields=["portfolio", "first_commit_at"]),
        ]


class Incident(SourceRecord):
    """A production incident; linked to the deployment named in its data, else inferred (SPEC §5)."""

    title = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(validators=[validate_date_in_range])
    resolved_at = models.DateTimeField(null=True, blank=True, validators=[validate_date_in_range])
    deployment = models.ForeignKey(
        Deployment, on_delete=models.SET_NULL, null=True, blank=True, related_name="incidents"
    )

    class Meta(SourceRecord.Meta):
        indexes = [
            models.Index(fields=["team", "created_at"]),
            models.Index(fields=["portfolio", "created_at"]),
            models.Index(fields=["portfolio", "resolved_at"]),
        ]


class DeliveryChange(models.Model):
    """A version of a delivery record or team that a write replaced or created: what an
    incremental recompute needs to find the DORA rows the write can reach without reading every
    deployment, change and incident of the portfolio.

    Written by statement-level triggers (migration 0020) in the transaction of the write, whoever
    makes it (the ingest services, the admin, raw SQL, a cascade): per inserted, updated or
    deleted deployment, change and incident its old and new versions (an update that changes
    nothing a DORA row is computed from writes nothing: a re-sent record costs nothing), and per
    team moved to another value stream its old and new value stream. ``at`` is a deployment's
    ``finished_at`` or an incident's ``created_at`` (``resolved_at`` its resolution), ``team_id``
    the record's team, ``deployment_id`` the deployment a change or incident names. A recompute
    reads the portfolio's rows and deletes those it read in the transaction that publishes it
    (:mod:`valuestreams.recompute`); rows of deleted portfolios go with the nightly request."""

    class Record(models.TextChoices):
        DEPLOYMENT = "deployment"
        CHANGE = "change"
        INCIDENT = "incident"
        TEAM = "team"

    portfolio_id = models.BigIntegerField(null=True)
    record = models.CharField(max_length=10, choices=Record.choices)
    record_id = models.BigIntegerField()
    team_id = models.BigIntegerField(null=True)
    value_stream_id = models.BigIntegerField(null=True)
    deployment_id = models.BigIntegerField(null=True)
    at = models.DateTimeField(null=True)
    resolved_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["portfolio_id", "id"])]

    def __str__(self) -> str:
        return f"{self.record} {self.record_id} (portfolio {self.portfolio_id})"
