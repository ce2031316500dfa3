"""DORA metrics on hand-built frames; every expected number is worked out in the test."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.valuestreams.metric_reference import (
    change_failure_rate,
    deployment_frequency,
    deployment_rework_rate,
    dora_tier,
    failed_deployment_recovery_time,
    lead_time_for_changes,
)
from valuestreams.metrics.dora import (
    available_benchmarks,
    dora_summary,
    link_incidents,
    load_benchmark,
)

PARIS = "Europe/Paris"


def at(text: str, tz: str = "UTC") -> pd.Timestamp:
    return pd.Timestamp(text, tz=tz).tz_convert("UTC")


def windows(*bounds: tuple[str, str], tz: str = "UTC") -> pd.DataFrame:
    """Windows from local-midnight bounds, labelled by their start."""
    return pd.DataFrame(
        {
            "label": [start for start, _ in bounds],
            "window_start": [at(start, tz) for start, _ in bounds],
            "window_end": [at(end, tz) for _, end in bounds],
        }
    )


def deployments(*rows: dict) -> pd.DataFrame:
    defaults = {"successful": True, "environment": "production", "is_rework": False, "team_id": 1}
    frame = pd.DataFrame([{**defaults, **row} for row in rows])
    frame["finished_at"] = pd.to_datetime(frame["finished_at"], utc=True)
    return frame


def changes(*rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame([{"team_id": 1, **row} for row in rows])
    frame["first_commit_at"] = pd.to_datetime(frame["first_commit_at"], utc=True)
    frame["deployment_id"] = frame["deployment_id"].astype("Int64")
    return frame


def incidents(*rows: dict) -> pd.DataFrame:
    defaults = {"team_id": 1, "deployment_id": None, "resolved_at": None}
    frame = pd.DataFrame([{**defaults, **row} for row in rows])
    for column in ["created_at", "resolved_at"]:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["deployment_id"] = frame["deployment_id"].astype("Int64")
    return frame


JANUARY = windows(("2024-01-01", "2024-02-01"))  # 2024-01-01 is a Monday


# --- empty input -------------------------------------------------------------------------------


def test_empty_inputs_give_empty_frames_with_the_right_columns() -> None:
    empty = pd.DataFrame()
    by = ["team_id"]
    frequency = deployment_frequency(empty, windows=JANUARY, tz=PARIS, by=by)
    lead = lead_time_for_changes(empty, empty, windows=JANUARY, by=by)
    failure = change_failure_rate(empty, empty, windows=JANUARY, by=by)
    recovery = failed_deployment_recovery_time(empty, empty, windows=JANUARY, by=by)
    rework = deployment_rework_rate(empty, windows=empty, by=by)
    summary = dora_summary(empty, empty, empty, windows=empty, tz=PARIS, by=by)
    linked = link_incidents(empty, empty, by=by)

    window = ["team_id", "label", "window_start", "window_end"]
    assert list(frequency.columns) == [
        *window,
        "deployments",
        "deployment_days",
        "median_deployment_days_per_week",
        "median_deployment_days_per_month",
        "median_deployment_days_per_six_months",
    ]
    assert list(lead.columns) == [
        *window,
        "changes_deployed",
        "median_lead_time_minutes",
        "changes_negative_lead_time",
    ]
    assert list(failure.columns) == [
        *window,
        "deployments",
        "failed_deployments",
        "change_failure_rate",
    ]
    assert list(recovery.columns) == [
        *window,
        "incidents_recovered",
        "median_recovery_time_minutes",
        "incidents_negative_recovery",
    ]
    assert list(rework.columns) == [
        *window,
        "deployments",
        "rework_deployments",
        "deployment_rework_rate",
    ]
    assert summary.columns[:4].tolist() == window
    assert {"deployment_frequency_tier", "benchmark", "incidents_unlinked"} <= set(summary.columns)
    link_columns = ["linked_deployment_id", "linked_deployment_finished_at", "link"]
    assert linked.columns[-3:].tolist() == link_columns
    for frame in [frequency, lead, failure, recovery, rework, summary, linked]:
        assert frame.empty


def test_summary_of_typed_but_empty_frames_is_empty() -> None:
    empty_deployments = deployments({"deployment_id": 1, "finished_at": "2024-01-02"}).iloc[:0]

    summary = dora_summary(
        empty_deployments, pd.DataFrame(), pd.DataFrame(), windows=JANUARY, tz=PARIS
    )

    assert summary.empty
    assert "deployment_rework_rate_tier" in summary.columns


# --- deployment frequency ----------------------------------------------------------------------


def test_two_deployments_on_the_same_day_count_as_one_deployment_day() -> None:
    deploys = deployments(
        {"deployment_id": 1, "finished_at": "2024-01-02T09:00Z"},
        {"deployment_id": 2, "finished_at": "2024-01-02T17:00Z"},
        {"deployment_id": 3, "finished_at": "2024-01-03T09:00Z"},
    )
    week = windows(("2024-01-01", "2024-01-08"))

    row = deployment_frequency(deploys, windows=week, tz="UTC").iloc[0]

    assert row["deployments"] == 3
    assert row["deployment_days"] == 2
    assert row["median_deployment_days_per_week"] == 2


def test_deployment_day_is_the_calendar_day_in_the_portfolio_time_zone() -> None:
    # Sunday 2024-01-07 23:30 UTC is Monday 00:30 in Paris: a new ISO week there.
    deploys = deployments(
        {"deployment_id": 1, "finished_at": "2024-01-07T22:30Z"},  # Sunday 23:30 Paris
        {"deployment_id": 2, "finished_at": "2024-01-07T23:30Z"},  # Monday 00:30 Paris
    )
    two_weeks = windows(("2024-01-01", "2024-01-15"), tz=PARIS)

    in_paris = deployment_frequency(deploys, windows=two_weeks, tz=PARIS).iloc[0]
    in_utc = deployment_frequency(deploys, windows=two_weeks, tz="UTC").iloc[0]

    assert in_paris["deployment_days"] == 2  # Sunday and Monday, one in each week
    assert in_paris["median_deployment_days_per_week"] == 1  # weeks [1, 1]
    assert in_utc["deployment_days"] == 1  # both on Sunday in UTC
    assert in_utc["median_deployment_days_per_week"] == 0  # weeks [0, 1, 0]: window starts Dec 31


def test_weeks_without_deployments_count_as_zero_in_the_median() -> None:
    # January 2024 spans five ISO weeks (Mon 1, 8, 15, 22, 29). Deployments in two of them.
    deploys = deployments(
        *[{"deployment_id": i, "finished_at": f"2024-01-0{i}T10:00Z"} for i in range(1, 6)],
        {"deployment_id": 6, "finished_at": "2024-01-09T10:00Z"},
    )

    row = deployment_frequency(deploys, windows=JANUARY, tz="UTC").iloc[0]

    assert row["deployment_days"] == 6
    assert row["median_deployment_days_per_week"] == 0  # weeks [5, 1, 0, 0, 0]
    assert row["median_deployment_days_per_month"] == 6


def test_the_median_of_an_even_number_of_weeks_is_the_lower_one() -> None:
    # Four weeks with 1, 2, 3 and 4 deployment days: the lower median is 2, not 2.5.
    days = ["2024-01-01", "2024-01-08", "2024-01-09"]
    days += ["2024-01-15", "2024-01-16", "2024-01-17"]
    days += ["2024-01-22", "2024-01-23", "2024-01-24", "2024-01-25"]
    deploys = deployments(*[{"deployment_id": i, "finished_at": d} for i, d in enumerate(days)])
    four_weeks = windows(("2024-01-01", "2024-01-29"))

    row = deployment_frequency(deploys, windows=four_weeks, tz="UTC").iloc[0]

    assert row["median_deployment_days_per_week"] == 2


def test_frequency_is_given_per_scope_and_window_with_zero_for_quiet_ones() -> None:
    deploys = deployments(
        {"deployment_id": 1, "finished_at": "2024-01-02", "team_id": 1},
        {"deployment_id": 2, "finished_at": "2024-02-02", "team_id": 2},
    )
    two_months = windows(("2024-01-01", "2024-02-01"), ("2024-02-01", "2024-03-01"))

    result = deployment_frequency(deploys, windows=two_months, tz="UTC", by=["team_id"])

    assert result[["team_id", "label", "deployment_days"]].to_dict("records") == [
        {"team_id": 1, "label": "2024-01-01", "deployment_days": 1},
        {"team_id": 1, "label": "2024-02-01", "deployment_days": 0},
        {"team_id": 2, "label": "2024-01-01", "deployment_days": 0},
        {"team_id": 2, "label": "2024-02-01", "deployment_days": 1},
    ]


def test_overlapping_windows_each_count_their_deployments() -> None:
    deploys = deployments(
        {"deployment_id": 1, "finished_at": "2024-01-10"},
        {"deployment_id": 2, "finished_at": "2024-01-20"},
    )
    rolling = windows(("2024-01-01", "2024-01-15"), ("2024-01-08", "2024-01-22"))

    result = deployment_frequency(deploys, windows=rolling, tz="UTC")

    assert result["deployments"].tolist() == [1, 2]


def test_six_month_blocks_are_counted_back_from_the_windows_last_month() -> None:
    # Seven months: block 0 = Feb..Jul (2 deployment days), block 1 = Jan alone (0).
    deploys = deployments(
        {"deployment_id": 1, "finished_at": "2024-03-05"},
        {"deployment_id": 2, "finished_at": "2024-07-05"},
    )
    seven_months = windows(("2024-01-01", "2024-08-01"))

    row = deployment_frequency(deploys, windows=seven_months, tz="UTC").iloc[0]

    assert row["median_deployment_days_per_six_months"] == 0  # blocks [2, 0]: lower median
    assert row["median_deployment_days_per_month"] == 0  # months [0, 0, 1, 0, 0, 0, 1]


# --- only successful production deployments ----------------------------------------------------


def test_non_production_and_failed_deployments_are_ignored_everywhere() -> None:
    deploys = deployments(
        {"deployment_id": 1, "finished_at": "2024-01-02T10:00Z"},
        {"deployment_id": 2, "finished_at": "2024-01-03T10:00Z", "environment": "staging"},
        {"deployment_id": 3, "finished_at": "2024-01-04T10:00Z", "successful": False},
        {"deployment_id": 4, "finished_at": "2024-01-05T10:00Z", "environment": "PRODUCTION"},
    )
    shipped = changes(
        {"change_id": 1, "first_commit_at": "2024-01-03T09:00Z", "deployment_id": 2},
        {"change_id": 1, "first_commit_at": "2024-01-03T09:00Z", "deployment_id": 3},
    )
    problems = incidents(
        {"incident_id": 1, "created_at": "2024-01-03T11:00Z", "deployment_id": 2},
        {"incident_id": 2, "created_at": "2024-01-04T11:00Z"},
    )

    row = dora_summary(deploys, shipped, problems, windows=JANUARY, tz="UTC").iloc[0]
    linked = link_incidents(problems, deploys)

    assert row["deployments"] == 2
    assert row["deployment_days"] == 2
    assert row["changes_deployed"] == 0  # shipped only by staging and by a failed deployment
    # Both incidents fall back to the latest earlier successful production deployment (1).
    assert linked["linked_deployment_id"].tolist() == [1, 1]
    assert row["failed_deployments"] == 1
    assert row["change_failure_rate"] == 0.5


# --- lead time for changes ---------------------------------------------------------------------


def test_lead_time_is_rounded_up_to_the_minute_and_negative_spans_are_dropped() -> None:
    deploys = deployments({"deployment_id": 1, "finished_at": "2024-01-10T12:00:00Z"})
    shipped = changes(
        {"change_id": 1, "first_commit_at": "2024-01-10T11:58:59Z", "deployment_id": 1},  # 61 s
        {"change_id": 2, "first_commit_at": "2024-01-10T12:00:00Z", "deployment_id": 1},  # 0 s
        {"change_id": 3, "first_commit_at": "2024-01-10T11:00:00Z", "deployment_id": 1},  # 60 m
        {"change_id": 4, "first_commit_at": "2024-01-10T12:00:01Z", "deployment_id": 1},  # < 0
        {"change_id": 5, "first_commit_at": "2024-01-10T11:00:00Z", "deployment_id": None},
    )

    row = lead_time_for_changes(deploys, shipped, windows=JANUARY).iloc[0]

    assert row["changes_deployed"] == 3  # minutes [2, 0, 60]
    assert row["median_lead_time_minutes"] == 2
    assert row["changes_negative_lead_time"] == 1


def test_lead_time_uses_the_first_successful_production_deployment_containing_the_change() -> None:
    deploys = deployments(
        {"deployment_id": 1, "finished_at": "2024-01-31T10:00Z", "successful": False},
        {"deployment_id": 2, "finished_at": "2024-02-01T10:00Z"},
        {"deployment_id": 3, "finished_at": "2024-02-03T10:00Z"},
    )
    shipped = changes(
        {"change_id": 7, "first_commit_at": "2024-01-31T09:00Z", "deployment_id": 3},
        {"change_id": 7, "first_commit_at": "2024-01-31T09:00Z", "deployment_id": 2},
        {"change_id": 7, "first_commit_at": "2024-01-31T09:00Z", "deployment_id": 1},
    )
    two_months = windows(("2024-01-01", "2024-02-01"), ("2024-02-01", "2024-03-01"))

    result = lead_time_for_changes(deploys, shipped, windows=two_months)

    assert result["changes_deployed"].tolist() == [0, 1]
    assert result["median_lead_time_minutes"].iloc[1] == 25 * 60  # Jan 31 09:00 -> Feb 1 10:00


def test_a_change_without_scope_takes_the_scope_of_its_deployment() -> None:
    deploys = deployments({"deployment_id": 1, "finished_at": "2024-01-10T12:00Z", "team_id": 9})
    shipped = changes(
        {"change_id": 1, "first_commit_at": "2024-01-10T11:00Z", "deployment_id": 1}
    ).drop(columns=["team_id"])

    result = lead_time_for_changes(deploys, shipped, windows=JANUARY, by=["team_id"])

    assert result[["team_id", "median_lead_time_minutes"]].to_dict("records") == [
        {"team_id": 9, "median_lead_time_minutes": 60}
    ]


# --- incident linking --------------------------------------------------------------------------


LINKING_DEPLOYS = deployments(
    {"deployment_id": 1, "finished_at": "2024-01-10T10:00Z", "team_id": 1},
    {"deployment_id": 2, "finished_at": "2024-01-12T10:00Z", "team_id": 1},
    {"deployment_id": 3, "finished_at": "2024-01-13T10:00Z", "team_id": 2},
    {"deployment_id": 4, "finished_at": "2024-01-13T11:00Z", "team_id": 1, "successful": False},
)


def test_an_incident_is_linked_to_the_deployment_it_names() -> None:
    named = incidents({"incident_id": 1, "created_at": "2024-01-14T10:00Z", "deployment_id": 1})

    linked = link_incidents(named, LINKING_DEPLOYS, by=["team_id"]).iloc[0]

    assert linked["linked_deployment_id"] == 1
    assert linked["linked_deployment_finished_at"] == at("2024-01-10T10:00")
    assert linked["link"] == "named"


def test_an_unnamed_incident_goes_to_the_latest_earlier_deployment_of_its_scope() -> None:
    unnamed = incidents(
        {"incident_id": 1, "created_at": "2024-01-14T10:00Z", "team_id": 1},  # 4 failed, 3 team 2
        {"incident_id": 2, "created_at": "2024-01-12T10:00Z", "team_id": 1},  # same instant: 2
        {"incident_id": 3, "created_at": "2024-01-11T10:00Z", "team_id": 2},  # nothing earlier
        {"incident_id": 4, "created_at": "2024-01-14T10:00Z", "team_id": 2, "deployment_id": 99},
    )

    linked = link_incidents(unnamed, LINKING_DEPLOYS, by=["team_id"])

    assert linked["linked_deployment_id"].tolist() == [2, 2, pd.NA, 3]
    assert linked["link"].tolist() == ["inferred", "inferred", None, "inferred"]


def test_max_gap_leaves_late_incidents_unlinked_and_counts_them_as_a_caveat() -> None:
    late = incidents(
        {"incident_id": 1, "created_at": "2024-01-12T20:00Z"},  # 10 h after deployment 2
        {"incident_id": 2, "created_at": "2024-01-14T10:00Z"},  # 48 h after deployment 2
        {"incident_id": 3, "created_at": "2024-01-20T10:00Z", "deployment_id": 1},  # named
    )
    deploys = LINKING_DEPLOYS[LINKING_DEPLOYS["team_id"] == 1]

    linked = link_incidents(late, deploys, max_gap=pd.Timedelta(hours=24))
    summary = dora_summary(
        deploys, pd.DataFrame(), late, windows=JANUARY, tz="UTC", max_gap=pd.Timedelta(hours=24)
    ).iloc[0]

    assert linked["linked_deployment_id"].tolist() == [2, pd.NA, 1]
    assert summary["incidents_unlinked"] == 1
    assert summary["failed_deployments"] == 2  # deployments 1 and 2


# --- change failure rate -----------------------------------------------------------------------


def test_change_failure_rate_counts_failed_deployments_not_incidents() -> None:
    deploys = deployments(
        *[{"deployment_id": i, "finished_at": f"2024-01-{i + 10}T10:00Z"} for i in range(1, 5)]
    )
    problems = incidents(
        *[
            {"incident_id": i, "created_at": "2024-01-11T12:00Z", "deployment_id": 1}
            for i in (1, 2)
        ],
        {"incident_id": 3, "created_at": "2024-01-11T13:00Z"},  # inferred: deployment 1 too
        {"incident_id": 4, "created_at": "2024-01-13T10:30Z"},  # inferred: deployment 3
    )

    row = change_failure_rate(deploys, problems, windows=JANUARY).iloc[0]

    assert row["deployments"] == 4
    assert row["failed_deployments"] == 2
    assert row["change_failure_rate"] == 0.5


def test_change_failure_rate_is_missing_without_deployments() -> None:
    deploys = deployments({"deployment_id": 1, "finished_at": "2024-02-02"})

    row = change_failure_rate(deploys, pd.DataFrame(), windows=JANUARY).iloc[0]

    assert row["deployments"] == 0
    assert pd.isna(row["change_failure_rate"])


# --- failed deployment recovery time -----------------------------------------------------------


def test_recovery_median_is_over_incidents_resolved_in_the_window() -> None:
    deploys = deployments({"deployment_id": 1, "finished_at": "2024-01-30T10:00Z"})
    problems = incidents(
        {"incident_id": 1, "created_at": "2024-01-30T10:10Z", "resolved_at": "2024-01-30T10:40Z"},
        {"incident_id": 2, "created_at": "2024-01-30T11:00Z", "resolved_at": "2024-01-30T12:00Z"},
        {"incident_id": 3, "created_at": "2024-01-30T11:00Z", "resolved_at": "2024-01-31T10:00Z"},
        {"incident_id": 4, "created_at": "2024-01-31T11:00Z", "resolved_at": "2024-02-02T10:00Z"},
        {"incident_id": 5, "created_at": "2024-01-31T11:00Z"},  # unresolved
    )
    two_months = windows(("2024-01-01", "2024-02-01"), ("2024-02-01", "2024-03-01"))

    result = failed_deployment_recovery_time(deploys, problems, windows=two_months)

    january, february = result.iloc[0], result.iloc[1]
    assert january["incidents_recovered"] == 3  # minutes [30, 120, 1440]
    assert january["median_recovery_time_minutes"] == 120
    assert february["incidents_recovered"] == 1
    assert february["median_recovery_time_minutes"] == 3 * 24 * 60


def test_recovery_before_the_deployment_finished_is_dropped_and_counted() -> None:
    deploys = deployments({"deployment_id": 1, "finished_at": "2024-01-30T10:00Z"})
    problems = incidents(
        {
            "incident_id": 1,
            "created_at": "2024-01-29T10:00Z",
            "resolved_at": "2024-01-29T11:00Z",
            "deployment_id": 1,
        }
    )

    row = failed_deployment_recovery_time(deploys, problems, windows=JANUARY).iloc[0]

    assert row["incidents_recovered"] == 0
    assert row["incidents_negative_recovery"] == 1
    assert pd.isna(row["median_recovery_time_minutes"])


# --- rework rate -------------------------------------------------------------------------------


def test_rework_rate_is_the_share_of_production_deployments_that_are_rework() -> None:
    deploys = deployments(
        {"deployment_id": 1, "finished_at": "2024-01-02", "is_rework": True},
        {"deployment_id": 2, "finished_at": "2024-01-03"},
        {"deployment_id": 3, "finished_at": "2024-01-04"},
        {"deployment_id": 4, "finished_at": "2024-01-05"},
        {"deployment_id": 5, "finished_at": "2024-01-06", "is_rework": True, "successful": False},
    )

    row = deployment_rework_rate(deploys, windows=JANUARY).iloc[0]

    assert (row["deployments"], row["rework_deployments"]) == (4, 1)
    assert row["deployment_rework_rate"] == 0.25
    assert dora_tier("deployment_rework_rate", 0.25) is None  # no tiers in dora-2023


# --- as_of ---------------------------------------------------------------------------------------


def test_records_after_as_of_are_ignored() -> None:
    deploys = deployments(
        {"deployment_id": 1, "finished_at": "2024-01-02T10:00Z"},
        {"deployment_id": 2, "finished_at": "2024-01-20T10:00Z"},
    )
    problems = incidents(
        {"incident_id": 1, "created_at": "2024-01-02T11:00Z", "resolved_at": "2024-01-16T11:00Z"}
    )

    row = dora_summary(
        deploys, pd.DataFrame(), problems, windows=JANUARY, tz="UTC", as_of=at("2024-01-15")
    ).iloc[0]

    assert row["deployments"] == 1
    assert row["incidents_recovered"] == 0  # resolved after as_of: still open then
    assert row["median_deployment_days_per_week"] == 0  # weeks up to Jan 15: [1, 0]


# --- tiers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("benchmark", "metric", "value", "tier"),
    [
        ("dora-2023", "lead_time_for_changes", 1439, "elite"),
        ("dora-2023", "lead_time_for_changes", 1440, "high"),
        ("dora-2023", "lead_time_for_changes", 10080, "medium"),
        ("dora-2023", "lead_time_for_changes", 43199, "medium"),
        ("dora-2023", "lead_time_for_changes", 43200, "low"),
        ("dora-2021", "lead_time_for_changes", 59, "elite"),
        ("dora-2021", "lead_time_for_changes", 60, "high"),
        ("dora-2021", "lead_time_for_changes", 10080, "medium"),
        ("dora-2021", "lead_time_for_changes", 259200, "low"),
        ("dora-2023", "change_failure_rate", 0.0, "elite"),
        ("dora-2023", "change_failure_rate", 1 / 20, "elite"),
        ("dora-2023", "change_failure_rate", 2 / 20, "high"),
        ("dora-2023", "change_failure_rate", 3 / 20, "medium"),
        ("dora-2023", "change_failure_rate", 0.1501, "low"),
        ("dora-2021", "change_failure_rate", 3 / 20, "elite"),
        ("dora-2021", "change_failure_rate", 4 / 20, "high"),
        ("dora-2021", "change_failure_rate", 6 / 20, "medium"),
        ("dora-2021", "change_failure_rate", 0.3001, "low"),
        ("dora-2023", "failed_deployment_recovery_time", 59.9, "elite"),
        ("dora-2023", "failed_deployment_recovery_time", 60, "high"),
        ("dora-2023", "failed_deployment_recovery_time", 1440, "medium"),
        ("dora-2023", "failed_deployment_recovery_time", 10080, "low"),
        ("dora-2021", "failed_deployment_recovery_time", 60, "high"),
        ("dora-2021", "failed_deployment_recovery_time", 10080, "low"),
        ("dora-2023", "lead_time_for_changes", None, None),
        ("dora-2021", "change_failure_rate", float("nan"), None),
    ],
)
def test_tiers_on_and_around_each_threshold(
    benchmark: str, metric: str, value: float | None, tier: str | None
) -> None:
    assert dora_tier(metric, value, benchmark=benchmark) == tier


@pytest.mark.parametrize(
    ("benchmark", "week", "month", "six_months", "tier"),
    [
        ("dora-2023", 5, 20, 100, "elite"),
        ("dora-2023", 4, 20, 100, "high"),
        ("dora-2023", 1, 4, 20, "high"),
        ("dora-2023", 0, 1, 6, "medium"),
        ("dora-2023", 0, 0, 3, "low"),
        ("dora-2021", 5, 20, 100, "elite"),
        ("dora-2021", 4, 20, 100, "high"),
        ("dora-2021", 0, 1, 6, "high"),
        ("dora-2021", 0, 0, 1, "medium"),
        ("dora-2021", 0, 0, 0, "low"),
    ],
)
def test_deployment_frequency_tiers_for_both_benchmarks(
    benchmark: str, week: int, month: int, six_months: int, tier: str
) -> None:
    measures = {
        "median_deployment_days_per_week": week,
        "median_deployment_days_per_month": month,
        "median_deployment_days_per_six_months": six_months,
    }

    assert dora_tier("deployment_frequency", measures, benchmark=benchmark) == tier


def test_a_deployment_frequency_row_can_be_tiered_directly() -> None:
    deploys = deployments(
        *[{"deployment_id": i, "finished_at": f"2024-01-0{i}T10:00Z"} for i in range(1, 6)]
    )
    week = windows(("2024-01-01", "2024-01-08"))
    row = deployment_frequency(deploys, windows=week, tz="UTC").iloc[0]

    assert dora_tier("deployment_frequency", row) == "elite"  # 5 days in the week
    assert dora_tier("deployment_frequency", row, benchmark="dora-2021") == "elite"


def test_deployment_frequency_tier_needs_its_measures_by_name() -> None:
    with pytest.raises(TypeError):
        dora_tier("deployment_frequency", 5)


def test_benchmarks_are_versioned_data() -> None:
    assert available_benchmarks() == ["dora-2021", "dora-2023"]
    benchmark = load_benchmark("dora-2023")
    tiers = benchmark["metrics"]["change_failure_rate"]["tiers"]
    assert [rule["tier"] for rule in tiers] == ["elite", "high", "medium", "low"]
    with pytest.raises(ValueError, match="dora-1999"):
        load_benchmark("dora-1999")


# --- summary -----------------------------------------------------------------------------------


def test_summary_has_every_metric_with_tiers_and_caveats_per_scope_and_window() -> None:
    # Team 1 deploys every weekday in the first week of January 2024 (Mon 1 .. Fri 5).
    deploys = deployments(
        *[{"deployment_id": i, "finished_at": f"2024-01-0{i}T10:00Z"} for i in range(1, 6)],
        {"deployment_id": 6, "finished_at": "2024-01-03T10:00Z", "team_id": 2, "is_rework": True},
    )
    shipped = changes(
        {"change_id": 1, "first_commit_at": "2024-01-01T09:00Z", "deployment_id": 1},  # 60 min
        {"change_id": 2, "first_commit_at": "2024-01-03T10:30Z", "deployment_id": 3},  # < 0
    )
    problems = incidents(
        {"incident_id": 1, "created_at": "2024-01-02T10:20Z", "resolved_at": "2024-01-02T10:50Z"},
        {"incident_id": 2, "created_at": "2024-01-02T08:00Z", "team_id": 3},  # no deployment
    )
    week = windows(("2024-01-01", "2024-01-08"))

    summary = dora_summary(deploys, shipped, problems, windows=week, tz="UTC", by=["team_id"])

    assert summary["team_id"].tolist() == [1, 2, 3]
    team1, team2, team3 = (summary.iloc[i] for i in range(3))
    assert team1["median_deployment_days_per_week"] == 5
    assert team1["deployment_frequency_tier"] == "elite"
    assert team1["median_lead_time_minutes"] == 60
    assert team1["lead_time_for_changes_tier"] == "elite"
    assert team1["changes_negative_lead_time"] == 1
    assert team1["change_failure_rate"] == 1 / 5
    assert team1["change_failure_rate_tier"] == "low"
    assert team1["median_recovery_time_minutes"] == 50  # 10:00 -> 10:50
    assert team1["failed_deployment_recovery_time_tier"] == "elite"
    assert team1["benchmark"] == "dora-2023"
    assert team2["deployment_rework_rate"] == 1.0
    assert team2["deployment_frequency_tier"] == "high"
    assert team2["lead_time_for_changes_tier"] is None
    assert team3["incidents_unlinked"] == 1
    assert team3["deployments"] == 0
    assert team3["deployment_frequency_tier"] == "low"

    older = dora_summary(
        deploys, shipped, problems, windows=week, tz="UTC", by=["team_id"], benchmark="dora-2021"
    )
    assert older["change_failure_rate_tier"].iloc[0] == "high"  # 20 %: high under dora-2021
