"""The demo's story of outcomes: which objectives and key results serve which strategic theme, value
stream and team (seeded by teams.demo). Plain data."""

from __future__ import annotations

from teams.models import KeyResult, ProductTeam

UP, DOWN = KeyResult.Direction.INCREASE, KeyResult.Direction.DECREASE

# The story: each strategic theme (leanpmo.demo.funding.THEMES) has portfolio objectives; each
# value stream has one objective per theme its budget is split over
# (leanpmo.demo.funding.THEME_SPLIT), and each team's objective contributes to one of its value
# stream's objectives. So the outcomes tree and the
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
