"""`{% sso_sign_in next %}`: the "Sign in with …" button on the login page, when SSO is configured."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.inclusion_tag("registration/_sso_sign_in.html")
def sso_sign_in(next_url: str = "") -> dict:
    """The provider's name and whether passwords are for administrators only (reads settings only)."""
    sso = settings.STEWARD_SSO
    return {
        "oidc": sso.oidc,
        "admins_only": sso.password_login_for_admins_only,
        "next_url": next_url,
    }
