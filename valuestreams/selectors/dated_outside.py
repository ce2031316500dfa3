"""Records dated outside the range Steward accepts (:mod:`portfolio.date_range`): the conditions
that keep them out of the metrics, and their counts for a run's caveats. Such rows can only
predate the checks at the entry points, or come from behind the services' back."""

from __future__ import annotations

from django.apps import apps
from django.db import connection
from django.db.models import Q
from psycopg import sql

from portfolio.date_range import EARLIEST_DATE, EARLIEST_MOMENT, END_MOMENT, LATEST_DATE
from portfolio.models import Portfolio


def in_date_range(column: str) -> sql.Composable:
    """SQL true when ``column`` lies within the dates Steward accepts
    (:mod:`portfolio.date_range`). Rows stored outside it (before that was checked, or behind the
    services' back) are left out of the metrics, and counted by :func:`dates_out_of_range`."""
    return sql.SQL("({column} >= {earliest} AND {column} < {end})").format(
        column=sql.SQL(column), earliest=sql.Literal(EARLIEST_MOMENT), end=sql.Literal(END_MOMENT)
    )


def within(field: str) -> Q:
    """``field`` lies within the dates Steward accepts (see :func:`in_date_range`), as a Q."""
    return Q(**{f"{field}__gte": EARLIEST_MOMENT, f"{field}__lt": END_MOMENT})


OUT_OF_RANGE_CAVEATS = (
    "status_changes_out_of_range",
    "work_items_out_of_range",
    "deployments_out_of_range",
    "changes_out_of_range",
    "incidents_out_of_range",
)


def dates_out_of_range(portfolio: Portfolio) -> dict[str, int]:
    """How many of the portfolio's stored records are dated outside the accepted range (the
    metrics leave them out): keys :data:`OUT_OF_RANGE_CAVEATS`. Such rows can only predate the
    check at the entry points, or come from behind the services' back. One query; the status
    changes are found through their index on ``at``."""

    def outside(table: str, column: str) -> sql.Composable:
        return sql.SQL(
            "(SELECT count(*) FROM {} WHERE portfolio_id = {} AND NOT coalesce({}, true))"
        ).format(sql.Identifier(table), sql.Literal(portfolio.pk), in_date_range(column))

    status_changes = sql.SQL(
        "(SELECT count(*) FROM valuestreams_statuschange sc"
        " JOIN valuestreams_workitem wi ON wi.id = sc.item_id"
        " WHERE wi.portfolio_id = {} AND (sc.at < {} OR sc.at >= {}))"
    ).format(sql.Literal(portfolio.pk), sql.Literal(EARLIEST_MOMENT), sql.Literal(END_MOMENT))
    incidents = sql.SQL(
        "(SELECT count(*) FROM valuestreams_incident WHERE portfolio_id = {}"
        " AND NOT ({} AND coalesce({}, true)))"
    ).format(sql.Literal(portfolio.pk), in_date_range("created_at"), in_date_range("resolved_at"))
    query = sql.SQL("SELECT {}").format(
        sql.SQL(", ").join(
            [
                status_changes,
                outside("valuestreams_workitem", "created_at"),
                outside("valuestreams_deployment", "finished_at"),
                outside("valuestreams_change", "first_commit_at"),
                incidents,
            ]
        )
    )
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        cursor.execute(query)
        counts = cursor.fetchone()
    return dict(zip(OUT_OF_RANGE_CAVEATS, map(int, counts), strict=True))


def funding_periods_out_of_range(portfolio: Portfolio) -> list[str]:
    """Names of the portfolio's approved or closed funding periods dated outside the accepted
    range: their target allocations are left out of the metrics (see
    :func:`allocation_targets`)."""
    periods = apps.get_model("leanpmo", "FundingPeriod").objects.filter(portfolio=portfolio)
    outside = Q(starts_on__lt=EARLIEST_DATE) | Q(ends_on__gt=LATEST_DATE)
    return list(
        periods.exclude(status="draft")
        .filter(outside)
        .order_by("starts_on", "pk")
        .values_list("name", flat=True)
    )
