"""Django admin for Lean PMO records. Every change made here is kept in the audit history too.

Decisions, approvals and reviews are append-only: the admin shows them read-only.
"""

from django.contrib import admin

from leanpmo.models import (
    ActualSpend,
    DecisionReview,
    ExceptionApproval,
    FundingDecision,
    FundingPeriod,
    Guardrail,
    Initiative,
    InitiativeTransition,
    InvestmentHorizon,
    StrategicTheme,
    ValueStreamBudget,
)
from leanpmo.plan_fields import HORIZON_AMOUNT_FIELD


@admin.register(StrategicTheme)
class StrategicThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "portfolio", "position"]
    list_filter = ["portfolio"]
    search_fields = ["name", "objective"]


@admin.register(InvestmentHorizon)
class InvestmentHorizonAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "portfolio", "position"]
    list_filter = ["portfolio"]


@admin.register(FundingPeriod)
class FundingPeriodAdmin(admin.ModelAdmin):
    list_display = ["name", "portfolio", "starts_on", "ends_on", "status"]
    list_filter = ["portfolio", "status"]


@admin.register(ValueStreamBudget)
class ValueStreamBudgetAdmin(admin.ModelAdmin):
    list_display = ["value_stream", "period", *HORIZON_AMOUNT_FIELD.values(), "version"]
    list_filter = ["period__portfolio", "period"]
    list_select_related = ["value_stream", "period"]
    readonly_fields = ["version", "updated_at", "updated_by"]

    def save_model(self, request, obj, form, change):
        # the admin is one more write path: it bumps the version like the services do
        if change:
            obj.version += 1
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ActualSpend)
class ActualSpendAdmin(admin.ModelAdmin):
    list_display = ["value_stream", "period", "amount", "source"]
    list_filter = ["period__portfolio"]
    list_select_related = ["value_stream", "period"]


@admin.register(Guardrail)
class GuardrailAdmin(admin.ModelAdmin):
    list_display = ["__str__", "portfolio", "kind", "active"]
    list_filter = ["portfolio", "kind"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FundingDecision)
class FundingDecisionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "portfolio", "period", "kind", "amount_after", "review_due_on"]
    list_filter = ["portfolio", "kind"]
    list_select_related = ["value_stream", "initiative", "period", "portfolio"]


@admin.register(ExceptionApproval)
class ExceptionApprovalAdmin(ReadOnlyAdmin):
    list_display = ["decision", "approved", "decided_by", "decided_at"]


@admin.register(DecisionReview)
class DecisionReviewAdmin(ReadOnlyAdmin):
    list_display = ["decision", "outcome", "reviewed_by", "reviewed_at"]
    list_filter = ["outcome"]


class ServiceOnlyAdmin(ReadOnlyAdmin):
    """Shown, never added or changed here: only the services check the shape, the cap and moves."""

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Initiative)
class InitiativeAdmin(ServiceOnlyAdmin):
    list_display = ["title", "portfolio", "state", "funding_mode", "state_changed_at"]
    list_filter = ["portfolio", "state", "funding_mode"]
    search_fields = ["title"]


@admin.register(InitiativeTransition)
class InitiativeTransitionAdmin(ServiceOnlyAdmin):
    list_display = ["initiative", "from_state", "to_state", "moved_by", "moved_at"]
    list_filter = ["to_state"]
    list_select_related = ["initiative", "moved_by"]
