"""The demo organisation: Harbour Bank, a retail bank with two portfolios, used by `make run`.

Idempotent: objects are looked up by their natural keys, so running it again changes nothing but the
demo users' password (taken from STEWARD_DEMO_PASSWORD). Dates are laid out relative to `today` on
the first run; later runs keep what exists.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from portfolio.models import Portfolio, PortfolioMembership
from teams.models import ProductTeam, TeamMembership
from valuestreams.models import ValueStream

SA, PLATFORM, ENABLING, CSS = (
    ProductTeam.Topology.STREAM_ALIGNED,
    ProductTeam.Topology.PLATFORM,
    ProductTeam.Topology.ENABLING,
    ProductTeam.Topology.COMPLICATED_SUBSYSTEM,
)

# portfolio → (description, time zone, [(value stream, customer, [(team, topology, mission)])])
ORGANISATION = {
    "Everyday Banking": (
        "Current accounts, payments, cards and the digital channels retail customers use every day.",
        "Europe/Amsterdam",
        [
            (
                "Account Opening & Onboarding",
                "People opening their first account with us",
                [
                    (
                        "Onboarding Journey",
                        SA,
                        "Open an account in under ten minutes, from any device.",
                    ),
                    (
                        "Identity & KYC",
                        CSS,
                        "Verify identity and meet KYC rules without making customers wait.",
                    ),
                    ("Digital Signup", SA, "Turn website visitors into activated customers."),
                ],
            ),
            (
                "Payments & Transfers",
                "Customers moving money at home and abroad",
                [
                    ("Instant Payments", SA, "Money arrives in seconds, every time."),
                    ("Payment Rails", CSS, "Connect to SEPA, SWIFT and card schemes reliably."),
                    ("Payee Management", SA, "Make paying someone new safe and effortless."),
                ],
            ),
            (
                "Cards",
                "Debit and credit card holders",
                [
                    (
                        "Card Issuing",
                        SA,
                        "Get a working card, physical or virtual, into hands the same day.",
                    ),
                    (
                        "Card Controls",
                        SA,
                        "Let customers freeze, limit and manage their cards themselves.",
                    ),
                    (
                        "Fraud Detection",
                        CSS,
                        "Stop fraud before it reaches the customer, with few false alarms.",
                    ),
                ],
            ),
            (
                "Mobile & Online Banking",
                "Customers serving themselves in the app and on the web",
                [
                    ("Mobile App", SA, "The app customers rate five stars."),
                    ("Web Banking", SA, "Everything the app does, on any browser, accessibly."),
                    (
                        "Design System",
                        ENABLING,
                        "Help every team ship consistent, accessible interfaces.",
                    ),
                ],
            ),
            (
                "Digital Platform",
                "Every product team of the bank",
                [
                    (
                        "Cloud Platform",
                        PLATFORM,
                        "Self-service infrastructure that product teams love to use.",
                    ),
                    (
                        "Developer Experience",
                        ENABLING,
                        "Shorten the path from idea to production for every team.",
                    ),
                    (
                        "Data Platform",
                        PLATFORM,
                        "Trustworthy data, available to teams as a service.",
                    ),
                ],
            ),
        ],
    ),
    "Lending & Wealth": (
        "Mortgages, personal loans and investments: helping customers borrow wisely and grow savings.",
        "Europe/London",
        [
            (
                "Mortgages",
                "Home buyers and owners remortgaging",
                [
                    ("Mortgage Origination", SA, "A mortgage decision in principle within a day."),
                    ("Property Valuation", CSS, "Automated valuations that surveyors trust."),
                ],
            ),
            (
                "Personal Loans",
                "Customers borrowing for life's big moments",
                [
                    (
                        "Loan Decisioning",
                        SA,
                        "Fair, instant lending decisions customers understand.",
                    ),
                    (
                        "Credit Risk Models",
                        CSS,
                        "Risk models that are accurate, explainable and compliant.",
                    ),
                ],
            ),
            (
                "Wealth & Investments",
                "Savers and investors building wealth",
                [
                    ("Robo-Advice", SA, "Good investment advice for customers of every means."),
                    ("Portfolio Reporting", SA, "Show investors clearly how their money is doing."),
                    (
                        "Agile Coaching",
                        ENABLING,
                        "Help teams improve how they discover and deliver.",
                    ),
                ],
            ),
        ],
    ),
}

FIRST = [
    "Amelia",
    "Noah",
    "Sofia",
    "Liam",
    "Emma",
    "Lucas",
    "Mia",
    "Mateo",
    "Olivia",
    "Elias",
    "Hannah",
    "Leon",
    "Ines",
    "Jonas",
    "Zara",
    "Omar",
    "Lena",
    "Felix",
    "Aisha",
    "Hugo",
    "Clara",
    "Ravi",
    "Nora",
    "Tariq",
    "Julia",
    "Daan",
    "Maya",
    "Kenji",
    "Eva",
    "Samuel",
    "Lea",
    "Arjun",
    "Isla",
    "Tomas",
    "Yara",
    "Finn",
    "Chloe",
    "Diego",
    "Freya",
    "Anton",
    "Leila",
    "Mats",
    "Ana",
    "Yusuf",
    "Ella",
    "Pieter",
    "Rosa",
    "Kofi",
    "Sara",
    "Luca",
    "Ida",
    "Ben",
    "Alma",
]
LAST = [
    "Jansen",
    "Müller",
    "Rossi",
    "García",
    "Novak",
    "Dubois",
    "Smit",
    "Kowalski",
    "Andersson",
    "Costa",
    "Okafor",
    "Bakker",
    "Silva",
    "Fischer",
    "Moreau",
    "Larsen",
    "Hughes",
    "Ivanova",
    "Byrne",
    "Nakamura",
    "Petrov",
    "Haddad",
    "Meijer",
    "Sørensen",
    "Ferreira",
    "Weber",
    "Lindgren",
    "Mensah",
    "Vos",
    "Kaur",
    "Adeyemi",
    "Brandt",
    "Laurent",
    "Quinn",
    "Horvat",
    "Nilsen",
    "Marino",
    "Walsh",
    "Reyes",
    "Vermeer",
]
ROLE_TITLES = (
    "Engineer",
    "Engineer",
    "Engineer",
    "Senior engineer",
    "Designer",
    "Product manager",
    "Quality engineer",
    "Data analyst",
    "Engineering lead",
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    name: str
    what: str


DEMO_LOGINS = (
    DemoLogin("executive", "Eva Lindqvist", "executive of both portfolios"),
    DemoLogin("pmo", "Priya Menon", "Lean PMO of both portfolios"),
    DemoLogin("member", "Marco Rossi", "team member of Instant Payments (Everyday Banking)"),
    DemoLogin("outsider", "Oscar Quinn", "logged in, no role: sees no portfolio"),
    DemoLogin("admin", "Ada Admin", "administrator (Django admin)"),
)


def _demo_user(login: DemoLogin, password: str):
    first, last = login.name.split(" ", 1)
    user, _ = get_user_model().objects.get_or_create(
        username=login.username, defaults={"first_name": first, "last_name": last}
    )
    user.set_password(password)
    if login.username == "admin":
        user.is_staff = user.is_superuser = True
    user.save()
    return user


def _person(rng: random.Random, taken: set[str]):
    while True:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        username = f"{first}.{last}".lower()
        if username not in taken:
            taken.add(username)
            break
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"first_name": first, "last_name": last}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _copies(streams: list, scale: int):
    """Each value stream `scale` times (copies named "Cards 2", "Cards 3", …), with its copy number."""
    for copy in range(1, scale + 1):
        for stream_name, customer, teams in streams:
            yield (stream_name if copy == 1 else f"{stream_name} {copy}"), customer, teams, copy


@transaction.atomic
def demo_seed(
    *, today: date | None = None, password: str | None = None, scale: int = 1
) -> dict[str, int]:
    """Create (or complete) Harbour Bank; returns counts of what exists afterwards.

    `scale` copies every value stream with its teams that many times (benchmarks: 10 gives 80
    value streams and 220 teams); the demo logins sit in the first copy only.
    """
    today = today or timezone.localdate()
    password = password or settings.DEMO_PASSWORD
    rng = random.Random(20260101)
    logins = {login.username: _demo_user(login, password) for login in DEMO_LOGINS}
    taken = set(logins)

    for portfolio_name, (description, tz, streams) in ORGANISATION.items():
        portfolio, _ = Portfolio.objects.get_or_create(
            name=portfolio_name,
            defaults={"description": description, "currency": "EUR", "time_zone": tz},
        )
        for username, role in (("executive", "executive"), ("pmo", "lean_pmo")):
            PortfolioMembership.objects.get_or_create(
                portfolio=portfolio, user=logins[username], defaults={"role": role}
            )
        for stream_name, customer, teams, copy in _copies(streams, scale):
            team_people = []
            for team_name, topology, mission in teams:
                formed = today - timedelta(days=rng.randint(200, 1500))
                if team_name == "Developer Experience":
                    formed = today - timedelta(
                        days=60
                    )  # a young team: the stability signal has a case
                team, _ = ProductTeam.objects.get_or_create(
                    value_stream=ValueStream.objects.get_or_create(
                        portfolio=portfolio, name=stream_name, defaults={"customer": customer}
                    )[0],
                    name=team_name,
                    defaults={
                        "topology": topology,
                        "mission": mission,
                        "formed_on": formed,
                        "capacity_fte": Decimal(0),
                        "loaded_cost_per_fte": Decimal(rng.choice([105, 115, 120, 130, 140]))
                        * 1000,
                    },
                )
                people = [_person(rng, taken) for _ in range(rng.randint(5, 8))]
                if team_name == "Instant Payments" and copy == 1:
                    people.append(logins["member"])
                for person in people:
                    start = max(team.formed_on, today - timedelta(days=rng.randint(30, 900)))
                    TeamMembership.objects.get_or_create(
                        team=team,
                        person=person,
                        defaults={
                            "role_title": "Engineer"
                            if person == logins["member"]
                            else rng.choice(ROLE_TITLES),
                            "allocation_percent": rng.choice([100, 100, 100, 100, 80, 50]),
                            "start_date": start,
                        },
                    )
                # capacity is what the seats held today add up to (teams.demo ends some)
                seated = sum(
                    seat.allocation_percent
                    for seat in TeamMembership.objects.current(today).filter(team=team)
                )
                if team.capacity_fte != Decimal(seated) / 100:
                    team.capacity_fte = Decimal(seated) / 100
                    team.save(update_fields=["capacity_fte"])
                team_people.append(people)
            stream = ValueStream.objects.get(portfolio=portfolio, name=stream_name)
            if stream.owner_id is None:
                stream.owner = team_people[0][0]
                stream.save(update_fields=["owner"])
    return {
        "portfolios": Portfolio.objects.count(),
        "value_streams": ValueStream.objects.count(),
        "teams": ProductTeam.objects.count(),
        "people": TeamMembership.objects.values("person").distinct().count(),
    }
