"""Funding periods: creation (never overlapping) and the draft → approved → closed steps."""

from __future__ import annotations

import datetime as dt

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction

from leanpmo.models import FundingPeriod
from leanpmo.services.audit import actor
from leanpmo.services.signals import signals_request
from leanpmo.services.structure import horizons_ensure
from portfolio.models import Portfolio
from valuestreams.recompute import recompute_request


def _overlapping(portfolio: Portfolio, starts_on: dt.date, ends_on: dt.date, exclude: int | None):
    periods = FundingPeriod.objects.filter(
        portfolio=portfolio, starts_on__lte=ends_on, ends_on__gte=starts_on
    )
    return periods.exclude(pk=exclude).first() if exclude else periods.first()


@transaction.atomic
def period_create(
    *, portfolio: Portfolio, name: str, starts_on: dt.date, ends_on: dt.date, user=None
) -> FundingPeriod:
    """Create a draft period; refuses one that overlaps another period of the portfolio."""
    # one period writer per portfolio at a time, so two overlapping creations cannot both pass
    Portfolio.objects.select_for_update().get(pk=portfolio.pk)
    period = FundingPeriod(portfolio=portfolio, name=name, starts_on=starts_on, ends_on=ends_on)
    period.full_clean()
    clash = _overlapping(portfolio, starts_on, ends_on, None)
    if clash is not None:
        raise ValidationError(
            {
                "starts_on": f"This period overlaps “{clash.name}” "
                f"({clash.starts_on:%Y-%m-%d} – {clash.ends_on:%Y-%m-%d}); periods may not overlap."
            }
        )
    with pghistory.context(**actor(user)):
        period.save()
    horizons_ensure(portfolio=portfolio)
    return period


ALLOWED_TRANSITIONS = {
    FundingPeriod.Status.DRAFT: FundingPeriod.Status.APPROVED,
    FundingPeriod.Status.APPROVED: FundingPeriod.Status.CLOSED,
}


@transaction.atomic
def period_transition(
    *, period: FundingPeriod, status: str, user, now: dt.datetime
) -> FundingPeriod:
    """Move a period one step: draft → approved → closed."""
    period = FundingPeriod.objects.select_for_update().get(pk=period.pk)
    if ALLOWED_TRANSITIONS.get(period.status) != status:
        raise ValidationError(
            {"status": f"A {period.get_status_display().lower()} period cannot become {status}."}
        )
    period.status = status
    if status == FundingPeriod.Status.APPROVED:
        period.approved_at, period.approved_by = now, user
    with pghistory.context(**actor(user)):
        period.save(update_fields=["status", "approved_at", "approved_by"])
    if status == FundingPeriod.Status.APPROVED:
        recompute_request(portfolio=period.portfolio, full=True)  # its target mix now counts
    signals_request(portfolio_id=period.portfolio_id)
    return period
