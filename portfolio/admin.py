from django.contrib import admin

from portfolio.models import Portfolio, PortfolioMembership


class PortfolioMembershipInline(admin.TabularInline):
    model = PortfolioMembership
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(Portfolio)
class PortfolioAdmin(admin.ModelAdmin):
    list_display = ["name", "currency", "time_zone", "funding_transparency"]
    search_fields = ["name"]
    inlines = [PortfolioMembershipInline]


@admin.register(PortfolioMembership)
class PortfolioMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "portfolio", "role"]
    list_filter = ["role", "portfolio"]
    list_select_related = ["user", "portfolio"]
    autocomplete_fields = ["user", "portfolio"]
