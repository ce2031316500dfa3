"""Writes for dependencies between teams (TeamInteraction): record one, change one."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from teams.models import ProductTeam, TeamInteraction
from teams.services.saving import signals_requested, validated

INTERACTION_FIELDS = ("mode", "blocking", "note", "since")


@transaction.atomic
def team_interaction_record(
    *, team: ProductTeam, depends_on: ProductTeam, **fields
) -> TeamInteraction:
    """Record that `team` depends on `depends_on` (fields of INTERACTION_FIELDS).

    Both teams must be of the same portfolio; a team cannot depend on itself and a pair is
    recorded once (ValidationError naming the field otherwise).
    """
    unknown = set(fields) - set(INTERACTION_FIELDS)
    if unknown:
        raise TypeError(f"team_interaction_record got unexpected fields: {sorted(unknown)}")
    portfolios = dict(
        ProductTeam.objects.filter(pk__in=[team.pk, depends_on.pk]).values_list(
            "pk", "value_stream__portfolio_id"
        )
    )
    if portfolios[team.pk] != portfolios[depends_on.pk]:
        raise ValidationError({"depends_on": "Pick a team of the same portfolio."})
    if TeamInteraction.objects.filter(team=team, depends_on=depends_on).exists():
        raise ValidationError(
            {"depends_on": f"{team} already has a dependency on {depends_on} recorded; edit it."}
        )
    interaction = validated(TeamInteraction(team=team, depends_on=depends_on, **fields))
    signals_requested(portfolios[team.pk])
    return interaction


@transaction.atomic
def team_interaction_update(*, interaction: TeamInteraction, **fields) -> TeamInteraction:
    """Change how two teams interact: mode, whether it blocks, what for, since when."""
    unknown = set(fields) - set(INTERACTION_FIELDS)
    if unknown:
        raise TypeError(f"team_interaction_update got unexpected fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(interaction, name, value)
    validated(interaction)
    signals_requested(interaction.team.value_stream.portfolio_id)
    return interaction
