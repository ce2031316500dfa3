"""The scorecard's pure frame: one row per value stream, sorted on the server, missing as None."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from leanpmo.metrics.scorecard import ScorecardInputs, scorecard_frame, sort_scorecard

AS_OF = dt.datetime(2026, 11, 18, 12, tzinfo=dt.UTC)


def _empty(columns: str) -> pd.DataFrame:
    return pd.DataFrame(columns=columns.split())


def _frame():
    inputs = ScorecardInputs(
        streams=[(7, "Payments"), (8, "Cards"), (9, "Savings")],
        budgets={7: (70, Decimal("300000")), 9: (90, Decimal("120000"))},
        # what the selector reads when nothing was computed or checked in yet
        flow=_empty("scope_id window_start window_end label velocity flow_time_p85_s "
                    "flow_efficiency load_mean"),
        dora=_empty("scope_id window_end label deployment_frequency_tier lead_time_tier "
                    "change_failure_rate_tier recovery_time_tier"),
        key_results=_empty("value_stream_id baseline target value starts_on cadence_days "
                           "last_check_in"),
        realisation=_empty("value_stream_id metric higher_is_better on value"),
    )  # fmt: skip
    return scorecard_frame(inputs, as_of=AS_OF, today=AS_OF.date())


@pytest.mark.parametrize("sort", ["budget", "-budget", "value_stream", "velocity", "nonsense"])
def test_sorting_keeps_ids_whole_and_missing_values_none(sort):
    frame, _ = sort_scorecard(_frame(), sort, money=True)
    ids = dict(zip(frame["value_stream"], frame["budget_id"], strict=True))
    assert ids == {"Payments": 70, "Cards": None, "Savings": 90}
    assert all(isinstance(i, int) or i is None for i in ids.values())
    assert frame["velocity"].isna().all()
    assert list(frame["velocity"]) == [None, None, None]


def test_money_columns_sort_by_name_for_those_who_may_not_see_money():
    frame, applied = sort_scorecard(_frame(), "-budget", money=False)
    assert applied == "value_stream"
    assert list(frame["value_stream"]) == ["Cards", "Payments", "Savings"]


def test_descending_budget_puts_streams_without_a_budget_last():
    frame, applied = sort_scorecard(_frame(), "-budget", money=True)
    assert applied == "-budget"
    assert list(frame["value_stream"]) == ["Payments", "Savings", "Cards"]
