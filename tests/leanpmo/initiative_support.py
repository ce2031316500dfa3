"""Initiatives for the `org` fixture: a second value stream (so strategic work exists), a funding
period (starts and stops are decisions of a period), a cap, and helpers that move cards."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from leanpmo.models import Guardrail, Initiative, InitiativeState
from leanpmo.services.initiative_edits import initiative_create
from leanpmo.services.initiative_moves import initiative_move
from leanpmo.services.structure import guardrail_save
from tests.factories import ProductTeamFactory, ValueStreamFactory
from tests.leanpmo.support import funding_for

T0 = timezone.make_aware(dt.datetime(2026, 4, 6, 9, 0))
PATH = ("reviewing", "analysing", "ready")
HYPOTHESIS = {
    "hypothesis_belief": "customers who pay in one tap",
    "hypothesis_outcome": "more first payments in their first week",
    "hypothesis_measure": "activation rate",
}


def cards_team(org):
    """A team of a second value stream of org.portfolio (idempotent)."""
    stream = org.portfolio.value_streams.filter(name="Cards").first() or ValueStreamFactory(
        portfolio=org.portfolio, name="Cards"
    )
    return stream.teams.filter(name="Card Controls").first() or ProductTeamFactory(
        value_stream=stream, name="Card Controls"
    )


def set_cap(org, count: int) -> Guardrail:
    """The portfolio's strategic WIP cap (created or changed)."""
    existing = Guardrail.objects.filter(
        portfolio=org.portfolio, kind=Guardrail.Kind.MAX_STRATEGIC_WIP
    ).first()
    return guardrail_save(
        portfolio=org.portfolio,
        user=org.users["pmo"],
        guardrail=existing,
        kind=Guardrail.Kind.MAX_STRATEGIC_WIP,
        max_count=count,
    )


def strategic(org, title: str, *, now=T0, **fields) -> Initiative:
    """A strategic initiative: teams in two value streams of org.portfolio."""
    funding_for(org)
    return initiative_create(
        portfolio=org.portfolio,
        user=org.users["pmo"],
        now=now,
        title=title,
        teams=[org.team, cards_team(org)],
        **{**HYPOTHESIS, **fields},
    )


def to_ready(org, initiative: Initiative, *, now=T0) -> Initiative:
    """Walk a funnel initiative to ready, a day per step."""
    for step, state in enumerate(PATH, start=1):
        initiative_move(
            initiative=initiative,
            to_state=state,
            reason=f"Ready for {state}.",
            user=org.users["pmo"],
            now=now + dt.timedelta(days=step),
        )
    return initiative


def start(org, initiative: Initiative, *, now=T0) -> Initiative:
    """From the funnel to implementing."""
    if initiative.state == InitiativeState.FUNNEL:
        to_ready(org, initiative, now=now)
    initiative_move(
        initiative=initiative,
        to_state="implementing",
        reason="The teams are free and the case is clear.",
        user=org.users["pmo"],
        now=now + dt.timedelta(days=5),
    )
    return initiative


def initiative_for(org) -> Initiative:
    """Idempotent: an initiative of org.portfolio (for the URL sweep)."""
    return Initiative.objects.filter(portfolio=org.portfolio).first() or strategic(org, "Sweep")
