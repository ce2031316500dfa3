"""Signals: evaluating a portfolio's detectors as of a time, requests for evaluations (coalesced,
swept when lost), acknowledgements and thresholds.

`signals_evaluate` is the core: it reads the detectors' inputs, runs them, and upserts the findings
in one transaction — a finding becomes (or updates) the signal of the same detector and objects, a
signal its detector no longer finds is resolved, a resolved one found again is opened again.
Running it twice as of the same time changes nothing. A detector that fails leaves its signals as
they are.

Writes that can raise or clear a signal call `signals_request` in their own transaction: it marks
the portfolio's evaluation as wanted and enqueues one only if none was pending, so fifty check-ins
make one evaluation.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from config.celery import enqueue_on_commit
from leanpmo.detectors.findings import Finding
from leanpmo.detectors.registry import DETECTORS, DetectorRun, run_detectors
from leanpmo.detectors.thresholds import THRESHOLD_NAMES
from leanpmo.models import (
    Signal,
    SignalAcknowledgement,
    SignalDailyCount,
    SignalEvaluation,
    SignalThresholds,
)
from leanpmo.selectors.signals import detector_inputs, local_today, portfolio_thresholds
from leanpmo.services.audit import actor
from portfolio.models import Portfolio

logger = logging.getLogger(__name__)

EVALUATE_TASK = "leanpmo.tasks.evaluate_signals"
REQUEST_LOST_AFTER = dt.timedelta(minutes=5)
RETRY_BUSY_AFTER_S = 10
MAX_ACKNOWLEDGE_DAYS = 366
_LOCK_NAMESPACE = 7_314_013  # pg advisory lock key space of signal evaluations (one per portfolio)
_SIGNAL_FIELDS = ("severity", "facts", "evidence", "value_stream_id", "team_id")


@dataclass
class EvaluationOutcome:
    """What one evaluation did: ids of the signals created, updated, resolved and reopened, the
    number left unchanged, and each detector's run."""

    as_of: dt.datetime
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    unchanged: int = 0
    runs: list[DetectorRun] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.resolved or self.reopened)


def _values(finding: Finding) -> dict[str, Any]:
    return {
        "severity": finding.severity,
        "facts": finding.facts,
        "evidence": [evidence.as_json() for evidence in finding.evidence],
        "value_stream_id": finding.value_stream_id,
        "team_id": finding.team_id,
    }


def _upsert(portfolio: Portfolio, runs: list[DetectorRun], as_of: dt.datetime) -> EvaluationOutcome:
    """Bring the stored signals in line with the findings (inside the caller's transaction)."""
    outcome = EvaluationOutcome(as_of=as_of, runs=runs)
    judged = {run.code for run in runs if run.result is not None}
    found: dict[tuple[str, str], Finding] = {}
    for run in runs:
        for finding in run.result.findings if run.result else []:
            found[finding.detector, finding.key] = finding
    stored = {
        (signal.detector, signal.key): signal
        for signal in Signal.objects.select_for_update().filter(portfolio=portfolio)
    }
    creates, updates = [], []
    for identity, finding in found.items():
        values = _values(finding)
        signal = stored.get(identity)
        if signal is None:
            creates.append(
                Signal(
                    portfolio=portfolio,
                    detector=finding.detector,
                    key=finding.key,
                    state=Signal.State.OPEN,
                    first_seen=as_of,
                    opened_at=as_of,
                    last_seen=as_of,
                    **values,
                )
            )
            continue
        changed = [name for name, value in values.items() if getattr(signal, name) != value]
        for name in changed:
            setattr(signal, name, values[name])
        if signal.state == Signal.State.RESOLVED:
            signal.state, signal.opened_at, signal.resolved_at = Signal.State.OPEN, as_of, None
            outcome.reopened.append(signal.pk)
        elif changed:
            outcome.updated.append(signal.pk)
        if changed or signal.last_seen != as_of or signal.pk in outcome.reopened:
            signal.last_seen = as_of
            updates.append(signal)
        else:
            outcome.unchanged += 1
    for identity, signal in stored.items():
        if identity in found or signal.detector not in judged:
            continue
        if signal.state == Signal.State.OPEN:
            signal.state, signal.resolved_at = Signal.State.RESOLVED, as_of
            outcome.resolved.append(signal.pk)
            updates.append(signal)
    Signal.objects.bulk_create(creates)
    outcome.created = [signal.pk for signal in creates]
    Signal.objects.bulk_update(
        updates,
        [*_SIGNAL_FIELDS, "state", "opened_at", "last_seen", "resolved_at"],
        batch_size=500,
    )
    return outcome


def _record(portfolio: Portfolio, outcome: EvaluationOutcome, *, evaluated_at: dt.datetime) -> None:
    """Store the evaluation's summary and today's open counts per detector (the inbox trend)."""
    summary = {}
    for run in outcome.runs:
        result = run.result
        summary[run.code] = {
            "findings": len(result.findings) if result else None,
            "checked": result.checked if result else None,
            "not_enough_data": (result.not_enough_data[:12] if result else []),
            "not_enough_count": len(result.not_enough_data) if result else 0,
            "error": run.error,
            "seconds": round(run.seconds, 4),
        }
    SignalEvaluation.objects.update_or_create(
        portfolio=portfolio,
        defaults={
            "evaluated_at": evaluated_at,
            "as_of": outcome.as_of,
            "duration_s": round(outcome.seconds, 3),
            "detectors": summary,
        },
    )
    counts = dict(
        Signal.objects.filter(portfolio=portfolio, state=Signal.State.OPEN)
        .values_list("detector")
        .annotate(n=Count("pk"))
    )
    day = local_today(portfolio, outcome.as_of)
    SignalDailyCount.objects.bulk_create(
        [
            SignalDailyCount(portfolio=portfolio, day=day, detector=info.code, open=counts.get(info.code, 0))
            for info in DETECTORS
        ],
        update_conflicts=True,
        unique_fields=["portfolio", "day", "detector"],
        update_fields=["open"],
    )  # fmt: skip


def signals_evaluate(*, portfolio: Portfolio, as_of: dt.datetime) -> EvaluationOutcome:
    """Run every detector on `portfolio` as of `as_of` and store what they found (see the module
    docstring). The reads run first; the writes in one transaction that holds the portfolio's
    evaluation lock, so two evaluations of one portfolio never interleave their writes."""
    started = time.perf_counter()
    thresholds = portfolio_thresholds(portfolio)
    inputs = detector_inputs(portfolio, as_of=as_of, thresholds=thresholds)
    runs = run_detectors(inputs, thresholds)
    for run in runs:
        if run.error:
            logger.error(
                "detector %s failed on portfolio %s: %s", run.code, portfolio.pk, run.error
            )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, portfolio.pk])
        outcome = _upsert(portfolio, runs, as_of)
        outcome.seconds = time.perf_counter() - started
        _record(portfolio, outcome, evaluated_at=timezone.now())
    return outcome


# --- requests -----------------------------------------------------------------------------------


def _enqueue(portfolio_id: int, countdown: float | None = None) -> None:
    enqueue_on_commit(EVALUATE_TASK, portfolio_id, countdown=countdown)


@transaction.atomic
def signals_request(*, portfolio_id: int, now: dt.datetime | None = None) -> bool:
    """Ask for an evaluation of the portfolio, in the caller's transaction. Enqueues one (after
    commit) only when none is pending; returns whether it did."""
    now = now or timezone.now()
    SignalEvaluation.objects.get_or_create(portfolio_id=portfolio_id)
    evaluation = SignalEvaluation.objects.select_for_update().get(portfolio_id=portfolio_id)
    pending = evaluation.requested_at is not None
    evaluation.request_seq += 1
    if not pending:
        evaluation.requested_at = evaluation.enqueued_at = now
    evaluation.save(update_fields=["request_seq", "requested_at", "enqueued_at"])
    if not pending:
        _enqueue(portfolio_id)
    return not pending


class _SessionLock:
    """A session-level advisory lock on the portfolio's evaluations, taken without waiting."""

    def __init__(self, portfolio_id: int) -> None:
        self.portfolio_id, self.held = portfolio_id, False

    def __enter__(self) -> _SessionLock:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, self.portfolio_id]
            )
            self.held = bool(cursor.fetchone()[0])
        return self

    def __exit__(self, *exc) -> None:
        if self.held:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, self.portfolio_id]
                )


def signals_evaluate_requested(
    *, portfolio_id: int, now: dt.datetime | None = None
) -> EvaluationOutcome | None:
    """What the Celery task runs: evaluate the portfolio as of now, then clear its request unless
    a newer one arrived meanwhile (then enqueue again). With another evaluation of the portfolio
    running, try again a little later. An unknown portfolio does nothing."""
    portfolio = Portfolio.objects.filter(pk=portfolio_id).first()
    if portfolio is None:
        return None
    with _SessionLock(portfolio_id) as lock:
        if not lock.held:
            _enqueue(portfolio_id, countdown=RETRY_BUSY_AFTER_S)
            return None
        evaluation, _ = SignalEvaluation.objects.get_or_create(portfolio=portfolio)
        claimed = evaluation.request_seq
        SignalEvaluation.objects.filter(pk=portfolio_id).update(
            started_at=timezone.now(), enqueued_at=timezone.now()
        )
        outcome = signals_evaluate(portfolio=portfolio, as_of=now or timezone.now())
        with transaction.atomic():
            evaluation = SignalEvaluation.objects.select_for_update().get(pk=portfolio_id)
            if evaluation.request_seq == claimed:
                evaluation.requested_at = None
            else:  # asked again while evaluating: once more, with what changed since
                evaluation.requested_at = evaluation.enqueued_at = timezone.now()
                _enqueue(portfolio_id)
            evaluation.save(update_fields=["requested_at", "enqueued_at"])
    return outcome


def signals_sweep(*, now: dt.datetime | None = None) -> list[int]:
    """Enqueue again the requested evaluations whose message was lost (enqueued longer than
    REQUEST_LOST_AFTER ago and still wanted). Returns their portfolio ids."""
    now = now or timezone.now()
    with transaction.atomic():
        lost = list(
            SignalEvaluation.objects.select_for_update(skip_locked=True)
            .filter(requested_at__isnull=False, enqueued_at__lt=now - REQUEST_LOST_AFTER)
            .values_list("pk", flat=True)
        )
        SignalEvaluation.objects.filter(pk__in=lost).update(enqueued_at=now)
        for portfolio_id in lost:
            _enqueue(portfolio_id)
    return lost


def signals_request_all(*, now: dt.datetime | None = None) -> list[int]:
    """Request an evaluation of every portfolio (the nightly beat entry); returns their ids."""
    ids = list(Portfolio.objects.order_by("pk").values_list("pk", flat=True))
    for portfolio_id in ids:
        signals_request(portfolio_id=portfolio_id, now=now)
    return ids


# --- acknowledgements and thresholds ------------------------------------------------------------


def acknowledgement_expiry(portfolio: Portfolio, until: dt.date) -> dt.datetime:
    """The end of `until` in the portfolio's time zone: an acknowledgement holds through that day."""
    zone = zoneinfo.ZoneInfo(portfolio.time_zone)
    return dt.datetime.combine(until + dt.timedelta(days=1), dt.time(0), tzinfo=zone)


@transaction.atomic
def signal_acknowledge(
    *, signal: Signal, user, reason: str, until: dt.date | None, now: dt.datetime
) -> SignalAcknowledgement:
    """Set an open signal aside through `until` (a day after today, at most a year ahead) for
    `reason`. Keyed on the detector and objects: it covers the signal until it expires or the
    signal's severity gets worse. Raises ValidationError naming the field; writes nothing then."""
    errors = {}
    today = local_today(signal.portfolio, now)
    if not (reason or "").strip():
        errors["reason"] = "Say why this can wait: an acknowledgement needs its reason."
    if until is None:
        errors["until"] = "Choose the day until which it can wait."
    elif until <= today:
        errors["until"] = "Choose a day after today."
    elif until > today + dt.timedelta(days=MAX_ACKNOWLEDGE_DAYS):
        errors["until"] = "An acknowledgement lasts at most a year; choose an earlier day."
    if signal.state != Signal.State.OPEN:
        errors["signal"] = "This signal is resolved: there is nothing to acknowledge."
    if errors:
        raise ValidationError(errors)
    assert until is not None
    with pghistory.context(**actor(user)):
        acknowledgement, _ = SignalAcknowledgement.objects.update_or_create(
            portfolio=signal.portfolio,
            detector=signal.detector,
            key=signal.key,
            defaults={
                "severity": signal.severity,
                "reason": reason.strip(),
                "expires_at": acknowledgement_expiry(signal.portfolio, until),
                "acknowledged_by": user if user is not None and user.is_authenticated else None,
                "acknowledged_at": now,
            },
        )
    return acknowledgement


@transaction.atomic
def signal_thresholds_save(*, portfolio: Portfolio, user, **values) -> SignalThresholds:
    """Change the portfolio's thresholds (creating its row with the defaults first) and request an
    evaluation with them. Raises ValidationError naming the field; writes nothing then."""
    unknown = set(values) - set(THRESHOLD_NAMES)
    if unknown:
        raise TypeError(f"signal_thresholds_save got unexpected fields: {sorted(unknown)}")
    stored = SignalThresholds.objects.select_for_update().filter(portfolio=portfolio).first()
    thresholds = stored or SignalThresholds(portfolio=portfolio)
    for name, value in values.items():
        setattr(thresholds, name, value)
    thresholds.updated_by = user if user is not None and user.is_authenticated else None
    thresholds.full_clean(exclude=["portfolio", "updated_by"])
    with pghistory.context(**actor(user)):
        thresholds.save()
    signals_request(portfolio_id=portfolio.pk)
    return thresholds
