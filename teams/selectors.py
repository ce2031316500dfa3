"""Reads for team pages."""

from __future__ import annotations

from django.db.models import QuerySet

from teams.models import ProductTeam, TeamMembership


def team_roster(team: ProductTeam) -> QuerySet[TeamMembership]:
    """The team's current seats with their people, ordered by name."""
    return (
        TeamMembership.objects.current()
        .filter(team=team)
        .select_related("person")
        .order_by("person__last_name", "person__first_name")
    )
