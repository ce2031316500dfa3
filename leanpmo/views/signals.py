"""The signals inbox and its CSV, a signal's page and its acknowledgement, the thresholds page,
the digest preview, and the scorecard's CSV."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from leanpmo.access import get_signals_portfolio
from leanpmo.detectors.thresholds import SPECS
from leanpmo.forms.signals import (
    AcknowledgeForm,
    DigestPreferenceForm,
    InboxFilterForm,
    ThresholdsForm,
)
from leanpmo.models import Signal, SignalAcknowledgement, SignalThresholds
from leanpmo.panels.digest import digest
from leanpmo.panels.inbox import inbox_signals, inbox_table
from leanpmo.panels.inbox import signal_inbox as inbox_section
from leanpmo.panels.rows import signal_rows
from leanpmo.panels.scorecard import scorecard, scorecard_table
from leanpmo.selectors.signals import local_today, signal_list, thresholds_history
from leanpmo.services.digests import digest_preference_set, receives_digest
from leanpmo.services.signals import signal_acknowledge, signal_thresholds_save
from portfolio.access import can_edit_structure, can_see_money, get_for_user, portfolio_role
from portfolio.downloads import table_response
from portfolio.form_errors import add_service_errors
from portfolio.http import form_status


def _posted(request: HttpRequest):
    """The POST data of a POST (even an empty one, which is a refusal), else None."""
    return request.POST if request.method == "POST" else None


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_safe
def signal_inbox(request: HttpRequest, pk: int) -> HttpResponse:
    """Every signal of the portfolio, filtered, with counts per detector and the trend."""
    portfolio, role = get_signals_portfolio(request.user, pk)
    form = InboxFilterForm(request.GET or None, portfolio=portfolio)
    now = timezone.now()
    inbox = inbox_section(
        portfolio, form.filters(), role=role, now=now, page=request.GET.get("page", 1)
    )
    context = {
        "portfolio": portfolio,
        "role": role,
        "form": form,
        "inbox": inbox,
        "query": _query_without_page(request),
        "can_edit": can_edit_structure(role),
    }
    return render(request, "leanpmo/signal_inbox.html", context, status=form_status(form))


@require_safe
def signal_inbox_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The filtered signals as CSV (the viewer's sentences; cells neutralised against formulas)."""
    portfolio, role = get_signals_portfolio(request.user, pk)
    form = InboxFilterForm(request.GET or None, portfolio=portfolio)
    now = timezone.now()
    rows = signal_rows(
        inbox_signals(portfolio, form.filters(), now=now),
        show_money=can_see_money(role, portfolio),
        can_edit=can_edit_structure(role),
        now=now,
    )
    table = inbox_table(rows, portfolio)
    return table_response(table, name=f"signals-{slugify(portfolio.name)}", fmt="csv")


def _render_signal(request, signal: Signal, form: AcknowledgeForm, status: int = 200):
    portfolio = signal.portfolio
    role = portfolio_role(request.user, portfolio)
    now = timezone.now()
    annotated = signal_list(portfolio, now=now).get(pk=signal.pk)
    acknowledgements = (
        SignalAcknowledgement.pgh_event_model.objects.filter(
            portfolio=portfolio, detector=signal.detector, key=signal.key
        )
        .select_related("acknowledged_by")
        .order_by("-pgh_id")
    )
    context = {
        "portfolio": portfolio,
        "row": signal_rows(
            [annotated],
            show_money=can_see_money(role, portfolio),
            can_edit=can_edit_structure(role),
            now=now,
        )[0],
        "acknowledgements": acknowledgements,
        "form": form,
        "can_edit": can_edit_structure(role),
    }
    return render(request, "leanpmo/signal_detail.html", context, status=status)


@require_safe
def signal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A signal: why, its evidence, when it was seen, and its acknowledgements."""
    signal = get_for_user(Signal, request.user, pk)
    today = local_today(signal.portfolio, timezone.now())
    return _render_signal(request, signal, AcknowledgeForm.for_today(today))


def signal_acknowledge_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The Lean PMO sets a signal aside until a day, with a reason."""
    signal = get_for_user(Signal, request.user, pk, write=True)
    today = local_today(signal.portfolio, timezone.now())
    form = AcknowledgeForm.for_today(today, _posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            signal_acknowledge(
                signal=signal, user=request.user, now=timezone.now(), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Acknowledged until {form.cleaned_data['until']:%-d %b %Y}.")
            return redirect("signal-inbox", pk=signal.portfolio_id)
    status = form_status(form) if request.method == "POST" else 200
    return _render_signal(request, signal, form, status)


def signal_thresholds(request: HttpRequest, pk: int) -> HttpResponse:
    """The detectors' thresholds: everyone in the portfolio reads them, the Lean PMO changes them."""
    portfolio, role = get_signals_portfolio(request.user, pk, write=request.method == "POST")
    stored = SignalThresholds.objects.filter(portfolio=portfolio).first()
    form = ThresholdsForm(
        _posted(request), instance=stored or SignalThresholds(portfolio=portfolio)
    )
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            signal_thresholds_save(portfolio=portfolio, user=request.user, **values)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, "Thresholds saved; the signals are evaluated again with them."
            )
            return redirect("signal-thresholds", pk=portfolio.pk)
    groups: dict[str, list] = {}
    for spec in SPECS:
        groups.setdefault(spec.group, []).append((spec, form[spec.name]))
    context = {
        "portfolio": portfolio,
        "form": form,
        "groups": groups,
        "history": thresholds_history(portfolio),
        "can_edit": can_edit_structure(role),
    }
    return render(request, "leanpmo/signal_thresholds.html", context, status=form_status(form))


def signal_digest(request: HttpRequest, pk: int) -> HttpResponse:
    """The weekly digest the person would receive now, and their choice to receive it."""
    portfolio, role = get_signals_portfolio(request.user, pk)
    if role not in {"executive", "lean_pmo", "admin"}:
        raise PermissionDenied("The weekly digest goes to executives and the Lean PMO.")
    form = DigestPreferenceForm(
        _posted(request), initial={"weekly_digest": receives_digest(request.user)}
    )
    if request.method == "POST" and form.is_valid():
        digest_preference_set(person=request.user, **form.cleaned_data)
        messages.success(
            request,
            "You will receive the weekly digest."
            if form.cleaned_data["weekly_digest"]
            else "You will no longer receive the weekly digest.",
        )
        return redirect("signal-digest", pk=portfolio.pk)
    context = {
        "portfolio": portfolio,
        "digest": digest(request.user, portfolio, role=role, now=timezone.now()),
        "form": form,
        "has_email": bool(request.user.email),
    }
    return render(request, "leanpmo/signal_digest.html", context, status=form_status(form))


@require_safe
def scorecard_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The value-stream scorecard as CSV (money columns only for those who see money)."""
    portfolio, role = get_signals_portfolio(request.user, pk)
    card = scorecard(portfolio, role=role, sort=request.GET.get("sort", ""), now=timezone.now())
    return table_response(
        scorecard_table(card), name=f"scorecard-{slugify(portfolio.name)}", fmt="csv"
    )
