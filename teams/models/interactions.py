"""How teams work with each other: Team Topologies interaction modes and dependencies."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from portfolio.models import validate_date_in_range
from teams.models.team import ProductTeam


class TeamInteractionQuerySet(models.QuerySet):
    def visible_to(self, user) -> TeamInteractionQuerySet:
        """Interactions whose depending team the user may read."""
        return self.filter(team__in=ProductTeam.objects.visible_to(user))

    def editable_by(self, user) -> TeamInteractionQuerySet:
        """Interactions the user may change: Lean PMO of the depending team's portfolio, admins."""
        return self.filter(team__in=ProductTeam.objects.editable_by(user))


class TeamInteraction(models.Model):
    """`team` depends on `depends_on`, working with it in one Team Topologies interaction mode.

    `blocking` marks a dependency that currently stops `team` from finishing work on its own.
    """

    class Mode(models.TextChoices):
        COLLABORATION = "collaboration", "Collaboration"
        X_AS_A_SERVICE = "x_as_a_service", "X-as-a-service"
        FACILITATING = "facilitating", "Facilitating"

    team = models.ForeignKey(ProductTeam, on_delete=models.CASCADE, related_name="dependencies")
    depends_on = models.ForeignKey(ProductTeam, on_delete=models.CASCADE, related_name="dependents")
    mode = models.CharField("interaction mode", max_length=20, choices=Mode.choices)
    blocking = models.BooleanField(
        default=False, help_text="The dependency currently blocks the team's work."
    )
    note = models.CharField(max_length=200, blank=True, help_text="What the team needs from it.")
    since = models.DateField(null=True, blank=True, validators=[validate_date_in_range])

    objects = TeamInteractionQuerySet.as_manager()

    class Meta:
        ordering = ["team__name", "depends_on__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "depends_on"],
                name="one_interaction_per_team_pair",
                violation_error_message="These two teams already have an interaction recorded.",
            ),
            models.CheckConstraint(
                condition=~Q(team=F("depends_on")),
                name="team_does_not_depend_on_itself",
                violation_error_message="A team cannot depend on itself.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team} → {self.depends_on} ({self.get_mode_display()})"

    def clean(self) -> None:
        if self.team_id and self.team_id == self.depends_on_id:
            raise ValidationError({"depends_on": "A team cannot depend on itself."})
