"""Sign-in pages: start single sign-on, finish it at the callback, log out (at the provider too),
and the administrators' view of the SSO configuration and of the role changes it made."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LogoutView
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_safe

from portfolio.sso import client, selectors, services
from portfolio.sso.config import OidcSettings

NEXT_KEY = "sso_next"  # where to go after the callback, chosen before leaving for the provider
SESSION_KEY = "sso"  # {"issuer", "id_token"} of a session that single sign-on opened
PASSWORD_BACKEND = "django.contrib.auth.backends.ModelBackend"  # loads the user on later requests


def _oidc_or_404() -> OidcSettings:
    oidc = settings.STEWARD_SSO.oidc
    if oidc is None:
        raise Http404("Single sign-on is not configured.")
    return oidc


def _redirect_uri(request: HttpRequest, oidc: OidcSettings) -> str:
    return oidc.redirect_uri or request.build_absolute_uri(reverse("sso-callback"))


def _safe_next(request: HttpRequest, url: str | None) -> str:
    allowed = url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if allowed else reverse(settings.LOGIN_REDIRECT_URL)


@login_not_required
@require_GET
def sso_login(request: HttpRequest) -> HttpResponse:
    """Leave for the provider with a new state, nonce and PKCE challenge (404 when SSO is off)."""
    oidc = _oidc_or_404()
    request.session[NEXT_KEY] = _safe_next(request, request.GET.get("next"))
    try:
        return client.authorization_redirect(request, oidc, _redirect_uri(request, oidc))
    except client.SignInRefused as refused:
        messages.error(request, str(refused))
        return redirect(settings.LOGIN_URL)


@login_not_required
@require_GET
def sso_callback(request: HttpRequest) -> HttpResponse:
    """Verify the provider's answer, then sign the person in with their roles re-applied."""
    oidc = _oidc_or_404()
    try:
        token = client.verified_token(request, oidc)
        result = services.sso_sign_in(oidc=oidc, claims=token.claims, now=timezone.now())
    except (client.SignInRefused, services.AccountDisabled) as refused:
        messages.error(request, str(refused))
        return redirect(settings.LOGIN_URL)
    next_url = request.session.pop(NEXT_KEY, None)
    login(request, result.user, backend=PASSWORD_BACKEND)
    request.session[SESSION_KEY] = {"issuer": oidc.issuer, "id_token": token.id_token}
    if not result.roles_applied:
        messages.warning(
            request,
            f"{oidc.provider_name} did not say which groups you are in, so your roles are as "
            "they were at your last sign-in.",
        )
    return HttpResponseRedirect(_safe_next(request, next_url))


class SsoLogoutView(LogoutView):
    """Django's logout; a session opened by single sign-on also ends at the provider when it
    offers RP-initiated logout (``end_session_endpoint``), coming back to the login page.

    The way to the provider is a page that refreshes to it (with a link), not a redirect: the
    logout is a form, and the Content-Security-Policy's ``form-action 'self'`` also covers the
    redirects that follow a form, so a 302 to the provider's origin would be blocked."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        opened_by_sso = request.session.get(SESSION_KEY)
        response = super().post(request, *args, **kwargs)
        oidc = settings.STEWARD_SSO.oidc
        if not opened_by_sso or oidc is None or opened_by_sso.get("issuer") != oidc.issuer:
            return response
        url = client.end_session_url(
            oidc,
            id_token=opened_by_sso.get("id_token"),
            post_logout_redirect_uri=request.build_absolute_uri(reverse(settings.LOGIN_URL)),
        )
        if not url:
            return response
        context = {"end_session_url": url, "provider_name": oidc.provider_name}
        return render(request, "registration/signed_out_at_provider.html", context)


@require_safe
def sso_settings_page(request: HttpRequest) -> HttpResponse:
    """Administrators: the provider, the redirect URL to register, the role mapping and SSO's role
    changes. Anyone else gets 404, as for any page that is not theirs."""
    if not request.user.is_superuser:
        raise Http404("No such page.")
    sso = settings.STEWARD_SSO
    context = {
        "sso": sso,
        "oidc": sso.oidc,
        "redirect_uri": _redirect_uri(request, sso.oidc) if sso.oidc else None,
        "rows": selectors.mapping_rows(sso.oidc.role_mapping) if sso.oidc else [],
        "granted_count": selectors.sso_granted_count(),
        "changes": selectors.sso_role_changes(),
    }
    return render(request, "portfolio/sso_settings.html", context)
