"""Realisation metrics: the business measures a value stream is accountable for, as time series."""

from __future__ import annotations

from django.db import models

from portfolio.fields import LimitedTextField
from portfolio.models import validate_date_in_range
from valuestreams.models import ValueStream


class RealisationMetricQuerySet(models.QuerySet):
    def visible_to(self, user) -> RealisationMetricQuerySet:
        """Metrics of the value streams the user may read."""
        return self.filter(value_stream__in=ValueStream.objects.visible_to(user))

    def editable_by(self, user) -> RealisationMetricQuerySet:
        """Metrics the user may record points for: Lean PMO of the portfolio and administrators."""
        return self.filter(value_stream__in=ValueStream.objects.editable_by(user))


class RealisationMetric(models.Model):
    """A business measure of a value stream (revenue contribution, retention, NPS, time-to-market …)."""

    value_stream = models.ForeignKey(
        ValueStream, on_delete=models.CASCADE, related_name="realisation_metrics"
    )
    name = models.CharField(max_length=120)
    unit = models.CharField(max_length=30, blank=True, help_text="e.g. EUR, %, days, NPS points.")
    description = LimitedTextField(blank=True)
    higher_is_better = models.BooleanField(default=True)

    objects = RealisationMetricQuerySet.as_manager()

    class Meta:
        ordering = ["value_stream", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["value_stream", "name"],
                name="realisation_metric_unique_in_stream",
                violation_error_message="This value stream already has a metric with this name.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})" if self.unit else self.name


class RealisationPointQuerySet(models.QuerySet):
    def visible_to(self, user) -> RealisationPointQuerySet:
        return self.filter(metric__in=RealisationMetric.objects.visible_to(user))

    def editable_by(self, user) -> RealisationPointQuerySet:
        return self.filter(metric__in=RealisationMetric.objects.editable_by(user))


class RealisationPoint(models.Model):
    """One value of a realisation metric on a date; one point per metric and date."""

    metric = models.ForeignKey(RealisationMetric, on_delete=models.CASCADE, related_name="points")
    on = models.DateField("date", validators=[validate_date_in_range])
    value = models.DecimalField(max_digits=18, decimal_places=4)
    recorded_at = models.DateTimeField(auto_now=True)

    objects = RealisationPointQuerySet.as_manager()

    class Meta:
        ordering = ["metric", "on"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "on"],
                name="one_realisation_point_per_day",
                violation_error_message="This metric already has a value on this date.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric.name} {self.on}: {self.value}"
