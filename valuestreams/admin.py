from django.contrib import admin

from valuestreams.models import ValueStream


@admin.register(ValueStream)
class ValueStreamAdmin(admin.ModelAdmin):
    list_display = ["name", "portfolio", "customer", "owner"]
    list_filter = ["portfolio"]
    list_select_related = ["portfolio", "owner"]
    search_fields = ["name", "customer"]
    autocomplete_fields = ["owner", "portfolio"]
