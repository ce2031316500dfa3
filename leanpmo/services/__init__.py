"""Writes for funding: periods, budgets (optimistic concurrency), guardrails, decisions and reviews.

Every write runs inside `pghistory.context(user=…)` so the audit history names who made it, whichever
path (page, API, import, admin) called it. Services validate (full_clean, field-named
ValidationError) before writing and change nothing when they refuse.
"""

from leanpmo.services.budgets import (
    ChangeResult,
    budget_apply,
    budget_change,
    budget_create,
    plan_save,
)
from leanpmo.services.decisions import (
    REVIEW_AFTER_DAYS,
    DecisionInput,
    decision_record,
    review_record,
)
from leanpmo.services.exception_approvals import exception_decide, may_approve_exceptions
from leanpmo.services.imports import IMPORT_COLUMNS, actual_record, budgets_import
from leanpmo.services.initiatives import (
    CapRefused,
    initiative_create,
    initiative_exception_request,
    initiative_move,
    initiative_update,
)
from leanpmo.services.money_plans import PlanRowError, PlanRowInput, VersionConflict
from leanpmo.services.periods import ALLOWED_TRANSITIONS, period_create, period_transition
from leanpmo.services.scenarios import (
    PromotionPlan,
    PromotionResult,
    ScenarioStale,
    promotion_plan,
    scenario_create,
    scenario_line_change,
    scenario_lines_save,
    scenario_promote,
    scenario_refresh,
)
from leanpmo.services.structure import guardrail_save, horizons_ensure, theme_create

__all__ = [
    "ALLOWED_TRANSITIONS",
    "IMPORT_COLUMNS",
    "REVIEW_AFTER_DAYS",
    "CapRefused",
    "ChangeResult",
    "DecisionInput",
    "PlanRowError",
    "PlanRowInput",
    "PromotionPlan",
    "PromotionResult",
    "ScenarioStale",
    "VersionConflict",
    "actual_record",
    "budget_apply",
    "budget_change",
    "budget_create",
    "budgets_import",
    "decision_record",
    "exception_decide",
    "guardrail_save",
    "horizons_ensure",
    "initiative_create",
    "initiative_exception_request",
    "initiative_move",
    "initiative_update",
    "may_approve_exceptions",
    "period_create",
    "period_transition",
    "plan_save",
    "promotion_plan",
    "review_record",
    "scenario_create",
    "scenario_line_change",
    "scenario_lines_save",
    "scenario_promote",
    "scenario_refresh",
    "theme_create",
]
