"""Outcomes (OKRs) and how teams learn: objectives, key results, check-ins, experiments, not-doing.

The cascade: a team objective sits under a value-stream objective, which sits under a portfolio
objective, which serves one of the portfolio's strategic themes (leanpmo.StrategicTheme).
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from portfolio.fields import LONG_TEXT, LimitedTextField
from portfolio.models import Portfolio, validate_date_in_range
from teams.models.team import ProductTeam
from valuestreams.models import ValueStream


class ObjectiveQuerySet(models.QuerySet):
    def visible_to(self, user) -> ObjectiveQuerySet:
        """Objectives of the portfolios the user may read."""
        return self.filter(portfolio__in=Portfolio.objects.visible_to(user))

    def editable_by(self, user) -> ObjectiveQuerySet:
        """Objectives the user may change: Lean PMO of the portfolio and administrators."""
        return self.filter(portfolio__in=Portfolio.objects.editable_by(user))


class Objective(models.Model):
    """A qualitative goal at portfolio, value-stream or team level, linked to the level above.

    `level` says which of `value_stream` / `team` is set: a portfolio objective has neither, a
    value-stream objective its value stream, a team objective its team and the team's value stream.
    `parent` is the objective one level up (team → value stream → portfolio); a portfolio
    objective links to the strategic theme it serves.
    """

    class Level(models.TextChoices):
        PORTFOLIO = "portfolio", "Portfolio"
        VALUE_STREAM = "value_stream", "Value stream"
        TEAM = "team", "Team"

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="objectives")
    level = models.CharField(max_length=20, choices=Level.choices)
    value_stream = models.ForeignKey(
        ValueStream, on_delete=models.CASCADE, null=True, blank=True, related_name="objectives"
    )
    team = models.ForeignKey(
        ProductTeam, on_delete=models.CASCADE, null=True, blank=True, related_name="objectives"
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text="The objective one level up that this one contributes to.",
    )
    strategic_theme = models.ForeignKey(
        "leanpmo.StrategicTheme",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="objectives",
        help_text="For portfolio objectives: the strategic theme they serve.",
    )
    title = models.CharField(max_length=200)
    description = LimitedTextField(blank=True, max_length=LONG_TEXT)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ObjectiveQuerySet.as_manager()

    class Meta:
        ordering = ["portfolio", "level", "title"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(level="portfolio", value_stream__isnull=True, team__isnull=True)
                    | Q(level="value_stream", value_stream__isnull=False, team__isnull=True)
                    | Q(level="team", value_stream__isnull=False, team__isnull=False)
                ),
                name="objective_scope_matches_level",
                violation_error_message="The objective's level does not match its value stream and team.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.level == self.Level.VALUE_STREAM and not self.value_stream_id:
            errors["value_stream"] = "Pick the value stream this objective belongs to."
        if self.level == self.Level.TEAM and not self.team_id:
            errors["team"] = "Pick the team this objective belongs to."
        if self.level == self.Level.PORTFOLIO and (self.value_stream_id or self.team_id):
            errors["level"] = "A portfolio objective belongs to no value stream or team."
        if self.team_id and self.team.value_stream.portfolio_id != self.portfolio_id:
            errors["team"] = "The team belongs to another portfolio."
        elif self.value_stream_id and self.value_stream.portfolio_id != self.portfolio_id:
            errors["value_stream"] = "The value stream belongs to another portfolio."
        elif self.team_id and self.team.value_stream_id != self.value_stream_id:
            errors["team"] = "The team belongs to another value stream."
        expected_parent = {
            self.Level.TEAM: self.Level.VALUE_STREAM,
            self.Level.VALUE_STREAM: self.Level.PORTFOLIO,
        }.get(self.level)
        if self.parent_id:
            if expected_parent is None:
                errors["parent"] = (
                    "A portfolio objective is the top of the chain; it has no parent."
                )
            elif (
                self.parent.level != expected_parent
                or self.parent.portfolio_id != self.portfolio_id
            ):
                errors["parent"] = (
                    f"A {self.get_level_display().lower()} objective contributes to a "
                    f"{self.Level(expected_parent).label.lower()} objective of the same portfolio."
                )
            elif (
                self.level == self.Level.TEAM
                and self.value_stream_id
                and self.parent.value_stream_id != self.value_stream_id
            ):
                errors["parent"] = (
                    "A team objective contributes to an objective of its own value stream "
                    f"({self.value_stream.name})."
                )
        if self.strategic_theme_id:
            if self.level != self.Level.PORTFOLIO:
                errors["strategic_theme"] = (
                    "Only a portfolio objective links to a strategic theme; link this one to "
                    "the objective one level up."
                )
            elif self.strategic_theme.portfolio_id != self.portfolio_id:
                errors["strategic_theme"] = "The strategic theme belongs to another portfolio."
        if errors:
            raise ValidationError(errors)


class KeyResultQuerySet(models.QuerySet):
    def visible_to(self, user) -> KeyResultQuerySet:
        """Key results of the objectives the user may read."""
        return self.filter(objective__in=Objective.objects.visible_to(user))

    def editable_by(self, user) -> KeyResultQuerySet:
        """Key results whose definition the user may change: Lean PMO and administrators."""
        return self.filter(objective__in=Objective.objects.editable_by(user))

    def updatable_by(self, user) -> KeyResultQuerySet:
        """Key results the user may post check-ins on (open or closed; closed ones refuse later).

        Team key results: the team's own members. Value-stream and portfolio key results, which
        have no team: Lean PMO of the portfolio. Administrators: all.
        """
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        own_teams = ProductTeam.objects.outcomes_editable_by(user)
        return self.filter(
            Q(objective__team__in=own_teams)
            | Q(
                objective__team__isnull=True,
                objective__portfolio__in=Portfolio.objects.editable_by(user),
            )
        )

    def open(self) -> KeyResultQuerySet:
        return self.filter(closed=False)


class KeyResult(models.Model):
    """A measurable result of an objective: from `baseline` to `target` in `unit`.

    `direction` says whether the metric should go up or down (the target lies on that side of the
    baseline). A key result expects a check-in every `cadence_days`; with none for more than twice
    that it is stale. A closed key result takes no more check-ins.
    """

    class Direction(models.TextChoices):
        INCREASE = "increase", "Increase"
        DECREASE = "decrease", "Decrease"

    objective = models.ForeignKey(Objective, on_delete=models.PROTECT, related_name="key_results")
    metric = models.CharField(
        max_length=200, help_text="What is measured, e.g. Payments settled in under 10 s."
    )
    unit = models.CharField(max_length=30, blank=True, help_text="e.g. %, s, customers.")
    baseline = models.DecimalField(max_digits=16, decimal_places=4)
    target = models.DecimalField(max_digits=16, decimal_places=4)
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.INCREASE
    )
    cadence_days = models.PositiveSmallIntegerField(
        "check-in cadence (days)",
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(92)],
    )
    starts_on = models.DateField(
        validators=[validate_date_in_range], help_text="From when check-ins are expected."
    )
    closed = models.BooleanField(
        default=False, help_text="A closed key result takes no more check-ins."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = KeyResultQuerySet.as_manager()

    class Meta:
        ordering = ["objective", "metric"]
        constraints = [
            models.CheckConstraint(
                condition=Q(direction="increase", target__gt=F("baseline"))
                | Q(direction="decrease", target__lt=F("baseline")),
                name="key_result_target_in_its_direction",
                violation_error_message="The target must lie in the key result's direction from the baseline.",
            ),
            models.CheckConstraint(
                condition=Q(cadence_days__gte=1) & Q(cadence_days__lte=92),
                name="key_result_cadence_1_to_92_days",
            ),
        ]

    def __str__(self) -> str:
        return self.metric

    def clean(self) -> None:
        if self.baseline is None or self.target is None:
            return
        if self.target == self.baseline:
            raise ValidationError(
                {"target": "The target equals the baseline: a key result must move the metric."}
            )
        if self.direction == self.Direction.INCREASE and self.target <= self.baseline:
            raise ValidationError({"target": "To increase, the target must be above the baseline."})
        if self.direction == self.Direction.DECREASE and self.target >= self.baseline:
            raise ValidationError({"target": "To decrease, the target must be below the baseline."})


class OutcomeUpdateQuerySet(models.QuerySet):
    def visible_to(self, user) -> OutcomeUpdateQuerySet:
        """Check-ins on the key results the user may read."""
        return self.filter(key_result__in=KeyResult.objects.visible_to(user))

    def editable_by(self, user) -> OutcomeUpdateQuerySet:
        """Check-ins the user may correct (by posting a new one): those on key results they update."""
        return self.filter(key_result__in=KeyResult.objects.updatable_by(user))


class OutcomeUpdate(models.Model):
    """A check-in on a key result. Append-only: a correction is a new update pointing at `corrects`.

    The database refuses UPDATE and DELETE on this table.
    """

    class Status(models.TextChoices):
        ON_TRACK = "on_track", "On track"
        AT_RISK = "at_risk", "At risk"
        OFF_TRACK = "off_track", "Off track"

    key_result = models.ForeignKey(KeyResult, on_delete=models.PROTECT, related_name="updates")
    value = models.DecimalField("current value", max_digits=16, decimal_places=4)
    confidence = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(10)],
        help_text="0 = no chance of reaching the target, 10 = certain.",
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    learned = LimitedTextField("what we learned", blank=True)
    blockers = LimitedTextField("what blocks us", blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="outcome_updates"
    )
    posted_at = models.DateTimeField()
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        help_text="The earlier update this one corrects.",
    )

    objects = OutcomeUpdateQuerySet.as_manager()

    class Meta:
        ordering = ["-posted_at", "-pk"]
        indexes = [models.Index(fields=["key_result", "posted_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(confidence__gte=0) & Q(confidence__lte=10),
                name="outcome_confidence_0_to_10",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="outcome_updates_are_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return f"{self.key_result}: {self.value} ({self.posted_at:%Y-%m-%d})"

    def clean(self) -> None:
        if self.corrects_id and self.corrects.key_result_id != self.key_result_id:
            raise ValidationError({"corrects": "A correction must be on the same key result."})


class TeamRecordQuerySet(models.QuerySet):
    """Shared rule for a team's own records: readers of the team read, its members write."""

    def visible_to(self, user):
        """Records of the teams the user may read."""
        return self.filter(team__in=ProductTeam.objects.visible_to(user))

    def editable_by(self, user):
        """Records of the teams the user is a member of (administrators: all)."""
        return self.filter(team__in=ProductTeam.objects.outcomes_editable_by(user))


class Experiment(models.Model):
    """A team's experiment: a hypothesis tested against a metric, and what it taught.

    An invalidated hypothesis is a result worth as much as a validated one: it is learning.
    `result` is blank while the experiment runs.
    """

    class Result(models.TextChoices):
        VALIDATED = "validated", "Validated"
        INVALIDATED = "invalidated", "Invalidated"
        INCONCLUSIVE = "inconclusive", "Inconclusive"

    team = models.ForeignKey(ProductTeam, on_delete=models.CASCADE, related_name="experiments")
    hypothesis = LimitedTextField(help_text="We believe … will result in … measured by …")
    metric = models.CharField(max_length=200, help_text="What tells whether the hypothesis holds.")
    key_result = models.ForeignKey(
        KeyResult, on_delete=models.SET_NULL, null=True, blank=True, related_name="experiments"
    )
    started_on = models.DateField(validators=[validate_date_in_range])
    ended_on = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    result = models.CharField(max_length=12, choices=Result.choices, blank=True)
    learning = LimitedTextField(
        blank=True, max_length=LONG_TEXT, help_text="What the team learned, whatever the result."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="experiment_ends_after_it_starts",
                violation_error_message="An experiment cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(result="") | (Q(ended_on__isnull=False) & ~Q(learning="")),
                name="experiment_result_has_end_and_learning",
                violation_error_message="A result needs an end date and the learning.",
            ),
        ]

    def __str__(self) -> str:
        return self.hypothesis[:80]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.ended_on and self.started_on and self.ended_on < self.started_on:
            errors["ended_on"] = "An experiment cannot end before it starts."
        if self.result and not self.ended_on:
            errors["ended_on"] = "Give the end date when you record a result."
        if self.result and not self.learning.strip():
            errors["learning"] = "Say what you learned when you record a result."
        if self.key_result_id and self.key_result.objective.team_id not in (None, self.team_id):
            errors["key_result"] = "Pick a key result of this team."
        if errors:
            raise ValidationError(errors)

    @property
    def is_learning(self) -> bool:
        """True for an invalidated hypothesis: shown as learning, never as failure."""
        return self.result == self.Result.INVALIDATED


class NotDoingItem(models.Model):
    """Something the team explicitly decided not to do, why, and when."""

    team = models.ForeignKey(ProductTeam, on_delete=models.CASCADE, related_name="not_doing")
    what = models.CharField(max_length=200)
    why = LimitedTextField()
    decided_on = models.DateField(validators=[validate_date_in_range])
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_on", "-pk"]
        verbose_name = "not-doing item"

    def __str__(self) -> str:
        return self.what
