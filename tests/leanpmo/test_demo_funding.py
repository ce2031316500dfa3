import pytest

from leanpmo.demo.funding import seed_funding
from leanpmo.models import (
    DecisionKind,
    DecisionReview,
    FundingDecision,
    FundingPeriod,
    Guardrail,
    ReviewOutcome,
    ValueStreamBudget,
)
from tests.demo_database import DEMO_TODAY

TODAY = DEMO_TODAY


@pytest.fixture
def seeded(demo, db):
    """The whole demo, seeded once per run (tests/demo_database.py); the funding step's line."""
    return seed_funding(today=TODAY)


def _snapshot():
    return (
        sorted(FundingPeriod.objects.values_list("portfolio__name", "name", "status")),
        sorted(
            ValueStreamBudget.objects.values_list(
                "period__name", "value_stream__name", "amount_run", "version"
            )
        ),
        FundingDecision.objects.count(),
        DecisionReview.objects.count(),
    )


def test_demo_funds_every_value_stream_in_five_quarters_past_closed_current_approved(seeded):
    assert "decisions" in seeded
    for portfolio_name in ("Everyday Banking", "Lending & Wealth"):
        periods = list(
            FundingPeriod.objects.filter(portfolio__name=portfolio_name).order_by("starts_on")
        )
        assert [p.status for p in periods] == ["closed"] * 3 + ["approved", "draft"]
        assert periods[3].starts_on <= TODAY <= periods[3].ends_on
        streams = periods[0].portfolio.value_streams.count()
        assert all(p.budgets.count() == streams for p in periods)
    # six money guardrails per portfolio (the initiatives step adds a strategic WIP cap)
    assert Guardrail.objects.exclude(kind=Guardrail.Kind.MAX_STRATEGIC_WIP).count() == 12


def test_demo_decisions_cover_every_kind_and_every_review_outcome_with_some_overdue(seeded):
    kinds = set(FundingDecision.objects.values_list("kind", flat=True))
    assert kinds == set(DecisionKind.values)
    outcomes = set(DecisionReview.objects.values_list("outcome", flat=True))
    assert outcomes == set(ReviewOutcome.values)
    overdue = FundingDecision.objects.filter(review_due_on__lt=TODAY, reviews__isnull=True)
    assert overdue.exists()
    # the funding step's decisions are about value streams (initiatives' are about initiatives)
    assert 15 <= FundingDecision.objects.filter(value_stream__isnull=False).count() <= 30
    amounts = ValueStreamBudget.objects.values_list("amount_run", flat=True)
    assert all(amount.as_tuple().exponent == -2 for amount in amounts)


def test_demo_funding_is_idempotent(seeded):
    before = _snapshot()
    assert seed_funding(today=TODAY) == seeded
    assert _snapshot() == before


def test_seed_demo_command_runs_the_funding_step(demo, db):
    # the run's demo database was seeded by `manage.py seed_demo` (tests/demo_database.py)
    assert FundingPeriod.objects.filter(status="approved").count() == 2


def test_demo_has_one_draft_scenario_per_portfolio_beside_its_current_plan(seeded):
    from leanpmo.demo.scenarios import seed_scenarios
    from leanpmo.models import Scenario
    from leanpmo.selectors.scenarios import scenario_comparison

    line = seed_scenarios(today=TODAY)
    assert "2" in line
    assert seed_scenarios(today=TODAY) == line  # idempotent
    scenarios = list(Scenario.objects.select_related("period__portfolio"))
    assert sorted(s.period.portfolio.name for s in scenarios) == [
        "Everyday Banking",
        "Lending & Wealth",
    ]
    for scenario in scenarios:
        assert scenario.status == "draft"
        assert scenario.period.starts_on <= TODAY <= scenario.period.ends_on
        streams = scenario_comparison(scenario).tables["streams"]
        assert (streams["change"] != 0).sum() == 2
        assert streams["change"].sum() == 0  # money moved, not added
