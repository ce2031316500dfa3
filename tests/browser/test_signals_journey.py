"""The steward speaks, in Chromium: the executive answers the exception waiting in the attention
list; the Lean PMO sets a stale outcome aside for two weeks and sees it back three weeks later; a
member posts the missing check-in and a real worker resolves the signal; every signal page fits
a phone, a laptop and a large screen."""

from __future__ import annotations

import datetime as dt
import re
import time
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from leanpmo.models import ExceptionApproval, Signal
from leanpmo.selectors.signals import local_today
from leanpmo.services.budgets import budget_create
from leanpmo.services.decisions import DecisionInput, decision_record
from leanpmo.services.periods import period_create, period_transition
from leanpmo.services.signals import signals_evaluate
from teams.models import OutcomeUpdate
from tests.browser.conftest import log_in
from tests.teams.factories import KeyResultFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _quarter(today: dt.date) -> tuple[dt.date, dt.date]:
    start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    end = (start + dt.timedelta(days=95)).replace(day=1) - dt.timedelta(days=1)
    return start, end


def _pending_exception(org):
    """An approved current period with a budget for Payments, and an exception waiting."""
    today = timezone.localdate()
    start, end = _quarter(today)
    period = period_create(
        portfolio=org.portfolio, name="This quarter", starts_on=start, ends_on=end
    )
    budget_create(period=period, value_stream=org.value_stream, amount_run=Decimal("900000"),
                  amount_grow=Decimal("300000"), amount_transform=Decimal("100000"))  # fmt: skip
    period = period_transition(
        period=period, status="approved", user=org.users["pmo"], now=timezone.now()
    )
    return decision_record(
        period=period,
        value_stream=org.value_stream,
        decision=DecisionInput(
            kind="exception",
            rationale="Regulatory deadline in March.",
            expected_outcome="Instant payments reporting live.",
        ),
        amount_before=Decimal("1300000"),
        amount_after=Decimal("1500000"),
        user=org.users["pmo"],
        now=timezone.now(),
        proposal={"amount_transform": "300000"},
        base_version=1,
    )


def _stale_key_result(org):
    kr = KeyResultFactory(
        objective__team=org.team,
        metric="Payments settled within 10 seconds",
        cadence_days=14,
        starts_on=timezone.localdate() - dt.timedelta(days=120),
    )
    OutcomeUpdate.objects.create(
        key_result=kr, value=Decimal("91"), confidence=6, status="at_risk",
        posted_by=org.users["member"], posted_at=timezone.now() - dt.timedelta(days=45),
    )  # fmt: skip
    return kr


def test_the_executive_answers_the_waiting_exception_from_the_attention_list(org, page, shot):
    decision = _pending_exception(org)
    log_in(page, "executive")
    attention = page.locator("#attention")
    item = attention.locator(".attention-item.kind-approval")
    assert "Exception for Payments" in item.inner_text()
    assert "+€200,000 for Payments" in item.inner_text()
    shot(page, "signals-executive-attention-home")
    item.get_by_role("link", name="Review and answer").click()
    page.wait_for_url(f"**/decisions/{decision.pk}/approval/")
    page.get_by_label("Approve").check()
    page.get_by_label("Note").fill("Deadline is real; revisit next quarter.")
    page.get_by_role("button", name="Answer").click()
    page.wait_for_url(f"**/decisions/{decision.pk}/")
    assert ExceptionApproval.objects.get(decision=decision).approved
    page.goto("/")
    assert page.locator(".attention-item.kind-approval").count() == 0
    page.goto(f"/portfolios/{org.portfolio.pk}/")
    assert page.locator(".attention-item.kind-approval").count() == 0
    shot(page, "signals-executive-attention-after-approval")


def test_the_pmo_sets_a_stale_outcome_aside_for_two_weeks_and_three_weeks_later_it_is_back(
    org, page, shot
):
    _stale_key_result(org)
    signals_evaluate(portfolio=org.portfolio, as_of=timezone.now())
    signal = Signal.objects.get(detector="stale_outcomes")
    log_in(page, "pmo")
    page.goto(f"/portfolios/{org.portfolio.pk}/signals/")
    card = page.locator(f"article[aria-labelledby='signal-{signal.pk}']")
    assert "Instant Payments' only open key result" in card.inner_text()
    card.get_by_role("link", name="Acknowledge").click()
    page.get_by_label("Reason").fill("The team is at the scheme certification this fortnight.")
    until = page.get_by_label("Until")
    # two weeks from the portfolio's own today (its date, not the server's, near midnight)
    today = local_today(org.portfolio, timezone.now())
    assert until.input_value() == (today + dt.timedelta(days=14)).isoformat()
    shot(page, "signals-pmo-acknowledge")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url(f"**/portfolios/{org.portfolio.pk}/signals/")
    assert page.locator(f"article[aria-labelledby='signal-{signal.pk}']").count() == 0
    page.get_by_label("State").select_option("acknowledged")
    page.get_by_role("button", name="Show").click()
    assert "Acknowledged until" in page.locator(f"article[aria-labelledby='signal-{signal.pk}']").inner_text()  # fmt: skip

    with time_machine.travel(timezone.now() + dt.timedelta(weeks=3), tick=True):
        signals_evaluate(portfolio=org.portfolio, as_of=timezone.now())  # the nightly run
        log_in(page, "pmo")  # the session ran out meanwhile
        page.goto(f"/portfolios/{org.portfolio.pk}/signals/")
        back = page.locator(f"article[aria-labelledby='signal-{signal.pk}']")
        assert back.count() == 1
        assert "Open" in back.locator(".state-chip").inner_text()
        assert "more than twice its 14-day cadence" in back.inner_text()
        shot(page, "signals-pmo-back-after-three-weeks")


@pytest.mark.celery
def test_a_member_posts_the_missing_check_in_and_the_signal_resolves_by_itself(
    org, page, shot, celery_worker
):
    kr = _stale_key_result(org)
    signals_evaluate(portfolio=org.portfolio, as_of=timezone.now())
    signal = Signal.objects.get(detector="stale_outcomes")
    log_in(page, "member")
    item = page.locator("#attention .attention-item.kind-key_result")
    assert "Payments settled within 10 seconds (Instant Payments)" in item.inner_text()
    shot(page, "signals-member-attention")
    item.get_by_role("link", name="Post the check-in").click()
    page.wait_for_url(re.compile(rf".*/teams/{org.team.pk}/updates/new/\?key_result={kr.pk}$"))
    # the link chose the key result: its radio (labelled with the key result's facts) is checked
    assert page.locator(f"input[name=key_result][value='{kr.pk}']").is_checked()
    page.get_by_label("Current value").fill("96.5")
    page.get_by_label("Confidence").fill("8")
    page.get_by_label("On track").check()
    page.get_by_role("button", name="Post update").click()
    page.wait_for_url(f"**/teams/{org.team.pk}/#key-result-{kr.pk}")
    deadline = time.monotonic() + 60
    while Signal.objects.get(pk=signal.pk).state != "resolved":  # the worker evaluates
        assert time.monotonic() < deadline, "the check-in did not resolve the signal"
        time.sleep(0.5)
    page.goto("/")
    assert "Nothing needs you right now." in page.locator("#attention").inner_text()
    page.goto(f"/portfolios/{org.portfolio.pk}/signals/?state=resolved")
    assert page.locator(f"article[aria-labelledby='signal-{signal.pk}'] .state-chip").inner_text() == "Resolved"  # fmt: skip
    shot(page, "signals-member-resolved")
