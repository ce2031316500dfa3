from leanpmo.api.views.decisions import DecisionViewSet, ReviewViewSet
from leanpmo.api.views.funding import BudgetViewSet, FundingPeriodViewSet
from leanpmo.api.views.guardrails import GuardrailViewSet
from leanpmo.api.views.initiatives import InitiativeViewSet
from leanpmo.api.views.scenarios import ScenarioLineViewSet, ScenarioViewSet
from leanpmo.api.views.signals import SignalThresholdsViewSet, SignalViewSet

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
