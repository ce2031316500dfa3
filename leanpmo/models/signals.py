"""Signals: what the steward finds (SPEC §6), their acknowledgements, the per-portfolio
thresholds, the evaluation bookkeeping and the weekly digest's preferences and deliveries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pghistory
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from leanpmo.detectors import findings, registry, thresholds, wording
from portfolio.models import Portfolio
from valuestreams.models import ValueStream

# --- Signals: what the steward finds (SPEC §6) -------------------------------------------------
# Detectors are pure functions in leanpmo/detectors/; these models keep what they found, the
# acknowledgements, the per-portfolio thresholds and the evaluation bookkeeping.

SignalDetector = models.TextChoices(
    "SignalDetector", [(info.code.upper(), (info.code, info.label)) for info in registry.DETECTORS]
)


class SignalSeverity(models.IntegerChoices):
    LOW = findings.LOW, "Low"
    MEDIUM = findings.MEDIUM, "Medium"
    HIGH = findings.HIGH, "High"


class SignalQuerySet(models.QuerySet):
    """Signals are read by everyone in their portfolio (money is left out of what members see) and
    acknowledged by its Lean PMO."""

    def visible_to(self, user) -> SignalQuerySet:
        """Signals of the portfolios the user may read."""
        return self.filter(portfolio__in=Portfolio.objects.visible_to(user))

    def editable_by(self, user) -> SignalQuerySet:
        """Signals the user may acknowledge: Lean PMO of the portfolio, administrators."""
        return self.filter(portfolio__in=Portfolio.objects.editable_by(user))

    def with_acknowledgement(self, now) -> SignalQuerySet:
        """Annotate `acknowledged_until` (None unless an acknowledgement of the same detector and
        objects holds at `now` for this severity or a worse one) and `acknowledged_reason`."""
        holding = SignalAcknowledgement.objects.filter(
            portfolio=models.OuterRef("portfolio"),
            detector=models.OuterRef("detector"),
            key=models.OuterRef("key"),
            expires_at__gt=now,
            severity__gte=models.OuterRef("severity"),
        )
        return self.annotate(
            acknowledged_until=models.Subquery(holding.values("expires_at")[:1]),
            acknowledged_reason=models.Subquery(holding.values("reason")[:1]),
        )

    def in_state(self, state: str, now) -> SignalQuerySet:
        """Narrow to a state as the inbox names it: new (opened in the last 7 days and waiting for
        someone), open (waiting for someone), acknowledged (open, acknowledgement holding),
        resolved, or all. Needs `with_acknowledgement(now)` first."""
        waiting = Q(state=Signal.State.OPEN, acknowledged_until__isnull=True)
        match state:
            case "new":
                return self.filter(waiting, opened_at__gte=now - dt.timedelta(days=7))
            case "open":
                return self.filter(waiting)
            case "acknowledged":
                return self.filter(state=Signal.State.OPEN, acknowledged_until__isnull=False)
            case "resolved":
                return self.filter(state=Signal.State.RESOLVED)
        return self


class Signal(models.Model):
    """A finding of one detector about one set of objects (the `key`), kept across evaluations.

    Identity is (portfolio, detector, key): an evaluation that finds it again updates it (severity,
    facts, `last_seen`), one that no longer finds it resolves it, and finding it after that opens
    it again (`opened_at`). `facts` holds the names and numbers its sentence is built from when it
    is shown (so money can be left out per viewer, see leanpmo.detectors.wording); `evidence` the
    links to what shows it (URL names, see leanpmo.detectors.findings.Evidence).
    """

    class State(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="signals")
    detector = models.CharField(max_length=32, choices=SignalDetector.choices)
    key = models.CharField(max_length=200, help_text="The objects concerned, canonically.")
    severity = models.PositiveSmallIntegerField(choices=SignalSeverity.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    facts = models.JSONField(default=dict, blank=True)
    evidence = models.JSONField(default=list, blank=True)
    value_stream = models.ForeignKey(
        ValueStream, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        "teams.ProductTeam", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    first_seen = models.DateTimeField(help_text="As-of time of the evaluation that first found it.")
    opened_at = models.DateTimeField(help_text="When it was last found after being resolved.")
    last_seen = models.DateTimeField(help_text="As-of time of the latest evaluation finding it.")
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = SignalQuerySet.as_manager()

    class Meta:
        ordering = ["-severity", "-opened_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "detector", "key"], name="one_signal_per_detector_and_objects"
            ),
        ]
        indexes = [models.Index(fields=["portfolio", "state", "severity"])]

    def __str__(self) -> str:
        return f"{self.get_detector_display()} ({self.key})"

    def explanation(self, *, show_money: bool) -> str:
        """The signal's one sentence; amounts only with `show_money`."""
        return wording.explain(
            self.detector, self.facts, show_money=show_money, currency=self.portfolio.currency
        )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class SignalAcknowledgement(models.Model):
    """Someone looked at a signal and set it aside until `expires_at`, for `reason`.

    Keyed on the detector and the objects (never on the text), so it covers the signal whatever
    its numbers become — unless its severity gets worse than `severity` (the one acknowledged) or
    the expiry passes: then the signal is back. One row per signal identity, rewritten by a new
    acknowledgement; every version is kept in the audit history.
    """

    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, related_name="signal_acknowledgements"
    )
    detector = models.CharField(max_length=32, choices=SignalDetector.choices)
    key = models.CharField(max_length=200)
    severity = models.PositiveSmallIntegerField(choices=SignalSeverity.choices)
    reason = models.TextField()
    expires_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField()

    class Meta:
        ordering = ["portfolio", "detector", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "detector", "key"], name="one_acknowledgement_per_signal"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.detector} {self.key} until {self.expires_at:%Y-%m-%d}"


def _threshold(name: str) -> models.Field:
    spec = next(spec for spec in thresholds.SPECS if spec.name == name)
    bounds = [
        MinValueValidator(spec.minimum, message=f"At least {spec.minimum:g} {spec.unit}."),
        MaxValueValidator(spec.maximum, message=f"At most {spec.maximum:g} {spec.unit}."),
    ]
    default = getattr(thresholds.DEFAULTS, name)
    if isinstance(default, float):
        return models.DecimalField(
            spec.label, max_digits=3, decimal_places=1, default=Decimal(str(default)),
            validators=bounds, help_text=spec.help,
        )  # fmt: skip
    return models.PositiveSmallIntegerField(
        spec.label, default=default, validators=bounds, help_text=spec.help
    )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class SignalThresholds(models.Model):
    """A portfolio's thresholds for the detectors (defaults: leanpmo.detectors.thresholds).

    A portfolio without a row uses the defaults; the Lean PMO's first save creates it. Every change
    is kept in the audit history.
    """

    portfolio = models.OneToOneField(
        Portfolio, on_delete=models.CASCADE, primary_key=True, related_name="signal_thresholds"
    )
    min_weekly_points = _threshold("min_weekly_points")
    min_items = _threshold("min_items")
    stale_share_high = _threshold("stale_share_high")
    decision_lookback_days = _threshold("decision_lookback_days")
    review_overdue_high_days = _threshold("review_overdue_high_days")
    fixed_scope_high_percent = _threshold("fixed_scope_high_percent")
    churn_max_percent = _threshold("churn_max_percent")
    young_team_days = _threshold("young_team_days")
    max_teams_per_person = _threshold("max_teams_per_person")
    min_team_size = _threshold("min_team_size")
    pyramid_shift_points = _threshold("pyramid_shift_points")
    pyramid_min_work = _threshold("pyramid_min_work")
    flow_band_weeks = _threshold("flow_band_weeks")
    flow_band_sigmas = _threshold("flow_band_sigmas")
    allocation_gap_points = _threshold("allocation_gap_points")
    distribution_weeks = _threshold("distribution_weeks")
    hotspot_min_dependents = _threshold("hotspot_min_dependents")
    hotspot_blocked_percent = _threshold("hotspot_blocked_percent")
    caveat_share_max = _threshold("caveat_share_max")
    metrics_stale_days = _threshold("metrics_stale_days")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "signal thresholds"

    def __str__(self) -> str:
        return f"signal thresholds of {self.portfolio_id}"

    def as_thresholds(self) -> thresholds.Thresholds:
        """The pure thresholds the detectors take."""
        values = {name: getattr(self, name) for name in thresholds.THRESHOLD_NAMES}
        values["flow_band_sigmas"] = float(values["flow_band_sigmas"])
        return thresholds.Thresholds(**values)


class SignalEvaluation(models.Model):
    """Bookkeeping of a portfolio's signal evaluations: the row, not a broker message, says that
    one is wanted.

    A write that can raise or clear a signal bumps `request_seq` and sets `requested_at` (in its
    own transaction) and enqueues an evaluation only when none was pending, so many writes make one
    evaluation. An evaluation clears `requested_at` when it ends unless a newer request arrived
    meanwhile (then it runs again). A request whose message was lost (`enqueued_at` old) is swept
    and enqueued again. `detectors` holds the last evaluation's outcome per detector: findings,
    the scopes without enough data, an error, seconds.
    """

    portfolio = models.OneToOneField(
        Portfolio, on_delete=models.CASCADE, primary_key=True, related_name="signal_evaluation"
    )
    request_seq = models.PositiveIntegerField(default=0)
    requested_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    as_of = models.DateTimeField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    detectors = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"signal evaluation of {self.portfolio_id}"


class SignalDailyCount(models.Model):
    """Open signals per detector at the end of an evaluation, kept per local day (the inbox trend)."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    detector = models.CharField(max_length=32, choices=SignalDetector.choices)
    open = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["portfolio", "day", "detector"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "day", "detector"], name="one_signal_count_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.detector} on {self.day}: {self.open}"


class DigestPreference(models.Model):
    """Whether a person receives the weekly signals digest (executives and Lean PMO do by default)."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="digest_preference",
    )
    weekly_digest = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"digest {'on' if self.weekly_digest else 'off'} for {self.person_id}"


class DigestDelivery(models.Model):
    """One weekly digest sent to one person for one portfolio (ISO week in the portfolio's time
    zone, e.g. "2026-W10"): its row makes the weekly send idempotent."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week = models.CharField(max_length=8)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "person", "week"], name="one_digest_per_person_and_week"
            ),
        ]

    def __str__(self) -> str:
        return f"digest {self.week} of {self.portfolio_id} to {self.person_id}"
