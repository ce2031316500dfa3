"""“Needs your attention”, first on the home and portfolio pages, per person and role."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Case, CharField, Count, F, Max, Q, Value, When, Window
from django.db.models.functions import RowNumber
from django.urls import reverse

from leanpmo.detectors.registry import DATA_QUALITY
from leanpmo.detectors.wording import money, plural
from leanpmo.models import DecisionKind, FundingDecision, Signal
from leanpmo.panels.rows import SignalRow, signal_rows
from portfolio.access import can_edit_structure
from portfolio.models import Portfolio, PortfolioMembership
from portfolio.sections import kept
from teams.metrics import is_stale
from teams.models import KeyResult, TeamMembership
from valuestreams.models import ImportJob, JobStatus


@dataclass
class AttentionItem:
    """One thing that needs the person: what, why (a sentence), where to act."""

    kind: str  # approval, waiting_approval, review, breach, signal, data, import, key_result
    label: str
    title: str
    detail: str
    url: str
    action: str
    severity: str = ""


@dataclass
class AttentionGroup:
    """What needs the person in one portfolio (empty: nothing does), the open signals not shown,
    and the items left out to keep the list short (`more_items`, see `attention`'s `limit`)."""

    portfolio: Portfolio
    role: str
    items: list[AttentionItem] = field(default_factory=list)
    more_signals: int = 0
    more_items: int = 0

    @property
    def inbox_url(self) -> str:
        return reverse("signal-inbox", args=[self.portfolio.pk])

    @property
    def portfolio_url(self) -> str:
        return reverse("portfolio-detail", args=[self.portfolio.pk]) + "#attention"


ATTENTION_PER_SECTION = 5
_SECTION = Case(
    When(detector="review_overdue", then=Value("review")),
    When(detector="guardrail_breach", then=Value("breach")),
    When(detector__in=sorted(DATA_QUALITY), then=Value("data")),
    default=Value("signal"),
    output_field=CharField(),
)
_SECTION_LABELS = {
    "review": "Review overdue",
    "breach": "Guardrail breach",
    "data": "Data quality",
    "signal": "Signal",
}


def _roles(user, portfolios: Sequence[Portfolio]) -> dict[int, str]:
    if user.is_superuser:
        return {portfolio.pk: "admin" for portfolio in portfolios}
    held = dict(
        PortfolioMembership.objects.filter(user=user, portfolio__in=portfolios).values_list(
            "portfolio_id", "role"
        )
    )
    return {portfolio.pk: held.get(portfolio.pk, "member") for portfolio in portfolios}


def _pending_exceptions(portfolio_ids: list[int]) -> list[FundingDecision]:
    return list(
        FundingDecision.objects.current()
        .filter(portfolio_id__in=portfolio_ids, kind=DecisionKind.EXCEPTION, approval__isnull=True)
        .exclude(proposal={})
        .select_related("value_stream", "initiative", "decided_by")
        .order_by("decided_at", "pk")
    )


def _exception_item(decision: FundingDecision, role: str, currency: str) -> AttentionItem:
    who = decision.decided_by.get_full_name() or decision.decided_by.username
    if decision.value_stream is not None:
        subject = decision.value_stream.name
        change = decision.amount_after - decision.amount_before
        sign = "+" if change >= 0 else "−"
        what = f"{sign}{money(abs(change), currency)} for {subject}"
    else:  # an initiative that the strategic WIP cap refused to start
        subject = decision.initiative.title
        what = f"Start {subject} above the cap on strategic initiatives"
    detail = f"{what}, recorded by {who} on {decision.decided_at:%-d %b %Y}: {decision.rationale}"
    if role in {"executive", "admin"}:
        return AttentionItem(
            "approval",
            "Waiting for your approval",
            f"Exception for {subject}",
            detail,
            reverse("decision-approval", args=[decision.pk]),
            "Review and answer",
        )
    return AttentionItem(
        "waiting_approval",
        "Waiting for an executive",
        f"Exception for {subject}",
        detail,
        reverse("decision-detail", args=[decision.pk]),
        "Open the decision",
    )


def _top_signals(portfolio_ids: list[int], *, data_quality_for: set[int], now: dt.datetime):
    """Open, unacknowledged signals of the portfolios, the first few of each section per
    portfolio (most severe, newest first), and how many wait in all per portfolio. Two queries."""
    waiting = (
        Signal.objects.filter(portfolio_id__in=portfolio_ids)
        .with_acknowledgement(now)
        .in_state("open", now)
        .exclude(Q(detector__in=DATA_QUALITY) & ~Q(portfolio_id__in=data_quality_for))
    )
    totals = dict(waiting.values_list("portfolio_id").annotate(n=Count("pk")).order_by())
    ranked = (
        waiting.select_related("portfolio", "value_stream", "team")
        .annotate(
            section=_SECTION,
            rank=Window(
                RowNumber(),
                partition_by=[F("portfolio_id"), _SECTION],
                order_by=[F("severity").desc(), F("opened_at").desc(), F("pk")],
            ),
        )
        .filter(rank__lte=ATTENTION_PER_SECTION)
        .order_by("portfolio_id", "-severity", "-opened_at", "pk")
    )
    return list(ranked), totals


def _signal_item(row: SignalRow, section: str) -> AttentionItem:
    link = row.links[0].url if row.links else row.url
    return AttentionItem(
        kind=section,
        label=_SECTION_LABELS[section] if section != "signal" else row.detector,
        title=row.scope,
        detail=row.sentence,
        url=link,
        action=row.links[0].label if row.links else "Open the signal",
        severity=row.severity,
    )


def _failed_imports(portfolio_ids: list[int], now: dt.datetime) -> list[ImportJob]:
    return list(
        ImportJob.objects.filter(
            portfolio_id__in=portfolio_ids,
            status=JobStatus.FAILED,
            created_at__gte=now - dt.timedelta(days=14),
        )
        .defer("payload", "payload_changes")
        .order_by("-created_at")
    )


def _key_result_items(user, portfolios: Sequence[Portfolio], now: dt.datetime) -> dict[int, list]:
    """The person's teams' open key results whose check-in is due or stale, per portfolio."""
    by_portfolio = {portfolio.pk: portfolio for portfolio in portfolios}
    seats = TeamMembership.objects.current().filter(person=user).values("team")
    key_results = (
        KeyResult.objects.filter(
            objective__team__in=seats,
            objective__portfolio__in=list(by_portfolio),
            closed=False,
        )
        .annotate(last=Max("updates__posted_at"))
        .select_related("objective__team")
        .order_by("objective__team__name", "metric")
    )
    items: dict[int, list[AttentionItem]] = defaultdict(list)
    for kr in key_results:
        portfolio = by_portfolio[kr.objective.portfolio_id]
        zone = zoneinfo.ZoneInfo(portfolio.time_zone)
        today = now.astimezone(zone).date()
        last = kr.last.astimezone(zone).date() if kr.last else None
        since = last or kr.starts_on
        if since > today or (today - since).days < kr.cadence_days:
            continue
        stale = is_stale(
            last_check_in=last, starts_on=kr.starts_on, cadence_days=kr.cadence_days, as_of=today
        )
        when = (
            f"last check-in {plural((today - last).days, 'day')} ago" if last else "no check-in yet"
        )
        team = kr.objective.team
        items[portfolio.pk].append(
            AttentionItem(
                "key_result",
                "Stale key result" if stale else "Check-in due",
                f"{kr.metric} ({team.name})",
                f"Every {plural(kr.cadence_days, 'day')}; {when}.",
                reverse("outcome-update-create", args=[team.pk]) + f"?key_result={kr.pk}",
                "Post the check-in",
                "High" if stale else "",
            )
        )
    return items


def _steward_items(
    groups: dict[int, AttentionGroup], stewards: list[int], pmo: set[int], now: dt.datetime
) -> tuple[list[tuple[int, AttentionItem]], dict[int, int]]:
    """The exceptions and top signals of the portfolios where the person is a steward, and how
    many more signals wait per portfolio (kept per data version and roles: portfolio.sections)."""
    items = []
    for decision in _pending_exceptions(stewards):
        group = groups[decision.portfolio_id]
        items.append(
            (
                decision.portfolio_id,
                _exception_item(decision, group.role, group.portfolio.currency),
            )
        )
    signals, totals = _top_signals(stewards, data_quality_for=pmo, now=now)
    for signal in signals:
        group = groups[signal.portfolio_id]
        row = signal_rows(
            [signal], show_money=True, can_edit=can_edit_structure(group.role), now=now
        )[0]
        items.append((signal.portfolio_id, _signal_item(row, signal.section)))
    shown = Counter(signal.portfolio_id for signal in signals)
    return items, {pk: total - shown[pk] for pk, total in totals.items()}


def attention(
    user, portfolios: Sequence[Portfolio], *, now: dt.datetime, limit: int | None = None
) -> list[AttentionGroup]:
    """What needs `user` now in each of `portfolios`, per their role there:

    - executives (and administrators): exceptions waiting for their approval (a link straight to
      the approval), reviews overdue, guardrail breaches and the top other signals;
    - Lean PMO: the same (exceptions as waiting for an executive), plus data-quality signals and
      imports that failed in the last two weeks;
    - anyone with a team seat: their teams' key results whose check-in is due or stale, with a
      link to the check-in form.
    Most pressing first (approvals, then check-ins, reviews, breaches, the rest); with `limit`, at
    most that many per portfolio (the home page), the others counted in `more_items`.
    About six queries whatever the number of portfolios, signals and key results.
    """
    portfolios = list(portfolios)
    roles = _roles(user, portfolios)
    stewards = [pk for pk, role in roles.items() if role != "member"]
    pmo = {pk for pk, role in roles.items() if role in {"lean_pmo", "admin"}}
    groups = {p.pk: AttentionGroup(p, roles[p.pk]) for p in portfolios}
    if stewards:
        items, more = kept(
            "attention",
            tuple(sorted((pk, roles[pk]) for pk in stewards)),
            lambda: _steward_items(groups, stewards, pmo, now),
            now=now,
        )
        for pk, item in items:
            groups[pk].items.append(item)
        for pk, count in more.items():
            groups[pk].more_signals = count
    if pmo:
        for job in _failed_imports(sorted(pmo), now):
            groups[job.portfolio_id].items.append(
                AttentionItem(
                    "import",
                    "Import failed",
                    job.file_name or job.get_format_display(),
                    f"Uploaded {job.created_at:%-d %b %Y}; "
                    f"{plural(len(job.errors or []), 'problem')} to look at.",
                    reverse("import-detail", args=[job.pk]),
                    "See the problems",
                )
            )
    for pk, items in _key_result_items(user, portfolios, now).items():
        groups[pk].items.extend(items)
    order = {"approval": 0, "waiting_approval": 1, "key_result": 2, "review": 3, "breach": 4}
    for group in groups.values():
        group.items.sort(key=lambda item: order.get(item.kind, 5))
        if limit is not None and len(group.items) > limit:
            group.more_items = len(group.items) - limit
            group.items = group.items[:limit]
    return [groups[p.pk] for p in portfolios]
