"""Page sections about signals that several pages show — the signal rows, “Needs your attention”,
the value-stream scorecard, the signals inbox — as plain data for an `{% include %}`.

Each calls selectors (reads) and pure functions (arithmetic, sentences) and runs a fixed number
of queries whatever the number of signals, teams and value streams.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from django.core.paginator import Page, Paginator
from django.db.models import Case, CharField, Count, F, Max, Q, Sum, Value, When, Window
from django.db.models.functions import RowNumber
from django.urls import NoReverseMatch, reverse

from leanpmo.detectors import DATA_QUALITY, DETECTOR_LABELS, DETECTORS, SEVERITY_LABELS
from leanpmo.detectors.findings import EDITORS, MONEY
from leanpmo.detectors.wording import money, percent, plural
from leanpmo.models import (
    DecisionKind,
    FundingDecision,
    Signal,
    SignalDailyCount,
    SignalEvaluation,
)
from leanpmo.scorecard import movers, scorecard_frame, sort_scorecard
from leanpmo.signal_selectors import local_today, scorecard_inputs, signal_list
from portfolio.access import can_edit_structure, can_see_money
from portfolio.charting import chart_panel
from portfolio.models import Portfolio, PortfolioMembership
from teams.metrics import is_stale
from teams.models import KeyResult, TeamMembership
from valuestreams.models import ImportJob, JobStatus

STATE_LABELS = {
    "new": "New this week",
    "open": "Open",
    "acknowledged": "Acknowledged",
    "resolved": "Resolved",
    "all": "All",
}
NEW_FOR = dt.timedelta(days=7)


# --- signal rows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    label: str
    url: str


def evidence_links(evidence: Iterable[dict], *, show_money: bool, can_edit: bool) -> list[Link]:
    """The evidence links a viewer may follow (money pages only to those who see money, Lean PMO
    pages only to the Lean PMO), reversed from their URL names."""
    links = []
    for item in evidence:
        audience = item.get("audience", "all")
        if (audience == MONEY and not show_money) or (audience == EDITORS and not can_edit):
            continue
        try:
            url = reverse(item["url_name"], args=item.get("args", []))
        except (NoReverseMatch, KeyError):
            continue
        if item.get("query"):
            url += f"?{item['query']}"
        if item.get("anchor"):
            url += f"#{item['anchor']}"
        links.append(Link(item.get("label", "Evidence"), url))
    return links


@dataclass
class SignalRow:
    """A signal as a list shows it: labels, its sentence for this viewer, state and links."""

    signal: Signal
    detector: str
    severity: str
    sentence: str
    state: str
    scope: str
    links: list[Link]
    acknowledged_until: dt.datetime | None = None
    acknowledged_reason: str = ""

    @property
    def url(self) -> str:
        return reverse("signal-detail", args=[self.signal.pk])

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


def signal_state(signal: Signal, now: dt.datetime) -> str:
    """new / open / acknowledged / resolved, as the inbox names them (needs the annotation of
    SignalQuerySet.with_acknowledgement)."""
    if signal.state == Signal.State.RESOLVED:
        return "resolved"
    if getattr(signal, "acknowledged_until", None):
        return "acknowledged"
    return "new" if signal.opened_at >= now - NEW_FOR else "open"


def _scope(signal: Signal) -> str:
    if signal.team_id:
        return signal.team.name
    if signal.value_stream_id:
        return signal.value_stream.name
    return signal.portfolio.name


def signal_rows(
    signals: Iterable[Signal], *, show_money: bool, can_edit: bool, now: dt.datetime
) -> list[SignalRow]:
    """Rows for signals fetched with their portfolio, value stream and team (no queries)."""
    return [
        SignalRow(
            signal=signal,
            detector=DETECTOR_LABELS.get(signal.detector, signal.detector),
            severity=SEVERITY_LABELS.get(signal.severity, ""),
            sentence=signal.explanation(show_money=show_money),
            state=signal_state(signal, now),
            scope=_scope(signal),
            links=evidence_links(signal.evidence, show_money=show_money, can_edit=can_edit),
            acknowledged_until=getattr(signal, "acknowledged_until", None),
            acknowledged_reason=getattr(signal, "acknowledged_reason", None) or "",
        )
        for signal in signals
    ]


# --- needs your attention ------------------------------------------------------------------------


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
    """What needs the person in one portfolio (empty: nothing does), and open signals not shown."""

    portfolio: Portfolio
    role: str
    items: list[AttentionItem] = field(default_factory=list)
    more_signals: int = 0

    @property
    def inbox_url(self) -> str:
        return reverse("signal-inbox", args=[self.portfolio.pk])


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
        .select_related("value_stream", "decided_by")
        .order_by("decided_at", "pk")
    )


def _exception_item(decision: FundingDecision, role: str, currency: str) -> AttentionItem:
    who = decision.decided_by.get_full_name() or decision.decided_by.username
    change = decision.amount_after - decision.amount_before
    sign = "+" if change >= 0 else "−"
    detail = (
        f"{sign}{money(abs(change), currency)} for {decision.value_stream.name}, recorded by "
        f"{who} on {decision.decided_at:%-d %b %Y}: {decision.rationale}"
    )
    if role in {"executive", "admin"}:
        return AttentionItem(
            "approval",
            "Waiting for your approval",
            f"Exception for {decision.value_stream.name}",
            detail,
            reverse("decision-approval", args=[decision.pk]),
            "Review and answer",
        )
    return AttentionItem(
        "waiting_approval",
        "Waiting for an executive",
        f"Exception for {decision.value_stream.name}",
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


def attention(user, portfolios: Sequence[Portfolio], *, now: dt.datetime) -> list[AttentionGroup]:
    """What needs `user` now in each of `portfolios`, per their role there:

    - executives (and administrators): exceptions waiting for their approval (a link straight to
      the approval), reviews overdue, guardrail breaches and the top other signals;
    - Lean PMO: the same (exceptions as waiting for an executive), plus data-quality signals and
      imports that failed in the last two weeks;
    - anyone with a team seat: their teams' key results whose check-in is due or stale, with a
      link to the check-in form.
    About six queries whatever the number of portfolios, signals and key results.
    """
    portfolios = list(portfolios)
    roles = _roles(user, portfolios)
    stewards = [pk for pk, role in roles.items() if role != "member"]
    pmo = {pk for pk, role in roles.items() if role in {"lean_pmo", "admin"}}
    groups = {p.pk: AttentionGroup(p, roles[p.pk]) for p in portfolios}
    if stewards:
        for decision in _pending_exceptions(stewards):
            group = groups[decision.portfolio_id]
            group.items.append(_exception_item(decision, group.role, group.portfolio.currency))
        signals, totals = _top_signals(stewards, data_quality_for=pmo, now=now)
        for signal in signals:
            group = groups[signal.portfolio_id]
            row = signal_rows(
                [signal],
                show_money=True,
                can_edit=can_edit_structure(group.role),
                now=now,
            )[0]
            group.items.append(_signal_item(row, signal.section))
        shown = Counter(signal.portfolio_id for signal in signals)
        for pk, total in totals.items():
            groups[pk].more_signals = total - shown[pk]
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
    return [groups[p.pk] for p in portfolios]


# --- the value-stream scorecard ---------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sortable: bool = True
    money: bool = False
    numeric: bool = True


@dataclass
class Cell:
    text: str
    url: str = ""
    css: str = ""
    badges: list[tuple[str, str, str]] = field(default_factory=list)  # (tier, text, title)
    note: str = ""


@dataclass
class Scorecard:
    """The scorecard of one portfolio as the page shows it: columns (money ones only for those who
    see money), one row of cells per value stream, the sort applied and what the figures cover."""

    portfolio: Portfolio
    columns: list[Column]
    rows: list[list[Cell]]
    sort: str
    show_money: bool
    period: str
    month: str
    frame: pd.DataFrame
    movers: list[dict]

    def sort_url(self, column: str) -> str:
        descending = self.sort == column
        return f"?sort={'-' if descending else ''}{column}#scorecard"

    @property
    def headers(self) -> list[dict[str, Any]]:
        return [
            {
                "column": column,
                "url": self.sort_url(column.key) if column.sortable else "",
                "sorted": self.sort.removeprefix("-") == column.key,
                "descending": self.sort.startswith("-"),
            }
            for column in self.columns
        ]


COLUMNS = (
    Column("value_stream", "Value stream", numeric=False),
    Column("budget", "Budget", money=True),
    Column("actual", "Actual", money=True),
    Column("budget_change", "Change vs last period", money=True),
    Column("velocity", "Items done"),
    Column("flow_time_p85_days", "Flow time p85"),
    Column("efficiency", "Flow efficiency"),
    Column("load_change", "Load trend"),
    Column(
        "dora", "DORA: deploys · lead time · failures · recovery", sortable=False, numeric=False
    ),
    Column("outcome_progress", "Outcome progress"),
    Column("stale_share", "Stale key results"),
    Column("realisation_change", "Realisation (quarter)"),
    Column("open_signals", "Open signals"),
)
TIERS = (
    ("deployment_frequency_tier", "Deploys"),
    ("lead_time_tier", "Lead time"),
    ("change_failure_rate_tier", "Failures"),
    ("recovery_time_tier", "Recovery"),
)


def _signed(value: float | None, *, good: str = "up") -> tuple[str, str]:
    """“↑ 12 %” with a css class: good or bad depending on which way is good."""
    if value is None:
        return "—", ""
    value = round(value)  # as shown: a change that rounds to 0 % is no change
    arrow = "↑" if value > 0 else "↓" if value < 0 else "→"
    css = "" if value == 0 else ("good" if (value > 0) == (good == "up") else "bad")
    return f"{arrow} {percent(abs(value))}", css


def _days(value: float | None) -> str:
    if value is None:
        return "—"
    shown = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{shown} day" if shown == "1" else f"{shown} days"


def _cells(row: dict, portfolio: Portfolio, columns: list[Column]) -> list[Cell]:
    stream = row["value_stream_id"]
    stream_url = reverse("value-stream-detail", args=[stream])
    currency = portfolio.currency
    change, change_css = _signed(row["budget_change"])
    load, load_css = _signed(row["load_change"], good="down")
    realisation, realisation_css = _signed(row["realisation_change"])
    velocity = "—" if row["velocity"] is None else f"{row['velocity']:,}"
    if row["velocity_change"] is not None:
        velocity += f" ({_signed(row['velocity_change'])[0]})"
    progress = "—" if row["outcome_progress"] is None else percent(row["outcome_progress"])
    stale = (
        "—" if not row["key_results"] else f"{percent(row['stale_share'])} of {row['key_results']}"
    )
    realisation_note = (
        f"{row['realisation_improving'] or 0} of {row['realisation_metrics']} realisation metrics "
        "improving over a quarter"
        if row["realisation_metrics"]
        else "No realisation metrics"
    )
    cells = {
        "value_stream": Cell(row["value_stream"], stream_url, "name"),
        "budget": Cell(
            money(row["budget"], currency) if row["budget"] is not None else "—",
            reverse("budget-detail", args=[row["budget_id"]]) if row["budget_id"] else "",
        ),
        "actual": Cell(
            money(row["actual"], currency) if row["actual"] is not None else "—",
            reverse("investment-mix", args=[portfolio.pk]),
        ),
        "budget_change": Cell(
            change,
            reverse("budget-detail", args=[row["budget_id"]]) if row["budget_id"] else "",
            change_css,
        ),
        "velocity": Cell(velocity, f"{stream_url}#flow"),
        "flow_time_p85_days": Cell(_days(row["flow_time_p85_days"]), f"{stream_url}#flow"),
        "efficiency": Cell(
            "—" if row["efficiency"] is None else percent(row["efficiency"]), f"{stream_url}#flow"
        ),
        "load_change": Cell(load, f"{stream_url}#flow", load_css),
        "dora": Cell(
            "" if row["dora_month"] else "—",
            f"{stream_url}#flow",
            badges=[
                (row[key] or "none", row[key] or "—", f"{label}: {row[key] or 'no tier'}")
                for key, label in TIERS
            ]
            if row["dora_month"]
            else [],
        ),
        "outcome_progress": Cell(progress, f"{stream_url}#outcomes"),
        "stale_share": Cell(stale, f"{stream_url}#outcomes", "bad" if row["stale_share"] else ""),
        "realisation_change": Cell(
            realisation,
            reverse("realisation-metrics", args=[stream]),
            realisation_css,
            note=realisation_note,
        ),
        "open_signals": Cell(
            str(row["open_signals"]),
            reverse("signal-inbox", args=[portfolio.pk]) + f"?value_stream={stream}",
            "bad" if row["open_signals"] else "",
        ),
    }
    return [cells[column.key] for column in columns]


def scorecard(portfolio: Portfolio, *, role: str | None, sort: str, now: dt.datetime) -> Scorecard:
    """The value-stream scorecard of the portfolio, sorted by `sort` (see
    leanpmo.scorecard.sort_scorecard); money only for those who may see it."""
    show_money = can_see_money(role, portfolio)
    inputs = scorecard_inputs(portfolio, as_of=now, now=now)
    frame = scorecard_frame(inputs, as_of=now, today=local_today(portfolio, now))
    frame, applied = sort_scorecard(frame, sort, money=show_money)
    columns = [c for c in COLUMNS if show_money or not c.money]
    months = [m for m in frame["month"] if m] if not frame.empty else []
    return Scorecard(
        portfolio=portfolio,
        columns=columns,
        rows=[_cells(row, portfolio, columns) for row in frame.to_dict("records")],
        sort=applied,
        show_money=show_money,
        period=inputs.period,
        month=max(months) if months else "",
        frame=frame,
        movers=movers(frame, money=show_money),
    )


def scorecard_table(card: Scorecard) -> pd.DataFrame:
    """The scorecard's numbers for a download: one row per value stream, columns named for people
    (money columns only when the viewer sees money)."""
    frame = card.frame
    table = pd.DataFrame({"Value stream": frame["value_stream"]})
    if card.show_money:
        table[f"Budget {card.period} ({card.portfolio.currency})"] = frame["budget"]
        table[f"Actual ({card.portfolio.currency})"] = frame["actual"]
        table["Budget change vs previous period (%)"] = frame["budget_change"]
    named = {
        "velocity": "Items done in the month",
        "velocity_change": "Items done change (%)",
        "flow_time_p85_days": "Flow time p85 (days)",
        "efficiency": "Flow efficiency (%)",
        "load": "Mean load (items)",
        "load_change": "Load change (%)",
        "month": "Month",
        "deployment_frequency_tier": "Deployment frequency tier",
        "lead_time_tier": "Lead time tier",
        "change_failure_rate_tier": "Change failure rate tier",
        "recovery_time_tier": "Recovery time tier",
        "outcome_progress": "Outcome progress (%)",
        "key_results": "Open key results",
        "stale_share": "Stale key results (%)",
        "realisation_change": "Realisation quarter change (%)",
        "open_signals": "Open signals",
    }
    for column, label in named.items():
        table[label] = frame[column]
    return table.reset_index(drop=True)


# --- the signals inbox ----------------------------------------------------------------------


@dataclass
class DetectorCount:
    code: str
    label: str
    number: int
    open: int
    acknowledged: int
    new: int
    resolved: int
    not_enough: list[str]
    not_enough_count: int
    error: str

    @property
    def url(self) -> str:
        return f"?detector={self.code}"


@dataclass
class Inbox:
    rows: list[SignalRow]
    page: Page
    counts: list[DetectorCount]
    trend: dict
    evaluated_at: dt.datetime | None
    as_of: dt.datetime | None


def inbox_signals(portfolio: Portfolio, filters: dict, *, now: dt.datetime):
    """The portfolio's signals narrowed by the inbox filters (detector, severity, value_stream,
    team, state; state defaults to open), most severe and newest first."""
    signals = signal_list(portfolio, now=now).in_state(filters.get("state") or "open", now)
    if filters.get("detector"):
        signals = signals.filter(detector=filters["detector"])
    if filters.get("severity"):
        signals = signals.filter(severity=filters["severity"])
    if filters.get("value_stream"):
        signals = signals.filter(value_stream=filters["value_stream"])
    if filters.get("team"):
        signals = signals.filter(team=filters["team"])
    return signals.order_by("-severity", "-opened_at", "pk")


def _detector_counts(portfolio: Portfolio, now: dt.datetime) -> list[DetectorCount]:
    rows = signal_list(portfolio, now=now).values_list(
        "detector", "state", "acknowledged_until", "opened_at", "resolved_at"
    )
    counts: dict[str, Counter] = defaultdict(Counter)
    for detector, state, acknowledged, opened_at, resolved_at in rows:
        tally = counts[detector]
        if state == Signal.State.RESOLVED:
            tally["resolved"] += resolved_at is not None and resolved_at >= now - NEW_FOR
        elif acknowledged:
            tally["acknowledged"] += 1
        else:
            tally["open"] += 1
            tally["new"] += opened_at >= now - NEW_FOR
    evaluation = SignalEvaluation.objects.filter(portfolio=portfolio).first()
    summary = evaluation.detectors if evaluation else {}
    return [
        DetectorCount(
            code=info.code,
            label=info.label,
            number=info.number,
            open=counts[info.code]["open"],
            acknowledged=counts[info.code]["acknowledged"],
            new=counts[info.code]["new"],
            resolved=counts[info.code]["resolved"],
            not_enough=summary.get(info.code, {}).get("not_enough_data", []),
            not_enough_count=summary.get(info.code, {}).get("not_enough_count", 0),
            error=summary.get(info.code, {}).get("error", ""),
        )
        for info in DETECTORS
    ]


def signal_trend_chart(counts: pd.DataFrame, *, start: dt.date, end: dt.date) -> go.Figure:
    """Open signals per day (columns day, open), one line over the days from `start` to `end`."""
    figure = go.Figure(
        go.Scatter(
            x=list(counts["day"]),
            y=list(counts["open"]),
            mode="lines+markers",
            name="Open signals",
            line={"color": "#1f4e79"},
        )
    )
    figure.update_layout(
        xaxis={
            "type": "date",
            "range": [start.isoformat(), end.isoformat()],
            "tickformat": "%-d %b",
        },
        yaxis={"title": "Open signals", "rangemode": "tozero"},
        showlegend=False,
    )
    return figure


def _trend(portfolio: Portfolio, today: dt.date) -> dict:
    """Open signals per day over the last twelve weeks, from the evaluations' daily counts."""
    per_day = (
        SignalDailyCount.objects.filter(
            portfolio=portfolio, day__gte=today - dt.timedelta(weeks=12)
        )
        .values("day")
        .annotate(total=Sum("open"))
        .order_by("day")
        .values_list("day", "total")
    )
    frame = pd.DataFrame(list(per_day), columns=["day", "open"])
    return chart_panel(
        f"signal-trend-{portfolio.pk}",
        "Open signals over the last 12 weeks",
        signal_trend_chart(
            frame, start=today - dt.timedelta(weeks=12), end=today + dt.timedelta(days=1)
        ),
        frame,
        columns=["Day", "Open signals"],
    )


def signal_inbox(
    portfolio: Portfolio, filters: dict, *, role: str | None, now: dt.datetime, page: int | str
) -> Inbox:
    """The inbox page: a page of the filtered signals, counts per detector and the trend (a fixed
    number of queries whatever the number of signals)."""
    show_money = can_see_money(role, portfolio)
    paginator = Paginator(inbox_signals(portfolio, filters, now=now), 25)
    current = paginator.get_page(page)
    evaluation = SignalEvaluation.objects.filter(portfolio=portfolio).first()
    return Inbox(
        rows=signal_rows(
            current.object_list,
            show_money=show_money,
            can_edit=can_edit_structure(role),
            now=now,
        ),
        page=current,
        counts=_detector_counts(portfolio, now),
        trend=_trend(portfolio, local_today(portfolio, now)),
        evaluated_at=evaluation.evaluated_at if evaluation else None,
        as_of=evaluation.as_of if evaluation else None,
    )


def inbox_table(rows: list[SignalRow], portfolio: Portfolio) -> pd.DataFrame:
    """Signals as a table for the CSV download (the viewer's sentences)."""
    zone = zoneinfo.ZoneInfo(portfolio.time_zone)

    def local(moment):
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else None

    return pd.DataFrame(
        [
            {
                "Detector": row.detector,
                "Severity": row.severity,
                "State": row.state_label,
                "Value stream": row.signal.value_stream.name if row.signal.value_stream_id else "",
                "Team": row.signal.team.name if row.signal.team_id else "",
                "Why": row.sentence,
                "First seen": local(row.signal.first_seen),
                "Last seen": local(row.signal.last_seen),
                "Resolved": local(row.signal.resolved_at),
                "Acknowledged until": local(row.acknowledged_until),
                "Acknowledgement reason": row.acknowledged_reason,
            }
            for row in rows
        ],
        columns=[
            "Detector", "Severity", "State", "Value stream", "Team", "Why", "First seen",
            "Last seen", "Resolved", "Acknowledged until", "Acknowledgement reason",
        ],
    )  # fmt: skip


# --- the weekly digest ------------------------------------------------------------------------


@dataclass
class Digest:
    """One person's weekly digest of one portfolio: what needs them, the signals new and resolved
    in the last seven days, and the scorecard's biggest movers."""

    person: Any
    portfolio: Portfolio
    role: str
    week: str
    attention: AttentionGroup
    new: list[SignalRow]
    resolved: list[SignalRow]
    new_count: int
    resolved_count: int
    movers: list[dict]
    show_money: bool

    @property
    def subject(self) -> str:
        needs = len(self.attention.items)
        return (
            f"{self.portfolio.name}: {plural(needs, 'thing')} to look at, "
            f"{self.new_count} new and {self.resolved_count} resolved signals ({self.week})"
        )

    @property
    def is_empty(self) -> bool:
        return not (self.attention.items or self.new or self.resolved or self.movers)


def iso_week(portfolio: Portfolio, now: dt.datetime) -> str:
    """The ISO week of `now` in the portfolio's time zone, e.g. "2026-W10"."""
    iso = local_today(portfolio, now).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def digest(person, portfolio: Portfolio, *, role: str, now: dt.datetime) -> Digest:
    """What the person's weekly digest of the portfolio says as of `now` (money only for roles that
    see it)."""
    show_money = can_see_money(role, portfolio)
    since = now - NEW_FOR
    signals = signal_list(portfolio, now=now)
    new = signals.in_state("new", now).order_by("-severity", "-opened_at", "pk")
    resolved = signals.filter(state=Signal.State.RESOLVED, resolved_at__gte=since).order_by(
        "-resolved_at", "pk"
    )
    rows = {
        "show_money": show_money,
        "can_edit": can_edit_structure(role),
        "now": now,
    }
    card = scorecard(portfolio, role=role, sort="", now=now)
    return Digest(
        person=person,
        portfolio=portfolio,
        role=role,
        week=iso_week(portfolio, now),
        attention=attention(person, [portfolio], now=now)[0],
        new=signal_rows(new[:10], **rows),
        resolved=signal_rows(resolved[:10], **rows),
        new_count=new.count(),
        resolved_count=resolved.count(),
        movers=card.movers,
        show_money=show_money,
    )


def mover_text(move: dict, currency: str) -> str:
    """“Cards: flow time p85 ↑ 35 % (12 → 16.2 days)”."""
    arrow, _ = _signed(move["change"])
    if move["unit"] == "money":
        return f"{move['value_stream']}: budget {arrow} (now {money(move['now'], currency)})"
    before = "—" if move["before"] is None else f"{move['before']:g}"
    now = "—" if move["now"] is None else f"{move['now']:g}"
    return f"{move['value_stream']}: {move['what']} {arrow} ({before} → {now} {move['unit']})"
