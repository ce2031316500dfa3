"""Writes for product teams. Each validates the model (field rules and constraints) before saving."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from teams.models import ProductTeam
from valuestreams.models import ValueStream

TEAM_FIELDS = (
    "value_stream",
    "name",
    "mission",
    "topology",
    "formed_on",
    "capacity_fte",
    "loaded_cost_per_fte",
)


@transaction.atomic
def team_create(*, value_stream: ValueStream, name: str, **fields) -> ProductTeam:
    """Create a team in `value_stream`; raises ValidationError naming the field at fault."""
    team = ProductTeam(value_stream=value_stream, name=name, **fields)
    team.full_clean()
    team.save()
    return team


@transaction.atomic
def team_update(*, team: ProductTeam, **fields) -> ProductTeam:
    """Change the given fields (of TEAM_FIELDS). A team may move only within its portfolio."""
    unknown = set(fields) - set(TEAM_FIELDS)
    if unknown:
        raise TypeError(f"team_update got unexpected fields: {sorted(unknown)}")
    target = fields.get("value_stream")
    # read from the database: a bound form may already have changed `team.value_stream`
    home = ValueStream.objects.filter(teams=team).values_list("portfolio_id", flat=True).get()
    if target is not None and target.portfolio_id != home:
        raise ValidationError(
            {"value_stream": "A team can only move to a value stream of its own portfolio."}
        )
    for name, value in fields.items():
        setattr(team, name, value)
    team.full_clean()
    team.save(update_fields=[*fields])
    return team
