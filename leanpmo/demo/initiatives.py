"""Demo initiatives for Harbour Bank: about 25 bets across the kanban's states and the three work
shapes, some fixed-scope projects, a few stops that taught something, moves spread over the past
months (starts and stops in the decision log), a strategic WIP cap per portfolio and one exception
waiting for the executive. Idempotent: a portfolio that already has initiatives is left as it is.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count

from leanpmo.models import FundingPeriod, Guardrail, Initiative
from leanpmo.services.initiative_edits import initiative_create
from leanpmo.services.initiative_moves import initiative_exception_request, initiative_move
from leanpmo.services.structure import guardrail_save
from portfolio.models import Portfolio
from teams.models import KeyResult, ProductTeam

REASONS = {
    "reviewing": "Worth a closer look: it serves a theme and a team has asked for it.",
    "analysing": "Reviewed: promising enough to write the lean business case.",
    "ready": "Business case, MVP and leading indicators agreed with the teams.",
    "implementing": "The teams have capacity; start with the MVP.",
    "done": "The MVP is live and the leading indicators moved; the teams carry it on as usual work.",
}


@dataclass
class Bet:
    """One demo initiative: its teams (by name), its path as (state, days ago[, reason])."""

    title: str
    teams: list[str]
    path: list[tuple]
    believe: str
    result: str
    measure: str
    wsjf: tuple[int | None, int | None, int | None, int | None] = (None, None, None, None)
    cost: int | None = None
    fixed: tuple[int, int] | None = None  # (days from today to the end date, scope budget)
    fields: dict = field(default_factory=dict)


EVERYDAY = [
    Bet(
        "Open an account in five minutes",
        ["Onboarding Journey"],
        [
            ("funnel", 230),
            ("reviewing", 215),
            ("analysing", 190),
            ("ready", 150),
            ("implementing", 40),
        ],
        "that a new customer who can open an account on a phone in one sitting",
        "more accounts opened and fewer abandoned applications",
        "completion rate of started applications",
        (13, 8, 5, 5),
        320_000,
        fields={
            "mvp": "Pre-filled address and ID scan on Android only.",
            "out_of_scope": "Joint accounts; business accounts.",
        },
    ),
    Bet(
        "Video identification for non-residents",
        ["Identity & KYC"],
        [
            ("funnel", 240),
            ("reviewing", 228),
            ("analysing", 210),
            ("ready", 196),
            ("implementing", 180),
            ("done", 32),
        ],
        "that people moving here can prove who they are by video",
        "non-residents opening accounts in their first week",
        "share of non-resident applications approved within 7 days",
        (8, 5, 8, 8),
        260_000,
    ),
    Bet(
        "Request-to-pay for everyday bills",
        ["Instant Payments", "Payee Management"],
        [
            ("funnel", 200),
            ("reviewing", 185),
            ("analysing", 160),
            ("ready", 120),
            ("implementing", 75),
        ],
        "that billers and friends can send a payment request customers accept in one tap",
        "fewer late payments and more instant payments per customer",
        "monthly instant payments per active customer",
        (8, 5, 3, 5),
        540_000,
    ),
    Bet(
        "SEPA Instant regulation, end to end",
        ["Payment Rails", "Cloud Platform"],
        [
            ("funnel", 235),
            ("reviewing", 230),
            ("analysing", 220),
            ("ready", 205),
            ("implementing", 150),
        ],
        "that meeting the SEPA Instant rules on time protects the payment franchise",
        "instant payments available to every customer at the regulated price",
        "share of outgoing transfers settled instantly",
        (5, 20, 13, 13),
        None,
        (75, 1_450_000),
        fields={
            "in_scope": "Verification of payee, 24/7 settlement, pricing parity.",
            "sponsors": "Chief Operating Officer",
        },
    ),
    Bet(
        "Real-time fraud scoring for instant payments",
        ["Fraud Detection", "Instant Payments", "Data Platform"],
        [
            ("funnel", 210),
            ("reviewing", 200),
            ("analysing", 170),
            ("ready", 130),
            ("implementing", 95),
        ],
        "that scoring each instant payment before it leaves the bank",
        "fewer customers losing money to scams without slowing good payments down",
        "fraud losses per million payments; false-positive rate",
        (13, 13, 20, 13),
        880_000,
    ),
    Bet(
        "One design system for app and web",
        ["Mobile App", "Web Banking", "Design System"],
        [("funnel", 120), ("reviewing", 90), ("analysing", 45)],
        "that shared components let the app and web teams ship the same journey once",
        "faster delivery of cross-channel journeys",
        "flow time of journeys built in both channels",
        (5, 3, 8, 8),
        210_000,
    ),
    Bet(
        "Virtual cards in the app",
        ["Card Issuing", "Mobile App"],
        [("funnel", 150), ("reviewing", 130), ("analysing", 100), ("ready", 20)],
        "that a card that works the minute it is approved",
        "more first card payments in the first week",
        "share of new cards used within 7 days",
        (13, 8, 3, 8),
        380_000,
    ),
    Bet(
        "Spending insights",
        ["Mobile App"],
        [("funnel", 60), ("reviewing", 25)],
        "that showing customers where their money went each month",
        "more customers coming back to the app weekly",
        "weekly active users of the insights screen",
        (5, 3, 2, None),
    ),
    Bet(
        "Card controls for children's accounts",
        ["Card Controls"],
        [("funnel", 18)],
        "that parents who can set limits on their child's card",
        "more family accounts",
        "family accounts opened per month",
        (3, 2, 2, None),
    ),
    Bet(
        "Self-service developer platform",
        ["Cloud Platform", "Developer Experience"],
        [
            ("funnel", 190),
            ("reviewing", 175),
            ("analysing", 150),
            ("ready", 110),
            ("implementing", 88),
        ],
        "that stream-aligned teams can create a service without a ticket",
        "shorter lead time for changes across the bank",
        "median lead time for changes; tickets to the platform team",
        (5, 5, 13, 8),
        300_000,
    ),
    Bet(
        "Chatbot for account questions",
        ["Web Banking"],
        [
            ("funnel", 225),
            ("reviewing", 215),
            ("analysing", 200),
            ("ready", 185),
            ("implementing", 170),
            (
                "stopped",
                85,
                "Customers wanted a person for questions about their money: the bot answered "
                "12 % of chats where we hoped for 40 %. The improved FAQ pages stay; the bot is switched off.",
            ),
        ],
        "that a chatbot can answer most account questions",
        "fewer calls to the contact centre",
        "share of chats solved without an agent",
        (5, 3, 2, 5),
        180_000,
    ),
    Bet(
        "Crypto wallet in the app",
        ["Mobile App", "Payment Rails", "Data Platform"],
        [
            ("funnel", 205),
            ("reviewing", 195),
            ("analysing", 175),
            (
                "stopped",
                140,
                "The MiCA licence would cost more than a year of the bet; only 3 % of the "
                "customers we surveyed would use it. We keep the survey and the licence analysis.",
            ),
        ],
        "that customers want to hold crypto next to their savings",
        "new younger customers",
        "accounts opened by customers under 30",
        (3, 2, 1, 20),
        1_200_000,
    ),
    Bet(
        "Replace the card authorisation engine",
        ["Card Issuing", "Fraud Detection", "Cloud Platform"],
        [("funnel", 70), ("reviewing", 40)],
        "that a modern authorisation engine removes the nightly outage window",
        "cards that work around the clock and cheaper scheme changes",
        "minutes of card downtime per month",
        (8, 8, 13, 20),
        None,
        (400, 2_400_000),
    ),
    Bet(
        "Onboarding for sole traders",
        ["Onboarding Journey", "Digital Signup"],
        [("funnel", 100), ("reviewing", 80), ("analysing", 50)],
        "that sole traders can open a business account as easily as a personal one",
        "a new segment of small-business customers",
        "business accounts opened per month",
        (8, 5, 5, 8),
        260_000,
    ),
    Bet(
        "Confirmation of payee",
        ["Payee Management"],
        [
            ("funnel", 160),
            ("reviewing", 150),
            ("analysing", 130),
            ("ready", 100),
            ("implementing", 55),
        ],
        "that telling customers whether the payee's name matches the account",
        "fewer misdirected payments and scams",
        "payments recalled for a wrong payee per month",
        (8, 13, 8, 3),
        140_000,
    ),
    Bet(
        "Dispute a card payment in the app",
        ["Card Controls"],
        [
            ("funnel", 140),
            ("reviewing", 125),
            ("analysing", 110),
            ("ready", 80),
            ("implementing", 30),
        ],
        "that customers who can dispute a card payment themselves",
        "fewer calls and faster refunds",
        "disputes opened in the app; days to refund",
        (5, 3, 2, 3),
        110_000,
    ),
    Bet(
        "Self-serve analytics for product teams",
        ["Data Platform"],
        [
            ("funnel", 238),
            ("reviewing", 226),
            ("analysing", 214),
            ("ready", 200),
            ("implementing", 190),
            ("done", 60),
        ],
        "that product teams can answer their own data questions",
        "decisions taken on data within the sprint",
        "data requests answered without the data team",
        (5, 3, 5, 5),
        150_000,
    ),
]

LENDING = [
    Bet("Mortgage decision in one day", ["Mortgage Origination", "Property Valuation"],
        [("funnel", 215), ("reviewing", 200), ("analysing", 175), ("ready", 140), ("implementing", 100)],
        "that a binding mortgage offer the day after applying",
        "more applications turned into mortgages",
        "offer-to-completion rate; days from application to offer", (13, 8, 5, 8), 620_000),
    Bet("Automated property valuation", ["Property Valuation"],
        [("funnel", 236), ("reviewing", 224), ("analysing", 212), ("ready", 200), ("implementing", 185),
         ("done", 45)],
        "that a valuation model can replace most surveyor visits",
        "faster and cheaper valuations", "share of valuations without a visit", (8, 5, 5, 5), 240_000),
    Bet("Pre-approved credit across loans and mortgages", ["Loan Decisioning", "Mortgage Origination"],
        [("funnel", 180), ("reviewing", 170), ("analysing", 140), ("ready", 100), ("implementing", 60)],
        "that customers who see what they could borrow before applying",
        "more completed credit applications",
        "application completion rate", (13, 8, 8, 13), 720_000),
    Bet("Explainable credit models", ["Credit Risk Models"],
        [("funnel", 160), ("reviewing", 150), ("analysing", 120), ("ready", 35)],
        "that every credit decision can be explained to the customer and the regulator",
        "AI Act compliance without slower decisions", "decisions with a stored explanation",
        (3, 13, 13, 8), None, (210, 650_000),
        fields={"sponsors": "Chief Risk Officer", "alternatives": "Buy a vendor model; keep the "
                "scorecards and drop machine learning."}),
    Bet("Robo-advice for small savers", ["Robo-Advice"],
        [("funnel", 170), ("reviewing", 160), ("analysing", 140), ("ready", 110), ("implementing", 70)],
        "that savers with under 10,000 in the bank would invest with simple advice",
        "more customers investing for the first time", "first-time investors per month",
        (8, 5, 3, 5), 280_000),
    Bet("Consolidated wealth reports", ["Portfolio Reporting", "Robo-Advice"],
        [("funnel", 90), ("reviewing", 30)],
        "that one report across all of a customer's investments",
        "fewer calls about statements", "statement calls per 1,000 investors", (5, 3, 2, 5), 190_000),
    Bet("Sustainable investing filter", ["Robo-Advice"],
        [("funnel", 200), ("reviewing", 185),
         ("stopped", 150, "The two data vendors' ESG scores disagree on 40 % of the funds: we would be "
          "selling a filter we cannot stand behind. Revisit when the EU taxonomy data is published.")],
        "that investors want to exclude funds that harm the climate",
        "more investors choosing managed portfolios", "share of new portfolios with the filter on",
        (5, 2, 3, 5), 120_000),
    Bet("Mortgage and savings in one view", ["Mortgage Origination", "Portfolio Reporting"],
        [("funnel", 25)],
        "that customers who see their mortgage beside their savings",
        "more overpayments and fewer arrears", "customers overpaying their mortgage", (3, 2, 2, None)),
    Bet("Loan top-ups in two taps", ["Loan Decisioning"],
        [("funnel", 120), ("reviewing", 110), ("analysing", 95), ("ready", 70), ("implementing", 25)],
        "that existing borrowers can top up their loan without a new application",
        "more top-ups from customers who already pay well", "top-ups per 1,000 active loans",
        (5, 3, 2, 3), 95_000),
    Bet("Credit limit increases on request", ["Loan Decisioning"],
        [("funnel", 225), ("reviewing", 215), ("analysing", 205), ("ready", 195), ("implementing", 180),
         ("done", 80)],
        "that customers can raise their own limit within policy",
        "fewer calls and more card spend", "limit requests decided without an agent", (5, 3, 2, 3), 90_000),
    Bet("Coaching circles for product owners", ["Agile Coaching"],
        [("funnel", 200), ("reviewing", 190), ("analysing", 180), ("ready", 170), ("implementing", 160),
         ("stopped", 100, "Product owners preferred pairing with a coach in their own team to circles; "
          "attendance fell to a third. The coaches now pair with teams instead.")],
        "that product owners learn faster from each other in circles",
        "better backlog decisions", "share of backlog items with a stated outcome", (3, 2, 2, 5), None,
        (-90, 60_000)),
]  # fmt: skip
DEMO = {"Everyday Banking": EVERYDAY, "Lending & Wealth": LENDING}
CAP = 2
WAITING_FOR_EXCEPTION = "Virtual cards in the app"


def _at(portfolio: Portfolio, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10, 0), tzinfo=zoneinfo.ZoneInfo(portfolio.time_zone))


def _indicators(teams: list[ProductTeam]) -> list[KeyResult]:
    first = (
        KeyResult.objects.filter(objective__team__in=teams, closed=False)
        .order_by("objective__team__name", "metric")
        .first()
    )
    return [first] if first else []


def _owner(portfolio: Portfolio, teams: list[ProductTeam], pmo):
    """The first team's value-stream owner while they still belong to the portfolio, else the PMO."""
    owner = teams[0].value_stream.owner if teams else None
    if owner is not None and Portfolio.objects.visible_to(owner).filter(pk=portfolio.pk).exists():
        return owner
    return pmo


@transaction.atomic
def _seed_portfolio(portfolio: Portfolio, bets: list[Bet], today: dt.date, pmo) -> None:
    teams = {
        team.name: team
        for team in ProductTeam.objects.filter(value_stream__portfolio=portfolio).select_related(
            "value_stream__owner"
        )
    }
    for bet in bets:
        linked = [teams[name] for name in bet.teams if name in teams]
        (first_state, first_ago), *moves = bet.path
        assert first_state == "funnel"
        ubv, tc, rr, size = bet.wsjf
        fixed = {}
        if bet.fixed:
            days, budget = bet.fixed
            fixed = {
                "funding_mode": "fixed_scope",
                "end_date": today + dt.timedelta(days=days),
                "scope_budget": Decimal(budget),
            }
        initiative = initiative_create(
            portfolio=portfolio, user=pmo, now=_at(portfolio, today - dt.timedelta(days=first_ago)),
            title=bet.title, teams=linked, leading_indicators=_indicators(linked),
            owner=_owner(portfolio, linked, pmo),
            hypothesis_belief=bet.believe, hypothesis_outcome=bet.result,
            hypothesis_measure=bet.measure, user_business_value=ubv, time_criticality=tc,
            risk_reduction=rr, job_size=size,
            cost_estimate=Decimal(bet.cost) if bet.cost else None, **fixed, **bet.fields,
        )  # fmt: skip
        for state, days_ago, *reason in moves:
            initiative_move(
                initiative=initiative,
                to_state=state,
                reason=reason[0] if reason else REASONS[state],
                user=pmo,
                now=_at(portfolio, today - dt.timedelta(days=days_ago)),
            )
    guardrail_save(
        portfolio=portfolio, user=pmo, kind=Guardrail.Kind.MAX_STRATEGIC_WIP, max_count=CAP
    )
    waiting = Initiative.objects.filter(portfolio=portfolio, title=WAITING_FOR_EXCEPTION).first()
    if waiting is not None:
        initiative_exception_request(
            initiative=waiting, user=pmo, now=_at(portfolio, today - dt.timedelta(days=2)),
            reason="The card scheme's incentive for virtual cards ends this quarter; starting "
            "next quarter loses it.",
        )  # fmt: skip


def seed_initiatives(*, today: dt.date) -> str:
    """Harbour Bank's initiatives (idempotent); returns one line saying what exists."""
    pmo = get_user_model().objects.filter(username="pmo").first()
    for name, bets in DEMO.items():
        portfolio = Portfolio.objects.filter(name=name).first()
        if (
            pmo is None
            or portfolio is None
            or Initiative.objects.filter(portfolio=portfolio).exists()
            or not FundingPeriod.objects.filter(portfolio=portfolio).exists()
        ):
            continue
        _seed_portfolio(portfolio, bets, today, pmo)
    states = dict(Initiative.objects.values_list("state").annotate(n=Count("pk")).order_by())
    return (
        f"Initiatives ready: {Initiative.objects.count()} ("
        + ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
        + ")."
    )
