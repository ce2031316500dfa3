"""Demo funding for Harbour Bank: themes, horizons, quarterly periods, budgets, guardrails, actual spend,
decisions with evidence and reviews. Idempotent: a portfolio that already has funding periods is left
as it is.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from leanpmo.models import (
    DecisionKind,
    ExceptionApproval,
    FundingDecision,
    FundingPeriod,
    Guardrail,
    ReviewOutcome,
    ValueStreamBudget,
)
from leanpmo.services.budgets import budget_change, budget_create
from leanpmo.services.decisions import DecisionInput, decision_record, review_record
from leanpmo.services.imports import actual_record
from leanpmo.services.periods import period_create, period_transition
from leanpmo.services.structure import guardrail_save, horizons_ensure, theme_create
from portfolio.models import Portfolio
from teams.models import ProductTeam

THEMES = {
    "Everyday Banking": [
        ("Digital first", "Most customer journeys start and end in the app."),
        ("Trust & safety", "Customers feel safe: less fraud, fewer outages."),
        ("Cost to serve", "Serve each customer for less every year."),
    ],
    "Lending & Wealth": [
        ("Faster credit decisions", "Decide on credit in minutes, not days."),
        ("Wealth for everyone", "Make investing accessible to retail customers."),
        ("Regulatory resilience", "Meet new rules without fire drills."),
    ],
}
# value stream → its budget's split over the themes (percent): the outcomes of each stream serve the
# same themes (teams.demo.STREAM_OUTCOMES), so the investment mix and the outcomes tell one story
THEME_SPLIT = {
    "Account Opening & Onboarding": {"Digital first": 60, "Trust & safety": 40},
    "Payments & Transfers": {"Trust & safety": 60, "Cost to serve": 40},
    "Cards": {"Digital first": 55, "Trust & safety": 45},
    "Mobile & Online Banking": {"Digital first": 70, "Cost to serve": 30},
    "Digital Platform": {"Cost to serve": 65, "Digital first": 35},
    "Mortgages": {"Faster credit decisions": 60, "Regulatory resilience": 40},
    "Personal Loans": {"Faster credit decisions": 70, "Regulatory resilience": 30},
    "Wealth & Investments": {"Wealth for everyone": 80, "Regulatory resilience": 20},
}
GUARDRAILS = [
    {"kind": Guardrail.Kind.HORIZON_SHARE, "horizon": "run", "min_percent": 40, "max_percent": 70},
    {
        "kind": Guardrail.Kind.HORIZON_SHARE,
        "horizon": "transform",
        "min_percent": 10,
        "max_percent": 30,
    },
    {"kind": Guardrail.Kind.MAX_BUDGET_CHANGE, "max_percent": 25},
    {"kind": Guardrail.Kind.MIN_ALLOCATION, "item_type": "Debt", "min_percent": 10},
    {"kind": Guardrail.Kind.MIN_ALLOCATION, "item_type": "Risk", "min_percent": 5},
    {"kind": Guardrail.Kind.MAX_FIXED_SCOPE_SHARE, "max_percent": 20},
]
ALLOCATIONS = [(70, 10, 10, 10), (60, 15, 10, 15), (55, 10, 15, 20), (65, 10, 5, 20)]
RATIONALES = {
    DecisionKind.START: "A new bet with a clear customer problem and a team ready to own it.",
    DecisionKind.INCREASE: "Flow is healthy and the outcome is moving: more capacity will pay off.",
    DecisionKind.CONTINUE: "On track; keep the funding stable so the teams stay stable.",
    DecisionKind.DECREASE: "Outcomes plateaued and flow time grew; free money for better bets.",
    DecisionKind.STOP: "The hypothesis was invalidated; stop the Transform bet and keep Run.",
    DecisionKind.EXCEPTION: "Regulatory deadline: a step change beyond the guardrail is justified.",
}


def _quarter_start(day: dt.date, offset: int) -> dt.date:
    index = day.year * 4 + (day.month - 1) // 3 + offset
    return dt.date(index // 4, index % 4 * 3 + 1, 1)


def _quarter(day: dt.date, offset: int) -> tuple[str, dt.date, dt.date]:
    start = _quarter_start(day, offset)
    end = _quarter_start(day, offset + 1) - dt.timedelta(days=1)
    return f"{start.year} Q{(start.month - 1) // 3 + 1}", start, end


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def _decide(period, stream, kind, before, after, pmo, day, rng):
    return decision_record(
        period=period,
        value_stream=stream,
        decision=DecisionInput(
            kind=kind,
            rationale=RATIONALES[kind],
            expected_outcome=rng.choice(
                [
                    "Flow time p85 below 20 days and the key result up by a third.",
                    "Fewer incidents: change failure rate under 10 %.",
                    "Onboarding completion above 70 % by the end of the quarter.",
                    "Debt share of completed work reaches the 15 % target.",
                ]
            ),
            options_considered="Keep as is; move money to a neighbouring stream; stop.",
            leading_indicators="Flow velocity, flow time p85, change failure rate.",
            review_due_on=day + dt.timedelta(days=75),
        ),
        amount_before=before,
        amount_after=after,
        user=pmo,
        now=_at(day),
    )


def _theme_split(stream_name: str, themes: list, number: int) -> dict[str, int]:
    """The stream's split of THEME_SPLIT (theme id as text → percent); a stream not in it gets
    60/40 over two themes by its position."""
    by_name = {theme.name: theme for theme in themes}
    split = THEME_SPLIT.get(stream_name, {})
    if split and set(split) <= set(by_name):
        return {str(by_name[name].pk): percent for name, percent in split.items()}
    if not themes:
        return {}
    first, second = themes[number % len(themes)], themes[(number + 1) % len(themes)]
    return {str(first.pk): 60, str(second.pk): 40}


@transaction.atomic
def _seed_portfolio(portfolio: Portfolio, today: dt.date, users: dict) -> int:
    rng = random.Random(f"funding-{portfolio.name}")
    pmo, executive = users["pmo"], users["executive"]
    horizons_ensure(portfolio=portfolio)
    themes = [
        theme_create(portfolio=portfolio, name=name, objective=objective, position=position)
        for position, (name, objective) in enumerate(THEMES.get(portfolio.name, []))
    ]
    for spec in GUARDRAILS:
        guardrail_save(portfolio=portfolio, user=pmo, **spec)
    streams = list(portfolio.value_streams.order_by("name"))
    team_cost = {stream.pk: Decimal(0) for stream in streams}
    for team in ProductTeam.objects.filter(value_stream__in=streams):
        team_cost[team.value_stream_id] += team.capacity_fte * team.loaded_cost_per_fte / 4
    periods = []
    for offset in (-3, -2, -1, 0, 1):
        name, start, end = _quarter(today, offset)
        periods.append(
            period_create(portfolio=portfolio, name=name, starts_on=start, ends_on=end, user=pmo)
        )
    decisions: list[FundingDecision] = []
    previous: dict[int, Decimal] = {}
    for index, period in enumerate(periods):
        for number, stream in enumerate(streams):
            base = (team_cost[stream.pk] or Decimal(400000)) * Decimal("1.1")
            drift = Decimal(1 + 0.04 * index * (1 if number % 2 == 0 else -0.5))
            total = (base * drift).quantize(Decimal("1000"))
            run_share = Decimal(["0.55", "0.6", "0.5", "0.65"][number % 4])
            transform_share = Decimal(["0.15", "0.1", "0.2", "0.12"][number % 4])
            amounts = {
                "amount_run": (total * run_share).quantize(Decimal("1000")),
                "amount_transform": (total * transform_share).quantize(Decimal("1000")),
            }
            amounts["amount_grow"] = total - amounts["amount_run"] - amounts["amount_transform"]
            feature, defect, risk, debt = ALLOCATIONS[number % 4]
            split = _theme_split(stream.name, themes, number)
            budget_create(
                period=period,
                value_stream=stream,
                user=pmo,
                **amounts,
                fixed_scope_amount=(total * Decimal("0.08")).quantize(Decimal("1000"))
                if number == 1
                else Decimal(0),
                alloc_feature=feature,
                alloc_defect=defect,
                alloc_risk=risk,
                alloc_debt=debt,
                theme_split=split,
            )
            if index < 4 and number < 2 and (index > 0 or number == 0):
                before = previous.get(stream.pk, Decimal(0))
                if index == 0 and number == 0:
                    kind = DecisionKind.START
                elif index == 2 and number == 1:
                    kind = DecisionKind.CONTINUE
                elif before and total > before:
                    kind = DecisionKind.INCREASE
                elif before and total < before:
                    kind = DecisionKind.DECREASE
                else:
                    kind = DecisionKind.CONTINUE
                decisions.append(
                    _decide(
                        period,
                        stream,
                        kind,
                        before,
                        total,
                        pmo,
                        period.starts_on - dt.timedelta(days=12),
                        rng,
                    )
                )
            previous[stream.pk] = total
        if index < 4:
            period_transition(
                period=period,
                status="approved",
                user=executive,
                now=_at(period.starts_on - dt.timedelta(days=5)),
            )
        if index < 3:
            period_transition(
                period=period,
                status="closed",
                user=pmo,
                now=_at(period.ends_on + dt.timedelta(days=3)),
            )
    # a stop and an approved exception in a closed period, for the timeline
    last_closed = periods[2]
    stream = streams[-1]
    budget = ValueStreamBudget.objects.get(period=last_closed, value_stream=stream)
    decisions.append(
        _decide(
            last_closed,
            stream,
            DecisionKind.STOP,
            budget.total,
            budget.total - budget.amount_transform,
            pmo,
            last_closed.starts_on + dt.timedelta(days=20),
            rng,
        )
    )
    stretched = ValueStreamBudget.objects.get(period=last_closed, value_stream=streams[-2])
    exception = _decide(
        last_closed,
        streams[-2],
        DecisionKind.EXCEPTION,
        stretched.total,
        (stretched.total * Decimal("1.3")).quantize(Decimal("1000")),
        pmo,
        last_closed.starts_on + dt.timedelta(days=25),
        rng,
    )
    ExceptionApproval.objects.create(
        decision=exception, approved=True, note="Deadline is real; revisit next quarter.",
        decided_by=executive, decided_at=_at(last_closed.starts_on + dt.timedelta(days=27)),
    )  # fmt: skip
    decisions.append(exception)
    # reviews: due ones get held / partly / did not hold / too early, two stay overdue
    outcomes = [
        ReviewOutcome.HELD,
        ReviewOutcome.PARTLY,
        ReviewOutcome.DID_NOT_HOLD,
        ReviewOutcome.TOO_EARLY,
        ReviewOutcome.HELD,
    ]
    due = [d for d in decisions if d.review_due_on <= today]
    for number, decision in enumerate(due[:-2]):
        outcome = outcomes[number % len(outcomes)]
        late = number % 3 == 2
        review_record(
            decision=decision, outcome=outcome, user=pmo,
            notes="Figures at review beside those at decision time; see the evidence.",
            now=_at(min(today, decision.review_due_on + dt.timedelta(days=12 if late else -2))),
        )  # fmt: skip
    # live changes in the current (approved) period: one decision-backed increase, one pending exception
    current = periods[3]
    live = ValueStreamBudget.objects.select_related("period__portfolio", "value_stream").get(
        period=current, value_stream=streams[2 % len(streams)]
    )
    budget_change(
        budget=live, expected_version=live.version, user=pmo,
        changes={"amount_grow": live.amount_grow + Decimal(50000)},
        decision=DecisionInput(kind=DecisionKind.INCREASE, rationale=RATIONALES[DecisionKind.INCREASE], expected_outcome="Flow velocity up 20 % within the quarter."),
        now=_at(min(today, current.ends_on)),
    )  # fmt: skip
    live.refresh_from_db()
    budget_change(
        budget=live, expected_version=live.version, user=pmo,
        changes={"amount_transform": live.amount_transform + live.total},
        decision=DecisionInput(kind=DecisionKind.EXCEPTION, rationale=RATIONALES[DecisionKind.EXCEPTION], expected_outcome="The regulatory capability is live before the deadline."),
        now=_at(min(today, current.ends_on)),
    )  # fmt: skip
    for period in periods[:4]:
        elapsed = min(Decimal(1), Decimal(max(0, (today - period.starts_on).days)) / period.days)
        for number, budget in enumerate(
            ValueStreamBudget.objects.filter(period=period).select_related("value_stream")
        ):
            factor = Decimal(["0.96", "1.04", "0.91", "1.0", "1.08"][number % 5]) * elapsed
            actual_record(
                period=period,
                value_stream=budget.value_stream,
                amount=(budget.total * factor).quantize(Decimal("0.01")),
            )
    return FundingDecision.objects.filter(portfolio=portfolio).count()


def seed_funding(*, today: dt.date) -> str:
    """Create Harbour Bank's funding (idempotent); returns one line saying what exists."""
    users = {
        u.username: u for u in get_user_model().objects.filter(username__in=["pmo", "executive"])
    }
    for portfolio in Portfolio.objects.order_by("name"):
        if FundingPeriod.objects.filter(portfolio=portfolio).exists() or len(users) < 2:
            continue
        _seed_portfolio(portfolio, today, users)
    return (
        f"Funding ready: {FundingPeriod.objects.count()} periods, "
        f"{ValueStreamBudget.objects.count()} budgets, {Guardrail.objects.count()} guardrails, "
        f"{FundingDecision.objects.count()} decisions."
    )
