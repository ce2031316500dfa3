"""Key results in the `org` fixture's teams, for the outcome tests."""

from dataclasses import dataclass

import pytest

from teams.models import KeyResult, Objective
from tests.teams.factories import KeyResultFactory, OutcomeUpdateFactory


@dataclass
class Outcomes:
    key_result: KeyResult  # open, of org.team (the member's team)
    closed: KeyResult  # closed, of org.team
    other: KeyResult  # open, of org.other_team (same portfolio)
    foreign: KeyResult  # open, of org.foreign_team (another portfolio)
    stream_objective: Objective


@pytest.fixture
def outcomes(org) -> Outcomes:
    stream_objective = Objective.objects.create(
        portfolio=org.portfolio,
        level=Objective.Level.VALUE_STREAM,
        value_stream=org.value_stream,
        title="Payments customers never think about",
    )
    key_result = KeyResultFactory(
        objective__team=org.team, objective__parent=stream_objective, metric="Settled in 10 s"
    )
    closed = KeyResultFactory(objective=key_result.objective, metric="Uptime", closed=True)
    other = KeyResultFactory(objective__team=org.other_team, metric="Scheme outages")
    foreign = KeyResultFactory(objective__team=org.foreign_team, metric="Offers in a day")
    OutcomeUpdateFactory(key_result=key_result, posted_by=org.users["member"])
    return Outcomes(key_result, closed, other, foreign, stream_objective)
