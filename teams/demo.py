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

PORTFOLIO_OBJECTIVES = {
    "Everyday Banking": [
        "Become the bank customers use every day",
        "Make every payment instant and safe",
    ],
    "Lending & Wealth": [
        "Lend responsibly, decide fast",
        "Help customers of every means grow their savings",
    ],
}

# value stream → (objective, [(metric, unit, baseline, target, direction)])
STREAM_OUTCOMES = {
    "Account Opening & Onboarding": (
        "New customers are up and running on day one",
        [("Accounts opened fully online", "%", 62, 85, UP)],
    ),
    "Payments & Transfers": (
        "Payments customers never have to think about",
        [("Payment complaints per 10,000 payments", "", 4.2, 1.5, DOWN)],
    ),
    "Cards": (
        "Cards that customers control themselves",
        [("Card issues solved in the app", "%", 40, 75, UP)],
    ),
    "Mobile & Online Banking": (
        "Self-service customers prefer to a branch",
        [("App store rating", "stars", 3.9, 4.6, UP)],
    ),
    "Digital Platform": (
        "Product teams ship without waiting on anyone",
        [("Teams deploying on their own", "%", 35, 90, UP)],
    ),
    "Mortgages": (
        "A mortgage decision customers can plan around",
        [("Decision in principle within a day", "%", 48, 80, UP)],
    ),
    "Personal Loans": (
        "Fair, instant lending decisions",
        [("Loan applications decided instantly", "%", 55, 85, UP)],
    ),
    "Wealth & Investments": (
        "Investing that feels simple",
        [("Customers investing monthly", "customers", 21000, 30000, UP)],
    ),
}

# team → (objective, [(metric, unit, baseline, target, direction, cadence)])
TEAM_OUTCOMES = {
    "Instant Payments": (
        "Money arrives in seconds, every time",
        [
            ("Payments settled within 10 seconds", "%", 91, 99, UP, 7),
            ("Failed instant payments per 10,000", "", 38, 10, DOWN, 14),
        ],
    ),
    "Payment Rails": (
        "Scheme connections nobody notices",
        [("Scheme outage minutes per month", "min", 95, 20, DOWN, 14)],
    ),
    "Payee Management": (
        "Paying someone new feels safe",
        [("Mistaken payments to new payees per 10,000", "", 12, 4, DOWN, 14)],
    ),
    "Onboarding Journey": (
        "Open an account in under ten minutes",
        [("Median time to open an account", "min", 24, 10, DOWN, 7)],
    ),
    "Mobile App": (
        "An app customers rate five stars",
        [("Crash-free sessions", "%", 98.2, 99.7, UP, 14)],
    ),
    "Cloud Platform": (
        "Self-service infrastructure",
        [("Environments created without a ticket", "%", 30, 90, UP, 14)],
    ),
    "Loan Decisioning": (
        "Instant, explainable loan decisions",
        [("Applications decided without manual review", "%", 52, 80, UP, 14)],
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
                value=Decimal(f"{value:.2f}"),
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
        OutcomeUpdate.objects.create(
            key_result=kr,
            value=wrong.value + Decimal("0.40") * (1 if kr.direction == UP else -1),
            confidence=wrong.confidence,
            status=wrong.status,
            learned="Correction: the first figure missed the weekend batch.",
            posted_by=wrong.posted_by,
            posted_at=wrong.posted_at + dt.timedelta(hours=3),
            corrects=wrong,
        )
    return updates


def _seed_okrs(portfolio: Portfolio, *, today: dt.date, rng: random.Random, pmo) -> int:
    """Objectives and key results at every level with their check-ins; returns updates created."""
    created = 0
    start = today - dt.timedelta(days=364)
    tz = portfolio.time_zone
    top = []
    for title in PORTFOLIO_OBJECTIVES.get(portfolio.name, []):
        objective, _ = Objective.objects.get_or_create(
            portfolio=portfolio, level=Objective.Level.PORTFOLIO, title=title
        )
        top.append(objective)
    streams = ValueStream.objects.filter(portfolio=portfolio).order_by("name")
    for index, stream in enumerate(streams):
        title, specs = STREAM_OUTCOMES.get(stream.name, (f"{stream.name} delivers its outcome", []))
        stream_objective, _ = Objective.objects.get_or_create(
            portfolio=portfolio,
            level=Objective.Level.VALUE_STREAM,
            value_stream=stream,
            title=title,
            defaults={"parent": top[index % len(top)] if top else None},
        )
        for spec in specs:
            kr = _key_result(stream_objective, (*spec, 28), starts_on=start)
            if not kr.updates.exists():
                created += len(
                    _check_ins(
                        kr,
                        rng=rng,
                        authors=[pmo],
                        last_day=today - dt.timedelta(days=rng.randint(3, 20)),
                        time_zone=tz,
                    )
                )
        for team in stream.teams.order_by("name"):
            title, specs = TEAM_OUTCOMES.get(team.name, GENERIC_OUTCOMES[team.topology])
            team_objective, _ = Objective.objects.get_or_create(
                portfolio=portfolio,
                level=Objective.Level.TEAM,
                value_stream=stream,
                team=team,
                title=title,
                defaults={"parent": stream_objective},
            )
            authors = [
                seat.person
                for seat in TeamMembership.objects.current(today)
                .filter(team=team)
                .select_related("person")
            ]
            for spec in specs:
                kr = _key_result(team_objective, spec, starts_on=max(start, team.formed_on))
                if kr.updates.exists() or not authors:
                    continue
                gap = (
                    kr.cadence_days * rng.randint(3, 5)
                    if team.name in STALE_TEAMS
                    else rng.randint(0, kr.cadence_days - 1)
                )
                created += len(
                    _check_ins(
                        kr,
                        rng=rng,
                        authors=authors,
                        last_day=today - dt.timedelta(days=gap),
                        time_zone=tz,
                        with_corrections=team.name == "Instant Payments",
                    )
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
    """Some seats ended last quarter and refilled, and a few people spread over three teams."""
    suffix = 1 if portfolio.name == "Everyday Banking" else 2
    if get_user_model().objects.filter(username=f"harbour.floater{suffix}").exists():
        return
    teams = list(ProductTeam.objects.filter(value_stream__portfolio=portfolio).order_by("name"))
    for team in teams[::3]:
        seats = list(
            TeamMembership.objects.current(today)
            .filter(team=team)
            .exclude(person__username="member")
        )
        for seat in seats[:2]:
            seat.end_date = max(seat.start_date, today - dt.timedelta(days=rng.randint(10, 80)))
            seat.save(update_fields=["end_date"])
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
        # capacity is what the seats add up to, as the organisation seed keeps it
        seated = sum(seat.allocation_percent for seat in team.memberships.all())
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
