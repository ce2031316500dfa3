"""Reads for team, value-stream and portfolio pages. Each runs a fixed number of queries,
whatever the number of rows, and is the only place rows become DataFrames."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from decimal import Decimal

import pandas as pd
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)

from portfolio.models import Portfolio
from teams.models import (
    Experiment,
    KeyResult,
    NotDoingItem,
    Objective,
    OutcomeUpdate,
    ProductTeam,
    PulseAnswer,
    PulseResponse,
    PulseRound,
    RealisationMetric,
    RealisationPoint,
    TeamInteraction,
    TeamMembership,
)
from teams.plausibility import (
    KeyResultFacts,
    PlausibilityWarning,
    Seat,
    allocation_warnings,
    check_in_warnings,
)


def _is_corrected() -> Exists:
    return Exists(OutcomeUpdate.objects.filter(corrects=OuterRef("pk")))


def team_key_results(team: ProductTeam) -> QuerySet[KeyResult]:
    """Key results of the team's objectives (open first), objectives and their parents selected."""
    return (
        KeyResult.objects.filter(objective__team=team)
        .select_related("objective__parent__parent__strategic_theme")
        .order_by("closed", "objective__title", "metric")
    )


def key_result_update_frame(key_result_ids: Iterable[int]) -> pd.DataFrame:
    """Check-ins of the key results that stand (corrected ones replaced by their corrections).

    Columns: `key_result_id`, `posted_at` (aware datetime), `value` (Decimal), `confidence`,
    `status`; oldest first. One query.
    """
    columns = ["key_result_id", "posted_at", "value", "confidence", "status"]
    rows = (
        OutcomeUpdate.objects.filter(key_result_id__in=list(key_result_ids))
        .annotate(corrected=_is_corrected())
        .filter(corrected=False)
        .order_by("posted_at", "pk")
        .values_list(*columns)
    )
    return pd.DataFrame(list(rows), columns=columns)


def latest_key_result_update_frame(key_result_ids: Iterable[int]) -> pd.DataFrame:
    """The latest standing check-in of each key result (columns as `key_result_update_frame`,
    one row per key result that has one). One query that reads one row per key result, however
    many check-ins there are."""
    columns = ["key_result_id", "posted_at", "value", "confidence", "status"]
    rows = (
        OutcomeUpdate.objects.filter(key_result_id__in=list(key_result_ids))
        .annotate(corrected=_is_corrected())
        .filter(corrected=False)
        .order_by("key_result_id", "-posted_at", "-pk")
        .distinct("key_result_id")
        .values_list(*columns)
    )
    return pd.DataFrame(list(rows), columns=columns)


def team_update_feed(team: ProductTeam, *, limit: int = 10) -> QuerySet[OutcomeUpdate]:
    """The team's latest check-ins, newest first, each marked `corrected` when a later one corrects it."""
    return (
        OutcomeUpdate.objects.filter(key_result__objective__team=team)
        .select_related("key_result", "posted_by", "corrects")
        .annotate(corrected=_is_corrected())
        .order_by("-posted_at", "-pk")[:limit]
    )


def team_experiments(team: ProductTeam) -> QuerySet[Experiment]:
    """The team's experiments, running ones first, then newest."""
    return (
        Experiment.objects.filter(team=team)
        .select_related("key_result")
        .order_by(
            ExpressionWrapper(Q(result=""), output_field=BooleanField()).desc(),
            "-started_on",
            "-pk",
        )
    )


def team_not_doing(team: ProductTeam) -> QuerySet[NotDoingItem]:
    """What the team decided not to do, newest decision first."""
    return NotDoingItem.objects.filter(team=team).order_by("-decided_on", "-pk")


def membership_frame(team_ids: Iterable[int]) -> pd.DataFrame:
    """Seats of the teams and every seat of anyone who ever sat in them (for the spread).

    Columns: `team_id`, `person_id`, `start_date`, `end_date` (None when open-ended). One query.
    """
    columns = ["team_id", "person_id", "start_date", "end_date"]
    people = TeamMembership.objects.filter(team_id__in=list(team_ids)).values("person_id")
    rows = TeamMembership.objects.filter(person_id__in=people).values_list(*columns)
    frame = pd.DataFrame(list(rows), columns=columns)
    return frame.astype({"start_date": object, "end_date": object})


def team_pulse_rounds(team: ProductTeam, *, as_of: dt.date, limit: int = 3) -> list[PulseRound]:
    """The team's latest rounds that have opened, each with `responses` counted and `answer_rows`
    (position, question text, score) attached for the aggregates. Two queries."""
    rounds = list(
        PulseRound.objects.filter(team=team, opens_on__lte=as_of)
        .annotate(responses_count=Count("responses", distinct=True))
        .order_by("-opens_on")[:limit]
    )
    answers = PulseAnswer.objects.filter(question__round__in=rounds).values_list(
        "question__round_id", "question__position", "question__text", "score"
    )
    by_round: dict[int, list] = {r.pk: [] for r in rounds}
    for round_id, position, text, score in answers:
        by_round[round_id].append((position, text, score))
    for pulse_round in rounds:
        pulse_round.answer_rows = by_round[pulse_round.pk]
    return rounds


def open_pulse_round_for(team: ProductTeam, user, *, as_of: dt.date) -> PulseRound | None:
    """The team's round open on `as_of` that `user` has not answered yet, if any."""
    answered = PulseResponse.objects.filter(round=OuterRef("pk"), respondent=user)
    return (
        PulseRound.objects.filter(team=team, opens_on__lte=as_of, closes_on__gte=as_of)
        .exclude(Exists(answered))
        .order_by("-opens_on")
        .first()
    )


def open_key_result_frame(key_results: QuerySet[KeyResult], *, time_zone: str) -> pd.DataFrame:
    """One row per open key result for the staleness roll-up. One query.

    Columns: `key_result_id`, `team` (name, or "" for value-stream / portfolio key results),
    `team_id`, `value_stream` (name, "" at portfolio level), `value_stream_id`, `starts_on`,
    `cadence_days`, `last_check_in` (date in `time_zone`, or None).
    """
    columns = [
        "key_result_id",
        "team",
        "team_id",
        "value_stream",
        "value_stream_id",
        "starts_on",
        "cadence_days",
        "last_check_in",
    ]
    rows = (
        key_results.filter(closed=False)
        .annotate(last_posted_at=Max("updates__posted_at"))
        .values_list(
            "pk",
            "objective__team__name",
            "objective__team_id",
            "objective__value_stream__name",
            "objective__value_stream_id",
            "starts_on",
            "cadence_days",
            "last_posted_at",
        )
    )
    zone = zoneinfo.ZoneInfo(time_zone)
    records = [
        (*row[:5], row[5], row[6], row[7].astimezone(zone).date() if row[7] else None)
        for row in rows
    ]
    frame = pd.DataFrame(records, columns=columns)
    return frame.fillna({"team": "", "value_stream": ""}).astype(
        {"starts_on": object, "last_check_in": object}
    )


def value_stream_objectives(value_stream) -> QuerySet[Objective]:
    """Value-stream objectives with their parent and key results, and their team objectives."""
    return (
        Objective.objects.filter(value_stream=value_stream, level=Objective.Level.VALUE_STREAM)
        .select_related("parent")
        .prefetch_related("key_results", "children__team")
        .order_by("title")
    )


def value_stream_interactions(value_stream, user) -> QuerySet[TeamInteraction]:
    """Dependencies of the value stream's teams (on teams the user may read), teams selected."""
    return (
        TeamInteraction.objects.filter(team__value_stream=value_stream)
        .filter(depends_on__in=ProductTeam.objects.visible_to(user))
        .select_related("team", "depends_on__value_stream")
        .order_by("-blocking", "team__name", "depends_on__name")
    )


def realisation_metrics(value_stream) -> QuerySet[RealisationMetric]:
    """The value stream's realisation metrics, each with `point_list` (its points, oldest first)."""
    return (
        RealisationMetric.objects.filter(value_stream=value_stream)
        .prefetch_related(
            Prefetch(
                "points", queryset=RealisationPoint.objects.order_by("on"), to_attr="point_list"
            )
        )
        .order_by("name")
    )


def realisation_frame(value_stream) -> pd.DataFrame:
    """All points of the value stream's realisation metrics. One query.

    Columns: `metric` (name with unit), `on` (date), `value` (float); sorted by metric and date.
    """
    rows = RealisationPoint.objects.filter(metric__value_stream=value_stream).values_list(
        "metric__name", "metric__unit", "on", "value"
    )
    records = [
        (f"{name} ({unit})" if unit else name, on, float(value)) for name, unit, on, value in rows
    ]
    frame = pd.DataFrame(records, columns=["metric", "on", "value"])
    return frame.sort_values(["metric", "on"], kind="stable").reset_index(drop=True)


def portfolio_objectives(portfolio) -> QuerySet[Objective]:
    """Every objective of the portfolio with its value stream, team and theme selected and its key
    results (open first) prefetched. Two queries, whatever the number of objectives."""
    return (
        Objective.objects.filter(portfolio=portfolio)
        .select_related("value_stream", "team", "strategic_theme")
        .prefetch_related(
            Prefetch("key_results", queryset=KeyResult.objects.order_by("closed", "metric"))
        )
        .order_by("title", "pk")
    )


def value_stream_objective_branch(portfolio, objective_id: int) -> QuerySet[Objective]:
    """A value-stream objective of the portfolio and the objectives directly under it, selected
    and prefetched as `portfolio_objectives` does (two queries)."""
    return portfolio_objectives(portfolio).filter(
        Q(pk=objective_id, level=Objective.Level.VALUE_STREAM) | Q(parent_id=objective_id)
    )


def folded_branch_of(anchor: str) -> int | None:
    """The value-stream objective whose folded branch holds `anchor` ("objective-12",
    "key-result-7") on the outcomes page; None when it is not in a folded branch. One query."""
    kind, _, number = anchor.rpartition("-")
    if not number.isdigit():
        return None
    objectives = Objective.objects.filter(
        **({"pk": number} if kind == "objective" else {"key_results": number})
    )
    found = objectives.values_list("level", "pk", "parent_id").first()
    if found is None:
        return None
    level, objective_id, parent_id = found
    if level == Objective.Level.VALUE_STREAM:
        return objective_id
    return parent_id if level == Objective.Level.TEAM else None


def value_stream_interactions_for_editing(value_stream) -> QuerySet[TeamInteraction]:
    """Dependencies of the value stream's teams, blocking first, both teams selected (Lean PMO)."""
    return (
        TeamInteraction.objects.filter(team__value_stream=value_stream)
        .select_related("team", "depends_on__value_stream")
        .order_by("-blocking", "team__name", "depends_on__name")
    )


# --- check-in context and warnings ---------------------------------------------------------------


def _standing_updates() -> QuerySet[OutcomeUpdate]:
    """Check-ins that stand: not corrected by a later one."""
    return OutcomeUpdate.objects.annotate(corrected=_is_corrected()).filter(corrected=False)


def check_in_key_results(team: ProductTeam) -> QuerySet[KeyResult]:
    """The team's key results, open ones (those that take check-ins) first, each with `last_value`,
    `last_posted_at` and `last_status` of its latest standing check-in (None without one). One query."""
    latest = _standing_updates().filter(key_result=OuterRef("pk")).order_by("-posted_at", "-pk")
    return (
        KeyResult.objects.filter(objective__team=team)
        .annotate(
            last_value=Subquery(latest.values("value")[:1]),
            last_posted_at=Subquery(latest.values("posted_at")[:1]),
            last_status=Subquery(latest.values("status")[:1]),
        )
        .order_by("closed", "objective__title", "metric")
    )


def key_result_facts(
    key_result: KeyResult, *, time_zone: str, corrects: OutcomeUpdate | None = None
) -> KeyResultFacts:
    """What a new check-in on `key_result` is compared with: its definition and the latest standing
    check-in (for a correction: the latest standing one posted before the corrected one, which the
    correction replaces). Dates in `time_zone`. One query."""
    earlier = _standing_updates().filter(key_result=key_result)
    if corrects is not None:
        earlier = earlier.exclude(pk=corrects.pk).filter(
            Q(posted_at__lt=corrects.posted_at)
            | Q(posted_at=corrects.posted_at, pk__lt=corrects.pk)
        )
    previous = earlier.order_by("-posted_at", "-pk").values_list("value", "posted_at").first()
    return KeyResultFacts(
        baseline=key_result.baseline,
        target=key_result.target,
        unit=key_result.unit,
        starts_on=key_result.starts_on,
        previous_value=previous[0] if previous else None,
        previous_on=previous[1].astimezone(zoneinfo.ZoneInfo(time_zone)).date()
        if previous
        else None,
    )


def check_in_warnings_for(
    *,
    key_result: KeyResult,
    value: Decimal,
    status: str,
    on: dt.date,
    time_zone: str,
    corrects: OutcomeUpdate | None = None,
) -> list[PlausibilityWarning]:
    """The warnings (teams.plausibility) for a check-in about to be posted on `on`; none for a
    closed key result, which takes no check-in at all (the service says so). One query."""
    if key_result.closed:
        return []
    facts = key_result_facts(key_result, time_zone=time_zone, corrects=corrects)
    return check_in_warnings(facts=facts, value=value, status=status, on=on)


# --- seats ---------------------------------------------------------------------------------------


def team_seats(team: ProductTeam) -> QuerySet[TeamMembership]:
    """Every seat of the team, past, current and upcoming, people selected; newest start first."""
    return (
        TeamMembership.objects.filter(team=team)
        .select_related("person")
        .order_by("-start_date", "person__last_name", "person__first_name", "pk")
    )


ELSEWHERE = "a team you do not see"


def person_seats(
    person: AbstractBaseUser, *, viewer: AbstractBaseUser, exclude: TeamMembership | None = None
) -> list[Seat]:
    """All the person's seats in any team, as the allocation rule sees them; teams `viewer` may
    not read are named ELSEWHERE (their allocation counts, their name is not told). Two queries."""
    seats = TeamMembership.objects.filter(person=person)
    if exclude is not None:
        seats = seats.exclude(pk=exclude.pk)
    rows = list(
        seats.values_list("team_id", "team__name", "start_date", "end_date", "allocation_percent")
    )
    seen = set(
        ProductTeam.objects.visible_to(viewer)
        .filter(pk__in={row[0] for row in rows})
        .values_list("pk", flat=True)
    )
    return [
        Seat(name if team_id in seen else ELSEWHERE, start, end, percent)
        for team_id, name, start, end, percent in rows
    ]


def seat_allocation_warnings(
    *,
    person: AbstractBaseUser,
    team: ProductTeam,
    allocation_percent: int,
    start_date: dt.date,
    end_date: dt.date | None,
    viewer: AbstractBaseUser,
    replaces: TeamMembership | None = None,
) -> list[PlausibilityWarning]:
    """Whether a seat of `allocation_percent` in `team` over [start_date, end_date] would allocate
    `person` more than full time (`replaces`: the seat it takes over from, left out), in words
    for `viewer`. Two queries."""
    seats = [
        *person_seats(person, viewer=viewer, exclude=replaces),
        Seat(team.name, start_date, end_date, allocation_percent),
    ]
    name = person.get_full_name() or person.username
    return allocation_warnings(seats, name=name, start=start_date, end=end_date)


def seat_candidates(portfolio: Portfolio, *, query: str = "", limit: int = 50) -> QuerySet:
    """People a Lean PMO may seat in a team of `portfolio`, by name. Without `query`: the people of
    the portfolio (a role, or a seat in one of its teams). With it: any active user whose name or
    username contains every word of it (a new colleague has no role anywhere yet). Each has
    `seats_now`: their current seats, teams and their value streams selected (show only the
    teams the viewer may read)."""
    users = get_user_model().objects.filter(is_active=True)
    words = query.split()
    if words:
        for word in words:
            users = users.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(username__icontains=word)
            )
    else:
        seated = TeamMembership.objects.filter(team__value_stream__portfolio=portfolio)
        users = users.filter(
            Q(portfolio_memberships__portfolio=portfolio) | Q(pk__in=seated.values("person"))
        ).distinct()
    current = (
        TeamMembership.objects.current().select_related("team__value_stream").order_by("team__name")
    )
    return users.prefetch_related(
        Prefetch("team_memberships", queryset=current, to_attr="seats_now")
    ).order_by("last_name", "first_name", "username")[:limit]


def correctable_update(team: ProductTeam, pk: str | int | None) -> OutcomeUpdate | None:
    """The team's check-in `pk` (a text from a URL) with its key result and author, or None when
    it is no check-in of the team."""
    if pk is None or not str(pk).isdigit():
        return None
    return (
        OutcomeUpdate.objects.filter(pk=int(pk), key_result__objective__team=team)
        .select_related("key_result", "posted_by")
        .first()
    )


def seats_of(user: AbstractBaseUser, *, as_of: dt.date) -> QuerySet[TeamMembership]:
    """The user's seats held on `as_of`, teams with their value stream and portfolio selected."""
    return (
        TeamMembership.objects.current(as_of)
        .filter(person=user)
        .select_related("team__value_stream__portfolio")
        .order_by("team__name", "pk")
    )


def open_key_results_of_teams(team_ids: Iterable[int]) -> QuerySet[KeyResult]:
    """Open key results of the teams, each with `team_id` and `last_posted_at` (its latest
    check-in, None without one). One query."""
    return (
        KeyResult.objects.filter(objective__team_id__in=list(team_ids), closed=False)
        .annotate(team_id=F("objective__team_id"), last_posted_at=Max("updates__posted_at"))
        .order_by("metric", "pk")
    )
