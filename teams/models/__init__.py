"""The teams app's models: teams and seats, interactions, outcomes, realisation metrics, pulse."""

from teams.models.interactions import TeamInteraction
from teams.models.outcomes import (
    Experiment,
    KeyResult,
    NotDoingItem,
    Objective,
    OutcomeUpdate,
)
from teams.models.pulse import (
    MIN_RESPONSES_SHOWN,
    PulseAnswer,
    PulseQuestion,
    PulseResponse,
    PulseRound,
)
from teams.models.realisation import RealisationMetric, RealisationPoint
from teams.models.team import (
    ProductTeam,
    ProductTeamQuerySet,
    TeamMembership,
    TeamMembershipQuerySet,
)

__all__ = [
    "MIN_RESPONSES_SHOWN",
    "Experiment",
    "KeyResult",
    "NotDoingItem",
    "Objective",
    "OutcomeUpdate",
    "ProductTeam",
    "ProductTeamQuerySet",
    "PulseAnswer",
    "PulseQuestion",
    "PulseResponse",
    "PulseRound",
    "RealisationMetric",
    "RealisationPoint",
    "TeamInteraction",
    "TeamMembership",
    "TeamMembershipQuerySet",
]
