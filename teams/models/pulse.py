"""Team pulse: a short periodic survey whose answers can only ever be read as aggregates.

Answers carry no link to who gave them: `PulseResponse` records that a person answered a round
(so nobody answers twice), `PulseAnswer` holds a score for a question and nothing else.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from portfolio.models import validate_date_in_range
from teams.models.team import ProductTeam

MIN_RESPONSES_SHOWN = 3


class PulseRoundQuerySet(models.QuerySet):
    def visible_to(self, user) -> PulseRoundQuerySet:
        """Rounds of the teams the user may read (their answers only as aggregates)."""
        return self.filter(team__in=ProductTeam.objects.visible_to(user))

    def editable_by(self, user) -> PulseRoundQuerySet:
        """Rounds the user may answer: those of their own teams."""
        return self.filter(team__in=ProductTeam.objects.outcomes_editable_by(user))


class PulseRound(models.Model):
    """One round of a team's pulse survey, open from `opens_on` to `closes_on`."""

    team = models.ForeignKey(ProductTeam, on_delete=models.CASCADE, related_name="pulse_rounds")
    opens_on = models.DateField(validators=[validate_date_in_range])
    closes_on = models.DateField(validators=[validate_date_in_range])

    objects = PulseRoundQuerySet.as_manager()

    class Meta:
        ordering = ["team", "-opens_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_on__gte=F("opens_on")),
                name="pulse_round_closes_after_it_opens",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team} pulse {self.opens_on:%d %b %Y}"


class PulseQuestion(models.Model):
    """A 1–5 question of a round, e.g. "I can ship a change without waiting on other teams"."""

    round = models.ForeignKey(PulseRound, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=200)

    class Meta:
        ordering = ["round", "position"]
        constraints = [
            models.UniqueConstraint(fields=["round", "position"], name="pulse_question_position")
        ]

    def __str__(self) -> str:
        return self.text


class PulseResponse(models.Model):
    """That `respondent` answered `round` (once); deliberately not linked to the answers."""

    round = models.ForeignKey(PulseRound, on_delete=models.CASCADE, related_name="responses")
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "respondent"],
                name="one_pulse_response_per_person",
                violation_error_message="You have already answered this pulse.",
            )
        ]

    def __str__(self) -> str:
        return f"response to {self.round}"


class PulseAnswer(models.Model):
    """An anonymous 1–5 score for one question."""

    question = models.ForeignKey(PulseQuestion, on_delete=models.CASCADE, related_name="answers")
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="pulse_score_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.score} for {self.question_id}"
