from leanpmo.api.views import (
    BudgetViewSet,
    DecisionViewSet,
    FundingPeriodViewSet,
    GuardrailViewSet,
    ReviewViewSet,
)

routes = [
    ("funding-periods", FundingPeriodViewSet, "funding-period"),
    ("budgets", BudgetViewSet, "budget"),
    ("decisions", DecisionViewSet, "decision"),
    ("decision-reviews", ReviewViewSet, "decision-review"),
    ("guardrails", GuardrailViewSet, "guardrail"),
]
