"""Writes of the OKR cascade: objectives (at portfolio, value-stream or team level) and their key
results."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from portfolio.models import Portfolio
from teams.models import KeyResult, Objective, ProductTeam
from teams.services.saving import signals_requested, validated
from valuestreams.models import ValueStream


@transaction.atomic
def objective_create(
    *,
    portfolio: Portfolio,
    title: str,
    level: str,
    value_stream: ValueStream | None = None,
    team: ProductTeam | None = None,
    parent: Objective | None = None,
    strategic_theme=None,
    description: str = "",
) -> Objective:
    """Create an objective; a team objective takes its team's value stream."""
    if team is not None:
        value_stream = team.value_stream
    return validated(
        Objective(
            portfolio=portfolio,
            title=title,
            level=level,
            value_stream=value_stream,
            team=team,
            parent=parent,
            strategic_theme=strategic_theme,
            description=description,
        )
    )


OBJECTIVE_FIELDS = (
    "portfolio",
    "level",
    "value_stream",
    "team",
    "parent",
    "strategic_theme",
    "title",
    "description",
)


@transaction.atomic
def objective_update(*, objective: Objective, **fields) -> Objective:
    """Change an objective (fields of OBJECTIVE_FIELDS); it stays in its portfolio."""
    unknown = set(fields) - set(OBJECTIVE_FIELDS)
    if unknown:
        raise TypeError(f"objective_update got unexpected fields: {sorted(unknown)}")
    home, level, value_stream_id = Objective.objects.values_list(
        "portfolio_id", "level", "value_stream_id"
    ).get(pk=objective.pk)
    if "portfolio" in fields and fields["portfolio"].pk != home:
        raise ValidationError({"portfolio": "An objective cannot move to another portfolio."})
    new_stream = fields["team"].value_stream_id if fields.get("team") else None
    new_stream = new_stream or (
        fields["value_stream"].pk if fields.get("value_stream") else value_stream_id
    )
    children = Objective.objects.filter(parent=objective).count()
    if children and (fields.get("level", level) != level or new_stream != value_stream_id):
        field_name = "level" if fields.get("level", level) != level else "value_stream"
        raise ValidationError(
            {
                field_name: f"{children} objective{'s' if children > 1 else ''} contribute to "
                "this one; link them elsewhere before changing its level or value stream."
            }
        )
    for name, value in fields.items():
        setattr(objective, name, value)
    if objective.team is not None:
        objective.value_stream = objective.team.value_stream
    return validated(objective)


KEY_RESULT_FIELDS = (
    "metric",
    "unit",
    "baseline",
    "target",
    "direction",
    "cadence_days",
    "starts_on",
    "closed",
)


@transaction.atomic
def key_result_create(*, objective: Objective, **fields) -> KeyResult:
    """Add a key result to an objective (fields of KEY_RESULT_FIELDS)."""
    unknown = set(fields) - set(KEY_RESULT_FIELDS)
    if unknown:
        raise TypeError(f"key_result_create got unexpected fields: {sorted(unknown)}")
    key_result = validated(KeyResult(objective=objective, **fields))
    signals_requested(objective.portfolio_id)
    return key_result


@transaction.atomic
def key_result_update(*, key_result: KeyResult, **fields) -> KeyResult:
    """Change a key result's definition or close it (fields of KEY_RESULT_FIELDS).

    ``objective`` may be given (a client sends back what it read) but must be the key result's
    own: its check-ins belong to that objective's team, so a key result never moves (a
    ValidationError on ``objective`` otherwise).
    """
    unknown = set(fields) - {*KEY_RESULT_FIELDS, "objective"}
    if unknown:
        raise TypeError(f"key_result_update got unexpected fields: {sorted(unknown)}")
    objective = fields.pop("objective", None)
    if objective is not None and objective.pk != key_result.objective_id:
        raise ValidationError(
            {
                "objective": "A key result cannot move to another objective; close it and add "
                "a new one to the other objective."
            }
        )
    for name, value in fields.items():
        setattr(key_result, name, value)
    validated(key_result)
    signals_requested(key_result.objective.portfolio_id)
    return key_result
