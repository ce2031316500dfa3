"""Flow distribution targets come from the funding allocation of the period holding each window."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from leanpmo.models import FundingPeriod
from leanpmo.services.budgets import budget_apply
from leanpmo.services.periods import period_transition
from tests.leanpmo.support import make_budget, make_period
from tests.valuestreams.recompute_data import small_dataset
from valuestreams.models import FlowMetric, RecomputeJob
from valuestreams.recompute import recompute_full_now
from valuestreams.recompute.rows import with_targets

AS_OF = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
FEB = np.datetime64("2026-02-01T00:00")
MAR = np.datetime64("2026-03-01T00:00")


def _flow(rows):
    frame = pd.DataFrame(rows, columns=["scope_kind", "scope_id", "window_start", "item_type"])
    return frame.assign(window_start=pd.to_datetime(frame["window_start"]), target=np.nan)


def _targets(rows):
    frame = pd.DataFrame(
        rows,
        columns=["value_stream_id", "period_start", "period_end", "item_type", "target", "money"],
    )
    return frame.assign(
        period_start=pd.to_datetime(frame["period_start"]),
        period_end=pd.to_datetime(frame["period_end"]),
    )


def test_rows_take_the_allocation_of_their_stream_team_or_the_money_weighted_portfolio():
    flow = _flow(
        [
            ("value_stream", 1, FEB, "Debt"),
            ("team", 10, FEB, "Debt"),
            ("team", 99, FEB, "Debt"),
            ("portfolio", 7, FEB, "Debt"),
            ("value_stream", 1, FEB, "All"),
            ("value_stream", 1, MAR, "Debt"),
        ]
    )
    targets = _targets(
        [
            (1, FEB, MAR, "Debt", 0.30, 300.0),
            (2, FEB, MAR, "Debt", 0.10, 100.0),
        ]
    )
    filled = with_targets(flow, targets, pd.Series({10: 1, 20: 2}))
    assert filled["target"].tolist()[:4] == pytest.approx([0.30, 0.30, np.nan, 0.25], nan_ok=True)
    assert np.isnan(filled["target"].iloc[4])  # "All" has no target
    assert np.isnan(filled["target"].iloc[5])  # March is outside the funded period


def test_no_targets_leaves_the_rows_as_they_were():
    flow = _flow([("value_stream", 1, FEB, "Debt")])
    assert with_targets(flow, _targets([]), pd.Series(dtype="int64")) is flow


def _targets_of(org, scope_kind, scope_id):
    rows = FlowMetric.objects.filter(
        scope_kind=scope_kind, scope_id=scope_id, grain="month", label="2026-02"
    )
    return dict(rows.values_list("item_type", "target"))


def test_a_recompute_stores_the_approved_allocation_as_the_target(org):
    small_dataset(org)
    period = make_period(org, name="2026 Q1", starts=dt.date(2026, 1, 1), ends=dt.date(2026, 3, 31))
    make_budget(period, org.value_stream)
    FundingPeriod.objects.filter(pk=period.pk).update(status=FundingPeriod.Status.APPROVED)
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    stream = _targets_of(org, "value_stream", org.value_stream.pk)
    assert stream["Feature"] == pytest.approx(0.60)
    assert stream["Defect"] == pytest.approx(0.15)
    assert stream["All"] is None
    assert _targets_of(org, "team", org.team.pk)["Feature"] == pytest.approx(0.60)
    assert _targets_of(org, "portfolio", org.portfolio.pk)["Feature"] == pytest.approx(0.60)


def test_a_draft_period_sets_no_target(org):
    small_dataset(org)
    period = make_period(org, name="2026 Q1", starts=dt.date(2026, 1, 1), ends=dt.date(2026, 3, 31))
    make_budget(period, org.value_stream)
    recompute_full_now(portfolio=org.portfolio, as_of=AS_OF)
    assert _targets_of(org, "value_stream", org.value_stream.pk)["Feature"] is None


def _full_jobs(org):
    return RecomputeJob.objects.filter(portfolio=org.portfolio, kind="full").count()


def test_changing_the_allocation_of_a_funded_period_requests_a_full_recompute(org):
    period = make_period(org, name="2026 Q1", starts=dt.date(2026, 1, 1), ends=dt.date(2026, 3, 31))
    budget = make_budget(period, org.value_stream)
    pmo = org.users["pmo"]
    budget = budget_apply(
        budget=budget,
        expected_version=budget.version,
        user=pmo,
        changes={"alloc_feature": 55, "alloc_debt": 20},
    )
    assert _full_jobs(org) == 0  # a draft period's allocation is not a target yet
    period_transition(period=period, status="approved", user=pmo, now=AS_OF)
    assert _full_jobs(org) == 1
    RecomputeJob.objects.all().delete()
    budget = budget_apply(
        budget=budget, expected_version=budget.version, user=pmo, changes={"notes": "y"}
    )
    assert _full_jobs(org) == 0  # notes do not move a target
    budget_apply(
        budget=budget,
        expected_version=budget.version,
        user=pmo,
        changes={"alloc_feature": 50, "alloc_debt": 25},
    )
    assert _full_jobs(org) == 1
