"""The team page's people and outcome sections: its seats, key results, feed, experiments,
not-doing list, stability and pulse. Query counts do not grow with rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

from teams import selectors
from teams.metrics import PulseSummary, TeamStability, pulse_summary, team_stability
from teams.models import MIN_RESPONSES_SHOWN, OutcomeUpdate, ProductTeam, TeamMembership
from teams.panels.key_results import KeyResultRow, key_result_rows


@dataclass
class TeamPeople:
    """The team's seats as the team page lists them: held today (by name), starting later (soonest
    first) and ended (latest end first)."""

    current: list[TeamMembership]
    upcoming: list[TeamMembership]
    past: list[TeamMembership]

    @property
    def seated_fte(self) -> Decimal:
        return sum((Decimal(seat.allocation_percent) for seat in self.current), Decimal(0)) / 100


def team_people(team: ProductTeam, *, as_of: dt.date) -> TeamPeople:
    """Every seat of the team, sorted into current, upcoming and past ones. One query."""
    seats = list(selectors.team_seats(team))
    current = [
        seat
        for seat in seats
        if seat.start_date <= as_of and (seat.end_date is None or seat.end_date >= as_of)
    ]
    current.sort(key=lambda s: (s.person.last_name, s.person.first_name, s.person.username))
    upcoming = sorted((s for s in seats if s.start_date > as_of), key=lambda s: s.start_date)
    past = sorted(
        (s for s in seats if s.end_date is not None and s.end_date < as_of),
        key=lambda s: s.end_date,
        reverse=True,
    )
    return TeamPeople(current, upcoming, past)


@dataclass
class PulseRow:
    opens_on: dt.date
    closes_on: dt.date
    summary: PulseSummary


@dataclass
class TeamOutcomes:
    """Everything the team page shows about outcomes, learning, stability and pulse."""

    key_results: list[KeyResultRow]
    feed: list[OutcomeUpdate]
    experiments: list
    not_doing: list
    stability: TeamStability
    spread_names: list[str]
    pulse: list[PulseRow] = field(default_factory=list)

    @property
    def stale_count(self) -> int:
        return sum(row.stale for row in self.key_results)


def team_outcomes(team: ProductTeam, roster: list, *, as_of: dt.date) -> TeamOutcomes:
    """The team page's outcome sections. `roster` is the team's current seats (people selected)."""
    time_zone = team.value_stream.portfolio.time_zone
    stability = team_stability(
        selectors.membership_frame([team.pk]),
        team_id=team.pk,
        formed_on=team.formed_on,
        as_of=as_of,
    )
    names = {seat.person_id: seat.person.get_full_name() or seat.person.username for seat in roster}
    pulse = [
        PulseRow(
            r.opens_on,
            r.closes_on,
            pulse_summary(
                pd.DataFrame(r.answer_rows, columns=["position", "question", "score"]),
                responses=r.responses_count,
                minimum=MIN_RESPONSES_SHOWN,
            ),
        )
        for r in selectors.team_pulse_rounds(team, as_of=as_of)
    ]
    return TeamOutcomes(
        key_results=key_result_rows(
            list(selectors.team_key_results(team)), as_of=as_of, time_zone=time_zone
        ),
        feed=list(selectors.team_update_feed(team)),
        experiments=list(selectors.team_experiments(team)),
        not_doing=list(selectors.team_not_doing(team)),
        stability=stability,
        spread_names=[names.get(person, "someone") for person in stability.spread_people],
        pulse=pulse,
    )
