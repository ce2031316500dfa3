"""Writes for product teams and their outcomes. Each validates the model (field rules and
constraints) before saving and raises ValidationError naming the field at fault."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import pghistory
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model

from portfolio.date_range import date_range_problem
from portfolio.models import Portfolio
from teams.models import (
    Experiment,
    KeyResult,
    NotDoingItem,
    Objective,
    OutcomeUpdate,
    ProductTeam,
    PulseAnswer,
    PulseQuestion,
    PulseResponse,
    PulseRound,
    RealisationMetric,
    RealisationPoint,
    TeamInteraction,
    TeamMembership,
)
from valuestreams.models import ValueStream

TEAM_FIELDS = (
    "value_stream",
    "name",
    "mission",
    "topology",
    "formed_on",
    "capacity_fte",
    "loaded_cost_per_fte",
)


def _signals_requested(portfolio_id: int) -> None:
    """Ask for the portfolio's signals to be evaluated again after this write commits (coalesced:
    many writes, one evaluation). Imported here: leanpmo builds on teams, not the other way."""
    from leanpmo.services.signals import signals_request

    signals_request(portfolio_id=portfolio_id)


@transaction.atomic
def team_create(*, value_stream: ValueStream, name: str, **fields) -> ProductTeam:
    """Create a team in `value_stream`; raises ValidationError naming the field at fault."""
    team = ProductTeam(value_stream=value_stream, name=name, **fields)
    team.full_clean()
    team.save()
    _signals_requested(value_stream.portfolio_id)
    return team


@transaction.atomic
@transaction.atomic
def team_update(*, team: ProductTeam, **fields) -> ProductTeam:
    """Change the given fields (of TEAM_FIELDS). A team may move only within its portfolio; a
    move to another value stream requests a recompute of the team's items (its history now
    counts in the other value stream)."""
    unknown = set(fields) - set(TEAM_FIELDS)
    if unknown:
        raise TypeError(f"team_update got unexpected fields: {sorted(unknown)}")
    target = fields.get("value_stream")
    # read from the database: a bound form may already have changed `team.value_stream`
    home, stream_before = (
        ValueStream.objects.filter(teams=team).values_list("portfolio_id", "pk").get()
    )
    if target is not None and target.portfolio_id != home:
        raise ValidationError(
            {"value_stream": "A team can only move to a value stream of its own portfolio."}
        )
    for name, value in fields.items():
        setattr(team, name, value)
    team.full_clean()
    team.save(update_fields=[*fields])
    if target is not None and target.pk != stream_before:
        from valuestreams.recompute import recompute_request

        recompute_request(portfolio=target.portfolio, team_ids=[team.pk])
    _signals_requested(home)
    return team


# --- seats: people join, change allocation and leave (memberships keep their history) ----------


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
        return _validated(seat)


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
            return _validated(seat)
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
            return _validated(seat)
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
        _validated(seat)
        return _validated(successor)


def _validated(instance: Model) -> Model:
    instance.full_clean()
    instance.save()
    return instance


@transaction.atomic
def outcome_update_post(
    *,
    key_result: KeyResult,
    posted_by,
    posted_at: dt.datetime,
    value: Decimal,
    confidence: int,
    status: str,
    learned: str = "",
    blockers: str = "",
    corrects: OutcomeUpdate | None = None,
) -> OutcomeUpdate:
    """Append a check-in to an open key result; with `corrects`, it corrects that earlier update.

    Raises ValidationError naming the field: a closed key result, a correction of an update on
    another key result, or one that is already corrected, and every field rule of the model.
    """
    locked = KeyResult.objects.select_for_update().get(pk=key_result.pk)
    if locked.closed:
        raise ValidationError({"key_result": f"“{locked}” is closed; it takes no more check-ins."})
    if corrects is not None and OutcomeUpdate.objects.filter(corrects=corrects).exists():
        raise ValidationError({"corrects": "That update has already been corrected."})
    update = _validated(
        OutcomeUpdate(
            key_result=locked,
            posted_by=posted_by,
            posted_at=posted_at,
            value=value,
            confidence=confidence,
            status=status,
            learned=learned,
            blockers=blockers,
            corrects=corrects,
        )
    )
    _signals_requested(locked.objective.portfolio_id)
    return update


EXPERIMENT_FIELDS = (
    "hypothesis",
    "metric",
    "key_result",
    "started_on",
    "ended_on",
    "result",
    "learning",
)


@transaction.atomic
def experiment_create(*, team: ProductTeam, created_by, **fields) -> Experiment:
    """Record an experiment of `team` (fields of EXPERIMENT_FIELDS)."""
    unknown = set(fields) - set(EXPERIMENT_FIELDS)
    if unknown:
        raise TypeError(f"experiment_create got unexpected fields: {sorted(unknown)}")
    return _validated(Experiment(team=team, created_by=created_by, **fields))


@transaction.atomic
def experiment_update(*, experiment: Experiment, **fields) -> Experiment:
    """Change an experiment, typically to record its end, result and learning."""
    unknown = set(fields) - set(EXPERIMENT_FIELDS)
    if unknown:
        raise TypeError(f"experiment_update got unexpected fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(experiment, name, value)
    return _validated(experiment)


@transaction.atomic
def not_doing_record(
    *, team: ProductTeam, recorded_by, what: str, why: str, decided_on: dt.date
) -> NotDoingItem:
    """Add an item to the team's not-doing list."""
    return _validated(
        NotDoingItem(team=team, recorded_by=recorded_by, what=what, why=why, decided_on=decided_on)
    )


@transaction.atomic
def objective_create(
    *,
    portfolio: Portfolio,
    title: str,
    level: str,
    value_stream: ValueStream | None = None,
    team: ProductTeam | None = None,
    parent: Objective | None = None,
    strategic_theme=None,
    description: str = "",
) -> Objective:
    """Create an objective; a team objective takes its team's value stream."""
    if team is not None:
        value_stream = team.value_stream
    return _validated(
        Objective(
            portfolio=portfolio,
            title=title,
            level=level,
            value_stream=value_stream,
            team=team,
            parent=parent,
            strategic_theme=strategic_theme,
            description=description,
        )
    )


OBJECTIVE_FIELDS = (
    "portfolio",
    "level",
    "value_stream",
    "team",
    "parent",
    "strategic_theme",
    "title",
    "description",
)


@transaction.atomic
def objective_update(*, objective: Objective, **fields) -> Objective:
    """Change an objective (fields of OBJECTIVE_FIELDS); it stays in its portfolio."""
    unknown = set(fields) - set(OBJECTIVE_FIELDS)
    if unknown:
        raise TypeError(f"objective_update got unexpected fields: {sorted(unknown)}")
    home, level, value_stream_id = Objective.objects.values_list(
        "portfolio_id", "level", "value_stream_id"
    ).get(pk=objective.pk)
    if "portfolio" in fields and fields["portfolio"].pk != home:
        raise ValidationError({"portfolio": "An objective cannot move to another portfolio."})
    new_stream = fields["team"].value_stream_id if fields.get("team") else None
    new_stream = new_stream or (
        fields["value_stream"].pk if fields.get("value_stream") else value_stream_id
    )
    children = Objective.objects.filter(parent=objective).count()
    if children and (fields.get("level", level) != level or new_stream != value_stream_id):
        field_name = "level" if fields.get("level", level) != level else "value_stream"
        raise ValidationError(
            {
                field_name: f"{children} objective{'s' if children > 1 else ''} contribute to "
                "this one; link them elsewhere before changing its level or value stream."
            }
        )
    for name, value in fields.items():
        setattr(objective, name, value)
    if objective.team is not None:
        objective.value_stream = objective.team.value_stream
    return _validated(objective)


KEY_RESULT_FIELDS = (
    "metric",
    "unit",
    "baseline",
    "target",
    "direction",
    "cadence_days",
    "starts_on",
    "closed",
)


@transaction.atomic
def key_result_create(*, objective: Objective, **fields) -> KeyResult:
    """Add a key result to an objective (fields of KEY_RESULT_FIELDS)."""
    unknown = set(fields) - set(KEY_RESULT_FIELDS)
    if unknown:
        raise TypeError(f"key_result_create got unexpected fields: {sorted(unknown)}")
    key_result = _validated(KeyResult(objective=objective, **fields))
    _signals_requested(objective.portfolio_id)
    return key_result


@transaction.atomic
def key_result_update(*, key_result: KeyResult, **fields) -> KeyResult:
    """Change a key result's definition or close it (fields of KEY_RESULT_FIELDS).

    ``objective`` may be given (a client sends back what it read) but must be the key result's
    own: its check-ins belong to that objective's team, so a key result never moves (a
    ValidationError on ``objective`` otherwise).
    """
    unknown = set(fields) - {*KEY_RESULT_FIELDS, "objective"}
    if unknown:
        raise TypeError(f"key_result_update got unexpected fields: {sorted(unknown)}")
    objective = fields.pop("objective", None)
    if objective is not None and objective.pk != key_result.objective_id:
        raise ValidationError(
            {
                "objective": "A key result cannot move to another objective; close it and add "
                "a new one to the other objective."
            }
        )
    for name, value in fields.items():
        setattr(key_result, name, value)
    _validated(key_result)
    _signals_requested(key_result.objective.portfolio_id)
    return key_result


@transaction.atomic
def realisation_metric_create(
    *,
    value_stream: ValueStream,
    name: str,
    unit: str = "",
    description: str = "",
    higher_is_better: bool = True,
) -> RealisationMetric:
    """Add a realisation metric to a value stream."""
    return _validated(
        RealisationMetric(
            value_stream=value_stream,
            name=name,
            unit=unit,
            description=description,
            higher_is_better=higher_is_better,
        )
    )


@transaction.atomic
def realisation_point_record(
    *, metric: RealisationMetric, on: dt.date, value: Decimal
) -> RealisationPoint:
    """Record the metric's value on a date, replacing a value already recorded for that date."""
    point = RealisationPoint.objects.filter(metric=metric, on=on).first() or RealisationPoint(
        metric=metric, on=on
    )
    point.value = value
    return _validated(point)


@dataclass
class RealisationImport:
    """What a CSV import did (or, with errors, would have refused): counts and row errors."""

    created_metrics: int = 0
    recorded_points: int = 0
    errors: list[str] = field(default_factory=list)


REALISATION_CSV_COLUMNS = ("metric", "unit", "date", "value")


def realisation_import_csv(*, value_stream: ValueStream, text: str) -> RealisationImport:
    """Import points from CSV with the columns metric, unit, date (YYYY-MM-DD), value.

    All or nothing: any bad row and nothing is written; the errors name the row and the column.
    An unknown metric name creates the metric with the row's unit.
    """
    result = RealisationImport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in REALISATION_CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        result.errors.append(
            f"The CSV needs the columns {', '.join(REALISATION_CSV_COLUMNS)}; missing: {', '.join(missing)}."
        )
        return result
    parsed = []
    for number, row in enumerate(reader, start=2):
        name = (row["metric"] or "").strip()
        if not name:
            result.errors.append(f"Row {number}, metric: the name is empty.")
            continue
        try:
            on = dt.date.fromisoformat((row["date"] or "").strip())
        except ValueError:
            result.errors.append(
                f"Row {number}, date: “{row['date']}” is not a date like 2025-03-31."
            )
            continue
        if problem := date_range_problem(on):
            result.errors.append(f"Row {number}, date: {problem}")
            continue
        try:
            value = Decimal((row["value"] or "").strip())
            if not value.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            result.errors.append(f"Row {number}, value: “{row['value']}” is not a number.")
            continue
        parsed.append((name, (row["unit"] or "").strip(), on, value))
    if not parsed and not result.errors:
        result.errors.append("The CSV has no rows.")
    if result.errors:
        return result
    try:
        with transaction.atomic():
            metrics = {
                m.name: m for m in RealisationMetric.objects.filter(value_stream=value_stream)
            }
            for name, unit, on, value in parsed:
                if name not in metrics:
                    metrics[name] = realisation_metric_create(
                        value_stream=value_stream, name=name, unit=unit
                    )
                    result.created_metrics += 1
                realisation_point_record(metric=metrics[name], on=on, value=value)
                result.recorded_points += 1
    except ValidationError as exc:
        result.created_metrics = result.recorded_points = 0
        result.errors.extend(
            f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
        )
    return result


@transaction.atomic
def pulse_answer(
    *, pulse_round: PulseRound, respondent, scores: dict[int, int], on: dt.date
) -> None:
    """Store one person's answers to an open round; the answers keep no trace of who gave them.

    `scores` maps each question id of the round to 1–5. Raises ValidationError when the round is
    not open on `on`, the person already answered, or a question is missing or out of range.
    """
    if not pulse_round.opens_on <= on <= pulse_round.closes_on:
        raise ValidationError("This pulse round is not open.")
    questions = list(pulse_round.questions.all())
    errors = {
        f"question_{q.pk}": "Pick a score from 1 to 5."
        for q in questions
        if scores.get(q.pk) not in {1, 2, 3, 4, 5}
    }
    if errors:
        raise ValidationError(errors)
    response = PulseResponse(round=pulse_round, respondent=respondent)
    response.validate_constraints()
    response.save()
    PulseAnswer.objects.bulk_create(PulseAnswer(question=q, score=scores[q.pk]) for q in questions)


MAX_PULSE_QUESTIONS = 8


@transaction.atomic
def pulse_round_open(
    *, team: ProductTeam, opens_on: dt.date, closes_on: dt.date, questions: list[str]
) -> PulseRound:
    """Open a pulse round for `team` with its 1–5 questions, in the order given.

    Raises ValidationError naming the field: a round that closes before it opens or overlaps
    another round of the team (`closes_on` / `opens_on`), no question, more than
    MAX_PULSE_QUESTIONS, a question repeated or longer than 200 characters (`questions`).
    """
    texts = [text.strip() for text in questions if text.strip()]
    errors: dict[str, str] = {}
    if not texts:
        errors["questions"] = "Ask at least one question."
    elif len(texts) > MAX_PULSE_QUESTIONS:
        errors["questions"] = f"A pulse stays short: at most {MAX_PULSE_QUESTIONS} questions."
    elif len({text.casefold() for text in texts}) != len(texts):
        errors["questions"] = "A question is asked twice."
    elif any(len(text) > 200 for text in texts):
        errors["questions"] = "Keep each question under 200 characters."
    if closes_on < opens_on:
        errors["closes_on"] = "A round cannot close before it opens."
    else:
        overlapping = (
            PulseRound.objects.select_for_update()
            .filter(team=team, opens_on__lte=closes_on, closes_on__gte=opens_on)
            .first()
        )
        if overlapping is not None:
            errors["opens_on"] = (
                f"{team} already has a pulse round from {overlapping.opens_on:%d %b %Y} to "
                f"{overlapping.closes_on:%d %b %Y}; rounds of a team do not overlap."
            )
    if errors:
        raise ValidationError(errors)
    pulse_round = _validated(PulseRound(team=team, opens_on=opens_on, closes_on=closes_on))
    for position, text in enumerate(texts, start=1):
        _validated(PulseQuestion(round=pulse_round, position=position, text=text))
    return pulse_round


INTERACTION_FIELDS = ("mode", "blocking", "note", "since")


@transaction.atomic
def team_interaction_record(
    *, team: ProductTeam, depends_on: ProductTeam, **fields
) -> TeamInteraction:
    """Record that `team` depends on `depends_on` (fields of INTERACTION_FIELDS).

    Both teams must be of the same portfolio; a team cannot depend on itself and a pair is
    recorded once (ValidationError naming the field otherwise).
    """
    unknown = set(fields) - set(INTERACTION_FIELDS)
    if unknown:
        raise TypeError(f"team_interaction_record got unexpected fields: {sorted(unknown)}")
    portfolios = dict(
        ProductTeam.objects.filter(pk__in=[team.pk, depends_on.pk]).values_list(
            "pk", "value_stream__portfolio_id"
        )
    )
    if portfolios[team.pk] != portfolios[depends_on.pk]:
        raise ValidationError({"depends_on": "Pick a team of the same portfolio."})
    if TeamInteraction.objects.filter(team=team, depends_on=depends_on).exists():
        raise ValidationError(
            {"depends_on": f"{team} already has a dependency on {depends_on} recorded; edit it."}
        )
    interaction = _validated(TeamInteraction(team=team, depends_on=depends_on, **fields))
    _signals_requested(portfolios[team.pk])
    return interaction


@transaction.atomic
def team_interaction_update(*, interaction: TeamInteraction, **fields) -> TeamInteraction:
    """Change how two teams interact: mode, whether it blocks, what for, since when."""
    unknown = set(fields) - set(INTERACTION_FIELDS)
    if unknown:
        raise TypeError(f"team_interaction_update got unexpected fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(interaction, name, value)
    _validated(interaction)
    _signals_requested(interaction.team.value_stream.portfolio_id)
    return interaction
