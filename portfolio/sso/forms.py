"""The password form's break-glass rule: with ``STEWARD_PASSWORD_LOGIN=admins`` only administrators
(staff or superusers) sign in with a password; everyone else uses the identity provider."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError


def is_administrator(user) -> bool:
    """Administrators run the instance: Django admin's staff and superusers."""
    return bool(user.is_staff or user.is_superuser)


class PasswordLoginForm(AuthenticationForm):
    """Django's login form, refusing non-administrators when password login is for admins only."""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        sso = settings.STEWARD_SSO
        if sso.password_login_for_admins_only and not is_administrator(user):
            raise ValidationError(
                f"Password sign-in is for administrators only. "
                f"Use “Sign in with {sso.oidc.provider_name}”.",
                code="password_login_admins_only",
            )
