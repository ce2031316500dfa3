"""Lean PMO records: strategy and money structure, guardrails, funding decisions and their reviews,
scenarios, initiatives and signals, one module per resource.

Every model, queryset and constant is re-exported here, so `from leanpmo.models import X` works
wherever it did; Django finds the models through this package.
"""

from leanpmo.models.decisions import (
    DecisionKind,
    DecisionReview,
    DecisionScopedQuerySet,
    ExceptionApproval,
    FundingDecision,
    FundingDecisionQuerySet,
    ReviewOutcome,
)
from leanpmo.models.funding import (
    MONEY,
    NOT_NEGATIVE,
    PERCENT,
    ActualSpend,
    FundingPeriod,
    Horizon,
    InvestmentHorizon,
    MoneyPlan,
    StrategicTheme,
    ValueStreamBudget,
)
from leanpmo.models.guardrails import (
    Guardrail,
)
from leanpmo.models.initiatives import (
    WSJF_FIELDS,
    WSJF_SCALE,
    FundingMode,
    Initiative,
    InitiativeQuerySet,
    InitiativeState,
    InitiativeTransition,
    InitiativeTransitionQuerySet,
    WorkShape,
)
from leanpmo.models.scenarios import (
    Scenario,
    ScenarioLine,
    ScenarioLineQuerySet,
    ScenarioQuerySet,
    scenario_portfolios,
)
from leanpmo.models.scoping import (
    PeriodScopedQuerySet,
    PortfolioScopedQuerySet,
    money_portfolios,
)
from leanpmo.models.signals import (
    DigestDelivery,
    DigestPreference,
    Signal,
    SignalAcknowledgement,
    SignalDailyCount,
    SignalDetector,
    SignalEvaluation,
    SignalQuerySet,
    SignalSeverity,
    SignalThresholds,
)

__all__ = [
    "MONEY",
    "NOT_NEGATIVE",
    "PERCENT",
    "WSJF_FIELDS",
    "WSJF_SCALE",
    "ActualSpend",
    "DecisionKind",
    "DecisionReview",
    "DecisionScopedQuerySet",
    "DigestDelivery",
    "DigestPreference",
    "ExceptionApproval",
    "FundingDecision",
    "FundingDecisionQuerySet",
    "FundingMode",
    "FundingPeriod",
    "Guardrail",
    "Horizon",
    "Initiative",
    "InitiativeQuerySet",
    "InitiativeState",
    "InitiativeTransition",
    "InitiativeTransitionQuerySet",
    "InvestmentHorizon",
    "MoneyPlan",
    "PeriodScopedQuerySet",
    "PortfolioScopedQuerySet",
    "ReviewOutcome",
    "Scenario",
    "ScenarioLine",
    "ScenarioLineQuerySet",
    "ScenarioQuerySet",
    "Signal",
    "SignalAcknowledgement",
    "SignalDailyCount",
    "SignalDetector",
    "SignalEvaluation",
    "SignalQuerySet",
    "SignalSeverity",
    "SignalThresholds",
    "StrategicTheme",
    "ValueStreamBudget",
    "WorkShape",
    "money_portfolios",
    "scenario_portfolios",
]
