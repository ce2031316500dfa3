"""The home page's "your teams" section: the teams a person sits in, with the check-ins due. Query counts do not grow with rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from teams import selectors
from teams.metrics import check_in_due_on, is_stale
from teams.models import KeyResult, ProductTeam, TeamMembership
from teams.panels.key_results import local_date


@dataclass
class DueKeyResult:
    """A key result of the person's team and when its next check-in is due."""

    key_result: KeyResult
    due_on: dt.date
    stale: bool


@dataclass
class YourTeam:
    """One of the person's teams for their home page: their seat and the check-ins due."""

    seat: TeamMembership
    due: list[DueKeyResult]
    upcoming: DueKeyResult | None

    @property
    def team(self) -> ProductTeam:
        return self.seat.team


def your_teams(user, *, as_of: dt.date) -> list[YourTeam]:
    """The teams `user` sits in today, each with its open key results due for a check-in (due on
    or before `as_of`, most overdue first) and the next one due otherwise. Two queries."""
    if not user.is_authenticated:
        return []
    seats = list(selectors.seats_of(user, as_of=as_of))
    by_team: dict[int, list[DueKeyResult]] = {seat.team_id: [] for seat in seats}
    zones = {seat.team_id: seat.team.value_stream.portfolio.time_zone for seat in seats}
    for kr in selectors.open_key_results_of_teams(by_team):
        last = local_date(kr.last_posted_at, zones[kr.team_id]) if kr.last_posted_at else None
        by_team[kr.team_id].append(
            DueKeyResult(
                kr,
                check_in_due_on(
                    last_check_in=last, starts_on=kr.starts_on, cadence_days=kr.cadence_days
                ),
                is_stale(
                    last_check_in=last,
                    starts_on=kr.starts_on,
                    cadence_days=kr.cadence_days,
                    as_of=as_of,
                ),
            )
        )
    teams = []
    for seat in seats:
        rows = sorted(by_team[seat.team_id], key=lambda row: (row.due_on, row.key_result.metric))
        due = [row for row in rows if row.due_on <= as_of]
        later = [row for row in rows if row.due_on > as_of]
        teams.append(YourTeam(seat, due, later[0] if later else None))
    return teams
