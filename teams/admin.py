from django.contrib import admin

from teams.models import (
    Experiment,
    KeyResult,
    NotDoingItem,
    Objective,
    OutcomeUpdate,
    ProductTeam,
    PulseQuestion,
    PulseRound,
    RealisationMetric,
    RealisationPoint,
    TeamInteraction,
    TeamMembership,
)


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    autocomplete_fields = ["person"]
    extra = 0


@admin.register(ProductTeam)
class ProductTeamAdmin(admin.ModelAdmin):
    list_display = ["name", "value_stream", "topology", "formed_on", "capacity_fte"]
    list_filter = ["topology", "value_stream__portfolio"]
    list_select_related = ["value_stream"]
    search_fields = ["name", "mission"]
    autocomplete_fields = ["value_stream"]
    inlines = [TeamMembershipInline]


@admin.register(TeamMembership)
class TeamMembershipAdmin(admin.ModelAdmin):
    list_display = ["person", "team", "allocation_percent", "start_date", "end_date"]
    list_filter = ["team__value_stream__portfolio"]
    list_select_related = ["person", "team"]
    autocomplete_fields = ["person", "team"]


@admin.register(TeamInteraction)
class TeamInteractionAdmin(admin.ModelAdmin):
    list_display = ["team", "depends_on", "mode", "blocking", "since"]
    list_filter = ["mode", "blocking", "team__value_stream__portfolio"]
    list_select_related = ["team", "depends_on"]
    autocomplete_fields = ["team", "depends_on"]


class KeyResultInline(admin.TabularInline):
    model = KeyResult
    extra = 0
    fields = [
        "metric",
        "unit",
        "baseline",
        "target",
        "direction",
        "cadence_days",
        "starts_on",
        "closed",
    ]


@admin.register(Objective)
class ObjectiveAdmin(admin.ModelAdmin):
    list_display = ["title", "level", "portfolio", "value_stream", "team", "parent"]
    list_filter = ["level", "portfolio"]
    list_select_related = ["portfolio", "value_stream", "team", "parent"]
    search_fields = ["title"]
    autocomplete_fields = ["value_stream", "team", "parent"]
    inlines = [KeyResultInline]


@admin.register(KeyResult)
class KeyResultAdmin(admin.ModelAdmin):
    list_display = [
        "metric",
        "objective",
        "baseline",
        "target",
        "direction",
        "cadence_days",
        "closed",
    ]
    list_filter = ["closed", "direction", "objective__portfolio"]
    list_select_related = ["objective"]
    search_fields = ["metric"]
    autocomplete_fields = ["objective"]


@admin.register(OutcomeUpdate)
class OutcomeUpdateAdmin(admin.ModelAdmin):
    """Read-only: updates are append-only (the database refuses changes and deletions)."""

    list_display = ["key_result", "value", "confidence", "status", "posted_by", "posted_at"]
    list_filter = ["status"]
    list_select_related = ["key_result", "posted_by"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "team", "started_on", "ended_on", "result"]
    list_filter = ["result"]
    list_select_related = ["team"]
    autocomplete_fields = ["team", "key_result"]


@admin.register(NotDoingItem)
class NotDoingItemAdmin(admin.ModelAdmin):
    list_display = ["what", "team", "decided_on"]
    list_select_related = ["team"]
    autocomplete_fields = ["team"]


class RealisationPointInline(admin.TabularInline):
    model = RealisationPoint
    extra = 0


@admin.register(RealisationMetric)
class RealisationMetricAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "value_stream"]
    list_select_related = ["value_stream"]
    inlines = [RealisationPointInline]


class PulseQuestionInline(admin.TabularInline):
    model = PulseQuestion
    extra = 0


@admin.register(PulseRound)
class PulseRoundAdmin(admin.ModelAdmin):
    """Rounds and their questions; answers are never listed one by one."""

    list_display = ["team", "opens_on", "closes_on"]
    list_select_related = ["team"]
    autocomplete_fields = ["team"]
    inlines = [PulseQuestionInline]
