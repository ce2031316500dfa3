"""Initiatives: add them to the portfolio's funnel and change their fields and links (WSJF inputs
included). Services validate first and change nothing when they refuse (ValidationError naming the
field, or CapRefused when relinking teams makes an initiative in progress strategic above the cap).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction

from leanpmo.metrics import initiatives as metrics
from leanpmo.models import (
    Initiative,
    InitiativeState,
    InitiativeTransition,
    StrategicTheme,
    WorkShape,
)
from leanpmo.services.audit import actor
from leanpmo.services.initiative_cap import cap_refusal, lock_portfolio
from leanpmo.services.signals import signals_request
from portfolio.models import Portfolio
from teams.models import KeyResult, ProductTeam
from valuestreams.models import ValueStream

SCALAR_FIELDS = (
    "title",
    "description",
    "owner",
    "hypothesis_belief",
    "hypothesis_outcome",
    "hypothesis_measure",
    "mvp",
    "in_scope",
    "out_of_scope",
    "cost_estimate",
    "sponsors",
    "alternatives",
    "funding_mode",
    "end_date",
    "scope_budget",
    "user_business_value",
    "time_criticality",
    "risk_reduction",
    "job_size",
)
LINK_FIELDS = ("themes", "value_streams", "teams", "leading_indicators")
CREATION_REASON = "Added to the funnel."


def _link_errors(portfolio: Portfolio, links: dict[str, list]) -> dict[str, str]:
    """Every linked object must belong to the initiative's portfolio."""
    owners = {
        "themes": lambda item: item.portfolio_id,
        "value_streams": lambda item: item.portfolio_id,
        "teams": lambda item: item.value_stream.portfolio_id,
        "leading_indicators": lambda item: item.objective.portfolio_id,
    }
    nouns = {
        "themes": "strategic theme",
        "value_streams": "value stream",
        "teams": "team",
        "leading_indicators": "key result",
    }
    errors = {}
    for name, items in links.items():
        foreign = [item for item in items if owners[name](item) != portfolio.pk]
        if foreign:
            errors[name] = (
                f"{nouns[name].capitalize()} {foreign[0].pk} is not a {nouns[name]} of {portfolio}."
            )
    return errors


def _owner_error(portfolio: Portfolio, owner) -> str | None:
    if owner is None or Portfolio.objects.visible_to(owner).filter(pk=portfolio.pk).exists():
        return None
    return f"The owner needs a role or a seat in a team of {portfolio}."


def _check_and_save(
    initiative: Initiative,
    *,
    links: dict[str, list],
    declared_shape: str,
    user,
    was_strategic_in_progress: bool,
) -> Initiative:
    """Validate the initiative with its new links (field-named errors), then write both."""
    errors: dict[str, Any] = {}
    try:
        initiative.full_clean()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    errors.update(_link_errors(initiative.portfolio, links))
    owner_problem = _owner_error(initiative.portfolio, initiative.owner)
    if owner_problem:
        errors["owner"] = owner_problem
    teams = links.get("teams")
    if teams is None and initiative.pk:
        teams = list(initiative.teams.select_related("value_stream"))
    teams = teams or []
    if declared_shape:
        if declared_shape not in WorkShape.values:
            errors["work_shape"] = "Choose team mission, product group or strategic initiative."
        else:
            problem = metrics.shape_contradiction(
                declared_shape, [(team.name, team.value_stream.name) for team in teams]
            )
            if problem:
                errors["work_shape"] = problem
    in_progress = initiative.state == InitiativeState.IMPLEMENTING
    if in_progress and "teams" in links and not teams:
        errors["teams"] = "An initiative in progress keeps at least one team: stop it instead."
    if errors:
        raise ValidationError(errors)
    shape = metrics.work_shape(team.value_stream_id for team in teams)
    if in_progress and shape == metrics.STRATEGIC and not was_strategic_in_progress:
        # relinking teams would make it strategic while it runs: the cap applies as to a start
        lock_portfolio(initiative.portfolio_id)
        refusal = cap_refusal(initiative, shape=shape)
        if refusal is not None:
            raise refusal
    with pghistory.context(**actor(user)):
        initiative.save()
        for name, items in links.items():
            getattr(initiative, name).set(items)
        if teams and ("teams" in links or "value_streams" in links):
            # a team's value stream is always among the initiative's value streams
            initiative.value_streams.add(*{team.value_stream for team in teams})
    signals_request(portfolio_id=initiative.portfolio_id)  # shapes and funding feed detectors 5, 8
    return initiative


@transaction.atomic
def initiative_create(
    *,
    portfolio: Portfolio,
    user,
    now: dt.datetime,
    title: str,
    declared_shape: str = "",
    themes: Iterable[StrategicTheme] = (),
    value_streams: Iterable[ValueStream] = (),
    teams: Iterable[ProductTeam] = (),
    leading_indicators: Iterable[KeyResult] = (),
    **fields: Any,
) -> Initiative:
    """Add an initiative to the portfolio's funnel (its first transition says so).

    `fields` are the scalar fields (SCALAR_FIELDS); `declared_shape`, when given, must agree with
    the linked teams. Raises ValidationError naming the field.
    """
    unknown = set(fields) - set(SCALAR_FIELDS)
    if unknown:
        raise TypeError(f"initiative_create got unexpected fields: {sorted(unknown)}")
    initiative = Initiative(
        portfolio=portfolio,
        title=title,
        state=InitiativeState.FUNNEL,
        state_changed_at=now,
        created_at=now,
        created_by=user if user is not None and user.is_authenticated else None,
        **fields,
    )
    links = {
        "themes": list(themes),
        "value_streams": list(value_streams),
        "teams": list(teams),
        "leading_indicators": list(leading_indicators),
    }
    _check_and_save(
        initiative,
        links=links,
        declared_shape=declared_shape,
        user=user,
        was_strategic_in_progress=False,
    )
    InitiativeTransition.objects.create(
        initiative=initiative,
        from_state="",
        to_state=InitiativeState.FUNNEL,
        reason=CREATION_REASON,
        moved_by=user,
        moved_at=now,
    )
    return initiative


@transaction.atomic
def initiative_update(
    *, initiative: Initiative, user, declared_shape: str = "", **changes: Any
) -> Initiative:
    """Change an initiative's fields and links (only those given); WSJF inputs included.

    The state changes only by moves. Relinking teams so that an initiative in progress becomes
    strategic is held to the WIP cap like a start (CapRefused). Raises ValidationError naming the
    field; on any refusal nothing is written.
    """
    unknown = set(changes) - set(SCALAR_FIELDS) - set(LINK_FIELDS)
    if unknown:
        raise TypeError(f"initiative_update got unexpected fields: {sorted(unknown)}")
    locked = (
        Initiative.objects.select_for_update(of=("self",))
        .select_related("portfolio")
        .get(pk=initiative.pk)
    )
    was = locked.state == InitiativeState.IMPLEMENTING and locked.work_shape == metrics.STRATEGIC
    for name in SCALAR_FIELDS:
        if name in changes:
            setattr(locked, name, changes[name])
    links = {name: list(changes[name]) for name in LINK_FIELDS if name in changes}
    return _check_and_save(
        locked,
        links=links,
        declared_shape=declared_shape,
        user=user,
        was_strategic_in_progress=was,
    )
