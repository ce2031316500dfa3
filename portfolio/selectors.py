"""Reads for portfolio pages: each returns a queryset whose query count does not grow with the rows."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from portfolio.models import Portfolio
from teams.models import ProductTeam, TeamMembership
from valuestreams.models import ValueStream
from valuestreams.selectors.recompute_state import with_recompute_state


def current_seat_filter(prefix: str) -> Q:
    """A Q on `<prefix>start_date` / `<prefix>end_date` for seats held today (for annotations)."""
    today = timezone.localdate()
    return Q(**{f"{prefix}start_date__lte": today}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": today})
    )


def portfolio_list(user) -> QuerySet[Portfolio]:
    """Portfolios the user may read, with `value_stream_count`, `team_count` and the state of
    their latest recompute (see :func:`valuestreams.selectors.recompute_state.recompute_failure`)."""
    return with_recompute_state(
        Portfolio.objects.visible_to(user)
        .annotate(
            value_stream_count=Count("value_streams", distinct=True),
            team_count=Count("value_streams__teams", distinct=True),
        )
        .order_by("name")
    )


def teams_with_headcount() -> QuerySet[ProductTeam]:
    """Teams annotated with `headcount`: the number of seats held today."""
    seated = current_seat_filter("memberships__")
    return ProductTeam.objects.annotate(
        headcount=Count("memberships", filter=seated),
    ).order_by("name")


def portfolio_tree(portfolio: Portfolio) -> QuerySet[ValueStream]:
    """The portfolio's value streams, owners selected and teams (with headcount) prefetched."""
    return (
        portfolio.value_streams.select_related("owner")
        .prefetch_related(Prefetch("teams", queryset=teams_with_headcount()))
        .order_by("name")
    )


def portfolio_people(portfolio: Portfolio) -> QuerySet:
    """People with a role in the portfolio or a current seat in one of its teams (for owner pickers)."""
    seated = TeamMembership.objects.current().filter(team__value_stream__portfolio=portfolio)
    return (
        get_user_model()
        .objects.filter(
            Q(portfolio_memberships__portfolio=portfolio) | Q(pk__in=seated.values("person"))
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
