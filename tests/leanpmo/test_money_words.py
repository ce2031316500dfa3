"""The money pages' words for people, from pure functions: guardrail sentences, plan values and
changes, evidence then and now (no database)."""

from decimal import Decimal

from leanpmo.guardrails import PlanRow, Rule, check_plan, explain

MINUS = "\u2212"
RULES = [
    Rule(1, "horizon_share", "Run 40–70", horizon="run", min_percent=Decimal(40), max_percent=Decimal(70)),
    Rule(2, "max_budget_change", "±25", max_percent=Decimal(25)),
    Rule(3, "min_allocation", "Debt ≥ 10", item_type="Debt", min_percent=Decimal(10)),
    Rule(4, "max_fixed_scope_share", "fixed ≤ 20", max_percent=Decimal(20)),
    Rule(5, "horizon_share", "Transform ≤ 25", horizon="transform", max_percent=Decimal(25)),
]  # fmt: skip


def _row(vs, name, run, grow, transform, debt=10, fixed="0"):
    return PlanRow(
        vs, name, {"run": Decimal(run), "grow": Decimal(grow), "transform": Decimal(transform)},
        {"Feature": 80 - debt, "Defect": 10, "Risk": 10, "Debt": debt}, Decimal(fixed),
    )  # fmt: skip


def _by(results):
    return {(r.rule_id, r.value_stream_id): r for r in results}


def test_a_breach_reads_as_a_sentence_with_the_value_and_the_limit():
    rows = [
        _row(1, "Payments", 800000, 100000, 100000, debt=5, fixed="300000"),
        _row(2, "Cards", 100000, 100000, 800000),
    ]
    results = _by(
        check_plan(rows, RULES, previous_totals={1: Decimal(1000000), 2: Decimal(700000)})
    )
    assert explain(results[(1, None)], proposed=True) == (
        "Run would be 45 % of the money; the limits are 40 % and 70 %"
    )
    assert explain(results[(5, None)], proposed=True) == (
        "Transform would be 45 % of the money; the limit is 25 %"
    )
    assert explain(results[(2, 2)], currency="EUR", proposed=True) == (
        "The budget of Cards would change by +42.9 % against the previous period "
        "(700,000 → 1,000,000 EUR); the limit is ±25 %"
    )
    assert (
        explain(results[(3, 1)])
        == "Payments gives 5 % of its capacity to Debt; the minimum is 10 %"
    )
    assert (
        explain(results[(4, None)])
        == "15 % of the money is tied to fixed-scope projects; the limit is 20 %"
    )


def test_a_share_below_its_band_names_the_minimum():
    low = _by(check_plan([_row(1, "Payments", 300, 500, 200)], RULES[:1]))[(1, None)]
    assert not low.ok
    assert explain(low) == "Run is 30 % of the money; the minimum is 40 %"


def test_a_decrease_reads_with_a_real_minus_sign():
    result = _by(
        check_plan([_row(1, "Cards", 50, 0, 0)], RULES[1:2], previous_totals={1: Decimal(100)})
    )[(2, 1)]
    assert explain(result, currency="EUR") == (
        f"The budget of Cards changes by {MINUS}50 % against the previous period (100 → 50 EUR); "
        "the limit is ±25 %"
    )


def test_plan_values_read_as_money_percent_and_theme_names():
    from leanpmo import plan_text

    themes = {"4": "Payments first", "5": "Trust"}
    assert plan_text.change(
        "amount_run", Decimal("300000.00"), Decimal("320300.00"), currency="EUR"
    ) == (plan_text.Change("Run", "300,000 EUR", "320,300 EUR"))
    assert plan_text.change("theme_split", None, {"4": 60, "5": 40}, themes=themes) == (
        plan_text.Change("Strategic themes", "—", "Payments first 60 % · Trust 40 %")
    )
    assert plan_text.value_text("theme_split", '{"5": 40, "4": 60}', themes=themes) == (
        "Payments first 60 % · Trust 40 %"  # as a scenario keeps it: JSON text
    )
    assert plan_text.value_text("theme_split", {}, themes=themes) == "not split over themes"
    assert plan_text.value_text("theme_split", {"9": 100}, themes=themes) == "theme 9 100 %"
    assert plan_text.value_text("alloc_debt", 15) == "15 %"
    assert plan_text.value_text("fixed_scope_amount", "46613.00", currency="EUR") == "46,613 EUR"
    # a scenario's drift names fields by the grid's labels
    assert plan_text.changes([("Debt %", "10", "5"), ("Grow", "300000.00", "350000.00")]) == [
        plan_text.Change("Debt", "10 %", "5 %"),
        plan_text.Change("Grow", "300,000", "350,000"),
    ]


NOVEMBER = {
    "window": "2026-11",
    "flow": {
        "All": {"velocity": 40, "flow_time_p85_days": 24.5, "flow_efficiency": 0.29, "load_mean": 20.2, "share": None},
        "Debt": {"velocity": 11, "flow_efficiency": 0.287, "share": 0.275},
        "Defect": {"velocity": 11, "share": 0.275},
        "Feature": {"velocity": 15, "share": 0.375},
        "Risk": {"velocity": 3, "share": 0.075},
    },
    "dora": {"window": "2026-11", "deployments": 26, "deployment_frequency_tier": "high",
             "median_lead_time_minutes": 678.0, "lead_time_tier": "elite",
             "change_failure_rate": 0.038461538461538464, "change_failure_rate_tier": "elite"},
}  # fmt: skip
DECEMBER = {
    "window": "2026-12",
    "flow": {"All": {"velocity": 46, "flow_time_p85_days": 20.0, "flow_efficiency": 0.33, "load_mean": 21.0}},
    "dora": {"window": "2026-12", "deployments": 20, "deployment_frequency_tier": "high",
             "median_lead_time_minutes": 3493.0, "lead_time_tier": "high",
             "change_failure_rate": 0.1, "change_failure_rate_tier": "high"},
}  # fmt: skip


def test_evidence_reads_for_people_with_shares_that_add_up_to_100():
    from leanpmo import evidence

    lines = evidence.flow_lines(NOVEMBER)
    assert [line.kind for line in lines] == ["All items", "Debt", "Defect", "Feature", "Risk"]
    assert (lines[0].velocity, lines[0].flow_time, lines[0].efficiency, lines[0].load) == (
        "40", "24 days", "29 %", "20.2",
    )  # fmt: skip
    # 27.5 + 27.5 + 37.5 + 7.5: rounded one by one they made 102 %; ties go to the earlier
    assert [line.share for line in lines[1:]] == ["28 %", "28 %", "37 %", "7 %"]
    assert evidence.dora_sentence(NOVEMBER) == (
        "26 deployments · lead time 11.3 h (elite) · change failure rate 3.8 % (elite)"
    )
    assert evidence.dora_sentence({"dora": {"deployments": 1}}) == "1 deployment"
    assert evidence.window_label("2026-11") == "November 2026"
    assert evidence.window_label("2026-W07") == "2026-W07"


def test_the_figures_then_and_now_compare_whole_months_with_the_change_and_its_direction():
    from leanpmo import evidence

    comparison = evidence.compare(NOVEMBER, DECEMBER)
    assert (comparison.then_window, comparison.now_window, comparison.same_window) == (
        "November 2026", "December 2026", False,
    )  # fmt: skip
    rows = {row.measure: row for row in comparison.rows}
    assert rows["Items finished"] == evidence.Row(
        "Items finished", "40 items", "46 items", "+6", "better"
    )
    assert rows["Flow time, 85th percentile"].change.startswith("\u2212")  # shorter: better
    assert rows["Flow time, 85th percentile"].trend == "better"
    assert rows["Flow efficiency"].change == "+4 pts"
    assert rows["Deployments"] == evidence.Row(
        "Deployments", "26 deployments (high)", "20 deployments (high)", "\u22126", "worse"
    )
    assert rows["Lead time for changes (median)"].now == "2.4 days (high)"  # not "3493.0 min"
    assert rows["Change failure rate"].now == "10 % (high)"
    assert rows["Change failure rate"].trend == "worse"


def test_no_month_ended_since_the_decision_says_so_and_when_the_next_one_does():
    import datetime as dt

    from leanpmo import evidence

    comparison = evidence.compare(NOVEMBER, NOVEMBER)
    assert comparison.same_window
    assert comparison.next_complete == dt.date(2026, 12, 1)
    assert {row.change for row in comparison.rows} == {"no change"}
    assert evidence.next_month_start("2026-12") == dt.date(2027, 1, 1)
    assert evidence.compare({}, {}).empty


def test_an_initiatives_leading_indicators_move_towards_their_target():
    from leanpmo import evidence

    then = {"key_results": [{"metric": "Card disputes in app", "unit": "%", "baseline": "10", "target": "60", "latest": "20"},
                            {"metric": "Call volume", "unit": "calls", "baseline": "900", "target": "500", "latest": "800"}]}  # fmt: skip
    now = {"key_results": [{"metric": "Card disputes in app", "latest": "35"}, {"metric": "Call volume", "latest": "850"}]}  # fmt: skip
    rows = evidence.compare(then, now).key_results
    assert rows[0] == evidence.Row(
        "Card disputes in app (target 60 %)", "20 %", "35 %", "+15 %", "better"
    )
    assert rows[1] == evidence.Row(
        "Call volume (target 500 calls)", "800 calls", "850 calls", "+50 calls", "worse"
    )


def test_the_strategic_cap_reads_as_a_sentence():
    from leanpmo.guardrails import wip_sentence

    assert wip_sentence(in_progress=2, limit=2) == (
        "Starting it would make 3 strategic initiatives in progress; the limit is 2"
    )
    assert (
        wip_sentence(in_progress=0, limit=None)
        == "Starting it would make 1 strategic initiative in progress"
    )
