"""Celery tasks of the leanpmo app: ids in, a service call out (and, after an evaluation, the
portfolio's pages warmed)."""

from celery import shared_task
from django.utils import timezone

from leanpmo.panels.warming import warm_portfolio_pages
from leanpmo.services.signals import (
    signals_evaluate_requested,
    signals_request,
    signals_request_all,
    signals_sweep,
)
from portfolio.models import Portfolio


@shared_task(ignore_result=True, acks_late=True, time_limit=900)
def evaluate_signals(portfolio_id: int) -> None:
    """Evaluate the portfolio's signals as of now (a request made meanwhile runs it again), then
    build its costliest page sections for the data as it now is: every write that changes what
    pages show asks for an evaluation, so this is where the pages are warmed."""
    if signals_evaluate_requested(portfolio_id=portfolio_id) is not None:
        portfolio = Portfolio.objects.filter(pk=portfolio_id).first()
        if portfolio is not None:
            warm_portfolio_pages(portfolio, now=timezone.now())


@shared_task(ignore_result=True)
def request_signal_evaluation(portfolio_id: int) -> None:
    """Ask for an evaluation of the portfolio (coalesced with any pending one); other apps send
    this by name, e.g. after a recompute publishes. A portfolio deleted meanwhile is skipped."""
    if Portfolio.objects.filter(pk=portfolio_id).exists():
        signals_request(portfolio_id=portfolio_id)


@shared_task(ignore_result=True)
def sweep_signal_evaluations() -> None:
    """Enqueue again the evaluations whose message was lost (beat, every minute)."""
    signals_sweep()


@shared_task(ignore_result=True)
def evaluate_all_signals_nightly() -> None:
    """Request an evaluation of every portfolio (beat, nightly): time alone raises some signals."""
    signals_request_all()


@shared_task(ignore_result=True)
def send_weekly_digests() -> None:
    """Send the weekly digest where it is Monday morning in the portfolio's time zone (beat,
    hourly; idempotent per person and week)."""
    from leanpmo.services.digests import digests_send

    digests_send()
