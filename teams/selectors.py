"""Reads for team, value-stream and portfolio pages. Each runs a fixed number of queries,
whatever the number of rows, and is the only place rows become DataFrames."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable

import pandas as pd
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)

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


def team_roster(team: ProductTeam) -> QuerySet[TeamMembership]:
    """The team's current seats with their people, ordered by name."""
    return (
        TeamMembership.objects.current()
        .filter(team=team)
        .select_related("person")
        .order_by("person__last_name", "person__first_name")
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


def value_stream_interactions_for_editing(value_stream) -> QuerySet[TeamInteraction]:
    """Dependencies of the value stream's teams, blocking first, both teams selected (Lean PMO)."""
    return (
        TeamInteraction.objects.filter(team__value_stream=value_stream)
        .select_related("team", "depends_on__value_stream")
        .order_by("-blocking", "team__name", "depends_on__name")
    )
