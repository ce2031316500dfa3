"""The demo teams' surroundings: who depends on whom, the pulse questions, the value streams'
realisation metrics and the names of the people hired after others left (seeded by teams.demo).
Plain data."""

from __future__ import annotations

from teams.models import TeamInteraction

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
# the two architects of each portfolio who sit in three teams each (the spread the stability
# figures and the unstable-team signal name)
SPREAD_ARCHITECTS = [
    [("Robin", "Vermeulen"), ("Kim", "Andersson")],
    [("Sami", "Korhonen"), ("Alex", "Moreau")],
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
