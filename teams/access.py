"""The team's own-records rule for pages and API: readers of a team read, its members write."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from teams.models import ProductTeam


def get_team_for_outcomes(user, pk: int, *, write: bool = False) -> ProductTeam:
    """The team if `user` may read it (else 404) and, with `write`, write its outcome records:
    check-ins, experiments, not-doing list, pulse answers (else 403: only its own members may)."""
    try:
        team = (
            ProductTeam.objects.visible_to(user)
            .select_related("value_stream__portfolio")
            .get(pk=pk)
        )
    except ProductTeam.DoesNotExist as exc:
        raise Http404(f"No product team {pk} here.") from exc
    if write and not ProductTeam.objects.outcomes_editable_by(user).filter(pk=pk).exists():
        raise PermissionDenied(
            "Only the team's own members write its updates, experiments and not-doing list."
        )
    return team


def may_write_outcomes(user, team: ProductTeam) -> bool:
    """Whether `user` may write the team's outcome records (for showing forms and buttons)."""
    return ProductTeam.objects.outcomes_editable_by(user).filter(pk=team.pk).exists()
