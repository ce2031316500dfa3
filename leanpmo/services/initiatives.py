"""Initiatives: create and change them (WSJF inputs included), move them on the portfolio kanban
under the strategic WIP cap, and ask an executive for an exception to the cap.

Every move appends an InitiativeTransition; starting (→ implementing) and stopping also record a
funding decision with its evidence frozen. Moves into implementing lock the portfolio's row first
(SELECT … FOR NO KEY UPDATE), so two moves racing for the last free slot run one after the other and
the second sees the first. Services validate first and change nothing when they refuse
(ValidationError naming the field, or CapRefused naming the guardrail).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction

from leanpmo.metrics import initiatives as metrics
from leanpmo.models import (
    DecisionKind,
    ExceptionApproval,
    FundingDecision,
    Guardrail,
    Initiative,
    InitiativeState,
    InitiativeTransition,
    StrategicTheme,
    WorkShape,
)
from leanpmo.selectors.funding import current_period
from leanpmo.selectors.initiatives import pending_exception, strategic_cap, strategic_in_progress
from leanpmo.services.audit import actor
from leanpmo.services.decisions import DecisionInput, decision_record
from leanpmo.services.signals import signals_request
from portfolio.models import Portfolio
from teams.models import KeyResult, ProductTeam
from valuestreams.models import ValueStream

SCALAR_FIELDS = (
    "title",
    "description",
    "owner",
    "hypothesis_belief",
    "hypothesis_outcome",
    "hypothesis_measure",
    "mvp",
    "in_scope",
    "out_of_scope",
    "cost_estimate",
    "sponsors",
    "alternatives",
    "funding_mode",
    "end_date",
    "scope_budget",
    "user_business_value",
    "time_criticality",
    "risk_reduction",
    "job_size",
)
LINK_FIELDS = ("themes", "value_streams", "teams", "leading_indicators")
CREATION_REASON = "Added to the funnel."


class CapRefused(Exception):
    """A move into implementing would put more strategic initiatives in progress than the
    portfolio's guardrail allows. `guardrail` names the rule, `in_progress` the initiatives that
    hold the slots."""

    def __init__(
        self, *, initiative: Initiative, guardrail: Guardrail, in_progress: list[Initiative]
    ):
        self.initiative, self.guardrail, self.in_progress = initiative, guardrail, in_progress
        names = ", ".join(item.title for item in in_progress)
        count = len(in_progress)
        super().__init__(
            f"Refused by the guardrail “{guardrail.describe()}”: {count} strategic "
            f"initiative{'s are' if count != 1 else ' is'} already in progress ({names}). "
            "Finish or stop one first, or ask an executive to approve an exception."
        )


def _link_errors(portfolio: Portfolio, links: dict[str, list]) -> dict[str, str]:
    """Every linked object must belong to the initiative's portfolio."""
    owners = {
        "themes": lambda item: item.portfolio_id,
        "value_streams": lambda item: item.portfolio_id,
        "teams": lambda item: item.value_stream.portfolio_id,
        "leading_indicators": lambda item: item.objective.portfolio_id,
    }
    nouns = {
        "themes": "strategic theme",
        "value_streams": "value stream",
        "teams": "team",
        "leading_indicators": "key result",
    }
    errors = {}
    for name, items in links.items():
        foreign = [item for item in items if owners[name](item) != portfolio.pk]
        if foreign:
            errors[name] = (
                f"{nouns[name].capitalize()} {foreign[0].pk} is not a {nouns[name]} of {portfolio}."
            )
    return errors


def _owner_error(portfolio: Portfolio, owner) -> str | None:
    if owner is None or Portfolio.objects.visible_to(owner).filter(pk=portfolio.pk).exists():
        return None
    return f"The owner needs a role or a seat in a team of {portfolio}."


def _check_and_save(
    initiative: Initiative,
    *,
    links: dict[str, list],
    declared_shape: str,
    user,
    was_strategic_in_progress: bool,
) -> Initiative:
    """Validate the initiative with its new links (field-named errors), then write both."""
    errors: dict[str, Any] = {}
    try:
        initiative.full_clean()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    errors.update(_link_errors(initiative.portfolio, links))
    owner_problem = _owner_error(initiative.portfolio, initiative.owner)
    if owner_problem:
        errors["owner"] = owner_problem
    teams = links.get("teams")
    if teams is None and initiative.pk:
        teams = list(initiative.teams.select_related("value_stream"))
    teams = teams or []
    if declared_shape:
        if declared_shape not in WorkShape.values:
            errors["work_shape"] = "Choose team mission, product group or strategic initiative."
        else:
            problem = metrics.shape_contradiction(
                declared_shape, [(team.name, team.value_stream.name) for team in teams]
            )
            if problem:
                errors["work_shape"] = problem
    in_progress = initiative.state == InitiativeState.IMPLEMENTING
    if in_progress and "teams" in links and not teams:
        errors["teams"] = "An initiative in progress keeps at least one team: stop it instead."
    if errors:
        raise ValidationError(errors)
    shape = metrics.work_shape(team.value_stream_id for team in teams)
    if in_progress and shape == metrics.STRATEGIC and not was_strategic_in_progress:
        # relinking teams would make it strategic while it runs: the cap applies as to a start
        _lock_portfolio(initiative.portfolio_id)
        refusal = _cap_refusal(initiative, shape=shape)
        if refusal is not None:
            raise refusal
    with pghistory.context(**actor(user)):
        initiative.save()
        for name, items in links.items():
            getattr(initiative, name).set(items)
        if teams and ("teams" in links or "value_streams" in links):
            # a team's value stream is always among the initiative's value streams
            initiative.value_streams.add(*{team.value_stream for team in teams})
    signals_request(portfolio_id=initiative.portfolio_id)  # shapes and funding feed detectors 5, 8
    return initiative


@transaction.atomic
def initiative_create(
    *,
    portfolio: Portfolio,
    user,
    now: dt.datetime,
    title: str,
    declared_shape: str = "",
    themes: Iterable[StrategicTheme] = (),
    value_streams: Iterable[ValueStream] = (),
    teams: Iterable[ProductTeam] = (),
    leading_indicators: Iterable[KeyResult] = (),
    **fields: Any,
) -> Initiative:
    """Add an initiative to the portfolio's funnel (its first transition says so).

    `fields` are the scalar fields (SCALAR_FIELDS); `declared_shape`, when given, must agree with
    the linked teams. Raises ValidationError naming the field.
    """
    unknown = set(fields) - set(SCALAR_FIELDS)
    if unknown:
        raise TypeError(f"initiative_create got unexpected fields: {sorted(unknown)}")
    initiative = Initiative(
        portfolio=portfolio,
        title=title,
        state=InitiativeState.FUNNEL,
        state_changed_at=now,
        created_at=now,
        created_by=user if user is not None and user.is_authenticated else None,
        **fields,
    )
    links = {
        "themes": list(themes),
        "value_streams": list(value_streams),
        "teams": list(teams),
        "leading_indicators": list(leading_indicators),
    }
    _check_and_save(
        initiative,
        links=links,
        declared_shape=declared_shape,
        user=user,
        was_strategic_in_progress=False,
    )
    InitiativeTransition.objects.create(
        initiative=initiative,
        from_state="",
        to_state=InitiativeState.FUNNEL,
        reason=CREATION_REASON,
        moved_by=user,
        moved_at=now,
    )
    return initiative


@transaction.atomic
def initiative_update(
    *, initiative: Initiative, user, declared_shape: str = "", **changes: Any
) -> Initiative:
    """Change an initiative's fields and links (only those given); WSJF inputs included.

    The state changes only by moves. Relinking teams so that an initiative in progress becomes
    strategic is held to the WIP cap like a start (CapRefused). Raises ValidationError naming the
    field; on any refusal nothing is written.
    """
    unknown = set(changes) - set(SCALAR_FIELDS) - set(LINK_FIELDS)
    if unknown:
        raise TypeError(f"initiative_update got unexpected fields: {sorted(unknown)}")
    locked = (
        Initiative.objects.select_for_update(of=("self",))
        .select_related("portfolio")
        .get(pk=initiative.pk)
    )
    was = locked.state == InitiativeState.IMPLEMENTING and locked.work_shape == metrics.STRATEGIC
    for name in SCALAR_FIELDS:
        if name in changes:
            setattr(locked, name, changes[name])
    links = {name: list(changes[name]) for name in LINK_FIELDS if name in changes}
    return _check_and_save(
        locked,
        links=links,
        declared_shape=declared_shape,
        user=user,
        was_strategic_in_progress=was,
    )


def _lock_portfolio(portfolio_id: int) -> None:
    """Serialise everything that can take a strategic slot in this portfolio until commit.

    FOR NO KEY UPDATE: other transactions may still insert rows that reference the portfolio.
    """
    Portfolio.objects.select_for_update(no_key=True).filter(pk=portfolio_id).values_list("pk").get()


def _cap_refusal(initiative: Initiative, *, shape: str | None) -> CapRefused | None:
    """CapRefused if starting `initiative` (of `shape`) would exceed the strategic WIP cap."""
    if shape != metrics.STRATEGIC:
        return None
    guardrail = strategic_cap(initiative.portfolio)
    if guardrail is None or guardrail.max_count is None:
        return None
    running = [
        item for item in strategic_in_progress(initiative.portfolio) if item.pk != initiative.pk
    ]
    if len(running) + 1 <= guardrail.max_count:
        return None
    return CapRefused(initiative=initiative, guardrail=guardrail, in_progress=running)


def _local_day(portfolio: Portfolio, now: dt.datetime) -> dt.date:
    return now.astimezone(zoneinfo.ZoneInfo(portfolio.time_zone)).date()


def _record_decision(
    initiative: Initiative,
    *,
    kind: str,
    rationale: str,
    expected_outcome: str,
    amount_before: Decimal,
    amount_after: Decimal,
    user,
    now: dt.datetime,
    review_due_on: dt.date | None,
    proposal: dict | None = None,
) -> FundingDecision:
    period = current_period(initiative.portfolio, today=_local_day(initiative.portfolio, now))
    if period is None:
        raise ValidationError(
            {
                "to_state": "Starting and stopping a bet are funding decisions of a period: "
                "add a funding period to the portfolio first."
            }
        )
    indicators = "; ".join(kr.metric for kr in initiative.leading_indicators.all())
    measured = initiative.hypothesis_measure.strip()
    return decision_record(
        period=period,
        initiative=initiative,
        decision=DecisionInput(
            kind=kind,
            rationale=rationale,
            expected_outcome=expected_outcome,
            leading_indicators="; ".join(part for part in (measured, indicators) if part),
            review_due_on=review_due_on,
        ),
        amount_before=amount_before,
        amount_after=amount_after,
        user=user,
        now=now,
        proposal=proposal,
    )


def _expected_outcome(initiative: Initiative, given: str) -> str:
    if given.strip():
        return given.strip()
    result = initiative.hypothesis_outcome.strip()
    if not result:
        return ""
    measured = initiative.hypothesis_measure.strip()
    return f"Will result in {result}" + (f", measured by {measured}." if measured else ".")


def _move_errors(initiative: Initiative, to_state: str, reason: str) -> dict[str, str]:
    errors = {}
    problem = metrics.move_error(initiative.state, to_state)
    if problem:
        errors["to_state"] = problem
    if not reason.strip():
        errors["reason"] = (
            "A stop needs its learning: say what you learned and why you stop."
            if to_state == InitiativeState.STOPPED
            else "Say why: every move carries its reason."
        )
    if (
        to_state == InitiativeState.IMPLEMENTING
        and "to_state" not in errors
        and not initiative.teams.exists()
    ):
        errors["to_state"] = "Link the teams who will do the work before starting it."
    return errors


def _approved_exception_error(initiative: Initiative, exception: FundingDecision) -> str | None:
    if exception.initiative_id != initiative.pk or exception.kind != DecisionKind.EXCEPTION:
        return "This is not an exception decision about this initiative."
    if not ExceptionApproval.objects.filter(decision=exception, approved=True).exists():
        return "The exception has not been approved by an executive."
    if InitiativeTransition.objects.filter(decision=exception).exists():
        return "This exception was already used for a move."
    return None


@transaction.atomic
def initiative_move(
    *,
    initiative: Initiative,
    to_state: str,
    reason: str,
    user,
    now: dt.datetime,
    expected_outcome: str = "",
    review_due_on: dt.date | None = None,
    exception: FundingDecision | None = None,
) -> InitiativeTransition:
    """Move an initiative on the kanban, appending its transition.

    - every move needs a reason, and must be allowed from the current state
      (metrics.initiatives.ALLOWED_MOVES);
    - into implementing: the initiative needs teams and an expected outcome (given, or its
      hypothesis' "will result in"); a strategic initiative must fit under the active "max
      strategic initiatives in progress" guardrail, else CapRefused — unless `exception` is an
      executive-approved, unused exception decision about it. A start decision is recorded (or the
      exception is linked);
    - into stopped: the reason is the learning; a stop decision is recorded.
    Raises ValidationError (field-named) or CapRefused; on either nothing is written.
    """
    if to_state == InitiativeState.IMPLEMENTING:
        _lock_portfolio(initiative.portfolio_id)
    locked = (
        Initiative.objects.select_for_update(of=("self",))
        .select_related("portfolio")
        .get(pk=initiative.pk)
    )
    errors = _move_errors(locked, to_state, reason)
    if now < locked.state_changed_at:
        errors.setdefault(
            "to_state",
            "A move cannot come before the initiative's last one "
            f"({locked.state_changed_at:%Y-%m-%d %H:%M}).",
        )
    outcome = _expected_outcome(locked, expected_outcome)
    if to_state == InitiativeState.IMPLEMENTING and not outcome and exception is None:
        errors["expected_outcome"] = (
            "Say what the bet should achieve before starting it: fill in the hypothesis "
            "(will result in …) or give the expected outcome."
        )
    if exception is not None and "to_state" not in errors:
        problem = _approved_exception_error(locked, exception)
        if problem:
            errors["to_state"] = problem
    if errors:
        raise ValidationError(errors)
    decision = exception
    if to_state == InitiativeState.IMPLEMENTING and exception is None:
        refusal = _cap_refusal(locked, shape=locked.work_shape)
        if refusal is not None:
            raise refusal
        decision = _record_decision(
            locked, kind=DecisionKind.START, rationale=reason.strip(), expected_outcome=outcome,
            amount_before=Decimal(0), amount_after=locked.money, user=user, now=now,
            review_due_on=review_due_on,
        )  # fmt: skip
    elif to_state == InitiativeState.STOPPED:
        was_running = locked.state == InitiativeState.IMPLEMENTING
        decision = _record_decision(
            locked, kind=DecisionKind.STOP, rationale=reason.strip(),
            expected_outcome="The teams' capacity goes back to their missions and what we "
            f"learned is kept: {reason.strip()}",
            amount_before=locked.money if was_running else Decimal(0), amount_after=Decimal(0),
            user=user, now=now, review_due_on=review_due_on,
        )  # fmt: skip
    transition = InitiativeTransition.objects.create(
        initiative=locked,
        from_state=locked.state,
        to_state=to_state,
        reason=reason.strip(),
        moved_by=user,
        moved_at=now,
        decision=decision,
    )
    locked.state, locked.state_changed_at = to_state, now
    with pghistory.context(**actor(user)):
        locked.save(update_fields=["state", "state_changed_at"])
    initiative.state, initiative.state_changed_at = to_state, now
    signals_request(portfolio_id=locked.portfolio_id)  # the pyramid moved
    return transition


@transaction.atomic
def initiative_exception_request(
    *,
    initiative: Initiative,
    reason: str,
    user,
    now: dt.datetime,
    expected_outcome: str = "",
    review_due_on: dt.date | None = None,
) -> FundingDecision:
    """Ask an executive to let a strategic initiative start above the WIP cap.

    Records an exception decision whose proposal is the move; an executive's approval
    (exception_decide) then makes the move, linked to the decision. Refused (ValidationError) when
    the move is not refused by the cap, when one is already waiting, or the move itself is invalid.
    """
    _lock_portfolio(initiative.portfolio_id)
    locked = (
        Initiative.objects.select_for_update(of=("self",))
        .select_related("portfolio")
        .get(pk=initiative.pk)
    )
    errors = _move_errors(locked, InitiativeState.IMPLEMENTING, reason)
    outcome = _expected_outcome(locked, expected_outcome)
    if not outcome:
        errors["expected_outcome"] = "Say what the bet should achieve: an exception is reviewed."
    if errors:
        raise ValidationError(errors)
    refusal = _cap_refusal(locked, shape=locked.work_shape)
    if refusal is None:
        raise ValidationError(
            {"to_state": "No exception is needed: this start fits under the cap. Move it."}
        )
    if pending_exception(locked) is not None:
        raise ValidationError(
            {"to_state": "An exception for this initiative already waits for an executive."}
        )
    return _record_decision(
        locked,
        kind=DecisionKind.EXCEPTION,
        rationale=f"{reason.strip()}\n\nAbove the cap: {refusal}",
        expected_outcome=outcome,
        amount_before=Decimal(0),
        amount_after=locked.money,
        user=user,
        now=now,
        review_due_on=review_due_on,
        proposal={
            "move": InitiativeState.IMPLEMENTING.value,
            "from": locked.state,
            "reason": reason.strip(),
            "guardrail": refusal.guardrail.describe(),
            "in_progress": [item.title for item in refusal.in_progress],
        },
    )


def initiative_exception_apply(
    *, decision: FundingDecision, user, now: dt.datetime
) -> InitiativeTransition:
    """Make the move an approved exception decision asked for (called by exception_decide)."""
    proposal = decision.proposal
    return initiative_move(
        initiative=decision.initiative,
        to_state=proposal.get("move", InitiativeState.IMPLEMENTING),
        reason=proposal.get("reason") or "Exception approved.",
        user=user,
        now=now,
        exception=decision,
    )
