"""Writes for product teams: create one, change its definition (and move it within its
portfolio)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from teams.models import ProductTeam
from teams.services.saving import signals_requested
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
    signals_requested(value_stream.portfolio_id)
    return team


@transaction.atomic
@transaction.atomic
def team_update(*, team: ProductTeam, **fields) -> ProductTeam:
    """Change the given fields (of TEAM_FIELDS). A team may move only within its portfolio; a
    move to another value stream requests a recompute of the team's items (its history now
    counts in the other value stream)."""
    unknown = set(fields) - set(TEAM_FIELDS)
    if unknown:
        raise TypeError(f"team_update got unexpected fields: {sorted(unknown)}")
    target = fields.get("value_stream")
    # read from the database: a bound form may already have changed `team.value_stream`
    home, stream_before = (
        ValueStream.objects.filter(teams=team).values_list("portfolio_id", "pk").get()
    )
    if target is not None and target.portfolio_id != home:
        raise ValidationError(
            {"value_stream": "A team can only move to a value stream of its own portfolio."}
        )
    for name, value in fields.items():
        setattr(team, name, value)
    team.full_clean()
    team.save(update_fields=[*fields])
    if target is not None and target.pk != stream_before:
        from valuestreams.recompute import recompute_request

        recompute_request(portfolio=target.portfolio, team_ids=[team.pk])
    signals_requested(home)
    return team
