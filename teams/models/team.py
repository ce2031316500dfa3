"""Stable product teams and the people in them: the base of every team rule."""

from __future__ import annotations

import datetime as dt

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from portfolio.fields import LimitedTextField
from portfolio.models import validate_date_in_range
from valuestreams.models import ValueStream


class ProductTeamQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProductTeamQuerySet:
        """Teams in the portfolios the user may read."""
        return self.filter(value_stream__in=ValueStream.objects.visible_to(user))

    def editable_by(self, user) -> ProductTeamQuerySet:
        """Teams whose definition the user may change (Lean PMO of the portfolio, administrators)."""
        return self.filter(value_stream__in=ValueStream.objects.editable_by(user))

    def seated(self, user) -> ProductTeamQuerySet:
        """Teams in which the user holds a current seat: the teams a team member writes to."""
        return self.filter(memberships__in=TeamMembership.objects.current().filter(person=user))

    def outcomes_editable_by(self, user) -> ProductTeamQuerySet:
        """Teams whose outcome records (updates, experiments, not-doing list) the user may write.

        Only the team's own members (a current seat) and administrators: Lean PMO steers none of
        what a team decides, and executives read.
        """
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            pk__in=TeamMembership.objects.current().filter(person=user).values("team")
        )


class ProductTeam(models.Model):
    """A stable, long-lived team that owns outcomes inside one value stream."""

    class Topology(models.TextChoices):
        STREAM_ALIGNED = "stream_aligned", "Stream-aligned"
        PLATFORM = "platform", "Platform"
        ENABLING = "enabling", "Enabling"
        COMPLICATED_SUBSYSTEM = "complicated_subsystem", "Complicated-subsystem"

    value_stream = models.ForeignKey(ValueStream, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=120)
    mission = LimitedTextField(blank=True)
    topology = models.CharField(
        "Team Topologies type",
        max_length=32,
        choices=Topology.choices,
        default=Topology.STREAM_ALIGNED,
    )
    formed_on = models.DateField(
        validators=[validate_date_in_range], help_text="When the team was formed."
    )
    capacity_fte = models.DecimalField(
        "capacity (FTE)",
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        help_text="Full-time equivalents the team has.",
    )
    loaded_cost_per_fte = models.DecimalField(
        "loaded cost per FTE",
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        help_text="Yearly fully loaded cost of one FTE, in the portfolio's currency.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProductTeamQuerySet.as_manager()

    class Meta:
        ordering = ["value_stream", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["value_stream", "name"],
                name="team_name_unique_in_stream",
                violation_error_message="This value stream already has a team with this name.",
            ),
            models.CheckConstraint(
                condition=Q(capacity_fte__gte=0), name="team_capacity_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(loaded_cost_per_fte__gte=0), name="team_cost_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("team-detail", args=[self.pk])


class TeamMembershipQuerySet(models.QuerySet):
    def current(self, on=None) -> TeamMembershipQuerySet:
        """Seats held on `on` (default: today in the server's time zone)."""
        on = on or timezone.localdate()
        return self.filter(start_date__lte=on).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=on)
        )

    def visible_to(self, user) -> TeamMembershipQuerySet:
        """Memberships of the teams the user may read."""
        return self.filter(team__in=ProductTeam.objects.visible_to(user))

    def editable_by(self, user) -> TeamMembershipQuerySet:
        """Memberships the user may add, end or change: of the teams whose definition they edit
        (Lean PMO of the portfolio, administrators)."""
        return self.filter(team__in=ProductTeam.objects.editable_by(user))

    def overlapping(self, start: dt.date, end: dt.date | None) -> TeamMembershipQuerySet:
        """Seats held on at least one day of [start, end] (`end` None: open-ended)."""
        seats = self.filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
        return seats if end is None else seats.filter(start_date__lte=end)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class TeamMembership(models.Model):
    """A person's seat in a team: allocation and dates; team stability is computed from these.

    Seats keep their history: a person leaves by an end date, never by deleting the seat, and
    two seats of one person in one team never overlap. Every change, by any path (pages, API,
    Django admin), is kept in the audit history (django-pghistory triggers).
    """

    team = models.ForeignKey(ProductTeam, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    role_title = models.CharField(
        max_length=80, blank=True, help_text="e.g. Engineer, Product manager."
    )
    allocation_percent = models.PositiveSmallIntegerField(
        "allocation (%)",
        validators=[
            MinValueValidator(1, "An allocation is a share of the person's time: at least 1 %%."),
            MaxValueValidator(
                100, "An allocation is a share of the person's time: at most 100 %%."
            ),
        ],
        default=100,
        help_text="The share of the person's working time in this team.",
    )
    start_date = models.DateField(validators=[validate_date_in_range])
    end_date = models.DateField(null=True, blank=True, validators=[validate_date_in_range])

    objects = TeamMembershipQuerySet.as_manager()

    class Meta:
        ordering = ["team", "person__last_name", "person__first_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(allocation_percent__gte=1) & Q(allocation_percent__lte=100),
                name="allocation_between_1_and_100",
                violation_error_message="An allocation is a share of the person's time: 1 to 100 %%.",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="membership_ends_after_it_starts",
                violation_error_message="A seat cannot end before it starts.",
            ),
        ]
        indexes = [models.Index(fields=["person", "start_date"])]

    def __str__(self) -> str:
        return f"{self.person} in {self.team} ({self.allocation_percent} %)"

    def clean(self) -> None:
        """Refuse a seat that ends before it starts or overlaps another seat of the same person
        in the same team (naming that seat's dates)."""
        if self.start_date is None:
            return
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValidationError(
                {
                    "end_date": "A seat cannot end before it starts "
                    f"({self.start_date.day} {self.start_date:%b %Y})."
                }
            )
        if not (self.team_id and self.person_id):
            return
        clash = (
            TeamMembership.objects.filter(team_id=self.team_id, person_id=self.person_id)
            .exclude(pk=self.pk)
            .overlapping(self.start_date, self.end_date)
            .order_by("start_date")
            .first()
        )
        if clash is not None:
            since = f"{clash.start_date.day} {clash.start_date:%b %Y}"
            until = (
                f"until {clash.end_date.day} {clash.end_date:%b %Y}"
                if clash.end_date
                else "open-ended"
            )
            raise ValidationError(
                {
                    "start_date": f"{self.person.get_full_name() or self.person.username} already "
                    f"has a seat in {self.team.name} from {since} ({until}); one person's seats "
                    "in a team do not overlap."
                }
            )
