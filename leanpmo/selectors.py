"""Reads for the Lean PMO pages and API. Each runs a fixed number of queries whatever the row count."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, QuerySet, Sum

from leanpmo import plan_text
from leanpmo.guardrails import PlanRow, Result, Rule, check_plan, new_breaches
from leanpmo.models import (
    ActualSpend,
    DecisionReview,
    FundingDecision,
    FundingPeriod,
    Guardrail,
    MoneyPlan,
    ReviewOutcome,
    StrategicTheme,
    ValueStreamBudget,
)
from leanpmo.plan_fields import ALLOCATION_FIELD, HORIZON_AMOUNT_FIELD, MONEY_FIELDS, PLAN_FIELDS
from portfolio.models import Portfolio
from portfolio.money import cents
from teams.models import ProductTeam
from valuestreams.models import DoraMetric, FlowMetric, MetricRun, ScopeKind, ValueStream

HISTORY_FIELDS = (*ValueStreamBudget.EDITABLE_FIELDS, "version")
# the request path (or tool) that made an audited change → its name for people, first match wins
VIA_WORDS = (
    ("/approval/", "an executive's approval of an exception"),
    ("/promote/", "a scenario turned into decisions"),
    ("/import/", "a CSV import"),
    ("/api/", "the API"),
    ("/admin/", "Django admin"),
    ("/funding/", "the funding grid"),
    ("sso", "single sign-on"),
)


def budget_plan_row(budget: MoneyPlan) -> PlanRow:
    """The guardrail view of one budget (or scenario line)."""
    return PlanRow(
        value_stream_id=budget.value_stream_id,
        name=budget.value_stream.name,
        amounts={code: getattr(budget, field) for code, field in HORIZON_AMOUNT_FIELD.items()},
        allocation={kind: getattr(budget, field) for kind, field in ALLOCATION_FIELD.items()},
        fixed_scope=budget.fixed_scope_amount,
    )


def guardrail_rules(portfolio: Portfolio) -> list[Rule]:
    """The portfolio's active guardrails as pure rules."""
    return [
        Rule(
            id=guardrail.pk,
            kind=guardrail.kind,
            description=guardrail.describe(),
            horizon=guardrail.horizon,
            item_type=guardrail.item_type,
            min_percent=guardrail.min_percent,
            max_percent=guardrail.max_percent,
        )
        for guardrail in Guardrail.objects.filter(portfolio=portfolio, active=True)
    ]


def previous_period(period: FundingPeriod) -> FundingPeriod | None:
    """The portfolio's period that ended last before `period` starts."""
    return (
        FundingPeriod.objects.filter(portfolio_id=period.portfolio_id, ends_on__lt=period.starts_on)
        .order_by("-ends_on")
        .first()
    )


def previous_totals(period: FundingPeriod) -> dict[int, Decimal]:
    """Value stream id → total budget in the previous period (empty when there is none)."""
    before = previous_period(period)
    if before is None:
        return {}
    return {
        budget.value_stream_id: budget.total
        for budget in ValueStreamBudget.objects.filter(period=before).only(
            "value_stream_id", *HORIZON_AMOUNT_FIELD.values()
        )
    }


@dataclass
class PeriodLine:
    """A period with its money: how many value streams it funds, its total, and the change of the
    total against the period before it (percent; None for the first, or after an empty one)."""

    period: FundingPeriod
    streams: int
    total: Decimal
    change: Decimal | None


def period_lines(portfolio: Portfolio) -> list[PeriodLine]:
    """The portfolio's periods, newest first, each with its money (2 queries)."""
    periods = list(FundingPeriod.objects.filter(portfolio=portfolio).order_by("starts_on"))
    sums = {
        row["period_id"]: row
        for row in ValueStreamBudget.objects.filter(period__portfolio=portfolio)
        .values("period_id")
        .annotate(
            streams=Count("pk"),
            run=Sum("amount_run"),
            grow=Sum("amount_grow"),
            transform=Sum("amount_transform"),
        )
    }
    lines, before = [], None
    for period in periods:
        row = sums.get(period.pk, {})
        total = sum((row.get(code) or Decimal(0) for code in HORIZON_AMOUNT_FIELD), Decimal(0))
        change = (total - before) * 100 / before if before else None
        lines.append(PeriodLine(period, row.get("streams", 0), total, change))
        before = total
    return lines[::-1]


def period_budgets(period: FundingPeriod) -> list[ValueStreamBudget]:
    """The period's budgets, value streams selected, in value-stream name order."""
    return list(
        ValueStreamBudget.objects.filter(period=period)
        .select_related("value_stream", "updated_by")
        .order_by("value_stream__name")
    )


@dataclass
class PlanCheck:
    """A period's plan with its guardrail results."""

    budgets: list[ValueStreamBudget]
    results: list[Result]
    totals: dict[str, Decimal]

    @property
    def breaches(self) -> list[Result]:
        return [result for result in self.results if not result.ok]


def plan_totals(rows: list[PlanRow]) -> dict[str, Decimal]:
    """Sum per horizon code, fixed-scope money and the grand total."""
    totals = {
        code: sum((row.amounts.get(code, Decimal(0)) for row in rows), Decimal(0))
        for code in HORIZON_AMOUNT_FIELD
    }
    totals["fixed_scope"] = sum((row.fixed_scope for row in rows), Decimal(0))
    totals["total"] = sum((row.total for row in rows), Decimal(0))
    return totals


def period_check(period: FundingPeriod) -> PlanCheck:
    """The period's budgets checked against the portfolio's guardrails."""
    budgets = period_budgets(period)
    rows = [budget_plan_row(budget) for budget in budgets]
    results = check_plan(
        rows, guardrail_rules(period.portfolio), previous_totals=previous_totals(period)
    )
    return PlanCheck(budgets, results, plan_totals(rows))


def _flow_figures(row: FlowMetric) -> dict[str, Any]:
    days = 86400
    return {
        "velocity": row.velocity,
        "flow_time_p50_days": None
        if row.flow_time_p50_s is None
        else round(row.flow_time_p50_s / days, 1),
        "flow_time_p85_days": None
        if row.flow_time_p85_s is None
        else round(row.flow_time_p85_s / days, 1),
        "flow_efficiency": None if row.flow_efficiency is None else round(row.flow_efficiency, 3),
        "load_mean": None if row.load_mean is None else round(row.load_mean, 1),
        "share": None if row.share is None else round(row.share, 3),
        "target": None if row.target is None else round(row.target, 3),
    }


DORA_FIELDS = (
    "deployments",
    "median_deployment_days_per_week",
    "deployment_frequency_tier",
    "median_lead_time_minutes",
    "lead_time_tier",
    "change_failure_rate",
    "change_failure_rate_tier",
    "median_recovery_time_minutes",
    "recovery_time_tier",
    "deployment_rework_rate",
)


def evidence_snapshot(
    value_stream: ValueStream, *, before: dt.datetime | None = None
) -> dict[str, Any]:
    """The value stream's precomputed figures, as JSON: what deciders see at decision time.

    Keys: `window` (label of the monthly window), `flow` (item type → velocity, flow time p50 / p85
    in days, efficiency 0–1, mean load, share 0–1, target 0–1), `dora` (the month's DORA figures and
    tiers), `caveats` and `as_of` from the latest recompute. With `before`, the latest month that had
    ended by then (a decision or review sees complete months of its own time); without it, the
    latest month. Empty dicts where nothing was computed.
    """
    scope = {"scope_kind": ScopeKind.VALUE_STREAM, "scope_id": value_stream.pk, "grain": "month"}
    if before is not None:
        scope["window_end__lte"] = before
    latest_flow = (
        FlowMetric.objects.filter(**scope).order_by("-window_start").values("window_start").first()
    )
    flow: dict[str, Any] = {}
    window = ""
    if latest_flow:
        for row in FlowMetric.objects.filter(**scope, window_start=latest_flow["window_start"]):
            flow[row.item_type] = _flow_figures(row)
            window = row.label
    dora_row = DoraMetric.objects.filter(**scope).order_by("-window_start").first()
    dora = {field: getattr(dora_row, field) for field in DORA_FIELDS} if dora_row else {}
    if dora_row:
        dora["window"] = dora_row.label
    run = (
        MetricRun.objects.filter(portfolio_id=value_stream.portfolio_id)
        .order_by("-computed_at")
        .first()
    )
    return {
        "value_stream": value_stream.name,
        "window": window,
        "flow": flow,
        "dora": dora,
        "caveats": run.caveats if run else {},
        "as_of": run.as_of.isoformat() if run else None,
    }


@dataclass
class HistoryEntry:
    """One audited change: who, when, how (label, url) and the fields that changed, for people
    (plan_text.Change: the field's name, old → new as text)."""

    at: dt.datetime
    who: str
    label: str
    url: str
    changes: list[plan_text.Change]

    @property
    def action(self) -> str:
        """What happened, in a word: "Created", "Changed" or "Deleted"."""
        return {"insert": "Created", "update": "Changed", "delete": "Deleted"}.get(
            self.label, self.label.capitalize()
        )

    @property
    def via(self) -> str:
        """Which way the change came, for people ("the funding grid", "the API"; the request path
        when it names no known way; "" when no request made it)."""
        for part, words in VIA_WORDS:
            if part in self.url:
                return words
        return self.url


def budget_history(budget: ValueStreamBudget) -> list[HistoryEntry]:
    """Every recorded change of the budget, newest first, whatever path made it (3 queries): money
    in the portfolio's currency, allocation shares in percent, theme splits by theme name."""
    events = list(budget.events.select_related("pgh_context").order_by("pgh_id"))
    user_ids = {
        event.pgh_context.metadata.get("user")
        for event in events
        if event.pgh_context and event.pgh_context.metadata.get("user")
    }
    users = {
        user.pk: user.get_full_name() or user.username
        for user in get_user_model().objects.filter(pk__in=user_ids)
    }
    portfolio = budget.period.portfolio
    words = {"currency": portfolio.currency, "themes": themes_by_id(portfolio)}
    entries, previous = [], None
    for event in events:
        metadata = event.pgh_context.metadata if event.pgh_context else {}
        changes = [
            plan_text.change(
                field,
                getattr(previous, field) if previous else None,
                getattr(event, field),
                **words,
            )
            for field in HISTORY_FIELDS
            if previous is None or getattr(previous, field) != getattr(event, field)
        ]
        entries.append(
            HistoryEntry(
                at=event.pgh_created_at,
                who=users.get(metadata.get("user"), "system"),
                label=event.pgh_label,
                url=metadata.get("url", metadata.get("via", "")),
                changes=changes,
            )
        )
        previous = event
    return entries[::-1]


def decision_log(portfolio: Portfolio) -> QuerySet[FundingDecision]:
    """The portfolio's decisions, newest first, with what they need for a list (constant queries)."""
    return (
        FundingDecision.objects.filter(portfolio=portfolio)
        .select_related(
            "value_stream", "initiative", "period", "decided_by", "approval", "superseded_by"
        )
        .prefetch_related(
            Prefetch("reviews", queryset=DecisionReview.objects.select_related("reviewed_by"))
        )
        .order_by("-decided_at", "-pk")
    )


def latest_review(decision: FundingDecision) -> DecisionReview | None:
    """The newest review of a decision (from the prefetched reviews)."""
    reviews = list(decision.reviews.all())
    return reviews[-1] if reviews else None


def reviews_due(portfolio: Portfolio, *, today: dt.date) -> list[FundingDecision]:
    """Current decisions whose review is due by `today` and that have no conclusive review yet."""
    due = []
    for decision in decision_log(portfolio).filter(review_due_on__lte=today):
        if hasattr(decision, "superseded_by"):
            continue
        review = latest_review(decision)
        if review is None or review.outcome == ReviewOutcome.TOO_EARLY:
            due.append(decision)
    return sorted(due, key=lambda decision: decision.review_due_on)


@dataclass
class DecisionQuality:
    """Shares 0–1 (None when there is nothing to measure) with the counts behind them."""

    decisions: int
    with_evidence: float | None
    reviewed_on_time: float | None
    held: float | None
    due: int
    reviewed_in_time: int
    conclusive: int
    held_count: int


def decision_quality(decisions: list[FundingDecision], *, today: dt.date) -> DecisionQuality:
    """Share of decisions with evidence, share of due ones reviewed by their date, share that held.

    Superseded decisions are left out. “Held” counts a partly-held review as half.
    A review counts as on time when the first conclusive review came on or before the due date.
    """
    current = [decision for decision in decisions if not hasattr(decision, "superseded_by")]
    due = [decision for decision in current if decision.review_due_on <= today]
    in_time = conclusive = 0
    held_score = 0.0
    held_count = 0
    for decision in current:
        reviews = [r for r in decision.reviews.all() if r.outcome != ReviewOutcome.TOO_EARLY]
        if not reviews:
            continue
        first, last = reviews[0], reviews[-1]
        if decision.review_due_on <= today and first.reviewed_at.date() <= decision.review_due_on:
            in_time += 1
        conclusive += 1
        held_score += {"held": 1.0, "partly": 0.5}.get(last.outcome, 0.0)
        held_count += last.outcome == ReviewOutcome.HELD
    evidence = sum(decision.has_evidence for decision in current)
    return DecisionQuality(
        decisions=len(current),
        with_evidence=evidence / len(current) if current else None,
        reviewed_on_time=in_time / len(due) if due else None,
        held=held_score / conclusive if conclusive else None,
        due=len(due),
        reviewed_in_time=in_time,
        conclusive=conclusive,
        held_count=held_count,
    )


def current_period(portfolio: Portfolio, *, today: dt.date) -> FundingPeriod | None:
    """The period containing `today`, else the latest approved one, else the latest."""
    periods = list(FundingPeriod.objects.filter(portfolio=portfolio).order_by("starts_on"))
    for period in periods:
        if period.starts_on <= today <= period.ends_on:
            return period
    approved = [p for p in periods if p.status != FundingPeriod.Status.DRAFT]
    return (approved or periods or [None])[-1]


def team_cost_frame(portfolio: Portfolio, period: FundingPeriod) -> pd.DataFrame:
    """Per team: columns value_stream_id, team, fte (float), cost (Decimal to the cent: FTE × yearly
    loaded cost × period days / 365)."""
    rows = ProductTeam.objects.filter(value_stream__portfolio=portfolio).values_list(
        "value_stream_id", "name", "capacity_fte", "loaded_cost_per_fte"
    )
    share = Decimal(period.days) / Decimal(365)
    return pd.DataFrame(
        [(vs, name, float(fte), cents(fte * cost * share)) for vs, name, fte, cost in rows],
        columns=["value_stream_id", "team", "fte", "cost"],
    )


def budget_frame(portfolio: Portfolio) -> pd.DataFrame:
    """Every budget of the portfolio: period, period_start, status, value_stream_id, value_stream,
    run, grow, transform, total, fixed_scope, Feature/Defect/Risk/Debt (%), theme_split (dict), actual.

    Money columns (run … actual) hold Decimal, exact to the cent like the database; actual is None
    where nothing was imported.
    """
    actuals = {
        (row["period_id"], row["value_stream_id"]): row["amount"]
        for row in ActualSpend.objects.filter(period__portfolio=portfolio).values(
            "period_id", "value_stream_id", "amount"
        )
    }
    records = []
    for budget in ValueStreamBudget.objects.filter(period__portfolio=portfolio).select_related(
        "period", "value_stream"
    ):
        actual = actuals.get((budget.period_id, budget.value_stream_id))
        records.append(
            {
                "period_id": budget.period_id,
                "period": budget.period.name,
                "period_start": budget.period.starts_on,
                "status": budget.period.status,
                "value_stream_id": budget.value_stream_id,
                "value_stream": budget.value_stream.name,
                **{code: getattr(budget, field) for code, field in HORIZON_AMOUNT_FIELD.items()},
                "total": budget.total,
                "fixed_scope": budget.fixed_scope_amount,
                **{kind: getattr(budget, field) for kind, field in ALLOCATION_FIELD.items()},
                "theme_split": budget.theme_split,
                "actual": actual,
            }
        )
    columns = [
        "period_id", "period", "period_start", "status", "value_stream_id", "value_stream",
        "run", "grow", "transform", "total", "fixed_scope", "Feature", "Defect", "Risk", "Debt",
        "theme_split", "actual",
    ]  # fmt: skip
    return pd.DataFrame(records, columns=columns).sort_values(["period_start", "value_stream"])


def themes_by_id(portfolio: Portfolio) -> dict[str, str]:
    """Theme id (as text, the key of budgets' theme_split) → name."""
    return {
        str(pk): name
        for pk, name in StrategicTheme.objects.filter(portfolio=portfolio).values_list("pk", "name")
    }


def completed_distribution_frame(portfolio: Portfolio, period: FundingPeriod) -> pd.DataFrame:
    """Flow distribution of completed work per value stream in the period's months.

    Columns value_stream_id, item_type, done (items done of that type, summed over the monthly
    windows inside the period). Empty when no flow metrics were computed.
    """
    rows = (
        FlowMetric.objects.filter(
            portfolio=portfolio,
            scope_kind=ScopeKind.VALUE_STREAM,
            grain="month",
            window_start__date__gte=period.starts_on,
            window_start__date__lte=period.ends_on,
        )
        .exclude(item_type="All")
        .values("scope_id", "item_type")
        .annotate(done=Sum("velocity"))
    )
    return pd.DataFrame(
        [(row["scope_id"], row["item_type"], row["done"]) for row in rows],
        columns=["value_stream_id", "item_type", "done"],
    )


def decisions_by_stream(decisions: list[FundingDecision]) -> dict[int, list[FundingDecision]]:
    """Group decisions by value stream id (no queries)."""
    grouped: dict[int, list[FundingDecision]] = defaultdict(list)
    for decision in decisions:
        grouped[decision.value_stream_id].append(decision)
    return grouped


def decision_timeline_frame(decisions: list[FundingDecision]) -> pd.DataFrame:
    """decided_at, value_stream, kind, change (Decimal), outcome (latest review, or "Not reviewed")."""
    rows = []
    for decision in decisions:
        review = latest_review(decision)
        rows.append(
            (
                decision.decided_at,
                decision.subject,
                decision.get_kind_display(),
                decision.change,
                review.get_outcome_display() if review else "Not reviewed",
            )
        )
    return pd.DataFrame(rows, columns=["decided_at", "value_stream", "kind", "change", "outcome"])


def investment_frames(
    portfolio: Portfolio, period: FundingPeriod | None
) -> dict[str, pd.DataFrame]:
    """Every table of the executive page for `period` (constant queries whatever the row counts)."""
    from leanpmo.metrics import mix

    all_budgets = budget_frame(portfolio)
    budgets = all_budgets[all_budgets["period_id"] == (period.pk if period else None)]
    decisions = list(decision_log(portfolio))
    empty_teams = pd.DataFrame(columns=["value_stream_id", "team", "fte", "cost"])
    empty_done = pd.DataFrame(columns=["value_stream_id", "item_type", "done"])
    return {
        "streams": mix.stream_team_mix(
            budgets, team_cost_frame(portfolio, period) if period else empty_teams
        ),
        "themes": mix.theme_mix(budgets, themes_by_id(portfolio)),
        "horizons": mix.horizon_mix(budgets),
        "work_types": mix.work_type_mix(
            budgets, completed_distribution_frame(portfolio, period) if period else empty_done
        ),
        "actuals": mix.budget_vs_actual(budgets),
        "periods": mix.funding_over_periods(all_budgets),
        "decisions": decision_timeline_frame(decisions),
    }


@dataclass
class ExceptionCheck:
    """What an exception decision about a budget asks, for the executive who answers it.

    `changes`: each proposed field, from its value when the exception was asked to the proposal;
    `before` / `after`: the value stream's money then and with the change; `breaches`: the
    guardrail breaches the change causes (against the plan as it is now, with this budget as it
    was when asked); `stale`: the budget changed since, so approving would be refused.
    """

    budget: ValueStreamBudget
    changes: list[plan_text.Change]
    before: Decimal
    after: Decimal
    breaches: list[Result]
    stale: bool

    @property
    def change(self) -> Decimal:
        return self.after - self.before

    @property
    def change_percent(self) -> Decimal | None:
        return self.change * 100 / self.before if self.before else None


def exception_check(decision: FundingDecision) -> ExceptionCheck | None:
    """The budget change an exception decision asks and the guardrails it breaches (a constant
    number of queries); None for decisions that propose no budget change."""
    if decision.kind != "exception" or not decision.proposal or decision.value_stream_id is None:
        return None
    budgets = period_budgets(decision.period)
    budget = next((b for b in budgets if b.value_stream_id == decision.value_stream_id), None)
    if budget is None:
        return None
    asked = budget.events.filter(version=decision.base_version).order_by("-pgh_id").first()
    base = budget.with_values({name: getattr(asked, name) for name in PLAN_FIELDS} if asked else {})
    proposal = {
        name: Decimal(str(value)) if name in MONEY_FIELDS else value
        for name, value in decision.proposal.items()
        if name in PLAN_FIELDS
    }
    changed = base.with_values(proposal)
    portfolio = decision.period.portfolio
    words = {"themes": themes_by_id(portfolio)}  # the table names the currency once
    rules = guardrail_rules(portfolio)
    before_totals = previous_totals(decision.period)

    def plan_with(row: MoneyPlan) -> list[PlanRow]:
        return [budget_plan_row(row if b.pk == budget.pk else b) for b in budgets]

    caused = new_breaches(
        check_plan(plan_with(base), rules, previous_totals=before_totals),
        check_plan(plan_with(changed), rules, previous_totals=before_totals),
    )
    return ExceptionCheck(
        budget=budget,
        changes=[
            plan_text.change(name, getattr(base, name), value, **words)
            for name, value in proposal.items()
        ],
        before=base.total,
        after=changed.total,
        breaches=[r for r in caused if r.value_stream_id in (None, decision.value_stream_id)],
        stale=decision.base_version is not None and budget.version != decision.base_version,
    )


@dataclass(frozen=True)
class ThemeMoney:
    """A strategic theme's money in a period (from the budgets' theme splits) and its share of
    the period's whole budget (0–1)."""

    period: FundingPeriod
    amount: Decimal
    share: float


def theme_money(portfolio: Portfolio, *, today: dt.date) -> dict[int, ThemeMoney]:
    """Theme id → its money in the portfolio's current period (see `current_period`); empty
    without a period or budgets. Three queries, whatever the number of budgets and themes."""
    from leanpmo.metrics import mix

    period = current_period(portfolio, today=today)
    if period is None:
        return {}
    rows = ValueStreamBudget.objects.filter(period=period).values_list(
        *HORIZON_AMOUNT_FIELD.values(), "theme_split"
    )
    plans = [(sum(amounts, Decimal(0)), split) for *amounts, split in rows]
    total = sum((amount for amount, _ in plans), Decimal(0))
    ids = {str(pk): str(pk) for pk in portfolio.themes.values_list("pk", flat=True)}
    return {
        int(key): ThemeMoney(period, cents(amount), float(amount / total) if total else 0.0)
        for key, amount in mix.theme_amounts(plans, ids).items()
        if key.isdigit()
    }
