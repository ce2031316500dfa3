"""Writes for seats: people join a team, change allocation and leave (memberships keep their
history, audited as made by whoever made them)."""

from __future__ import annotations

import datetime as dt

import pghistory
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from teams.models import ProductTeam, TeamMembership
from teams.services.saving import validated


def _audited_by(user: AbstractBaseUser | None) -> pghistory.context:
    """The audit history's context naming who made a write (pages also add the URL through the
    middleware; the API and scripts have only this)."""
    known = user is not None and user.is_authenticated
    return pghistory.context(**({"user": user.pk} if known else {}))


def _lock_team(team: ProductTeam) -> None:
    """Serialise seat changes of one team, so two requests cannot both pass the overlap check."""
    ProductTeam.objects.select_for_update().filter(pk=team.pk).values_list("pk").get()


@transaction.atomic
def team_membership_add(
    *,
    team: ProductTeam,
    person: AbstractBaseUser,
    allocation_percent: int,
    start_date: dt.date,
    end_date: dt.date | None = None,
    role_title: str = "",
    by: AbstractBaseUser | None,
) -> TeamMembership:
    """Give `person` a seat in `team` from `start_date` (to `end_date`, or open-ended), audited as
    made by `by`.

    Raises ValidationError naming the field: an allocation outside 1–100 %, an end before the
    start, a seat overlapping another seat of the same person in the team. Allocating someone
    more than 100 % in total is allowed (see teams.plausibility.allocation_warnings).
    """
    _lock_team(team)
    seat = TeamMembership(
        team=team,
        person=person,
        allocation_percent=allocation_percent,
        start_date=start_date,
        end_date=end_date,
        role_title=role_title,
    )
    with _audited_by(by):
        return validated(seat)


@transaction.atomic
def team_membership_end(
    *, membership: TeamMembership, end_date: dt.date, by: AbstractBaseUser | None
) -> TeamMembership:
    """End a seat on `end_date` (its last day in the team), audited as made by `by`; the seat is
    kept, so stability keeps its history. Raises ValidationError on `end_date`: before the seat
    starts, or overlapping a later seat of the person in the team."""
    _lock_team(membership.team)
    seat = TeamMembership.objects.select_related("team", "person").get(pk=membership.pk)
    seat.end_date = end_date
    with _audited_by(by):
        try:
            return validated(seat)
        except ValidationError as exc:
            raise ValidationError({"end_date": exc.messages}) from exc


@transaction.atomic
def team_membership_change(
    *,
    membership: TeamMembership,
    allocation_percent: int,
    on: dt.date,
    role_title: str | None = None,
    by: AbstractBaseUser | None,
) -> TeamMembership:
    """Change a seat's allocation (and role title) from `on`; returns the seat that holds it.

    The history stays true: the seat ends the day before `on` and a new seat with the new
    allocation starts on `on`, until the old seat's end. A change from the seat's first day (or
    earlier) corrects the seat itself. Raises ValidationError naming the field: an allocation
    outside 1–100 %, `on` after the seat ended.
    """
    _lock_team(membership.team)
    seat = TeamMembership.objects.select_related("team", "person").get(pk=membership.pk)
    title = seat.role_title if role_title is None else role_title
    if (allocation_percent, title) == (seat.allocation_percent, seat.role_title):
        return seat
    if seat.end_date is not None and on > seat.end_date:
        raise ValidationError(
            {"on": f"This seat ended on {seat.end_date.day} {seat.end_date:%b %Y}; add a new seat."}
        )
    with _audited_by(by):
        if on <= seat.start_date:
            seat.allocation_percent, seat.role_title = allocation_percent, title
            return validated(seat)
        successor = TeamMembership(
            team=seat.team,
            person=seat.person,
            allocation_percent=allocation_percent,
            role_title=title,
            start_date=on,
            end_date=seat.end_date,
        )
        successor.clean_fields()
        seat.end_date = on - dt.timedelta(days=1)
        validated(seat)
        return validated(successor)
