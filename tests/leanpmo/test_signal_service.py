"""Evaluating signals in the database: the detectors on real rows, idempotent upserts, resolving and
reopening, acknowledgements and their expiry, thresholds, coalesced requests and their sweep."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from leanpmo.detectors import findings, registry, thresholds
from leanpmo.models import (
    DecisionReview,
    ExceptionApproval,
    Guardrail,
    Signal,
    SignalAcknowledgement,
    SignalDailyCount,
    SignalEvaluation,
    SignalThresholds,
)
from leanpmo.selectors.signals import detector_inputs, signal_list
from leanpmo.services.decisions import DecisionInput, decision_record, review_record
from leanpmo.services.signals import (
    signal_acknowledge,
    signal_thresholds_save,
    signals_evaluate,
    signals_evaluate_requested,
    signals_request,
    signals_sweep,
)
from leanpmo.services.structure import guardrail_save
from teams.models import TeamInteraction
from tests.factories import ProductTeamFactory
from tests.leanpmo.signal_support import (
    AS_OF,
    DAY,
    check_in,
    metric_run,
    stale_key_result,
    weekly_rows,
)
from tests.leanpmo.support import funding_for, make_budget, make_period
from tests.teams.factories import KeyResultFactory

pytestmark = pytest.mark.django_db


def evaluate(org, as_of=AS_OF):
    return signals_evaluate(portfolio=org.portfolio, as_of=as_of)


def open_signals(org, detector=None):
    signals = Signal.objects.filter(portfolio=org.portfolio, state="open")
    return signals.filter(detector=detector) if detector else signals


# --- upsert: idempotent, resolve, reopen --------------------------------------------------------


def test_a_stale_key_result_raises_one_signal_and_running_again_changes_nothing(org):
    stale_key_result(org, days=40)
    first = evaluate(org)
    signal = open_signals(org, "stale_outcomes").get()
    assert signal.key == f"team:{org.team.pk}"
    assert (signal.team, signal.value_stream) == (org.team, org.value_stream)
    assert signal.first_seen == signal.last_seen == signal.opened_at == AS_OF
    assert first.created == [signal.pk]
    stored = list(Signal.objects.values())
    again = evaluate(org)
    assert not again.changed
    assert list(Signal.objects.values()) == stored


def test_a_later_evaluation_keeps_the_signal_and_moves_last_seen(org):
    stale_key_result(org, days=40)
    evaluate(org)
    later = AS_OF + dt.timedelta(days=1)
    outcome = evaluate(org, later)
    signal = open_signals(org, "stale_outcomes").get()
    assert (signal.first_seen, signal.last_seen) == (AS_OF, later)
    assert outcome.created == []
    assert signal.facts["oldest_days"] == 41  # its numbers follow the data
    assert outcome.updated == [signal.pk]


def test_the_missing_check_in_resolves_the_signal_by_itself_and_staleness_reopens_it(org):
    kr = stale_key_result(org, days=40)
    evaluate(org)
    signal = open_signals(org, "stale_outcomes").get()
    check_in(org, kr, at=AS_OF + dt.timedelta(hours=2))
    resolved_at = AS_OF + dt.timedelta(hours=3)
    outcome = evaluate(org, resolved_at)
    signal.refresh_from_db()
    assert outcome.resolved == [signal.pk]
    assert (signal.state, signal.resolved_at) == ("resolved", resolved_at)
    reopened_at = AS_OF + dt.timedelta(days=40)
    outcome = evaluate(org, reopened_at)
    signal.refresh_from_db()
    assert outcome.reopened == [signal.pk]
    assert Signal.objects.filter(detector="stale_outcomes").count() == 1  # the same row
    assert (signal.state, signal.resolved_at, signal.opened_at) == ("open", None, reopened_at)
    assert signal.first_seen == AS_OF


def test_a_failing_detector_neither_raises_nor_resolves_its_signals(org, monkeypatch):
    stale_key_result(org, days=40)
    evaluate(org)

    def broken(inputs, thresholds):
        raise RuntimeError("bad data")

    infos = tuple(
        registry.DetectorInfo(i.code, i.label, i.number, broken) if i.code == "stale_outcomes" else i
        for i in registry.DETECTORS
    )  # fmt: skip
    monkeypatch.setattr(registry, "DETECTORS", infos)
    outcome = evaluate(org, AS_OF + dt.timedelta(days=1))
    assert open_signals(org, "stale_outcomes").count() == 1
    assert outcome.resolved == []
    summary = SignalEvaluation.objects.get(portfolio=org.portfolio).detectors
    assert summary["stale_outcomes"]["error"] == "RuntimeError: bad data"


def test_each_evaluation_records_its_detectors_and_the_day_s_open_counts(org):
    stale_key_result(org, days=40)
    evaluate(org)
    evaluation = SignalEvaluation.objects.get(portfolio=org.portfolio)
    assert evaluation.as_of == AS_OF
    assert set(evaluation.detectors) == {info.code for info in registry.DETECTORS}
    assert evaluation.detectors["stale_outcomes"]["findings"] == 1
    assert evaluation.detectors["flow_deviation"]["not_enough_data"] == [
        "No weekly flow metrics yet"
    ]
    counts = dict(SignalDailyCount.objects.values_list("detector", "open"))
    assert counts["stale_outcomes"] == 1
    assert counts["flow_deviation"] == 0


# --- the detectors on real rows -----------------------------------------------------------------


def test_decisions_without_evidence_and_overdue_reviews_come_and_go_with_their_reviews(org):
    period = make_period(org, name="2026 Q1", starts=dt.date(2026, 1, 1), ends=dt.date(2026, 3, 31))
    make_budget(period, org.value_stream)
    decision = decision_record(
        period=period,
        value_stream=org.value_stream,
        decision=DecisionInput(
            kind="increase",
            rationale="More capacity.",
            expected_outcome="Faster payments.",
            review_due_on=dt.date(2026, 2, 10),
        ),
        amount_before=Decimal(1),
        amount_after=Decimal(2),
        user=org.users["pmo"],
        now=AS_OF - dt.timedelta(days=60),
    )
    evaluate(org)
    assert open_signals(org, "decision_without_evidence").get().key == f"decision:{decision.pk}"
    overdue = open_signals(org, "review_overdue").get()
    assert overdue.facts["overdue_days"] == 20
    review_record(decision=decision, outcome="held", notes="", user=org.users["pmo"], now=AS_OF)
    evaluate(org, AS_OF + dt.timedelta(hours=1))
    assert not open_signals(org, "review_overdue").exists()
    assert DecisionReview.objects.count() == 1


def test_a_guardrail_breach_signals_until_an_exception_is_approved(org):
    funding = funding_for(org, approved=True)
    guardrail_save(
        portfolio=org.portfolio,
        user=org.users["pmo"],
        guardrail=Guardrail.objects.get(portfolio=org.portfolio, kind="min_allocation"),
        min_percent=Decimal(20),
    )
    in_period = dt.datetime(2026, 5, 4, 9, tzinfo=dt.UTC)
    evaluate(org, in_period)
    breach = open_signals(org, "guardrail_breach").get()
    assert breach.value_stream == org.value_stream
    assert "15 % for Debt — below the minimum of 20 %" in breach.explanation(show_money=False)
    exception = decision_record(
        period=funding.period,
        value_stream=org.value_stream,
        decision=DecisionInput(kind="exception", rationale="Deadline.", expected_outcome="Live."),
        amount_before=Decimal(1),
        amount_after=Decimal(1),
        user=org.users["pmo"],
        now=in_period,
    )
    ExceptionApproval.objects.create(
        decision=exception, approved=True, decided_by=org.users["executive"], decided_at=in_period
    )
    evaluate(org, in_period + dt.timedelta(hours=1))
    assert not open_signals(org, "guardrail_breach").exists()


def test_fixed_scope_money_young_teams_output_only_and_hotspots_from_the_database(org):
    funding = funding_for(org, approved=True)
    funding.budget.__class__.objects.filter(pk=funding.budget.pk).update(
        fixed_scope_amount=Decimal("300000")
    )
    KeyResultFactory(objective__team=org.team, starts_on=dt.date(2026, 5, 1))
    young = ProductTeamFactory(
        value_stream=org.value_stream, name="Card Wallet", formed_on=dt.date(2026, 4, 1)
    )
    for team in (org.team, young, ProductTeamFactory(value_stream=org.value_stream)):
        TeamInteraction.objects.create(team=team, depends_on=org.other_team, mode="x_as_a_service")
    weekly_rows(org.portfolio, "team", org.other_team.pk, weeks=12, velocity=4)
    in_period = dt.datetime(2026, 5, 4, 9, tzinfo=dt.UTC)
    evaluate(org, in_period)
    economics = open_signals(org, "project_economics").get()
    assert economics.facts["share"] == 30.0
    assert economics.severity == findings.HIGH  # at least 25 %
    assert open_signals(org, "unstable_team").get().team == young
    assert open_signals(org, "output_only_team").get().team == org.other_team
    assert open_signals(org, "dependency_hotspot").get().key == (
        f"team:{org.other_team.pk}|cause:dependents"
    )


def test_flow_deviation_money_flow_and_untrusted_data_read_the_stored_metrics(org):
    funding_for(org, approved=True)
    in_period = dt.datetime(2026, 3, 2, 7, tzinfo=dt.UTC)
    # the funded period must contain the as-of: move it
    from leanpmo.models import FundingPeriod

    FundingPeriod.objects.filter(portfolio=org.portfolio).update(
        starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 3, 31)
    )
    p85 = [10 * DAY, 11 * DAY, 9 * DAY] * 4 + [10 * DAY, 30 * DAY]
    weekly_rows(
        org.portfolio,
        "value_stream",
        org.value_stream.pk,
        weeks=14,
        velocity=6,
        flow_time_p85_s=p85,
    )
    for item_type, velocity in (("Feature", 9), ("Defect", 1), ("Risk", 1), ("Debt", 0)):
        weekly_rows(org.portfolio, "value_stream", org.value_stream.pk, weeks=13, item_type=item_type, velocity=velocity)  # fmt: skip
    metric_run(
        org.portfolio, as_of=in_period - dt.timedelta(days=6), items=300, truncated_histories=3
    )
    evaluate(org, in_period)
    deviation = open_signals(org, "flow_deviation").get()
    assert deviation.key == f"value_stream:{org.value_stream.pk}|measure:flow_time_p85_s"
    assert deviation.explanation(show_money=False).startswith(
        "Flow time p85 of Payments was 30 days in the week of 23 Feb 2026, above its control band"
    )
    money_flow = open_signals(org, "money_flow_disagree").get()
    assert money_flow.facts["item_type"] == "Feature"  # 82 % done against 60 % targeted
    member = money_flow.explanation(show_money=False)
    executive = money_flow.explanation(show_money=True)
    assert "€" not in member
    assert "(€600,000 of its €1,000,000 budget)" in executive
    untrusted = open_signals(org, "untrusted_data").get()
    assert untrusted.facts["cause"] == "stale_metrics"


def test_the_inputs_take_a_fixed_number_of_queries_however_big_the_portfolio(
    org, django_assert_max_num_queries
):
    funding_for(org, approved=True)
    stale_key_result(org)

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            detector_inputs(org.portfolio, as_of=AS_OF, thresholds=thresholds.DEFAULTS)
        return len(captured)

    small = count()
    for number in range(6):
        team = ProductTeamFactory(value_stream=org.value_stream)
        stale_key_result(org, team=team)
        weekly_rows(org.portfolio, "team", team.pk, weeks=4, velocity=number)
    assert count() == small


# --- acknowledgements ---------------------------------------------------------------------------


def test_an_acknowledged_signal_leaves_the_inbox_and_is_back_when_the_expiry_passes(org):
    stale_key_result(org, days=40)
    with time_machine.travel(AS_OF, tick=False):
        evaluate(org, timezone.now())
        signal = open_signals(org, "stale_outcomes").get()
        until = dt.date(2026, 3, 16)  # two weeks
        signal_acknowledge(
            signal=signal, user=org.users["pmo"], reason="Team is on a planned break.",
            until=until, now=timezone.now(),
        )  # fmt: skip
        now = timezone.now()
        assert not signal_list(org.portfolio, now=now).in_state("open", now).exists()
        acknowledged = signal_list(org.portfolio, now=now).in_state("acknowledged", now).get()
        assert acknowledged.acknowledged_reason == "Team is on a planned break."
    with time_machine.travel(AS_OF + dt.timedelta(weeks=3), tick=False):
        evaluate(org, timezone.now())
        now = timezone.now()
        assert signal_list(org.portfolio, now=now).in_state("open", now).get() == signal


def test_an_acknowledgement_holds_through_its_last_day_in_the_portfolio_time_zone(org):
    stale_key_result(org, days=40)
    evaluate(org)
    signal = open_signals(org, "stale_outcomes").get()
    ack = signal_acknowledge(
        signal=signal, user=org.users["pmo"], reason="Known.", until=dt.date(2026, 3, 9), now=AS_OF
    )
    assert ack.expires_at == dt.datetime(2026, 3, 9, 23, 0, tzinfo=dt.UTC)  # midnight in Zurich


def test_a_worse_severity_brings_an_acknowledged_signal_back(org):
    kr = stale_key_result(org, days=40)
    KeyResultFactory(objective__team=org.team, starts_on=AS_OF.date())  # fresh: not stale
    evaluate(org)
    signal = open_signals(org, "stale_outcomes").get()
    assert signal.severity == findings.HIGH  # 1 of 2 = 50 %
    signal_thresholds_save(portfolio=org.portfolio, user=org.users["pmo"], stale_share_high=80)
    evaluate(org, AS_OF + dt.timedelta(hours=1))
    signal.refresh_from_db()
    assert signal.severity == findings.MEDIUM
    signal_acknowledge(signal=signal, user=org.users["pmo"], reason="Known.", until=dt.date(2026, 4, 1), now=AS_OF)  # fmt: skip
    now = AS_OF + dt.timedelta(hours=2)
    assert not signal_list(org.portfolio, now=now).in_state("open", now).exists()
    signal_thresholds_save(portfolio=org.portfolio, user=org.users["pmo"], stale_share_high=50)
    evaluate(org, now)
    assert signal_list(org.portfolio, now=now).in_state("open", now).get().pk == signal.pk
    assert kr.pk in signal.facts["key_results"]


@pytest.mark.parametrize(
    ("reason", "until", "field"),
    [
        ("", dt.date(2026, 3, 10), "reason"),
        ("Known.", dt.date(2026, 3, 2), "until"),
        ("Known.", dt.date(2027, 6, 1), "until"),
        ("Known.", None, "until"),
    ],
)
def test_a_bad_acknowledgement_is_refused_naming_the_field_and_writes_nothing(
    org, reason, until, field
):
    stale_key_result(org, days=40)
    evaluate(org)
    signal = open_signals(org, "stale_outcomes").get()
    with pytest.raises(ValidationError) as refused:
        signal_acknowledge(
            signal=signal, user=org.users["pmo"], reason=reason, until=until, now=AS_OF
        )
    assert field in refused.value.message_dict
    assert not SignalAcknowledgement.objects.exists()


def test_a_resolved_signal_cannot_be_acknowledged(org):
    kr = stale_key_result(org, days=40)
    evaluate(org)
    check_in(org, kr, at=AS_OF)
    evaluate(org, AS_OF + dt.timedelta(hours=1))
    signal = Signal.objects.get(detector="stale_outcomes")
    with pytest.raises(ValidationError, match="resolved"):
        signal_acknowledge(signal=signal, user=org.users["pmo"], reason="x", until=dt.date(2026, 4, 1), now=AS_OF)  # fmt: skip


def test_acknowledgements_are_audited_with_who_and_every_version(org):
    stale_key_result(org, days=40)
    evaluate(org)
    signal = open_signals(org, "stale_outcomes").get()
    for reason in ("First look.", "Still waiting for the team."):
        signal_acknowledge(signal=signal, user=org.users["pmo"], reason=reason, until=dt.date(2026, 3, 20), now=AS_OF)  # fmt: skip
    ack = SignalAcknowledgement.objects.get()
    events = list(ack.events.select_related("pgh_context").order_by("pgh_id"))
    assert [e.reason for e in events] == ["First look.", "Still waiting for the team."]
    assert all(e.pgh_context.metadata["user"] == org.users["pmo"].pk for e in events)


# --- thresholds ---------------------------------------------------------------------------------


def test_thresholds_default_until_saved_and_changes_are_audited(org):
    assert not SignalThresholds.objects.exists()
    saved = signal_thresholds_save(
        portfolio=org.portfolio, user=org.users["pmo"], churn_max_percent=30
    )
    assert saved.as_thresholds() == thresholds.Thresholds(churn_max_percent=30)
    signal_thresholds_save(
        portfolio=org.portfolio, user=org.users["pmo"], flow_band_sigmas=Decimal("2.5")
    )
    events = list(
        saved.events.order_by("pgh_id").values_list("churn_max_percent", "flow_band_sigmas")
    )
    assert events == [(30, Decimal("3.0")), (30, Decimal("2.5"))]


def test_a_threshold_out_of_bounds_is_refused_and_nothing_changes(org):
    with pytest.raises(ValidationError) as refused:
        signal_thresholds_save(
            portfolio=org.portfolio, user=org.users["pmo"], min_items=0, churn_max_percent=50
        )
    assert "min_items" in refused.value.message_dict
    assert not SignalThresholds.objects.exists()


# --- requests -----------------------------------------------------------------------------------


def test_many_writes_request_one_evaluation(org, django_capture_on_commit_callbacks):
    kr = stale_key_result(org, days=40)
    with django_capture_on_commit_callbacks() as callbacks:
        for hour in range(5):
            check_in(org, kr, at=AS_OF + dt.timedelta(hours=hour))
    assert len(callbacks) == 1  # one enqueue for five check-ins
    evaluation = SignalEvaluation.objects.get(portfolio=org.portfolio)
    assert evaluation.request_seq == 5
    assert evaluation.requested_at is not None


def test_an_evaluation_clears_its_request_and_one_made_meanwhile_runs_it_again(
    org, django_capture_on_commit_callbacks
):
    stale_key_result(org, days=40)
    signals_request(portfolio_id=org.portfolio.pk)
    signals_evaluate_requested(portfolio_id=org.portfolio.pk, now=AS_OF)
    evaluation = SignalEvaluation.objects.get(portfolio=org.portfolio)
    assert evaluation.requested_at is None
    assert open_signals(org, "stale_outcomes").exists()
    # a request that arrives while an evaluation runs: the evaluation sees a newer sequence
    from leanpmo.services import signals as service

    real = service.signals_evaluate

    def evaluate_while_a_check_in_arrives(**kwargs):
        outcome = real(**kwargs)
        signals_request(portfolio_id=org.portfolio.pk)
        return outcome

    service.signals_evaluate = evaluate_while_a_check_in_arrives
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            signals_evaluate_requested(portfolio_id=org.portfolio.pk, now=AS_OF)
    finally:
        service.signals_evaluate = real
    assert len(callbacks) == 2  # the request's own enqueue and the re-run
    assert SignalEvaluation.objects.get(portfolio=org.portfolio).requested_at is not None


def test_the_sweep_enqueues_requests_whose_message_was_lost(
    org, django_capture_on_commit_callbacks
):
    signals_request(portfolio_id=org.portfolio.pk, now=AS_OF)
    assert signals_sweep(now=AS_OF + dt.timedelta(minutes=2)) == []
    with django_capture_on_commit_callbacks() as callbacks:
        assert signals_sweep(now=AS_OF + dt.timedelta(minutes=6)) == [org.portfolio.pk]
    assert len(callbacks) == 1
    assert SignalEvaluation.objects.get(
        portfolio=org.portfolio
    ).enqueued_at == AS_OF + dt.timedelta(minutes=6)


def test_an_unknown_portfolio_is_not_evaluated(db):
    assert signals_evaluate_requested(portfolio_id=987654) is None


@pytest.mark.celery
def test_a_recompute_in_the_worker_raises_the_signals_of_its_portfolio(org, celery_worker):
    from valuestreams.recompute import recompute_request

    stale_key_result(org, days=400)
    with transaction.atomic():
        recompute_request(portfolio=org.portfolio, full=True)
    deadline = time.monotonic() + 90
    while not Signal.objects.filter(portfolio=org.portfolio, detector="stale_outcomes").exists():
        assert time.monotonic() < deadline, "no evaluation after the recompute"
        time.sleep(0.5)
    evaluation = SignalEvaluation.objects.get(portfolio=org.portfolio)
    assert evaluation.evaluated_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_write_commits_its_request_even_when_the_broker_is_down(org):
    """The request row is the truth: with Redis unreachable the write still commits, the enqueue is
    logged, not raised, and the sweep sends it later."""
    import os
    import subprocess
    import sys

    from django.db import connection

    from tests.conftest import _database_url

    code = (
        "import django; django.setup()\n"
        "from django.db import transaction\n"
        "from leanpmo.services.signals import signals_request\n"
        f"with transaction.atomic(): print(signals_request(portfolio_id={org.portfolio.pk}))\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens there
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
    assert "could not enqueue leanpmo.tasks.evaluate_signals" in done.stderr
    evaluation = SignalEvaluation.objects.get(portfolio=org.portfolio)
    assert evaluation.requested_at is not None
    later = evaluation.enqueued_at + dt.timedelta(minutes=6)
    assert signals_sweep(now=later) == [org.portfolio.pk]


def test_learning_is_never_a_signal_against_a_team(org):
    from teams.models import Experiment, PulseAnswer, PulseResponse
    from tests.teams.factories import PulseRoundFactory

    Experiment.objects.create(
        team=org.team, hypothesis="A confirmation screen cuts mistaken payments.",
        metric="Mistakes per 1,000", started_on=dt.date(2025, 11, 3), ended_on=dt.date(2025, 12, 1),
        result=Experiment.Result.INVALIDATED, learning="Nobody read the screen.",
        created_by=org.users["member"],
    )  # fmt: skip
    pulse = PulseRoundFactory(
        team=org.team, opens_on=dt.date(2026, 2, 1), closes_on=dt.date(2026, 2, 14)
    )
    for person in ("member", "pmo", "executive"):
        PulseResponse.objects.create(round=pulse, respondent=org.users[person])
        for question in pulse.questions.all():
            PulseAnswer.objects.create(question=question, score=1)  # a very low pulse
    evaluate(org)
    assert not Signal.objects.filter(team__isnull=False).exists()
    assert not Signal.objects.exists()
