"""Writes of a team's own outcome records: check-ins on its key results, experiments and the
not-doing list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from teams.models import Experiment, KeyResult, NotDoingItem, OutcomeUpdate, ProductTeam
from teams.services.saving import signals_requested, validated


@transaction.atomic
def outcome_update_post(
    *,
    key_result: KeyResult,
    posted_by,
    posted_at: dt.datetime,
    value: Decimal,
    confidence: int,
    status: str,
    learned: str = "",
    blockers: str = "",
    corrects: OutcomeUpdate | None = None,
) -> OutcomeUpdate:
    """Append a check-in to an open key result; with `corrects`, it corrects that earlier update.

    Raises ValidationError naming the field: a closed key result, a correction of an update on
    another key result, or one that is already corrected, and every field rule of the model.
    """
    locked = KeyResult.objects.select_for_update().get(pk=key_result.pk)
    if locked.closed:
        raise ValidationError({"key_result": f"“{locked}” is closed; it takes no more check-ins."})
    if corrects is not None and OutcomeUpdate.objects.filter(corrects=corrects).exists():
        raise ValidationError({"corrects": "That update has already been corrected."})
    update = validated(
        OutcomeUpdate(
            key_result=locked,
            posted_by=posted_by,
            posted_at=posted_at,
            value=value,
            confidence=confidence,
            status=status,
            learned=learned,
            blockers=blockers,
            corrects=corrects,
        )
    )
    signals_requested(locked.objective.portfolio_id)
    return update


EXPERIMENT_FIELDS = (
    "hypothesis",
    "metric",
    "key_result",
    "started_on",
    "ended_on",
    "result",
    "learning",
)


@transaction.atomic
def experiment_create(*, team: ProductTeam, created_by, **fields) -> Experiment:
    """Record an experiment of `team` (fields of EXPERIMENT_FIELDS)."""
    unknown = set(fields) - set(EXPERIMENT_FIELDS)
    if unknown:
        raise TypeError(f"experiment_create got unexpected fields: {sorted(unknown)}")
    return validated(Experiment(team=team, created_by=created_by, **fields))


@transaction.atomic
def experiment_update(*, experiment: Experiment, **fields) -> Experiment:
    """Change an experiment, typically to record its end, result and learning."""
    unknown = set(fields) - set(EXPERIMENT_FIELDS)
    if unknown:
        raise TypeError(f"experiment_update got unexpected fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(experiment, name, value)
    return validated(experiment)


@transaction.atomic
def not_doing_record(
    *, team: ProductTeam, recorded_by, what: str, why: str, decided_on: dt.date
) -> NotDoingItem:
    """Add an item to the team's not-doing list."""
    return validated(
        NotDoingItem(team=team, recorded_by=recorded_by, what=what, why=why, decided_on=decided_on)
    )
