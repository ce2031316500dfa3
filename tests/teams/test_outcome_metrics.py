"""The pure arithmetic behind outcomes, stability, pulse, dependencies and realisation."""

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from teams.metrics import (
    dependency_counts,
    is_stale,
    key_result_progress,
    pulse_summary,
    realisation_summary,
    staleness_rollup,
    team_stability,
)

D = dt.date


@pytest.mark.parametrize(
    ("baseline", "target", "value", "expected"),
    [
        ("80", "100", "90", 0.5),
        ("80", "100", "80", 0.0),
        ("80", "100", "110", 1.5),
        ("80", "100", "70", -0.5),
        ("40", "10", "25", 0.5),  # decreasing: falling is progress
        ("40", "10", "50", -1 / 3),
        ("40", "10", None, None),
    ],
)
def test_progress_runs_from_baseline_to_target_in_either_direction(
    baseline, target, value, expected
):
    progress = key_result_progress(
        baseline=Decimal(baseline),
        target=Decimal(target),
        value=None if value is None else Decimal(value),
    )
    assert progress == (None if expected is None else pytest.approx(expected))


def test_progress_is_undefined_when_baseline_equals_target():
    assert key_result_progress(baseline=Decimal(5), target=Decimal(5), value=Decimal(7)) is None


@pytest.mark.parametrize(
    ("last", "as_of", "stale"),
    [
        (D(2025, 3, 1), D(2025, 3, 29), False),  # exactly twice a 14-day cadence
        (D(2025, 3, 1), D(2025, 3, 30), True),
        (None, D(2025, 1, 29), False),  # counted from the start without any check-in
        (None, D(2025, 1, 30), True),
    ],
)
def test_a_key_result_is_stale_after_more_than_twice_its_cadence(last, as_of, stale):
    assert (
        is_stale(last_check_in=last, starts_on=D(2025, 1, 1), cadence_days=14, as_of=as_of) is stale
    )


def test_staleness_rollup_of_nothing_is_empty():
    assert staleness_rollup(pd.DataFrame(), by="team", as_of=D(2025, 6, 1)).empty


def test_staleness_rolls_up_per_group_most_stale_first():
    frame = pd.DataFrame(
        [
            ("Rails", D(2025, 5, 30), D(2025, 1, 1), 14),
            ("Instant", None, D(2025, 1, 1), 14),
            ("Instant", D(2025, 4, 1), D(2025, 1, 1), 14),
            ("Instant", D(2025, 5, 25), D(2025, 1, 1), 7),
        ],
        columns=["team", "last_check_in", "starts_on", "cadence_days"],
    )
    rollup = staleness_rollup(frame, by="team", as_of=D(2025, 6, 1))
    assert rollup.to_dict("records") == [
        {"team": "Instant", "open": 3, "stale": 2, "stale_share": pytest.approx(2 / 3)},
        {"team": "Rails", "open": 1, "stale": 0, "stale_share": 0.0},
    ]


def seats(*rows):
    return pd.DataFrame(rows, columns=["team_id", "person_id", "start_date", "end_date"])


def test_stability_of_a_team_without_seats_has_only_its_age():
    stability = team_stability(seats(), team_id=1, formed_on=D(2025, 1, 1), as_of=D(2025, 3, 1))
    assert (stability.age_days, stability.headcount, stability.spread_people) == (59, 0, [])
    assert stability.churn.empty
    assert stability.latest_churn is None


def test_churn_counts_joiners_and_leavers_per_quarter():
    frame = seats(
        (1, 10, D(2024, 1, 1), None),
        (1, 11, D(2024, 1, 1), None),
        (1, 12, D(2024, 1, 1), None),
        (1, 13, D(2024, 1, 1), D(2025, 2, 10)),  # leaves in Q1
        (1, 14, D(2025, 2, 11), None),  # replaces them
        (1, 15, D(2025, 4, 20), None),  # joins in Q2
    )
    stability = team_stability(
        frame, team_id=1, formed_on=D(2024, 1, 1), as_of=D(2025, 5, 15), quarters=2
    )
    assert stability.churn.to_dict("records") == [
        {
            "quarter": "2025 Q1",
            "headcount_start": 4,
            "headcount_end": 4,
            "joined": 1,
            "left": 1,
            "churn": pytest.approx(0.25),
        },
        {
            "quarter": "2025 Q2",
            "headcount_start": 4,
            "headcount_end": 5,
            "joined": 1,
            "left": 0,
            "churn": pytest.approx(0.5 / 4.5),
        },
    ]
    assert stability.headcount == 5
    assert stability.latest_churn == pytest.approx(0.5 / 4.5)


def test_a_quarter_that_started_and_ended_empty_has_no_churn():
    frame = seats((1, 10, D(2025, 5, 1), None))
    stability = team_stability(
        frame, team_id=1, formed_on=D(2025, 5, 1), as_of=D(2025, 5, 2), quarters=2
    )
    assert stability.churn["churn"].tolist() == [None, pytest.approx(0.5 / 0.5)]


def test_people_in_more_than_two_teams_are_counted_as_spread():
    frame = seats(
        (1, 10, D(2024, 1, 1), None),
        (2, 10, D(2024, 1, 1), None),
        (3, 10, D(2024, 1, 1), None),  # person 10: three teams
        (1, 11, D(2024, 1, 1), None),
        (2, 11, D(2024, 1, 1), None),
        (3, 11, D(2024, 1, 1), D(2024, 6, 1)),  # person 11: the third seat ended
    )
    stability = team_stability(frame, team_id=1, formed_on=D(2024, 1, 1), as_of=D(2025, 1, 1))
    assert stability.spread_people == [10]


def answers(*scores_by_question):
    return pd.DataFrame(
        [
            (position, f"Q{position}", score)
            for position, scores in enumerate(scores_by_question, start=1)
            for score in scores
        ],
        columns=["position", "question", "score"],
    )


def test_pulse_below_the_minimum_shows_nothing_but_the_count():
    summary = pulse_summary(answers([5, 1], [4, 4]), responses=2, minimum=3)
    assert (summary.responses, summary.questions, summary.shown) == (2, None, False)


def test_pulse_shows_the_mean_per_question_from_the_minimum_on():
    summary = pulse_summary(answers([5, 1, 3], [4, 4, 5]), responses=3, minimum=3)
    assert summary.shown
    assert summary.questions.to_dict("records") == [
        {"question": "Q1", "mean": 3.0, "answers": 3},
        {"question": "Q2", "mean": 4.3, "answers": 3},
    ]


def test_dependency_counts_rank_the_most_waited_on_team_first():
    assert dependency_counts(pd.DataFrame(columns=["team", "blocking"])).empty
    frame = pd.DataFrame(
        [("Rails", True), ("Cloud", False), ("Rails", False), ("Cloud", False), ("KYC", True)],
        columns=["team", "blocking"],
    )
    assert dependency_counts(frame).to_dict("records") == [
        {"team": "Rails", "dependents": 2, "blocking": 1},
        {"team": "Cloud", "dependents": 2, "blocking": 0},
        {"team": "KYC", "dependents": 1, "blocking": 1},
    ]


def test_realisation_summary_gives_latest_value_and_changes():
    assert realisation_summary(
        pd.DataFrame(columns=["metric", "on", "value"]), as_of=D(2025, 6, 1)
    ).empty
    points = pd.DataFrame(
        [
            ("NPS", D(2024, 5, 31), 20.0),
            ("NPS", D(2025, 2, 28), 25.0),
            ("NPS", D(2025, 5, 31), 30.0),
            ("NPS", D(2025, 7, 31), 99.0),  # after as_of: ignored
            ("Volume", D(2025, 5, 31), 10.0),
        ],
        columns=["metric", "on", "value"],
    )
    rows = realisation_summary(points, as_of=D(2025, 6, 30)).to_dict("records")
    assert rows == [
        {
            "metric": "NPS",
            "latest": 30.0,
            "on": D(2025, 5, 31),
            "quarter_change": pytest.approx(0.2),
            "year_change": pytest.approx(0.5),
        },
        {
            "metric": "Volume",
            "latest": 10.0,
            "on": D(2025, 5, 31),
            "quarter_change": None,
            "year_change": None,
        },
    ]


def test_a_key_results_trend_keeps_its_baseline_and_target_in_view_as_plain_data():
    import json

    from teams.charts import key_result_trend_chart

    points = pd.DataFrame(
        {
            "posted_at": [pd.Timestamp("2026-03-02 10:00", tz="UTC")],
            "value": [Decimal("95")],
            "status": ["on_track"],
            "confidence": [8],
        }
    )
    figure = key_result_trend_chart(points, baseline=Decimal(91), target=Decimal(99), unit="%")
    low, high = figure["layout"]["yaxis"]["range"]
    assert low < 91
    assert high > 99
    assert [shape["y0"] for shape in figure["layout"]["shapes"]] == [91.0, 99.0]
    assert [note["text"] for note in figure["layout"]["annotations"]] == [
        "baseline 91",
        "target 99",
    ]
    assert figure["data"][0]["y"] == [95.0]
    json.dumps(figure, allow_nan=False)
