"""The Lean PMO's one-form page (teams/pmo_form.html), shared by the objective, key-result,
dependency and pulse-round forms."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portfolio.http import form_status
from portfolio.models import Portfolio


def pmo_form_page(
    request: HttpRequest,
    form: forms.BaseForm,
    *,
    portfolio: Portfolio,
    title: str,
    cancel_url: str,
    crumbs=(),
) -> HttpResponse:
    """Render `form` on the Lean PMO form page (400 when it is bound with errors)."""
    context = {
        "form": form,
        "portfolio": portfolio,
        "title": title,
        "cancel_url": cancel_url,
        "crumbs": crumbs,
    }
    return render(request, "teams/pmo_form.html", context, status=form_status(form))
