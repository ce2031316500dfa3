"""Objects of org.portfolio for the URL sweep (tests/test_url_sweep.py): one of each outcome kind."""

from teams.models import (
    Experiment,
    KeyResult,
    NotDoingItem,
    OutcomeUpdate,
    PulseRound,
    RealisationPoint,
    TeamInteraction,
    TeamMembership,
)
from tests.teams.factories import (
    ExperimentFactory,
    KeyResultFactory,
    NotDoingItemFactory,
    OutcomeUpdateFactory,
    PulseRoundFactory,
    RealisationPointFactory,
    TeamInteractionFactory,
)


def key_result(org) -> KeyResult:
    return KeyResult.objects.filter(objective__team=org.team).first() or KeyResultFactory(
        objective__team=org.team
    )


def update(org) -> OutcomeUpdate:
    return OutcomeUpdate.objects.filter(
        key_result__objective__team=org.team
    ).first() or OutcomeUpdateFactory(key_result=key_result(org), posted_by=org.users["member"])


def experiment(org) -> Experiment:
    return Experiment.objects.filter(team=org.team).first() or ExperimentFactory(team=org.team)


def not_doing(org) -> NotDoingItem:
    return NotDoingItem.objects.filter(team=org.team).first() or NotDoingItemFactory(team=org.team)


def pulse_round(org) -> PulseRound:
    return PulseRound.objects.filter(team=org.team).first() or PulseRoundFactory(team=org.team)


def interaction(org) -> TeamInteraction:
    return TeamInteraction.objects.filter(team=org.team).first() or TeamInteractionFactory(
        team=org.team, depends_on=org.other_team
    )


def point(org) -> RealisationPoint:
    return RealisationPoint.objects.filter(
        metric__value_stream=org.value_stream
    ).first() or RealisationPointFactory(metric__value_stream=org.value_stream)


def seat(org) -> TeamMembership:
    """The member's seat in org.team."""
    return TeamMembership.objects.get(team=org.team, person=org.users["member"])
