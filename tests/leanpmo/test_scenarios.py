"""Scenarios: copy a period's plan, edit it without touching budgets, compare, promote into decisions."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leanpmo.guardrails import Result
from leanpmo.metrics.comparison import guardrail_comparison, inferred_kind, plan_drift
from leanpmo.models import (
    ExceptionApproval,
    FundingDecision,
    Guardrail,
    Scenario,
    ScenarioLine,
    ValueStreamBudget,
)
from leanpmo.selectors.scenarios import scenario_comparison
from leanpmo.services.budgets import budget_apply
from leanpmo.services.decisions import DecisionInput
from leanpmo.services.exception_approvals import exception_decide
from leanpmo.services.money_plans import PlanRowError, VersionConflict
from leanpmo.services.scenarios import (
    ScenarioStale,
    promotion_plan,
    scenario_create,
    scenario_line_change,
    scenario_promote,
    scenario_refresh,
)
from leanpmo.services.structure import guardrail_save
from tests.access import EDITORS, AccessContract
from tests.factories import ValueStreamFactory
from tests.leanpmo.support import NOW, funding_for, make_budget, scenario_for
from tests.leanpmo.test_views import MONEY_READERS

MOVE = Decimal("100000")


def _state():
    """Budgets, decisions and scenario lines as stored (to prove a refusal changed nothing)."""
    return (
        list(ValueStreamBudget.objects.values().order_by("pk")),
        FundingDecision.objects.count(),
        list(ScenarioLine.objects.values().order_by("pk")),
        list(Scenario.objects.values("pk", "status").order_by("pk")),
    )


@pytest.fixture
def plan(org):
    """Payments (600k / 300k / 100k) and Cards (500k / 200k / 150k) in a draft period."""
    funding = funding_for(org)
    cards = ValueStreamFactory(portfolio=org.portfolio, name="Cards")
    other = make_budget(funding.period, cards, run="500000", grow="200000", transform="150000")
    return funding, other


def _decide(kind: str) -> DecisionInput:
    return DecisionInput(kind=kind, rationale="Cards grows faster.", expected_outcome="More cards.")


def _move_run(scenario: Scenario, from_stream, to_stream, amount=MOVE) -> None:
    lines = {line.value_stream_id: line for line in scenario.lines.all()}
    source, target = lines[from_stream.pk], lines[to_stream.pk]
    scenario_line_change(
        line=source,
        expected_version=source.version,
        changes={"amount_run": source.amount_run - amount},
    )
    scenario_line_change(
        line=target,
        expected_version=target.version,
        changes={"amount_run": target.amount_run + amount},
    )


# --- services -----------------------------------------------------------------------------------


def test_a_scenario_copies_every_budget_of_the_period_and_edits_never_touch_the_budgets(org, plan):
    funding, cards = plan
    budgets_before = list(ValueStreamBudget.objects.values().order_by("pk"))
    scenario = scenario_create(
        period=funding.period, name="More cards", user=org.users["pmo"], now=NOW
    )
    lines = list(scenario.lines.order_by("value_stream__name"))
    assert [(line.value_stream.name, line.total) for line in lines] == [
        ("Cards", Decimal("850000.00")),
        ("Payments", Decimal("1000000.00")),
    ]
    assert [line.base_version for line in lines] == [cards.version, funding.budget.version]
    assert lines[1].base["amount_run"] == "600000.00"
    _move_run(scenario, org.value_stream, cards.value_stream)
    assert list(ValueStreamBudget.objects.values().order_by("pk")) == budgets_before
    assert ScenarioLine.objects.get(pk=lines[1].pk).version == 2


def test_a_closed_period_cannot_be_copied_and_names_are_unique_in_a_period(org, plan):
    funding, _ = plan
    scenario_create(period=funding.period, name="Twice", user=org.users["pmo"], now=NOW)
    with pytest.raises(ValidationError) as refused:
        scenario_create(period=funding.period, name="Twice", user=org.users["pmo"], now=NOW)
    assert "already has a scenario with this name" in str(refused.value.message_dict)
    funding.period.status = "closed"
    funding.period.save()
    with pytest.raises(ValidationError) as closed:
        scenario_create(period=funding.period, name="Late", user=org.users["pmo"], now=NOW)
    assert "closed" in closed.value.message_dict["period"][0]
    assert Scenario.objects.count() == 1


def test_a_stale_edit_of_a_scenario_line_conflicts_and_changes_nothing(org, plan):
    scenario = scenario_for(org)
    line = scenario.lines.get(value_stream=org.value_stream)
    scenario_line_change(line=line, expected_version=1, changes={"amount_run": Decimal(1)})
    before = _state()
    with pytest.raises(VersionConflict):
        scenario_line_change(line=line, expected_version=1, changes={"amount_run": Decimal(2)})
    assert _state() == before


def test_the_comparison_shows_streams_horizons_themes_and_guardrails_beside_the_plan(org, plan):
    funding, cards = plan
    from leanpmo.services.structure import theme_create

    theme = theme_create(portfolio=org.portfolio, name="Digital first")
    funding.budget.theme_split = {str(theme.pk): 100}
    funding.budget.save()
    scenario = scenario_for(org)
    _move_run(scenario, org.value_stream, cards.value_stream)
    line = scenario.lines.get(value_stream=cards.value_stream)
    scenario_line_change(
        line=line, expected_version=line.version, changes={"alloc_debt": 5, "alloc_feature": 70}
    )
    comparison = scenario_comparison(scenario)
    streams = comparison.tables["streams"].to_dict("records")
    assert streams == [
        {"value_stream": "Cards", "plan": 850000.0, "scenario": 950000.0, "change": 100000.0,
         "change_pct": 11.8},
        {"value_stream": "Payments", "plan": 1000000.0, "scenario": 900000.0, "change": -100000.0,
         "change_pct": -10.0},
    ]  # fmt: skip
    horizons = comparison.tables["horizons"].set_index("horizon")
    assert horizons.loc["Run", "plan"] == horizons.loc["Run", "scenario"] == 1100000.0
    assert horizons.loc["Total", "change"] == 0
    themes = comparison.tables["themes"].set_index("theme")
    assert themes.loc["Digital first", "change"] == -100000.0
    assert themes.loc["(no theme)", "change"] == 100000.0
    guardrails = comparison.tables["guardrails"]
    new = guardrails[guardrails["verdict"] == "new breach"]
    assert new[["guardrail", "scope"]].values.tolist() == [
        ["At least 10 % of capacity for Debt", "Cards"]
    ]
    assert [r.scope for r in comparison.new_breaches] == ["Cards"]
    assert comparison.drift == []


def test_promoting_in_a_draft_period_applies_each_change_with_one_decision_per_stream(org, plan):
    funding, cards = plan
    scenario = scenario_for(org)
    _move_run(scenario, org.value_stream, cards.value_stream)
    suggested = {p.line.value_stream.name: p.kind for p in promotion_plan(scenario)}
    assert suggested == {"Cards": "increase", "Payments": "decrease"}
    events_before = funding.budget.events.count()
    result = scenario_promote(
        scenario=scenario,
        decisions={cards.value_stream_id: _decide("increase"), org.value_stream.pk: _decide("decrease")},
        user=org.users["pmo"],
        now=NOW,
    )  # fmt: skip
    funding.budget.refresh_from_db()
    cards.refresh_from_db()
    assert (funding.budget.amount_run, funding.budget.version) == (Decimal("500000.00"), 2)
    assert (cards.amount_run, cards.version) == (Decimal("600000.00"), 2)
    assert funding.budget.events.count() == events_before + 1  # the audit history has the change
    scenario.refresh_from_db()
    assert scenario.status == "promoted"
    assert scenario.promoted_by == org.users["pmo"]
    decisions = sorted(scenario.decisions.all(), key=lambda d: d.value_stream.name)
    assert [(d.value_stream.name, d.kind, d.amount_before, d.amount_after) for d in decisions] == [
        ("Cards", "increase", Decimal("850000.00"), Decimal("950000.00")),
        ("Payments", "decrease", Decimal("1000000.00"), Decimal("900000.00")),
    ]
    assert not any(change.pending for change in result.results)
    with pytest.raises(ValidationError, match="promoted"):
        scenario_promote(scenario=scenario, decisions={}, user=org.users["pmo"], now=NOW)


def test_in_an_approved_period_a_breaching_stream_needs_an_exception_the_executive_approves(
    org, plan
):
    _funding, cards = plan
    funding_for(org, approved=True)
    scenario = scenario_for(org)
    _move_run(scenario, org.value_stream, cards.value_stream)
    line = scenario.lines.get(value_stream=cards.value_stream)
    scenario_line_change(
        line=line, expected_version=line.version, changes={"alloc_debt": 5, "alloc_feature": 70}
    )
    suggested = {p.line.value_stream.name: p.kind for p in promotion_plan(scenario)}
    assert suggested == {"Cards": "exception", "Payments": "decrease"}
    before = _state()
    with pytest.raises(PlanRowError) as refused:
        scenario_promote(
            scenario=scenario,
            decisions={cards.value_stream_id: _decide("increase"), org.value_stream.pk: _decide("decrease")},
            user=org.users["pmo"], now=NOW,
        )  # fmt: skip
    assert refused.value.row.value_stream_id == cards.value_stream_id
    assert "exception" in refused.value.error.message_dict["decision_kind"][0]
    assert _state() == before
    result = scenario_promote(
        scenario=scenario,
        decisions={cards.value_stream_id: _decide("exception"), org.value_stream.pk: _decide("decrease")},
        user=org.users["pmo"], now=NOW,
    )  # fmt: skip
    pending = {change.budget.value_stream.name: change.pending for change in result.results}
    assert pending == {"Cards": True, "Payments": False}
    cards.refresh_from_db()
    assert (cards.alloc_debt, cards.amount_run) == (15, Decimal("500000.00"))  # waits
    exception = FundingDecision.objects.get(kind="exception")
    assert exception.base_version == 1
    assert exception.proposal["amount_run"] == "600000.00"
    exception_decide(
        decision=exception, user=org.users["executive"], approved=True, note="", now=NOW
    )
    cards.refresh_from_db()
    assert (cards.alloc_debt, cards.amount_run, cards.version) == (5, Decimal("600000.00"), 2)
    assert ExceptionApproval.objects.get(decision=exception).approved
    assert set(scenario.decisions.all()) == set(FundingDecision.objects.filter(scenarios=scenario))


def test_moving_money_is_judged_on_the_whole_scenario_not_half_way(org, plan):
    """Transform at most 14 %: Cards' gain alone would break it (it is written first), the move not."""
    _funding, cards = plan
    guardrail_save(
        portfolio=org.portfolio, user=org.users["pmo"], kind=Guardrail.Kind.HORIZON_SHARE,
        horizon="transform", min_percent=Decimal(10), max_percent=Decimal(14),
    )  # fmt: skip
    funding_for(org, approved=True)
    scenario = scenario_for(org)
    # Transform 250k of 1.85M = 13.5 %; move 50k of Transform from Payments to Cards: still 13.5 %,
    # but Cards' +50k beside Payments' unchanged budget would be 300k of 1.9M = 15.8 %
    lines = {line.value_stream_id: line for line in scenario.lines.all()}
    for stream, delta in ((cards.value_stream_id, 50000), (org.value_stream.pk, -50000)):
        line = lines[stream]
        scenario_line_change(
            line=line,
            expected_version=line.version,
            changes={"amount_transform": line.amount_transform + delta},
        )
    kinds = {p.line.value_stream_id: p.kind for p in promotion_plan(scenario)}
    assert kinds == {cards.value_stream_id: "increase", org.value_stream.pk: "decrease"}
    result = scenario_promote(
        scenario=scenario,
        decisions={stream: _decide(kind) for stream, kind in kinds.items()},
        user=org.users["pmo"],
        now=NOW,
    )
    assert not any(change.pending for change in result.results)


def test_a_stale_scenario_says_what_changed_refuses_promotion_and_refreshes(org, plan):
    funding, cards = plan
    scenario = scenario_for(org)
    _move_run(scenario, org.value_stream, cards.value_stream)
    untouched = ValueStreamFactory(portfolio=org.portfolio, name="Savings")
    budget_apply(
        budget=funding.budget, expected_version=1, user=org.users["admin"],
        changes={"amount_grow": Decimal("350000")},
    )  # fmt: skip
    make_budget(funding.period, untouched)
    drift = scenario_comparison(scenario).drift
    assert [(d.value_stream, d.kind) for d in drift] == [
        ("Payments", "changed"),
        ("Savings", "added"),
    ]
    assert drift[0].changes == (("Grow", "300000.00", "350000.00"),)
    before = _state()
    with pytest.raises(ScenarioStale):
        scenario_promote(
            scenario=scenario,
            decisions={cards.value_stream_id: _decide("increase"), org.value_stream.pk: _decide("decrease")},
            user=org.users["pmo"], now=NOW,
        )  # fmt: skip
    assert _state() == before
    scenario_refresh(scenario=scenario)
    lines = {line.value_stream.name: line for line in scenario.lines.all()}
    # edited lines keep the scenario's values on the new base; new budgets come in
    assert lines["Payments"].amount_run == Decimal("500000.00")
    assert lines["Payments"].amount_grow == Decimal("300000.00")
    assert lines["Payments"].base_version == 2
    assert lines["Savings"].amount_run == Decimal("600000.00")
    assert scenario_comparison(scenario).drift == []


def test_a_plan_that_moves_during_promotion_rolls_everything_back(org, plan):
    _funding, cards = plan
    scenario = scenario_for(org)
    _move_run(scenario, org.value_stream, cards.value_stream)
    # the version moved but the values did not: drift sees nothing, the budget write refuses
    ValueStreamBudget.objects.filter(pk=cards.pk).update(version=5)
    before = _state()
    with pytest.raises(VersionConflict):
        scenario_promote(
            scenario=scenario,
            decisions={cards.value_stream_id: _decide("increase"), org.value_stream.pk: _decide("decrease")},
            user=org.users["pmo"], now=NOW,
        )  # fmt: skip
    assert _state() == before


# --- pure comparison ----------------------------------------------------------------------------


def test_inferred_kind_follows_the_money():
    assert inferred_kind(Decimal(0), Decimal(5)) == "start"
    assert inferred_kind(Decimal(5), Decimal(0)) == "stop"
    assert inferred_kind(Decimal(5), Decimal(6)) == "increase"
    assert inferred_kind(Decimal(6), Decimal(5)) == "decrease"
    assert inferred_kind(Decimal(5), Decimal(5)) == "continue"


def test_plan_drift_is_empty_when_nothing_changed_and_names_fields_that_did():
    same = {1: ("A", {"amount_run": "1.00"})}
    assert plan_drift(same, same) == []
    assert plan_drift({}, {}) == []
    moved = plan_drift(same, {1: ("A", {"amount_run": "2.00"}), 2: ("B", {})})
    assert [(d.value_stream, d.kind, d.changes) for d in moved] == [
        ("A", "changed", (("Run", "1.00", "2.00"),)),
        ("B", "added", ()),
    ]


def test_guardrail_comparison_tells_new_resolved_and_kept_breaches():
    def result(rule, ok, stream=None):
        return Result(rule, f"rule {rule}", "S", Decimal(1), ok, "m", stream)

    plan = [result(1, True), result(2, False), result(3, False, 7)]
    scenario = [result(1, False), result(2, True), result(3, False, 7), result(4, True)]
    frame = guardrail_comparison(plan, scenario)
    assert frame["verdict"].tolist() == [
        "new breach",
        "still breached",
        "breach resolved",
        "within",
    ]
    assert guardrail_comparison([], []).empty


# --- pages --------------------------------------------------------------------------------------


def _grid(scenario, **overrides) -> dict:
    lines = list(scenario.lines.order_by("value_stream__name"))
    data = {"rows-TOTAL_FORMS": str(len(lines)), "rows-INITIAL_FORMS": str(len(lines)),
            "rows-MIN_NUM_FORMS": "0", "rows-MAX_NUM_FORMS": "1000"}  # fmt: skip
    for index, line in enumerate(lines):
        data[f"rows-{index}-line"] = str(line.pk)
        data[f"rows-{index}-version"] = str(line.version)
        for name in ("amount_run", "amount_grow", "amount_transform", "fixed_scope_amount",
                     "alloc_feature", "alloc_defect", "alloc_risk", "alloc_debt"):  # fmt: skip
            data[f"rows-{index}-{name}"] = str(getattr(line, name))
    data.update({f"rows-{key}": value for key, value in overrides.items()})
    return data


def test_pmo_creates_a_scenario_from_the_current_period_and_saves_its_grid(org, client_for, plan):
    funding, _ = plan
    client = client_for("pmo")
    response = client.post(
        reverse("scenario-list", args=[org.portfolio.pk]),
        {"name": "More cards", "period": funding.period.pk, "description": "What if?"},
    )
    scenario = Scenario.objects.get(name="More cards")
    assert response.status_code == 302
    assert response["Location"] == reverse("scenario-detail", args=[scenario.pk])
    budgets = list(ValueStreamBudget.objects.values().order_by("pk"))
    # rows are in name order: 0 Cards, 1 Payments
    response = client.post(
        reverse("scenario-detail", args=[scenario.pk]),
        _grid(scenario, **{"0-amount_run": "600000", "1-amount_run": "500000"}),
    )
    assert response.status_code == 302
    totals = dict(scenario.lines.values_list("value_stream__name", "amount_run"))
    assert totals == {"Cards": Decimal("600000.00"), "Payments": Decimal("500000.00")}
    assert list(ValueStreamBudget.objects.values().order_by("pk")) == budgets
    page = client.get(reverse("scenario-detail", args=[scenario.pk]))
    assert page.context["charts"]["streams"]["rows"][0] == [
        "Cards",
        "850,000 EUR",
        "950,000 EUR",
        "+100,000 EUR",
        "+11.8 %",
    ]
    streams = page.context["charts"]["streams"]
    assert (
        streams["finding"] == "The scenario moves 100k\xa0EUR: most at Cards (+100,000)"
    )  # one line
    bars = {trace["name"]: trace for trace in streams["figure"]["data"]}
    assert (bars["Plan"]["y"], bars["Plan"]["x"]) == (["Cards", "Payments"], [850000.0, 1000000.0])
    assert bars["Scenario"]["x"] == [950000.0, 900000.0]
    assert bars["Scenario"]["customdata"] == ["+100,000 EUR", "−100,000 EUR"]
    assert b"Turn into decisions" in page.content


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ({"1-amount_run": "-5"}, "amount_run", "Money cannot be negative."),
        ({"1-amount_grow": "lots"}, "amount_grow", "Enter a number."),
        ({"1-alloc_feature": "50"}, "alloc_feature", "must add up to 100 %"),
        ({"1-fixed_scope_amount": "5000000"}, "fixed_scope_amount", "cannot exceed"),
    ],
)
def test_bad_scenario_input_gets_400_naming_the_field_and_changes_nothing(
    org, client_for, plan, override, field, message
):
    scenario = scenario_for(org)
    before = _state()
    response = client_for("pmo").post(
        reverse("scenario-detail", args=[scenario.pk]), _grid(scenario, **override)
    )
    assert response.status_code == 400
    errors = response.context["formset"].forms[1].errors
    assert any(message in error for error in errors[field]), errors
    assert _state() == before


def test_a_refused_scenario_grid_shows_what_was_typed_and_errors_on_the_fields_typed(
    org, client_for, plan
):
    scenario = scenario_for(org)
    payments = scenario.lines.get(value_stream=org.value_stream)
    before = _state()
    response = client_for("pmo").post(
        reverse("scenario-detail", args=[scenario.pk]),
        _grid(scenario, **{"1-alloc_debt": "5", "1-fixed_scope_amount": "5000000"}),
    )
    assert response.status_code == 400
    assert _state() == before
    errors = response.context["formset"].forms[1].errors
    assert "adds up to 90 %" in errors["alloc_debt"][0]
    assert "alloc_feature" not in errors
    summary = response.context["summary"]
    assert summary["row_totals"][payments.pk] == (Decimal("1000000.00"), 90)
    assert summary["totals"]["fixed_scope"] == Decimal("5000000")
    assert [(r.scope, r.description) for r in summary["new_breaches"]] == [
        ("Payments", "At least 10 % of capacity for Debt")
    ]
    assert "Payments — allocation adds up to 90 %, not 100 %" in summary["problems"]
    content = response.content.decode()
    assert f'<span id="row-alloc-{payments.pk}" class="bad">90 %</span>' in content
    assert "1 new in the scenario" in content
    unreadable = client_for("pmo").post(
        reverse("scenario-detail", args=[scenario.pk]), _grid(scenario, **{"1-amount_run": "x"})
    )
    assert unreadable.context["summary"]["totals"]["run"] is None
    assert unreadable.context["summary"]["readable"] is False
    assert unreadable.context["summary"]["row_totals"][payments.pk] == (None, 100)


def test_preview_shows_totals_and_guardrails_as_typed_without_saving(org, client_for, plan):
    scenario = scenario_for(org)
    before = _state()
    response = client_for("pmo").post(
        reverse("scenario-preview", args=[scenario.pk]),
        _grid(scenario, **{"0-alloc_debt": "5", "0-alloc_feature": "70", "0-amount_run": "0"}),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary["totals"]["total"] == Decimal("1350000.00")
    assert summary["plan_totals"]["total"] == Decimal("1850000.00")
    assert [(r.scope, r.description) for r in summary["new_breaches"]] == [
        ("Cards", "At least 10 % of capacity for Debt")
    ]
    assert b"1 new in the scenario" in response.content
    assert _state() == before


def test_pmo_promotes_through_the_page_and_bad_decision_input_changes_nothing(
    org, client_for, plan
):
    _funding, cards = plan
    scenario = scenario_for(org)
    _move_run(scenario, org.value_stream, cards.value_stream)
    url = reverse("scenario-promote", args=[scenario.pk])
    client = client_for("pmo")
    page = client.get(url)
    assert [form.initial["decision_kind"] for _, form in page.context["items"]] == [
        "increase",
        "decrease",
    ]
    decisions = {}
    for stream in (cards.value_stream_id, org.value_stream.pk):
        decisions |= {f"vs{stream}-decision_kind": "increase" if stream != org.value_stream.pk
                      else "decrease", f"vs{stream}-rationale": "Cards grow.",
                      f"vs{stream}-expected_outcome": "More cards sold.",
                      f"vs{stream}-review_due_on": "2026-09-30"}  # fmt: skip
    before = _state()
    bad = client.post(url, {**decisions, f"vs{cards.value_stream_id}-rationale": ""})
    assert bad.status_code == 400
    assert "rationale" in bad.context["items"][0][1].errors
    assert _state() == before
    response = client.post(url, decisions)
    assert response.status_code == 302
    scenario.refresh_from_db()
    assert scenario.status == "promoted"
    assert {d.review_due_on.isoformat() for d in scenario.decisions.all()} == {"2026-09-30"}
    page = client.get(reverse("scenario-detail", args=[scenario.pk]))
    for decision in scenario.decisions.all():
        assert reverse("decision-detail", args=[decision.pk]).encode() in page.content
    assert page.context["can_edit"] is False


def test_a_stale_scenario_page_shows_what_changed_and_promotion_answers_409(org, client_for, plan):
    funding, cards = plan
    scenario = scenario_for(org)
    _move_run(scenario, org.value_stream, cards.value_stream)
    budget_apply(
        budget=funding.budget, expected_version=1, user=org.users["admin"],
        changes={"amount_grow": Decimal("350000")},
    )  # fmt: skip
    client = client_for("pmo")
    page = client.get(reverse("scenario-detail", args=[scenario.pk])).content.decode()
    assert "The plan changed since this scenario was copied" in page
    assert "Grow 300,000 EUR → <strong>350,000 EUR</strong>" in page
    form = {f"vs{s}-{k}": v for s in (cards.value_stream_id, org.value_stream.pk)
            for k, v in (("decision_kind", "continue"), ("rationale", "r"), ("expected_outcome", "e"))}  # fmt: skip
    before = _state()
    response = client.post(reverse("scenario-promote", args=[scenario.pk]), form)
    assert response.status_code == 409
    assert "Refresh the scenario" in response.context["problem"]
    assert _state() == before
    assert client.post(reverse("scenario-refresh", args=[scenario.pk])).status_code == 302
    assert scenario_comparison(scenario).drift == []


def test_comparison_csv_has_the_numbers_of_each_table(org, client_for, plan):
    scenario = scenario_for(org)
    response = client_for("executive").get(
        reverse("scenario-compare-csv", args=[scenario.pk, "streams"])
    )
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "Value stream,Plan,Scenario,Change,Change %"
    assert lines[1] == "Cards,850000.00,850000.00,0.00,0.0"  # money to the cent; Change % a share
    missing = client_for("executive").get(reverse("scenario-compare-csv", args=[scenario.pk, "x"]))
    assert missing.status_code == 404


def test_executives_read_scenarios_and_members_see_nothing_even_with_transparency(
    org, client_for, plan
):
    scenario = scenario_for(org)
    page = client_for("executive").get(reverse("scenario-detail", args=[scenario.pk]))
    assert page.status_code == 200
    assert page.context["can_edit"] is False
    assert b"hx-post" not in page.content
    org.portfolio.funding_transparency = True
    org.portfolio.save()
    member = client_for("member")
    periods = member.get(reverse("funding-periods", args=[org.portfolio.pk]))
    assert periods.status_code == 200
    assert reverse("scenario-list", args=[org.portfolio.pk]).encode() not in periods.content
    assert member.get(reverse("scenario-list", args=[org.portfolio.pk])).status_code == 403
    assert member.get(reverse("scenario-detail", args=[scenario.pk])).status_code == 403
    funding_page = client_for("pmo").get(reverse("funding-periods", args=[org.portfolio.pk]))
    assert reverse("scenario-list", args=[org.portfolio.pk]).encode() in funding_page.content


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_scenario_pages_keep_their_query_count_as_value_streams_grow(org, client_for, plan):
    funding, _ = plan
    scenario = scenario_for(org)
    client = client_for("pmo")
    detail = reverse("scenario-detail", args=[scenario.pk])
    listing = reverse("scenario-list", args=[org.portfolio.pk])
    promote = reverse("scenario-promote", args=[scenario.pk])
    _count(client, detail)
    few = (_count(client, detail), _count(client, listing), _count(client, promote))
    for number in range(6):
        stream = ValueStreamFactory(portfolio=org.portfolio, name=f"Stream {number}")
        make_budget(funding.period, stream)
    scenario_refresh(scenario=scenario)
    for line in scenario.lines.all():
        scenario_line_change(
            line=line, expected_version=line.version, changes={"amount_run": line.amount_run + 1}
        )
    scenario_create(period=funding.period, name="Another", user=org.users["pmo"], now=NOW)
    many = (_count(client, detail), _count(client, listing), _count(client, promote))
    assert scenario.lines.count() == 8
    assert many == few


# --- access -------------------------------------------------------------------------------------


class PortfolioScenarios(AccessContract):
    url_name = "scenario-list"
    expected = MONEY_READERS

    def url_kwargs(self, org):
        scenario_for(org)
        return {"pk": org.portfolio.pk}


class TestScenarioListAccess(PortfolioScenarios):
    pass


class TestScenarioCreateAccess(PortfolioScenarios):
    method = "post"
    expected = {**EDITORS, "pmo": 400, "admin": 400}  # an empty form is refused


class ScenarioPage(AccessContract):
    expected = MONEY_READERS

    def url_kwargs(self, org):
        return {"pk": scenario_for(org).pk}


class TestScenarioDetailAccess(ScenarioPage):
    url_name = "scenario-detail"


class TestScenarioSaveAccess(ScenarioPage):
    url_name = "scenario-detail"
    method = "post"
    expected = {**EDITORS, "pmo": 400, "admin": 400}  # an empty grid is refused


class TestScenarioPreviewAccess(ScenarioPage):
    url_name = "scenario-preview"
    method = "post"
    expected = EDITORS


class TestScenarioPromoteAccess(ScenarioPage):
    url_name = "scenario-promote"
    expected = EDITORS


class TestScenarioPromotePostAccess(ScenarioPage):
    url_name = "scenario-promote"
    method = "post"
    expected = {**EDITORS, "pmo": 400, "admin": 400}  # nothing changed: nothing to promote


class TestScenarioRefreshAccess(ScenarioPage):
    url_name = "scenario-refresh"
    method = "post"
    expected = {**EDITORS, "pmo": 302, "admin": 302}


class TestScenarioCsvAccess(AccessContract):
    url_name = "scenario-compare-csv"
    expected = MONEY_READERS

    def url_kwargs(self, org):
        return {"pk": scenario_for(org).pk, "table": "guardrails"}
