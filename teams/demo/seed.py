"""Demo outcomes for Harbour Bank: objectives and key results at every level with a year of
check-ins (some gone stale), experiments of every result, not-doing lists, dependencies between
teams, pulse rounds (some with too few answers to show), realisation metrics, and a little
membership churn so that stability has something to say.

The data lives beside this module: `story` (which objectives serve which theme, value stream and
team), `learning` (what teams write: check-in notes, experiments, not-doing lists) and
`surroundings` (dependencies, pulse questions, realisation metrics, new hires' names).

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
from teams.demo.learning import BLOCKERS, EXPERIMENTS, LEARNED, NOT_DOING
from teams.demo.story import (
    GENERIC_OUTCOMES,
    PORTFOLIO_OBJECTIVES,
    STREAM_OUTCOMES,
    TEAM_OUTCOMES,
    UP,
)
from teams.demo.surroundings import (
    DEPENDENCIES,
    PULSE_QUESTIONS,
    REALISATION,
    SPREAD_ARCHITECTS,
    SUCCESSOR_FIRST,
    SUCCESSOR_LAST,
)
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

# teams whose key results stop being checked in some weeks ago: staleness has cases
STALE_TEAMS = {"Payee Management", "Web Banking", "Data Platform", "Property Valuation"}

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
    stream = team.value_stream.name
    experiments = EXPERIMENTS.get(stream, EXPERIMENTS["Payments & Transfers"])
    if not team.experiments.exists():
        picks = rng.sample(experiments, k=3) if team.name != "Instant Payments" else experiments
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
        choices = NOT_DOING.get(stream, NOT_DOING["Payments & Transfers"])
        for what, why in rng.sample(choices, k=rng.randint(1, 2)):
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
    architects = SPREAD_ARCHITECTS[suffix - 1]
    for number, (first, last) in enumerate(architects, start=1):
        person, _ = get_user_model().objects.get_or_create(
            username=f"harbour.floater{suffix}{'' if number == 1 else number}",
            defaults={"first_name": first, "last_name": last},
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
