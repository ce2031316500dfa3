from django.contrib import admin
from django.utils import timezone

from portfolio.models import IntegrationToken, OidcIdentity, Portfolio, PortfolioMembership
from portfolio.services import integration_token_revoke


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
    list_display = ["user", "portfolio", "role", "source"]
    list_filter = ["role", "source", "portfolio"]
    list_select_related = ["user", "portfolio"]
    autocomplete_fields = ["user", "portfolio"]


@admin.register(OidcIdentity)
class OidcIdentityAdmin(admin.ModelAdmin):
    """Provider identities (issuer + subject) and the Steward user each signs in as. Adding one links
    an existing account to the provider. The list links to the SSO settings page (role mapping)."""

    list_display = ["user", "subject", "issuer", "last_login_at"]
    list_select_related = ["user"]
    search_fields = ["subject", "user__username", "user__email"]
    autocomplete_fields = ["user"]
    readonly_fields = ["created_at", "last_login_at"]


@admin.register(IntegrationToken)
class IntegrationTokenAdmin(admin.ModelAdmin):
    """Tokens are issued with `manage.py issue_token` (the only place their text is shown);
    here they are listed and revoked."""

    list_display = [
        "name",
        "portfolio",
        "key_id",
        "scopes",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["portfolio"]
    list_select_related = ["portfolio"]
    search_fields = ["name", "key_id"]
    readonly_fields = [
        "portfolio",
        "name",
        "key_id",
        "secret_hash",
        "scopes",
        "expires_at",
        "created_by",
        "created_at",
        "last_used_at",
    ]
    fields = [*readonly_fields, "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens now")
    def revoke(self, request, queryset) -> None:
        now = timezone.now()
        for token in queryset:
            integration_token_revoke(token=token, now=now)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")
