from django.contrib import admin

from teams.models import ProductTeam, TeamMembership


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
