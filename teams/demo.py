"""Demo outcomes for Harbour Bank: objectives and key results at every level with a year of
check-ins (some gone stale), experiments of every result, not-doing lists, dependencies between
teams, pulse rounds (some with too few answers to show), realisation metrics, and a little
membership churn so that stability has something to say.

Idempotent: each part is created only where it does not exist yet; dates are laid out relative
to `today` on the first run.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from portfolio.models import Portfolio, PortfolioMembership
from teams.models import (
    Experiment,
    KeyResult,
    NotDoingItem,
    Objective,
    OutcomeUpdate,
    ProductTeam,
    PulseAnswer,
    PulseQuestion,
    PulseResponse,
    PulseRound,
    RealisationMetric,
    RealisationPoint,
    TeamInteraction,
    TeamMembership,
)
from valuestreams.models import ValueStream

UP, DOWN = KeyResult.Direction.INCREASE, KeyResult.Direction.DECREASE

# The story: each strategic theme (leanpmo.demo.THEMES) has portfolio objectives; each value stream
# has one objective per theme its budget is split over (leanpmo.demo.THEME_SPLIT), and each team's
# objective contributes to one of its value stream's objectives. So the outcomes tree and the
# investment mix tell the same story: where the money of a theme goes, and what it should move.
# Key result specs: (metric, unit, baseline, target, direction[, cadence in days]).

# portfolio → [(objective, strategic theme, [key results])]
PORTFOLIO_OBJECTIVES = {
    "Everyday Banking": [
        (
            "Become the bank customers use every day",
            "Digital first",
            [
                ("Customers active in the app every week", "%", 48, 65, UP),
                ("Journeys started and finished without a branch or call", "%", 55, 75, UP),
            ],
        ),
        (
            "Make every payment instant and safe",
            "Trust & safety",
            [
                ("Fraud losses per million EUR paid", "EUR", 42, 25, DOWN),
                ("Customer-facing outage minutes per quarter", "min", 310, 90, DOWN),
            ],
        ),
        (
            "Serve every customer for less, every year",
            "Cost to serve",
            [("Cost to serve per active customer per year", "EUR", 86, 72, DOWN)],
        ),
    ],
    "Lending & Wealth": [
        (
            "Lend responsibly, decide fast",
            "Faster credit decisions",
            [
                ("Credit decisions made within a day", "%", 41, 80, UP),
                ("Loans in arrears after 12 months", "%", 2.4, 1.8, DOWN),
            ],
        ),
        (
            "Help customers of every means grow their savings",
            "Wealth for everyone",
            [("Customers investing less than 10,000 EUR", "customers", 8500, 20000, UP)],
        ),
        (
            "Meet new rules without fire drills",
            "Regulatory resilience",
            [
                ("Rule changes delivered without an exception", "%", 60, 95, UP),
                ("Audit findings open past their deadline", "findings", 7, 1, DOWN),
            ],
        ),
    ],
}

# value stream → [(objective, the portfolio objective it contributes to, [key results])]; the
# first is the stream's main objective (teams not named in TEAM_OUTCOMES contribute to it)
STREAM_OUTCOMES = {
    "Account Opening & Onboarding": [
        (
            "New customers are up and running on day one",
            "Become the bank customers use every day",
            [("Accounts opened fully online", "%", 62, 85, UP)],
        ),
        (
            "Know our customers without making them wait",
            "Make every payment instant and safe",
            [("Identity checks passed without manual review", "%", 58, 85, UP)],
        ),
    ],
    "Payments & Transfers": [
        (
            "Payments customers never have to think about",
            "Make every payment instant and safe",
            [("Payment complaints per 10,000 payments", "", 4.2, 1.5, DOWN)],
        ),
        (
            "Payments that run themselves",
            "Serve every customer for less, every year",
            [("Cost per payment processed", "cents", 11, 6, DOWN)],
        ),
    ],
    "Cards": [
        (
            "Cards that customers control themselves",
            "Become the bank customers use every day",
            [("Card issues solved in the app", "%", 40, 75, UP)],
        ),
        (
            "Card fraud stopped before customers notice",
            "Make every payment instant and safe",
            [("Card fraud caught before the customer reports it", "%", 71, 90, UP)],
        ),
    ],
    "Mobile & Online Banking": [
        (
            "Self-service customers prefer to a branch",
            "Become the bank customers use every day",
            [("App store rating", "stars", 3.9, 4.6, UP)],
        ),
        (
            "Fewer calls, because the app answers",
            "Serve every customer for less, every year",
            [("Contact-centre calls per 1,000 active customers", "calls", 92, 60, DOWN)],
        ),
    ],
    "Digital Platform": [
        (
            "Product teams ship without waiting on anyone",
            "Serve every customer for less, every year",
            [("Teams deploying on their own", "%", 35, 90, UP)],
        ),
        (
            "Releases customers never notice",
            "Become the bank customers use every day",
            [("Releases rolled back", "%", 8, 2, DOWN)],
        ),
    ],
    "Mortgages": [
        (
            "A mortgage decision customers can plan around",
            "Lend responsibly, decide fast",
            [("Decision in principle within a day", "%", 48, 80, UP)],
        ),
        (
            "Mortgage rules met by design",
            "Meet new rules without fire drills",
            [("Mortgage files complete at the first audit", "%", 82, 98, UP)],
        ),
    ],
    "Personal Loans": [
        (
            "Fair, instant lending decisions",
            "Lend responsibly, decide fast",
            [("Loan applications decided instantly", "%", 55, 85, UP)],
        ),
        (
            "Every loan decision explained",
            "Meet new rules without fire drills",
            [("Declined applications given a clear reason", "%", 76, 100, UP)],
        ),
    ],
    "Wealth & Investments": [
        (
            "Investing that feels simple",
            "Help customers of every means grow their savings",
            [("Customers investing monthly", "customers", 21000, 30000, UP)],
        ),
        (
            "Advice that passes every suitability review",
            "Meet new rules without fire drills",
            [("Advice files passing suitability review", "%", 88, 99, UP)],
        ),
    ],
}

# team → (objective, the value-stream objective it contributes to, [key results with cadence])
TEAM_OUTCOMES = {
    "Onboarding Journey": (
        "Open an account in under ten minutes",
        "New customers are up and running on day one",
        [("Median time to open an account", "min", 24, 10, DOWN, 7)],
    ),
    "Identity & KYC": (
        "Verify identity in minutes, not days",
        "Know our customers without making them wait",
        [("Median time to verify an identity", "min", 42, 5, DOWN, 14)],
    ),
    "Digital Signup": (
        "Visitors become active customers",
        "New customers are up and running on day one",
        [
            ("Sign-ups active within 30 days", "%", 54, 75, UP, 14),
            ("Sign-ups abandoned at the first screen", "%", 38, 20, DOWN, 14),
        ],
    ),
    "Instant Payments": (
        "Money arrives in seconds, every time",
        "Payments customers never have to think about",
        [
            ("Payments settled within 10 seconds", "%", 91, 99, UP, 7),
            ("Failed instant payments per 10,000", "", 38, 10, DOWN, 14),
        ],
    ),
    "Payment Rails": (
        "Scheme connections nobody notices",
        "Payments that run themselves",
        [
            ("Scheme outage minutes per month", "min", 95, 20, DOWN, 14),
            ("Payments processed without manual repair", "%", 93, 99, UP, 14),
        ],
    ),
    "Payee Management": (
        "Paying someone new feels safe",
        "Payments customers never have to think about",
        [("Mistaken payments to new payees per 10,000", "", 12, 4, DOWN, 14)],
    ),
    "Card Issuing": (
        "A working card the same day",
        "Cards that customers control themselves",
        [("Cards usable within an hour of approval", "%", 30, 80, UP, 14)],
    ),
    "Card Controls": (
        "Customers manage their cards themselves",
        "Cards that customers control themselves",
        [
            ("Card requests handled in the app", "%", 45, 80, UP, 14),
            ("Calls about blocked cards per week", "calls", 640, 250, DOWN, 14),
        ],
    ),
    "Fraud Detection": (
        "Stop fraud before it reaches the customer",
        "Card fraud stopped before customers notice",
        [("False fraud alerts per 1,000 card payments", "", 6, 2, DOWN, 14)],
    ),
    "Mobile App": (
        "An app customers rate five stars",
        "Self-service customers prefer to a branch",
        [("Crash-free sessions", "%", 98.2, 99.7, UP, 14)],
    ),
    "Web Banking": (
        "Online banking without a phone call",
        "Fewer calls, because the app answers",
        [
            ("Web sessions ending in a call to us", "%", 7.5, 3, DOWN, 14),
            ("Tasks finished online without help", "%", 70, 88, UP, 14),
        ],
    ),
    "Design System": (
        "One look, built once",
        "Self-service customers prefer to a branch",
        [("Screens built from shared components", "%", 40, 85, UP, 28)],
    ),
    "Cloud Platform": (
        "Self-service infrastructure",
        "Product teams ship without waiting on anyone",
        [("Environments created without a ticket", "%", 30, 90, UP, 14)],
    ),
    "Data Platform": (
        "Data products teams serve themselves",
        "Product teams ship without waiting on anyone",
        [("Teams using the data platform self-service", "teams", 6, 18, UP, 14)],
    ),
    "Developer Experience": (
        "From commit to production within an hour",
        "Releases customers never notice",
        [("Teams releasing in under an hour", "teams", 3, 12, UP, 28)],
    ),
    "Mortgage Origination": (
        "Apply for a mortgage in one sitting",
        "A mortgage decision customers can plan around",
        [
            ("Applications completed in one session", "%", 35, 70, UP, 14),
            ("Documents requested twice", "%", 22, 5, DOWN, 14),
        ],
    ),
    "Property Valuation": (
        "Valuations that stand up to audit",
        "Mortgage rules met by design",
        [("Valuations overturned on review", "%", 6, 1.5, DOWN, 14)],
    ),
    "Loan Decisioning": (
        "Instant, explainable loan decisions",
        "Fair, instant lending decisions",
        [("Applications decided without manual review", "%", 52, 80, UP, 14)],
    ),
    "Credit Risk Models": (
        "Models the regulator signs off first time",
        "Every loan decision explained",
        [("Model changes approved without rework", "%", 50, 90, UP, 14)],
    ),
    "Robo-Advice": (
        "Advice anyone can afford",
        "Investing that feels simple",
        [
            ("Customers advised with less than 10,000 EUR", "customers", 1200, 5000, UP, 14),
            ("Advice sessions abandoned", "%", 46, 25, DOWN, 14),
        ],
    ),
    "Portfolio Reporting": (
        "Reports that meet every disclosure rule first time",
        "Advice that passes every suitability review",
        [("Reports reissued after a disclosure error", "reports", 14, 2, DOWN, 14)],
    ),
    "Agile Coaching": (
        "Teams learn faster with us than without",
        "Investing that feels simple",
        [("Teams that adopted a practice after coaching", "teams", 2, 8, UP, 28)],
    ),
}

GENERIC_OUTCOMES = {
    ProductTeam.Topology.STREAM_ALIGNED: (
        "Customers reach their goal without help",
        [
            ("Customer tasks completed without contacting us", "%", 70, 88, UP, 14),
            ("Customer effort score", "points", 3.4, 2.2, DOWN, 14),
        ],
    ),
    ProductTeam.Topology.PLATFORM: (
        "A platform teams choose to use",
        [("Teams using the platform self-service", "teams", 6, 18, UP, 14)],
    ),
    ProductTeam.Topology.ENABLING: (
        "Teams learn faster with us than without",
        [("Teams that adopted a practice after coaching", "teams", 2, 8, UP, 28)],
    ),
    ProductTeam.Topology.COMPLICATED_SUBSYSTEM: (
        "Our subsystem is accurate and fast",
        [("Decisions needing manual rework", "%", 9, 3, DOWN, 14)],
    ),
}

# the people hired to follow those who left (see _seed_churn)
SUCCESSOR_FIRST = [
    "Amira",
    "Jonas",
    "Lea",
    "Mateo",
    "Nora",
    "Felix",
    "Ines",
    "Tomás",
    "Yara",
    "Lukas",
]
SUCCESSOR_LAST = ["Okafor", "Lindholm", "Brenner", "Castillo", "Haas", "Duarte", "Kovač", "Ekström"]

# teams whose key results stop being checked in some weeks ago: staleness has cases
STALE_TEAMS = {"Payee Management", "Web Banking", "Data Platform", "Property Valuation"}

LEARNED = [
    "Customers retry when the spinner shows longer than 3 seconds.",
    "Most failures come from one scheme connection at night.",
    "The new copy halved support calls about this step.",
    "Android users hit the problem three times more often.",
    "Batching the checks made no difference; latency is elsewhere.",
    "Customers did not notice the change; the metric moved for another reason.",
]
BLOCKERS = [
    "Waiting for the platform team's new queue.",
    "Need production data access approved by risk.",
    "Scheme test environment down for a week.",
]

EXPERIMENTS = [
    (
        "We believe showing the payee's verified name will reduce mistaken payments, measured by "
        "mistaken payments per 10,000.",
        "Mistaken payments per 10,000",
        Experiment.Result.VALIDATED,
        "Verified names cut mistaken payments by a third; rolling out to all customers.",
    ),
    (
        "We believe a progress bar during onboarding will raise completion, measured by the share "
        "of started applications that finish.",
        "Onboarding completion",
        Experiment.Result.INVALIDATED,
        "Completion did not move: people drop out at the ID check, not from impatience. We now "
        "test a faster ID check instead.",
    ),
    (
        "We believe a weekly spending summary will bring customers back to the app, measured by "
        "weekly active users.",
        "Weekly active users",
        Experiment.Result.INCONCLUSIVE,
        "Too few customers opted in during the test window to tell; we will rerun with a default.",
    ),
    (
        "We believe pre-filling data from the customer's last application will speed up repeat "
        "applications, measured by median completion time.",
        "Median completion time",
        "",
        "",
    ),
]

NOT_DOING = [
    ("Cheque imaging in the app", "Fewer than 1 % of our customers still pay by cheque."),
    (
        "A separate app for business customers",
        "One app with roles serves them better and costs half.",
    ),
    ("Building our own fraud model for small merchants", "The scheme's model already covers them."),
]

DEPENDENCIES = [
    (
        "Instant Payments",
        "Payment Rails",
        TeamInteraction.Mode.X_AS_A_SERVICE,
        True,
        "Scheme connectivity for SCT Inst",
    ),
    (
        "Instant Payments",
        "Fraud Detection",
        TeamInteraction.Mode.COLLABORATION,
        False,
        "Real-time fraud scoring",
    ),
    (
        "Payee Management",
        "Payment Rails",
        TeamInteraction.Mode.X_AS_A_SERVICE,
        False,
        "Payee name verification",
    ),
    (
        "Payee Management",
        "Instant Payments",
        TeamInteraction.Mode.COLLABORATION,
        False,
        "Shared payment flow",
    ),
    (
        "Payment Rails",
        "Cloud Platform",
        TeamInteraction.Mode.X_AS_A_SERVICE,
        False,
        "Message queues",
    ),
    (
        "Onboarding Journey",
        "Identity & KYC",
        TeamInteraction.Mode.X_AS_A_SERVICE,
        True,
        "ID verification",
    ),
    ("Digital Signup", "Onboarding Journey", TeamInteraction.Mode.COLLABORATION, False, ""),
    (
        "Mobile App",
        "Design System",
        TeamInteraction.Mode.FACILITATING,
        False,
        "Accessible components",
    ),
    (
        "Web Banking",
        "Design System",
        TeamInteraction.Mode.FACILITATING,
        False,
        "Accessible components",
    ),
    ("Card Controls", "Card Issuing", TeamInteraction.Mode.COLLABORATION, False, ""),
    (
        "Loan Decisioning",
        "Credit Risk Models",
        TeamInteraction.Mode.X_AS_A_SERVICE,
        True,
        "Explainable scores",
    ),
    ("Mortgage Origination", "Property Valuation", TeamInteraction.Mode.X_AS_A_SERVICE, False, ""),
    (
        "Robo-Advice",
        "Agile Coaching",
        TeamInteraction.Mode.FACILITATING,
        False,
        "Discovery practices",
    ),
]

PULSE_QUESTIONS = [
    "I can ship a change without waiting on other teams.",
    "Our tools and environments help rather than hinder.",
    "I know why the work we do matters to customers.",
]

REALISATION = {
    "Payments & Transfers": [
        ("Payment volume", "million EUR", 820, 1.5),
        ("Net promoter score", "points", 24, 0.6),
    ],
    "Account Opening & Onboarding": [("New customers per month", "customers", 5200, 1.2)],
    "Cards": [("Card spend share", "%", 18, 0.15)],
    "Mobile & Online Banking": [("Monthly active app users", "thousand", 410, 1.0)],
    "Mortgages": [("Mortgage completions", "loans", 310, 1.1), ("Time to offer", "days", 19, -0.5)],
    "Personal Loans": [("Revenue contribution", "thousand EUR", 1450, 1.2)],
    "Wealth & Investments": [("Assets under management", "million EUR", 640, 1.4)],
}


CONFIDENCE = {
    OutcomeUpdate.Status.ON_TRACK: 8,
    OutcomeUpdate.Status.AT_RISK: 5,
    OutcomeUpdate.Status.OFF_TRACK: 3,
}


def _at(day: dt.date, time_zone: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=zoneinfo.ZoneInfo(time_zone))


def _key_result(objective: Objective, spec, *, starts_on: dt.date) -> KeyResult:
    metric, unit, baseline, target, direction, *rest = spec
    kr, _ = KeyResult.objects.get_or_create(
        objective=objective,
        metric=metric,
        defaults={
            "unit": unit,
            "baseline": Decimal(str(baseline)),
            "target": Decimal(str(target)),
            "direction": direction,
            "cadence_days": rest[0] if rest else 28,
            "starts_on": starts_on,
        },
    )
    return kr


# units counted in whole numbers (a check-in of 11.37 teams would not be believed)
WHOLE_UNITS = {"teams", "customers", "calls", "findings", "reports", "loans"}


def _places(kr: KeyResult) -> int:
    """Decimals a believable check-in on `kr` has: counts are whole, small ranges need three."""
    if kr.unit in WHOLE_UNITS:
        return 0
    if kr.unit == "stars":
        return 1
    return 3 if abs(kr.target - kr.baseline) < 1 else 2


def _check_ins(
    kr: KeyResult,
    *,
    rng: random.Random,
    authors: list,
    last_day: dt.date,
    time_zone: str,
    with_corrections: bool = False,
) -> list[OutcomeUpdate]:
    """A year of check-ins on the key result's cadence, drifting from baseline towards target."""
    baseline, target = float(kr.baseline), float(kr.target)
    pace = rng.uniform(0.45, 1.05)  # how far towards the target the year gets
    span = max((last_day - kr.starts_on).days, 1)
    updates, day, value = [], kr.starts_on + dt.timedelta(days=rng.randint(0, 4)), baseline
    while day <= last_day:
        share = (day - kr.starts_on).days / span
        expected = baseline + (target - baseline) * share * pace
        value = expected + (target - baseline) * rng.uniform(-0.08, 0.08)
        progress = (value - baseline) / (target - baseline)
        status = (
            OutcomeUpdate.Status.ON_TRACK
            if progress >= share * 0.7
            else OutcomeUpdate.Status.AT_RISK
            if progress >= share * 0.4
            else OutcomeUpdate.Status.OFF_TRACK
        )
        updates.append(
            OutcomeUpdate(
                key_result=kr,
                value=round(Decimal(str(value)), _places(kr)),
                confidence=CONFIDENCE[status] + rng.choice([-1, 0, 0, 1]),
                status=status,
                learned=rng.choice(LEARNED) if rng.random() < 0.35 else "",
                blockers=rng.choice(BLOCKERS)
                if status != OutcomeUpdate.Status.ON_TRACK and rng.random() < 0.5
                else "",
                posted_by=rng.choice(authors),
                posted_at=_at(day, time_zone, rng.randint(9, 17)),
            )
        )
        day += dt.timedelta(days=kr.cadence_days + rng.choice([0, 0, 0, 1, -1]))
    OutcomeUpdate.objects.bulk_create(updates)
    if with_corrections and len(updates) > 3:
        wrong = updates[-3]
        step = Decimal(1) if _places(kr) == 0 else Decimal("0.40")
        OutcomeUpdate.objects.create(
            key_result=kr,
            value=wrong.value + step * (1 if kr.direction == UP else -1),
            confidence=wrong.confidence,
            status=wrong.status,
            learned="Correction: the first figure missed the weekend batch.",
            posted_by=wrong.posted_by,
            posted_at=wrong.posted_at + dt.timedelta(hours=3),
            corrects=wrong,
        )
    return updates


def _posted(kr: KeyResult, **check_ins) -> int:
    """Check-ins for `kr` unless it has some already; returns how many were created."""
    if kr.updates.exists():
        return 0
    return len(_check_ins(kr, **check_ins))


def _link_themes(portfolio: Portfolio) -> int:
    """Link the story's portfolio objectives that serve no theme yet to their strategic theme,
    once the funding seed has created the themes; returns how many were linked."""
    themes = {theme.name: theme for theme in portfolio.themes.all()}
    linked = 0
    for title, theme_name, _ in PORTFOLIO_OBJECTIVES.get(portfolio.name, []):
        if theme_name in themes:
            linked += Objective.objects.filter(
                portfolio=portfolio,
                level=Objective.Level.PORTFOLIO,
                title=title,
                strategic_theme__isnull=True,
            ).update(strategic_theme=themes[theme_name])
    return linked


def _seed_okrs(portfolio: Portfolio, *, today: dt.date, rng: random.Random, pmo) -> int:
    """Objectives and key results at every level with their check-ins; returns updates created.

    Portfolio and value-stream key results are checked in monthly by Lean PMO, team ones by the
    team's members on their cadence."""
    created = 0
    start = today - dt.timedelta(days=364)
    tz = portfolio.time_zone
    top: dict[str, Objective] = {}
    for title, _, specs in PORTFOLIO_OBJECTIVES.get(portfolio.name, []):
        objective, _ = Objective.objects.get_or_create(
            portfolio=portfolio, level=Objective.Level.PORTFOLIO, title=title
        )
        top[title] = objective
        for spec in specs:
            kr = _key_result(objective, (*spec, 28), starts_on=start)
            created += _posted(
                kr,
                rng=rng,
                authors=[pmo],
                last_day=today - dt.timedelta(days=rng.randint(3, 20)),
                time_zone=tz,
            )
    _link_themes(portfolio)
    streams = ValueStream.objects.filter(portfolio=portfolio).order_by("name")
    for stream in streams:
        outcomes = STREAM_OUTCOMES.get(
            stream.name, [(f"{stream.name} delivers its outcome", "", [])]
        )
        stream_objectives: dict[str, Objective] = {}
        for title, parent_title, specs in outcomes:
            stream_objective, _ = Objective.objects.get_or_create(
                portfolio=portfolio,
                level=Objective.Level.VALUE_STREAM,
                value_stream=stream,
                title=title,
                defaults={"parent": top.get(parent_title)},
            )
            stream_objectives[title] = stream_objective
            for spec in specs:
                kr = _key_result(stream_objective, (*spec, 28), starts_on=start)
                created += _posted(
                    kr,
                    rng=rng,
                    authors=[pmo],
                    last_day=today - dt.timedelta(days=rng.randint(3, 20)),
                    time_zone=tz,
                )
        main = stream_objectives[outcomes[0][0]]
        for team in stream.teams.order_by("name"):
            if team.name in TEAM_OUTCOMES:
                title, parent_title, specs = TEAM_OUTCOMES[team.name]
            else:
                (title, specs), parent_title = GENERIC_OUTCOMES[team.topology], ""
            team_objective, _ = Objective.objects.get_or_create(
                portfolio=portfolio,
                level=Objective.Level.TEAM,
                value_stream=stream,
                team=team,
                title=title,
                defaults={"parent": stream_objectives.get(parent_title, main)},
            )
            authors = [
                seat.person
                for seat in TeamMembership.objects.current(today)
                .filter(team=team)
                .select_related("person")
            ]
            if not authors:
                continue
            for spec in specs:
                kr = _key_result(team_objective, spec, starts_on=max(start, team.formed_on))
                gap = (
                    kr.cadence_days * rng.randint(3, 5)
                    if team.name in STALE_TEAMS
                    else rng.randint(0, kr.cadence_days - 1)
                )
                created += _posted(
                    kr,
                    rng=rng,
                    authors=authors,
                    last_day=today - dt.timedelta(days=gap),
                    time_zone=tz,
                    with_corrections=team.name == "Instant Payments",
                )
    return created


def _seed_closed_key_result(team: ProductTeam, *, today: dt.date) -> None:
    """The member's team has a key result met and closed last quarter: it takes no check-ins."""
    objective = Objective.objects.filter(team=team).first()
    if objective is None or KeyResult.objects.filter(objective=objective, closed=True).exists():
        return
    author = TeamMembership.objects.current(today).filter(team=team).first()
    kr = KeyResult.objects.create(
        objective=objective,
        metric="Instant payments available 24/7",
        unit="%",
        baseline=Decimal("97.5"),
        target=Decimal("99.9"),
        direction=UP,
        cadence_days=14,
        starts_on=today - dt.timedelta(days=300),
        closed=True,
    )
    if author:
        OutcomeUpdate.objects.create(
            key_result=kr,
            value=Decimal("99.93"),
            confidence=10,
            status=OutcomeUpdate.Status.ON_TRACK,
            learned="Met and held for a quarter; closed.",
            posted_by=author.person,
            posted_at=_at(today - dt.timedelta(days=100), team.value_stream.portfolio.time_zone),
        )


def _seed_learning(team: ProductTeam, *, today: dt.date, rng: random.Random) -> None:
    author = (
        TeamMembership.objects.current(today).filter(team=team).select_related("person").first()
    )
    if author is None:
        return
    if not team.experiments.exists():
        picks = rng.sample(EXPERIMENTS, k=3) if team.name != "Instant Payments" else EXPERIMENTS
        for offset, (hypothesis, metric, result, learning) in enumerate(picks):
            started = today - dt.timedelta(days=40 + 70 * offset + rng.randint(0, 20))
            Experiment.objects.create(
                team=team,
                hypothesis=hypothesis,
                metric=metric,
                started_on=started if result else today - dt.timedelta(days=12),
                ended_on=started + dt.timedelta(days=28) if result else None,
                result=result,
                learning=learning,
                created_by=author.person,
            )
    if not team.not_doing.exists() and team.topology == ProductTeam.Topology.STREAM_ALIGNED:
        for what, why in rng.sample(NOT_DOING, k=rng.randint(1, 2)):
            NotDoingItem.objects.create(
                team=team,
                what=what,
                why=why,
                decided_on=today - dt.timedelta(days=rng.randint(20, 200)),
                recorded_by=author.person,
            )


def _seed_pulse(team: ProductTeam, *, today: dt.date, rng: random.Random) -> None:
    if team.pulse_rounds.exists():
        return
    people = [
        seat.person
        for seat in TeamMembership.objects.current(today).filter(team=team).select_related("person")
    ]
    for quarter in range(3, -1, -1):
        opens = today - dt.timedelta(days=91 * quarter + 10)
        pulse_round = PulseRound.objects.create(
            team=team, opens_on=opens, closes_on=opens + dt.timedelta(days=14)
        )
        questions = [
            PulseQuestion.objects.create(round=pulse_round, position=i, text=text)
            for i, text in enumerate(PULSE_QUESTIONS, start=1)
        ]
        # the newest round is still open for nobody's answer yet; one older round stays hidden
        count = 0 if quarter == 0 else 2 if quarter == 2 else rng.randint(3, max(3, len(people)))
        respondents = [p for p in people if p.username != "member"][:count]
        PulseResponse.objects.bulk_create(
            PulseResponse(round=pulse_round, respondent=person) for person in respondents
        )
        mood = rng.uniform(2.6, 4.2)
        PulseAnswer.objects.bulk_create(
            PulseAnswer(question=q, score=max(1, min(5, round(rng.gauss(mood, 0.8)))))
            for q in questions
            for _ in respondents
        )


def _seed_churn(portfolio: Portfolio, *, today: dt.date, rng: random.Random) -> None:
    """Every third team lost two people last quarter and hired their successors a few weeks later
    (churn with joiners and leavers, the headcount kept), and two architects sit in three teams each
    at 30 % (the spread). Each team's capacity is then what its seats held today add up to."""
    suffix = 1 if portfolio.name == "Everyday Banking" else 2
    if get_user_model().objects.filter(username=f"harbour.floater{suffix}").exists():
        return
    teams = list(ProductTeam.objects.filter(value_stream__portfolio=portfolio).order_by("name"))
    hired = 0
    for team in teams[::3]:
        seats = list(
            TeamMembership.objects.current(today)
            .filter(team=team)
            .exclude(person__username="member")
            .select_related("person")
            .order_by("start_date", "pk")
        )
        for seat in seats[:2]:
            last_day = max(seat.start_date, today - dt.timedelta(days=rng.randint(25, 80)))
            seat.end_date = last_day
            seat.save(update_fields=["end_date"])
            hired += 1
            successor, new = get_user_model().objects.get_or_create(
                username=f"harbour.hire{suffix}.{hired}",
                defaults={
                    "first_name": rng.choice(SUCCESSOR_FIRST),
                    "last_name": rng.choice(SUCCESSOR_LAST),
                },
            )
            if new:
                successor.set_unusable_password()  # demo colleagues do not sign in
                successor.save(update_fields=["password"])
            TeamMembership.objects.get_or_create(
                team=team,
                person=successor,
                defaults={
                    "role_title": seat.role_title,
                    "allocation_percent": seat.allocation_percent,
                    "start_date": min(today, last_day + dt.timedelta(days=rng.randint(7, 24))),
                },
            )
    for number, (first, last) in enumerate((("Robin", "Floater"), ("Kim", "Spread")), start=1):
        person, _ = get_user_model().objects.get_or_create(
            username=f"harbour.floater{suffix}{'' if number == 1 else number}",
            defaults={"first_name": first, "last_name": f"{last} {suffix}"},
        )
        for team in teams[number : number + 3]:
            TeamMembership.objects.get_or_create(
                team=team,
                person=person,
                defaults={
                    "role_title": "Architect",
                    "allocation_percent": 30,
                    "start_date": today - dt.timedelta(days=rng.randint(20, 120)),
                },
            )
    for team in teams:
        # capacity is what the seats held today add up to (leavers' seats no longer count)
        seated = sum(
            seat.allocation_percent
            for seat in TeamMembership.objects.current(today).filter(team=team)
        )
        if team.capacity_fte != Decimal(seated) / 100:
            team.capacity_fte = Decimal(seated) / 100
            team.save(update_fields=["capacity_fte"])


def _seed_dependencies(portfolio: Portfolio) -> None:
    teams = {t.name: t for t in ProductTeam.objects.filter(value_stream__portfolio=portfolio)}
    for name, depends_on, mode, blocking, note in DEPENDENCIES:
        if name in teams and depends_on in teams:
            TeamInteraction.objects.get_or_create(
                team=teams[name],
                depends_on=teams[depends_on],
                defaults={"mode": mode, "blocking": blocking, "note": note},
            )


def _seed_realisation(portfolio: Portfolio, *, today: dt.date, rng: random.Random) -> None:
    for stream in ValueStream.objects.filter(portfolio=portfolio):
        for name, unit, start, growth in REALISATION.get(stream.name, []):
            metric, created = RealisationMetric.objects.get_or_create(
                value_stream=stream,
                name=name,
                defaults={"unit": unit, "higher_is_better": growth >= 0},
            )
            if not created:
                continue
            month_end = today.replace(day=1) - dt.timedelta(days=1)
            points = []
            for month in range(12, -1, -1):
                day = month_end
                for _ in range(month):
                    day = day.replace(day=1) - dt.timedelta(days=1)
                trend = 1 + growth * 0.03 * (12 - month)
                points.append(
                    RealisationPoint(
                        metric=metric,
                        on=day,
                        value=Decimal(f"{start * trend * rng.uniform(0.97, 1.03):.2f}"),
                    )
                )
            RealisationPoint.objects.bulk_create(points)


def seed_theme_links(*, today: dt.date) -> str:
    """The step after funding: link the portfolio objectives to the strategic themes the funding
    seed created (idempotent: only objectives that serve no theme yet are linked)."""
    portfolios = list(Portfolio.objects.filter(name__in=PORTFOLIO_OBJECTIVES).order_by("name"))
    linked = sum(_link_themes(portfolio) for portfolio in portfolios)
    themes = served = 0
    for portfolio in portfolios:
        themes += portfolio.themes.count()
        served += (
            portfolio.themes.filter(objectives__level=Objective.Level.PORTFOLIO).distinct().count()
        )
    return f"Strategic themes served by portfolio objectives: {served} of {themes}" + (
        f" ({linked} objectives linked now)." if linked else "."
    )


@transaction.atomic
def seed_outcomes(*, today: dt.date) -> str:
    """Seed the demo organisation's outcomes (see the module docstring); returns one summary line."""
    rng = random.Random(20260202)
    for portfolio in Portfolio.objects.filter(name__in=PORTFOLIO_OBJECTIVES).order_by("name"):
        pmo = (
            PortfolioMembership.objects.filter(
                portfolio=portfolio, role=PortfolioMembership.Role.LEAN_PMO
            )
            .select_related("user")
            .first()
        )
        if pmo is None:
            continue
        _seed_churn(portfolio, today=today, rng=rng)
        _seed_okrs(portfolio, today=today, rng=rng, pmo=pmo.user)
        _seed_dependencies(portfolio)
        _seed_realisation(portfolio, today=today, rng=rng)
        for team in ProductTeam.objects.filter(value_stream__portfolio=portfolio).order_by("name"):
            _seed_learning(team, today=today, rng=rng)
            _seed_pulse(team, today=today, rng=rng)
            if team.name == "Instant Payments":
                _seed_closed_key_result(team, today=today)
    return (
        f"Outcomes ready: {Objective.objects.count()} objectives, "
        f"{KeyResult.objects.count()} key results, {OutcomeUpdate.objects.count()} check-ins, "
        f"{Experiment.objects.count()} experiments, {NotDoingItem.objects.count()} not-doing items, "
        f"{TeamInteraction.objects.count()} dependencies, {PulseRound.objects.count()} pulse rounds, "
        f"{RealisationMetric.objects.count()} realisation metrics."
    )
