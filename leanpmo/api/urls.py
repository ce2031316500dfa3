from leanpmo.api.initiative_views import InitiativeViewSet
from leanpmo.api.signals import SignalThresholdsViewSet, SignalViewSet
from leanpmo.api.views import (
    BudgetViewSet,
    DecisionViewSet,
    FundingPeriodViewSet,
    GuardrailViewSet,
    ReviewViewSet,
    ScenarioLineViewSet,
    ScenarioViewSet,
)

routes = [
    ("funding-periods", FundingPeriodViewSet, "funding-period"),
    ("budgets", BudgetViewSet, "budget"),
    ("decisions", DecisionViewSet, "decision"),
    ("decision-reviews", ReviewViewSet, "decision-review"),
    ("guardrails", GuardrailViewSet, "guardrail"),
    ("scenarios", ScenarioViewSet, "scenario"),
    ("scenario-lines", ScenarioLineViewSet, "scenario-line"),
    ("initiatives", InitiativeViewSet, "initiative"),
    ("signals", SignalViewSet, "signal"),
    ("signal-thresholds", SignalThresholdsViewSet, "signal-thresholds"),
]
