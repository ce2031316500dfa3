"""The twelve detectors, pure: for each a hand-built situation that makes it fire and one that
keeps it silent, at a fixed as-of; small samples say “not enough data”; sentences hide money."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal

import pandas as pd
import pytest

from leanpmo.detectors.data_quality import untrusted_data
from leanpmo.detectors.decisions import (
    decisions_without_evidence,
    guardrail_breaches,
    reviews_overdue,
)
from leanpmo.detectors.findings import HIGH, MEDIUM
from leanpmo.detectors.flow import control_band, flow_deviation
from leanpmo.detectors.funding import PROJECT_ECONOMICS, money_flow_disagreement, project_economics
from leanpmo.detectors.inputs import (
    FLOW_WEEK_COLUMNS,
    BudgetInfo,
    DecisionInfo,
    FixedScopeInitiative,
    GuardrailCheck,
    KeyResultInfo,
    PortfolioInputs,
    RunInfo,
    ShapedWork,
    TeamInfo,
)
from leanpmo.detectors.outcomes import output_only_teams, stale_outcomes
from leanpmo.detectors.registry import DETECTORS, run_detectors
from leanpmo.detectors.shape import top_heavy_pyramid
from leanpmo.detectors.team_health import dependency_hotspots, unstable_teams
from leanpmo.detectors.thresholds import Thresholds
from leanpmo.detectors.wording import duration, explain, money, percent
from leanpmo.guardrails import Result

AS_OF = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)  # a Monday morning
TODAY = dt.date(2026, 3, 2)
T = Thresholds()
PAYMENTS, CARDS = 10, 11
INSTANT, RAILS, CLOUD = 100, 101, 102


def inputs(**overrides) -> PortfolioInputs:
    """A small portfolio: two value streams, three teams; everything else empty unless given."""
    base = PortfolioInputs(
        portfolio_id=1,
        portfolio="Everyday Banking",
        currency="EUR",
        as_of=AS_OF,
        today=TODAY,
        value_streams={PAYMENTS: "Payments", CARDS: "Cards"},
        teams=[
            TeamInfo(INSTANT, "Instant Payments", PAYMENTS, dt.date(2023, 1, 9)),
            TeamInfo(RAILS, "Payment Rails", PAYMENTS, dt.date(2022, 5, 2)),
            TeamInfo(CLOUD, "Cloud Platform", CARDS, dt.date(2021, 9, 1)),
        ],
    )
    for name, value in overrides.items():
        setattr(base, name, value)
    return base


def kr(pk, *, team=INSTANT, last=None, cadence=14, level="team", stream=PAYMENTS, metric=None):
    return KeyResultInfo(
        id=pk,
        metric=metric or f"Key result {pk}",
        level=level,
        team_id=team if level == "team" else None,
        value_stream_id=stream if level != "portfolio" else None,
        starts_on=dt.date(2025, 6, 2),
        cadence_days=cadence,
        last_check_in=last,
    )


def weeks(scope_kind, scope_id, values: dict[str, list], *, count=None, item_type="All"):
    """Weekly flow rows ending at AS_OF (the last value is the latest complete week)."""
    count = count or len(next(iter(values.values())))
    last_start = pd.Timestamp("2026-02-23", tz="UTC")
    rows = []
    for index in range(count):
        start = last_start - pd.Timedelta(weeks=count - 1 - index)
        row = {
            "scope_kind": scope_kind,
            "scope_id": scope_id,
            "window_start": start,
            "window_end": start + pd.Timedelta(weeks=1),
            "label": f"{start.isocalendar().year}-W{start.isocalendar().week:02d}",
            "item_type": item_type,
            "velocity": 5,
            "flow_time_p85_s": None,
            "flow_efficiency": None,
            "load_mean": None,
        }
        for column, series in values.items():
            row[column] = series[index]
        rows.append(row)
    return pd.DataFrame(rows, columns=FLOW_WEEK_COLUMNS)


# --- 1 stale outcomes -------------------------------------------------------------------------


def test_stale_outcomes_fire_per_team_with_the_oldest_key_result_named():
    found = stale_outcomes(
        inputs(
            key_results=[
                kr(1, last=TODAY - dt.timedelta(days=29), metric="Settled within 10 s"),
                kr(2, last=TODAY - dt.timedelta(days=3)),
                kr(3, team=RAILS, last=TODAY - dt.timedelta(days=45), metric="Outage minutes"),
            ]
        ),
        T,
    ).findings
    assert [(f.key, f.severity) for f in found] == [("team:100", HIGH), ("team:101", HIGH)]
    instant = found[0]
    assert instant.facts["stale"] == 1
    assert instant.facts["open"] == 2
    assert instant.facts["oldest_metric"] == "Settled within 10 s"
    assert instant.team_id == INSTANT
    assert instant.value_stream_id == PAYMENTS
    sentence = explain("stale_outcomes", instant.facts, show_money=False, currency="EUR")
    assert sentence.startswith("Instant Payments has 1 of 2 open key results without a check-in")
    assert "29 days on a 14-day cadence" in sentence


def test_a_team_s_only_key_result_gone_stale_is_said_plainly():
    found = stale_outcomes(
        inputs(key_results=[kr(1, last=TODAY - dt.timedelta(days=40), metric="NPS")]), T
    )
    assert explain("stale_outcomes", found.findings[0].facts, show_money=False, currency="EUR") == (
        "Instant Payments' only open key result, “NPS”, has had no check-in for 40 days, more "
        "than twice its 14-day cadence."
    )


def test_a_check_in_within_twice_the_cadence_keeps_stale_outcomes_silent():
    quiet = inputs(key_results=[kr(1, last=TODAY - dt.timedelta(days=28))])  # exactly 2 × 14
    assert stale_outcomes(quiet, T).findings == []


def test_stale_severity_is_medium_below_the_configured_share():
    result = stale_outcomes(
        inputs(key_results=[kr(1, last=TODAY - dt.timedelta(days=40)), kr(2, last=TODAY), kr(3)]),
        Thresholds(stale_share_high=50),
    )
    # kr 3 never had a check-in but started long ago: stale too → 2 of 3 ≥ 50 %
    assert result.findings[0].severity == HIGH
    result = stale_outcomes(
        inputs(key_results=[kr(1, last=TODAY - dt.timedelta(days=40)), kr(2, last=TODAY)]),
        Thresholds(stale_share_high=60),
    )
    assert result.findings[0].severity == MEDIUM


def test_stale_value_stream_and_portfolio_key_results_roll_up_on_their_own_level():
    found = stale_outcomes(
        inputs(key_results=[kr(1, level="value_stream", stream=CARDS), kr(2, level="portfolio")]),
        T,
    ).findings
    assert {f.key for f in found} == {"value_stream:11", "portfolio:1"}


# --- 2 decision without evidence, 3 review overdue ----------------------------------------------


def decision(pk, *, evidence=True, outcome=True, due=TODAY, reviewed=False, kind="increase"):
    return DecisionInfo(
        id=pk,
        kind=kind,
        kind_label=kind.capitalize(),
        value_stream_id=PAYMENTS,
        decided_on=dt.date(2025, 12, 1),
        review_due_on=due,
        has_evidence_snapshot=evidence,
        has_expected_outcome=outcome,
        reviewed=reviewed,
    )


def test_a_decision_without_evidence_fires_and_one_with_evidence_does_not():
    found = decisions_without_evidence(
        inputs(decisions=[decision(1, evidence=False), decision(2), decision(3, kind="exception", outcome=False)]),
        T,
    ).findings  # fmt: skip
    assert [(f.key, f.severity) for f in found] == [("decision:1", MEDIUM), ("decision:3", HIGH)]
    assert found[0].facts["missing"] == ["evidence"]
    sentence = explain(found[0].detector, found[0].facts, show_money=False, currency="EUR")
    assert sentence == (
        "The increase decision for Payments of 1 Dec 2025 was recorded with no evidence snapshot, "
        "so it cannot be reviewed against what was known and expected."
    )
    assert found[0].evidence[0].audience == "money"


def test_decisions_older_than_the_lookback_are_not_checked_for_evidence():
    old = decision(1, evidence=False)
    assert (
        decisions_without_evidence(
            inputs(decisions=[old]), Thresholds(decision_lookback_days=30)
        ).findings
        == []
    )


def test_a_review_past_its_date_fires_and_grows_severe_after_thirty_days():
    found = reviews_overdue(
        inputs(
            decisions=[
                decision(1, due=TODAY - dt.timedelta(days=5)),
                decision(2, due=TODAY - dt.timedelta(days=31)),
                decision(3, due=TODAY - dt.timedelta(days=60), reviewed=True),
                decision(4, due=TODAY),  # due today is not overdue yet
            ]
        ),
        T,
    ).findings
    assert [(f.key, f.severity) for f in found] == [("decision:2", HIGH), ("decision:1", MEDIUM)]
    assert explain(found[1].detector, found[1].facts, show_money=True, currency="EUR").endswith(
        "was due on 25 Feb 2026 and is 5 days overdue."
    )


# --- 4 guardrail breach -------------------------------------------------------------------------


def breach(rule, stream=None, ok=False):
    return Result(
        rule_id=rule,
        description="At least 10 % of capacity for Risk",
        scope="Cards" if stream else "Portfolio",
        value=Decimal(5),
        ok=ok,
        message="5 % for Risk — below the minimum of 10 %",
        value_stream_id=stream,
        kind="min_allocation",
    )


def test_a_breach_without_an_approved_exception_fires_and_an_excused_one_does_not():
    check = GuardrailCheck(
        period_id=7,
        period_name="2026 Q1",
        results=[breach(1, CARDS), breach(1, PAYMENTS), breach(2, ok=True)],
        excused_streams=frozenset({PAYMENTS}),
    )
    found = guardrail_breaches(inputs(guardrails=check), T).findings
    assert [f.key for f in found] == ["guardrail:1|value_stream:11"]
    sentence = explain(found[0].detector, found[0].facts, show_money=False, currency="EUR")
    assert sentence == (
        "2026 Q1 breaks the guardrail “At least 10 % of capacity for Risk” for Cards: "
        "5 % for Risk — below the minimum of 10 %, with no approved exception decision."
    )


def test_a_portfolio_wide_breach_is_excused_by_an_approved_exception_in_the_period():
    check = GuardrailCheck(7, "2026 Q1", [breach(3)], any_exception=True)
    assert guardrail_breaches(inputs(guardrails=check), T).findings == []
    check = GuardrailCheck(7, "2026 Q1", [breach(3)], any_exception=False)
    assert [f.key for f in guardrail_breaches(inputs(guardrails=check), T).findings] == [
        "guardrail:3"
    ]


def test_without_a_period_in_force_guardrails_have_nothing_to_judge():
    assert guardrail_breaches(inputs(), T).not_enough_data == ["No funding period is in force"]


# --- 5 project economics, 10 money and flow -----------------------------------------------------


def budget(stream=PAYMENTS, *, total="1500000", fixed="0", allocation=None):
    return BudgetInfo(
        id=stream + 500,
        value_stream_id=stream,
        period_name="2026 Q1",
        total=Decimal(total),
        fixed_scope=Decimal(fixed),
        allocation=allocation or {"Feature": 55, "Defect": 10, "Risk": 5, "Debt": 30},
    )


def test_fixed_scope_money_where_outcomes_are_expected_fires_and_money_is_shown_only_to_money_readers():
    found = project_economics(
        inputs(budgets=[budget(fixed="120000"), budget(CARDS, fixed="90000")], key_results=[kr(1)]),
        T,
    ).findings
    assert [f.key for f in found] == ["value_stream:10"]  # Cards has no key result
    facts = found[0].facts
    assert facts["share"] == 8.0
    assert found[0].severity == MEDIUM
    with_money = explain(found[0].detector, facts, show_money=True, currency="EUR")
    without = explain(found[0].detector, facts, show_money=False, currency="EUR")
    assert with_money == (
        "€120,000 (8 %) of Payments' €1,500,000 budget in 2026 Q1 is tied to fixed-scope "
        "projects while the value stream is expected to move 1 outcome key result."
    )
    assert without.startswith("8 % of Payments' budget in 2026 Q1 is tied to fixed-scope projects")
    assert "€" not in without
    assert "120" not in without


def test_no_fixed_scope_money_keeps_project_economics_silent():
    assert project_economics(inputs(budgets=[budget()], key_results=[kr(1)]), T).findings == []


def fixed_scope(pk, *, key_results=2, implementing=False, streams=(PAYMENTS,)):
    return FixedScopeInitiative(
        id=pk,
        title=f"Initiative {pk}",
        state="Implementing" if implementing else "Analysing",
        implementing=implementing,
        scope_budget=Decimal("450000"),
        end_date=dt.date(2026, 9, 30),
        key_results=key_results,
        value_stream_ids=streams,
    )


def test_a_fixed_scope_initiative_expected_to_move_key_results_is_the_finding_at_initiative_level():
    initiatives = [
        fixed_scope(7, implementing=True),
        fixed_scope(8, key_results=0),  # a project judged by its scope only: consistent
        fixed_scope(9, streams=(PAYMENTS, CARDS)),
    ]
    result = project_economics(inputs(fixed_scope_initiatives=initiatives), T)
    found = {f.key: f for f in result.findings}
    assert sorted(found) == ["initiative:7", "initiative:9"]
    assert result.checked == 3
    assert found["initiative:7"].severity == HIGH  # implementing: the money is committed
    assert found["initiative:9"].severity == MEDIUM  # still planned
    assert found["initiative:7"].value_stream_id == PAYMENTS
    assert found["initiative:9"].value_stream_id is None  # it spans two value streams
    assert found["initiative:9"].facts["value_streams"] == ["Payments", "Cards"]
    assert [e.url_name for e in found["initiative:7"].evidence] == ["initiative-detail"]
    facts = found["initiative:7"].facts
    assert explain(PROJECT_ECONOMICS, facts, show_money=True, currency="EUR") == (
        "“Initiative 7” (implementing) is funded as a fixed-scope project of €450,000 ending "
        "30 Sep 2026 while it is expected to move 2 outcome key results: its scope is fixed, "
        "its outcome is not."
    )
    without = explain(PROJECT_ECONOMICS, facts, show_money=False, currency="EUR")
    assert "€" not in without
    assert "450" not in without
    assert without.startswith(
        "“Initiative 7” (implementing) is funded as a fixed-scope project ending"
    )


def distribution(stream, done: dict[str, int]):
    frames = [
        weeks("value_stream", stream, {"velocity": [count // 4] * 4}, item_type=kind)
        for kind, count in done.items()
    ]
    return pd.concat(frames, ignore_index=True)


def test_money_and_flow_disagree_when_debt_is_budgeted_but_not_done():
    flow = distribution(PAYMENTS, {"Feature": 80, "Defect": 12, "Risk": 4, "Debt": 4})
    found = money_flow_disagreement(inputs(budgets=[budget()], flow_weeks=flow), T).findings
    assert len(found) == 1
    facts = found[0].facts
    assert (facts["item_type"], facts["target"], facts["done_share"]) == ("Debt", 30, 4.0)
    assert found[0].severity == MEDIUM  # 26 points: at least 15, below 30
    member = explain(found[0].detector, facts, show_money=False, currency="EUR")
    assert member == (
        "Payments targets 30 % of its capacity at Debt in 2026 Q1, but 4 % of the 100 items "
        "completed in the last 13 weeks were Debt (26 points apart)."
    )
    executive = explain(found[0].detector, facts, show_money=True, currency="EUR")
    assert "(€450,000 of its €1,500,000 budget)" in executive


def test_a_flow_distribution_close_to_the_target_is_silent_and_a_small_one_is_not_judged():
    close = distribution(PAYMENTS, {"Feature": 52, "Defect": 12, "Risk": 8, "Debt": 28})
    assert money_flow_disagreement(inputs(budgets=[budget()], flow_weeks=close), T).findings == []
    small = distribution(PAYMENTS, {"Feature": 12, "Debt": 0})
    result = money_flow_disagreement(inputs(budgets=[budget()], flow_weeks=small), T)
    assert result.findings == []
    assert result.not_enough_data == ["Payments: 12 completed items"]


# --- 6 unstable team, 11 dependency hotspot ----------------------------------------------------


def seats(rows):
    return pd.DataFrame(rows, columns=["team_id", "person_id", "start_date", "end_date"]).astype(
        {"start_date": object, "end_date": object}
    )


STEADY = [(RAILS, person, dt.date(2024, 1, 1), None) for person in range(1, 7)]


def test_churn_above_a_fifth_in_a_quarter_makes_a_team_unstable():
    churned = [
        (INSTANT, 10, dt.date(2024, 1, 1), dt.date(2026, 1, 20)),
        (INSTANT, 11, dt.date(2024, 1, 1), dt.date(2026, 2, 3)),
        (INSTANT, 12, dt.date(2026, 1, 21), None),
        (INSTANT, 13, dt.date(2026, 2, 4), None),
        *[(INSTANT, p, dt.date(2024, 1, 1), None) for p in (14, 15, 16, 17)],
    ]
    result = unstable_teams(inputs(memberships=seats(churned + STEADY)), T)
    assert [f.key for f in result.findings] == ["team:100"]
    facts = result.findings[0].facts
    assert facts["reasons"] == ["churn"]
    assert facts["quarter"] == "2026 Q1"
    assert facts["churn"] == pytest.approx(33.3, abs=0.1)  # (2 joined + 2 left) / 2 / 6
    assert explain(result.findings[0].detector, facts, show_money=False, currency="EUR") == (
        "Instant Payments is unstable: its membership churn was 33 % in 2026 Q1 (above 20 %)."
    )


def test_a_young_funded_team_and_people_in_three_teams_are_unstable_and_severe_together():
    young = TeamInfo(INSTANT, "Instant Payments", PAYMENTS, TODAY - dt.timedelta(days=40))
    spread = [(team, 99, dt.date(2025, 6, 1), None) for team in (INSTANT, RAILS, CLOUD)]
    result = unstable_teams(
        inputs(
            teams=[young, *inputs().teams[1:]],
            memberships=seats(STEADY + spread),
            people={99: "Robin Floater"},
        ),
        T,
    )
    by_key = {f.key: f for f in result.findings}
    assert by_key["team:100"].facts["reasons"] == ["young", "spread"]
    assert by_key["team:100"].severity == HIGH
    assert by_key["team:101"].facts["reasons"] == ["spread"]
    assert "Robin Floater sits in more than 2 teams" in explain(
        "unstable_team", by_key["team:101"].facts, show_money=False, currency="EUR"
    )


def test_a_steady_team_is_silent_and_a_tiny_team_is_not_judged_on_churn():
    result = unstable_teams(inputs(memberships=seats(STEADY)), T)
    assert result.findings == []
    assert "Instant Payments: 0 people" in result.not_enough_data


def test_a_team_many_others_depend_on_is_a_hotspot():
    interactions = pd.DataFrame(
        [
            (INSTANT, CLOUD, True),
            (RAILS, CLOUD, True),
            (200, CLOUD, False),
            (INSTANT, RAILS, False),
        ],
        columns=["team_id", "depends_on_id", "blocking"],
    )
    found = dependency_hotspots(inputs(interactions=interactions), T).findings
    assert [(f.key, f.severity) for f in found] == [("team:102|cause:dependents", HIGH)]
    assert explain(found[0].detector, found[0].facts, show_money=False, currency="EUR") == (
        "3 teams depend on Cloud Platform, 2 of them blocked by it."
    )
    fewer = interactions.iloc[1:]
    assert dependency_hotspots(inputs(interactions=fewer), T).findings == []


def test_much_blocked_time_is_a_hotspot_and_little_work_is_not_judged():
    week = 7 * 86400
    blocked = pd.DataFrame(
        [(INSTANT, 30, 0.3 * 20 * week, 20 * week), (RAILS, 30, 0.1 * 20 * week, 20 * week), (CLOUD, 6, 6 * week, 6 * week)],
        columns=["team_id", "items", "blocked_s", "in_progress_s"],
    )  # fmt: skip
    result = dependency_hotspots(inputs(blocked=blocked), T)
    assert [f.key for f in result.findings] == ["team:100|cause:blocked"]
    assert result.findings[0].facts["blocked_share"] == 30.0
    assert result.not_enough_data == ["Cloud Platform: 6 items in progress"]


# --- 7 output-only team -------------------------------------------------------------------------


def test_a_team_with_flow_but_no_open_key_result_is_output_only():
    flow = pd.concat(
        [
            weeks("team", INSTANT, {"velocity": [4] * 12}),
            weeks("team", RAILS, {"velocity": [3] * 12}),
            weeks("team", CLOUD, {"velocity": [0] * 12}),
        ]
    )
    found = output_only_teams(inputs(flow_weeks=flow, key_results=[kr(1)]), T).findings
    assert [f.key for f in found] == ["team:101"]  # Rails: flow, no KR; Cloud: no flow
    assert explain(found[0].detector, found[0].facts, show_money=False, currency="EUR") == (
        "Payment Rails completed 36 items in the last 12 weeks but owns no open outcome key "
        "result: its output is measured, its outcome is not."
    )


# --- 8 top-heavy pyramid ------------------------------------------------------------------------


def shaped(pk, shape, started, ended=None):
    return ShapedWork(pk, f"Initiative {pk}", shape, started, ended)


def test_without_initiatives_the_pyramid_has_not_enough_data():
    result = top_heavy_pyramid(inputs(), T)
    assert result.findings == []
    assert result.not_enough_data


def test_strategic_initiatives_above_their_cap_fire():
    work = [shaped(i, "strategic_initiative", dt.date(2026, 1, 5)) for i in range(4)]
    found = top_heavy_pyramid(inputs(work_shapes=work, strategic_cap=3), T).findings
    assert [(f.key, f.severity) for f in found] == [("portfolio:1|cause:cap", HIGH)]
    assert top_heavy_pyramid(inputs(work_shapes=work, strategic_cap=4), T).findings == []


def test_a_mix_moving_up_the_pyramid_fires_and_a_steady_one_does_not():
    early = dt.date(2025, 9, 1)
    missions = [shaped(i, "team_mission", early) for i in range(8)]
    # a quarter ago: 8 missions, 2 product groups; now 4 missions ended and 4 strategic started
    work = [
        *missions[:4],
        *[shaped(i, "team_mission", early, dt.date(2026, 1, 10)) for i in range(4, 8)],
        shaped(20, "product_group", early),
        shaped(21, "product_group", early),
        *[shaped(30 + i, "strategic_initiative", dt.date(2026, 1, 12)) for i in range(4)],
    ]
    found = top_heavy_pyramid(inputs(work_shapes=work), T).findings
    assert [f.key for f in found] == ["portfolio:1|cause:shift"]
    assert found[0].facts["above_before"] == 20.0
    assert found[0].facts["above_now"] == 60.0
    steady = [*missions, shaped(20, "product_group", early), shaped(21, "product_group", early)]
    assert top_heavy_pyramid(inputs(work_shapes=steady), T).findings == []


# --- 9 flow deviation ---------------------------------------------------------------------------

DAY = 86400


def test_control_band_is_mean_plus_minus_k_sigma_with_a_floor():
    band = control_band(pd.Series([10.0, 12.0, 8.0, 10.0]), sigmas=2)
    assert band.mean == 10.0
    assert band.high == pytest.approx(10 + 2 * 1.633, abs=1e-3)
    flat = control_band(pd.Series([5.0] * 8), sigmas=3)
    assert (flat.low, flat.high) == (4.5, 5.5)


def test_flow_time_above_the_band_fires_and_lasting_two_weeks_is_high():
    history = [9 * DAY, 10 * DAY, 11 * DAY, 10 * DAY, 9 * DAY, 10 * DAY, 11 * DAY, 10 * DAY, 9 * DAY, 10 * DAY, 11 * DAY, 10 * DAY]  # fmt: skip
    flow = weeks("value_stream", CARDS, {"flow_time_p85_s": [*history, 10 * DAY, 25 * DAY]})
    found = flow_deviation(inputs(flow_weeks=flow), T).findings
    assert [(f.key, f.severity) for f in found] == [
        ("value_stream:11|measure:flow_time_p85_s", MEDIUM)
    ]
    sentence = explain(found[0].detector, found[0].facts, show_money=False, currency="EUR")
    assert sentence.startswith(
        "Flow time p85 of Cards was 25 days in the week of 23 Feb 2026, above its control band of"
    )
    lasting = weeks("value_stream", CARDS, {"flow_time_p85_s": [*history, 24 * DAY, 25 * DAY]})
    assert flow_deviation(inputs(flow_weeks=lasting), T).findings[0].severity == HIGH


def test_flow_inside_the_band_or_better_than_it_is_silent():
    history = [10 * DAY, 11 * DAY, 9 * DAY] * 4
    inside = weeks("team", CLOUD, {"flow_time_p85_s": [*history, 10 * DAY, 11 * DAY]})
    faster = weeks("team", CLOUD, {"flow_time_p85_s": [*history, 10 * DAY, 2 * DAY]})
    assert flow_deviation(inputs(flow_weeks=inside), T).findings == []
    assert flow_deviation(inputs(flow_weeks=faster), T).findings == []


def test_efficiency_below_and_load_above_their_bands_fire():
    flow = weeks(
        "team",
        INSTANT,
        {
            "flow_efficiency": [0.4, 0.42, 0.38] * 4 + [0.4, 0.1],
            "load_mean": [20.0, 22.0, 21.0] * 4 + [21.0, 60.0],
        },
    )
    found = flow_deviation(inputs(flow_weeks=flow), T).findings
    assert {f.facts["measure"] for f in found} == {"flow_efficiency", "load_mean"}
    assert all(f.team_id == INSTANT and f.value_stream_id == PAYMENTS for f in found)


def test_fewer_than_eight_weekly_points_or_twenty_items_is_not_enough_data():
    short = weeks("team", CLOUD, {"flow_time_p85_s": [10 * DAY] * 6 + [40 * DAY]})
    result = flow_deviation(inputs(flow_weeks=short), T)
    assert result.findings == []
    assert result.not_enough_data
    few = weeks(
        "team", CLOUD, {"flow_time_p85_s": [10 * DAY] * 13 + [40 * DAY], "velocity": [1] * 14}
    )
    result = flow_deviation(inputs(flow_weeks=few), T)
    assert result.findings == []
    assert "12 items" in result.not_enough_data[0]


# --- 12 data you should not trust yet -----------------------------------------------------------


def test_unmapped_statuses_above_the_share_and_old_metrics_are_untrustworthy():
    run = RunInfo(
        as_of=AS_OF - dt.timedelta(days=5),
        caveats={"items": 400, "truncated_histories": 4, "incidents": 10, "incidents_unlinked": 9, "unmapped_statuses": ["Awaiting Vendor"]},
        unmapped_items=84,
    )  # fmt: skip
    result = untrusted_data(inputs(run=run, work_items=400), T)
    keys = {f.key: f for f in result.findings}
    assert set(keys) == {"portfolio:1|caveat:stale_metrics", "portfolio:1|caveat:unmapped"}
    assert keys["portfolio:1|caveat:unmapped"].severity == HIGH  # 21 % ≥ 4 × 5 %
    assert explain("untrusted_data", keys["portfolio:1|caveat:unmapped"].facts, show_money=False, currency="EUR") == (
        "21 % of the 400 items went through a status without a mapping (Awaiting Vendor) and "
        "count it as waiting — above 5 %."
    )  # fmt: skip
    assert "incidents unlinked: 10 incidents" in result.not_enough_data


def test_clean_recent_data_is_trusted_and_no_data_is_not_judged():
    run = RunInfo(
        as_of=AS_OF - dt.timedelta(hours=6), caveats={"items": 400, "truncated_histories": 8}
    )
    assert untrusted_data(inputs(run=run, work_items=400), T).findings == []
    assert untrusted_data(inputs(), T).not_enough_data == ["No delivery data yet"]


# --- all together -------------------------------------------------------------------------------


def test_every_detector_runs_on_an_empty_portfolio_without_an_alarm():
    runs = run_detectors(inputs(), T)
    assert [run.code for run in runs] == [info.code for info in DETECTORS]
    assert all(run.error == "" and run.result.findings == [] for run in runs)


def test_a_detector_that_fails_is_reported_and_the_others_still_run():
    broken = inputs(flow_weeks=pd.DataFrame({"nonsense": [1]}))
    runs = {run.code: run for run in run_detectors(broken, T)}
    assert runs["flow_deviation"].result is None
    assert "KeyError" in runs["flow_deviation"].error
    assert runs["stale_outcomes"].result is not None


def test_no_detector_reads_experiments_pulse_or_stopped_work():
    # learning is never a signal against a team: the inputs carry none of it
    fields = set(PortfolioInputs.__dataclass_fields__)
    assert not {f for f in fields if "experiment" in f or "pulse" in f or "stop" in f}


def test_people_friendly_numbers():
    assert money(Decimal("1250000.40"), "EUR") == "€1,250,000"
    assert money("90000", "CHF") == "CHF 90,000"
    assert percent(12.46, 1) == "12.5 %"
    assert percent(30) == "30 %"
    assert duration(5 * 3600) == "5 hours"
    assert duration(1.5 * DAY) == "1.5 days"
    assert duration(DAY) == "1 day"
    assert duration(23.4 * DAY) == "23 days"


def test_the_detectors_are_pure_they_import_no_django():
    code = "import sys, leanpmo.detectors.registry; print(any(m.startswith('django') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_band_never_goes_below_zero():
    flow = weeks("team", CLOUD, {"load_mean": [1.0, 9.0] * 6 + [5.0, 30.0]})
    found = flow_deviation(inputs(flow_weeks=flow), T).findings
    assert found[0].facts["low"] == 0.0
    assert "control band of 0–" in explain(
        "flow_deviation", found[0].facts, show_money=False, currency="EUR"
    )


def test_a_value_just_outside_its_band_is_shown_with_enough_digits_to_differ():
    facts = {"scope": "team", "name": "Identity & KYC", "measure": "flow_efficiency", "label": "flow efficiency", "week": "2026-W48", "value": 0.20801, "low": 0.20812, "high": 0.637, "mean": 0.42, "weeks": 10, "lasting": False}  # fmt: skip
    assert explain("flow_deviation", facts, show_money=False, currency="EUR") == (
        "Flow efficiency of Identity & KYC was 20.8 % in the week of 23 Nov 2026, below its control band of "
        "20.81–63.7 % (the 10 weeks before)."
    )
