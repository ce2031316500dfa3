"""Sign-in throttling with django-axes: whose address a request comes from, and what a locked-out
sign-in is told.

Axes counts failed sign-ins per username and per client address (settings.AXES_*); every password
sign-in goes through ``authenticate(request, ...)`` and so through its backend, whichever page or
API offers it.
"""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_address(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or behind ``TRUSTED_PROXY_COUNT`` = n reverse proxies
    the address the outermost of them saw, the n-th ``X-Forwarded-For`` entry from the right.

    Entries further left are whatever the client chose to send, so they are never believed; with
    fewer entries than proxies the header is not ours and ``REMOTE_ADDR`` is used.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if not count:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    return hops[-count] if len(hops) >= count else remote


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """429 with a page that says how long to wait; the same for every username, existing or not."""
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    context = {"minutes": math.ceil(seconds / 60)}
    response = render(request, "registration/locked_out.html", context, status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
