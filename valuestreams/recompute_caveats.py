"""A run's data-quality caveats: counts over the portfolio's stored item facts.

A full run sums them over every stored fact (one query). An incremental run rewrites the facts of
a few items only, so it takes the previous run's counts and adds what its changed items' new facts
count minus what their old facts counted: every count is a sum over facts, so the result is the
same number a full sum gives (tested: incremental runs report what full runs report).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from django.db import connection

# the fact fields the counts read (besides the item itself)
CAVEAT_FACT_FIELDS = (
    "unmapped_count",
    "unmapped_type_count",
    "truncated",
    "done_without_start",
    "reopen_count",
)
COUNTS = (
    "items",
    "unmapped_status_changes",
    "unmapped_type_changes",
    "truncated_histories",
    "done_without_start",
    "reopened_items",
)


def fact_counts(facts: pd.DataFrame) -> dict[str, int]:
    """The caveat counts of a frame of facts (one row per item, CAVEAT_FACT_FIELDS columns)."""
    if facts.empty:
        return dict.fromkeys(COUNTS, 0)
    return {
        "items": len(facts),
        "unmapped_status_changes": int(facts["unmapped_count"].sum()),
        "unmapped_type_changes": int(facts["unmapped_type_count"].sum()),
        "truncated_histories": int(facts["truncated"].astype(bool).sum()),
        "done_without_start": int(facts["done_without_start"].astype(bool).sum()),
        "reopened_items": int((facts["reopen_count"] > 0).sum()),
    }


def stored_counts(portfolio_id: int) -> dict[str, int]:
    """The caveat counts over every stored fact of the portfolio."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(sum(unmapped_count), 0), coalesce(sum(unmapped_type_count), 0),"
            " count(*) FILTER (WHERE truncated), count(*) FILTER (WHERE done_without_start),"
            " count(*) FILTER (WHERE reopen_count > 0)"
            " FROM valuestreams_workitemfact WHERE portfolio_id = %s",
            [portfolio_id],
        )
        return dict(zip(COUNTS, map(int, cursor.fetchone()), strict=True))


def updated_counts(
    previous: dict, old_facts: pd.DataFrame, new_facts: pd.DataFrame
) -> dict[str, int] | None:
    """``previous`` counts with the changed items' old facts replaced by their new ones (None
    when ``previous`` lacks a count, e.g. it was written by an older version)."""
    if any(not isinstance(previous.get(name), int) for name in COUNTS):
        return None
    before, after = fact_counts(old_facts), fact_counts(new_facts)
    return {name: previous[name] - before[name] + after[name] for name in COUNTS}


def unmapped_statuses(portfolio_id: int, as_of: datetime, mappings) -> list[str]:
    """Names of the source statuses without a mapping among the portfolio's status changes."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT sc.status FROM valuestreams_statuschange sc"
            " JOIN valuestreams_workitemfact f ON f.item_id = sc.item_id"
            " WHERE f.portfolio_id = %s AND f.unmapped_count > 0 AND sc.at <= %s",
            [portfolio_id, as_of],
        )
        return sorted({row[0] for row in cursor.fetchall() if mappings.state_of(row[0]) is None})
