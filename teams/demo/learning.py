"""What the demo teams write: the texts of check-ins, experiments (one of each result per value
stream) and not-doing lists (seeded by teams.demo). Plain data."""

from __future__ import annotations

from teams.models import Experiment

LEARNED = [
    "Customers retry when the spinner shows longer than 3 seconds.",
    "Most failures come from one partner system at night.",
    "The new copy halved support calls about this step.",
    "Android users hit the problem three times more often.",
    "Batching the checks made no difference; the wait is elsewhere.",
    "Customers did not notice the change; the metric moved for another reason.",
]
BLOCKERS = [
    "Waiting for the platform team's new queue.",
    "Need production data access approved by risk.",
    "The partner's test environment was down for a week.",
]

VALID, INVALID, UNSURE = (
    Experiment.Result.VALIDATED,
    Experiment.Result.INVALIDATED,
    Experiment.Result.INCONCLUSIVE,
)

# value stream → [(hypothesis, metric, result ("" while it runs), learning)]: one of each result
# and one running, so every team's experiments are about its own customers
EXPERIMENTS = {
    "Account Opening & Onboarding": [
        (
            "We believe reading the ID document with the phone camera will cut abandoned "
            "applications, measured by applications finished within a day.",
            "Applications finished within a day",
            VALID,
            "Camera capture cut abandonment at the ID step by a third; it is now the default.",
        ),
        (
            "We believe a progress bar during onboarding will raise completion, measured by the "
            "share of started applications that finish.",
            "Onboarding completion",
            INVALID,
            "Completion did not move: people drop out at the ID check, not from impatience. We now "
            "test a faster ID check instead.",
        ),
        (
            "We believe offering a video call with an adviser will help older applicants finish, "
            "measured by completion for applicants over 65.",
            "Completion for applicants over 65",
            UNSURE,
            "Too few applicants chose the call in four weeks to tell; we will offer it at the step "
            "where they stop.",
        ),
        (
            "We believe filling in the address from the postcode will speed up sign-up, measured "
            "by the median time to open an account.",
            "Median time to open an account",
            "",
            "",
        ),
    ],
    "Payments & Transfers": [
        (
            "We believe showing the payee's verified name will reduce mistaken payments, measured "
            "by mistaken payments per 10,000.",
            "Mistaken payments per 10,000",
            VALID,
            "Verified names cut mistaken payments by a third; rolling out to all customers.",
        ),
        (
            "We believe sending scheme messages in one-second batches will lower failed instant "
            "payments, measured by failures per 10,000.",
            "Failed instant payments per 10,000",
            INVALID,
            "Failures did not move: they come from timeouts at one receiving bank, not from our "
            "batching. We now retry against that bank.",
        ),
        (
            "We believe showing the expected arrival time will reduce calls about missing money, "
            "measured by payment calls per week.",
            "Payment calls per week",
            UNSURE,
            "Calls fell in the test week, but also in the control group (a holiday week); we will "
            "run it again.",
        ),
        (
            "We believe a confirmation screen for first payments above 1,000 EUR will reduce "
            "mistaken payments, measured by mistaken payments per 10,000.",
            "Mistaken payments per 10,000",
            "",
            "",
        ),
    ],
    "Cards": [
        (
            "We believe letting customers freeze a card in the app will reduce calls about "
            "blocked cards, measured by those calls per week.",
            "Calls about blocked cards per week",
            VALID,
            "Calls about blocked cards halved in the test group; released to everyone.",
        ),
        (
            "We believe a push message for every card payment will bring fraud reports sooner, "
            "measured by fraud reported within a day.",
            "Fraud reported within a day",
            INVALID,
            "Reports came no sooner: customers muted the messages within a week. We now alert only "
            "on unusual payments.",
        ),
        (
            "We believe a virtual card on approval will raise first-month spend, measured by "
            "spend in the first 30 days.",
            "Spend in the first 30 days",
            UNSURE,
            "Spend rose, but as much for customers approved that month without one; no "
            "conclusion yet.",
        ),
        (
            "We believe a second look by the model at declined payments abroad will cut false "
            "fraud alerts, measured by false alerts per 1,000 card payments.",
            "False fraud alerts per 1,000 card payments",
            "",
            "",
        ),
    ],
    "Mobile & Online Banking": [
        (
            "We believe answering the ten most asked questions in the app will cut calls, "
            "measured by contact-centre calls per 1,000 active customers.",
            "Calls per 1,000 active customers",
            VALID,
            "Calls on those topics fell by 22 %; the answers are now in the app's help.",
        ),
        (
            "We believe a dark mode will raise the app store rating, measured by the average "
            "rating of new reviews.",
            "Average rating of new reviews",
            INVALID,
            "Ratings did not move: reviewers write about failed log-ins, which we fix next.",
        ),
        (
            "We believe a weekly spending summary will bring customers back to the app, measured "
            "by weekly active users.",
            "Weekly active users",
            UNSURE,
            "Too few customers opted in during the test window to tell; we will rerun with a "
            "default.",
        ),
        (
            "We believe logging in with a passkey will cut failed log-ins, measured by the share "
            "of log-ins that fail.",
            "Failed log-ins",
            "",
            "",
        ),
    ],
    "Digital Platform": [
        (
            "We believe a template for new services will let teams go live without us, measured "
            "by services created without a ticket.",
            "Services created without a ticket",
            VALID,
            "Eight of ten new services this quarter came from the template, without a ticket.",
        ),
        (
            "We believe a weekly platform newsletter will raise self-service use, measured by "
            "teams using the platform self-service.",
            "Teams using the platform self-service",
            INVALID,
            "Use did not move: teams read it but had no time to migrate. We now pair with one "
            "team each sprint.",
        ),
        (
            "We believe faster build machines will shorten lead time, measured by the median lead "
            "time for changes.",
            "Median lead time for changes",
            UNSURE,
            "Builds got 40 % faster, but lead time is mostly waiting for review; no conclusion "
            "yet.",
        ),
        (
            "We believe automatic rollbacks will halve the releases customers notice, measured by "
            "releases rolled back by hand.",
            "Releases rolled back by hand",
            "",
            "",
        ),
    ],
    "Mortgages": [
        (
            "We believe asking for each document once, on one upload page, will shorten the time "
            "to an offer, measured by days from application to offer.",
            "Days from application to offer",
            VALID,
            "Time to offer fell by four days for customers who uploaded; rolled out.",
        ),
        (
            "We believe an online valuation estimate will save site visits, measured by "
            "valuations needing a visit.",
            "Valuations needing a visit",
            INVALID,
            "Our lending rules still require a visit above 80 % loan-to-value, so little changed. "
            "We learned where the rules bind.",
        ),
        (
            "We believe a call-back within an hour will raise completed applications, measured by "
            "applications completed in one session.",
            "Applications completed in one session",
            UNSURE,
            "Completion rose in the test group, but the group was small; we extend the test.",
        ),
        (
            "We believe income read through open banking will speed up affordability checks, "
            "measured by decisions in principle within a day.",
            "Decisions in principle within a day",
            "",
            "",
        ),
    ],
    "Personal Loans": [
        (
            "We believe stating the main reason for a decline will cut complaints, measured by "
            "complaints per 1,000 declines.",
            "Complaints per 1,000 declines",
            VALID,
            "Complaints fell by 35 %; the reason now shows on every decline.",
        ),
        (
            "We believe a lower rate for existing customers will raise completed applications, "
            "measured by completion after an offer.",
            "Completion after an offer",
            INVALID,
            "Completion did not move: customers compare the monthly amount, not the rate. We now "
            "show the monthly amount first.",
        ),
        (
            "We believe a new income model will decide more applications instantly, measured by "
            "applications decided without manual review.",
            "Applications decided without manual review",
            UNSURE,
            "More instant decisions, but the test month had unusual applicants; we repeat it.",
        ),
        (
            "We believe showing the loan's total cost up front will reduce early withdrawals, "
            "measured by withdrawals within 14 days.",
            "Withdrawals within 14 days",
            "",
            "",
        ),
    ],
    "Wealth & Investments": [
        (
            "We believe investing from 25 EUR a month will bring in new investors, measured by "
            "customers investing monthly.",
            "Customers investing monthly",
            VALID,
            "New monthly investors doubled among under-30s; the minimum is now 25 EUR for all.",
        ),
        (
            "We believe a shorter risk questionnaire will raise completed advice sessions, "
            "measured by sessions abandoned.",
            "Advice sessions abandoned",
            INVALID,
            "Abandonment did not fall: people stop at the fee explanation, not the questionnaire. "
            "We now test a clearer fee page.",
        ),
        (
            "We believe a quarterly video summary will get customers to read their report, "
            "measured by reports opened.",
            "Reports opened",
            UNSURE,
            "Too few customers received it in the quarter to tell.",
        ),
        (
            "We believe a plain-language glossary in reports will reduce reissued reports, "
            "measured by reports reissued after an error.",
            "Reports reissued after an error",
            "",
            "",
        ),
    ],
}

# value stream → [(what the teams decided not to do, why)]
NOT_DOING = {
    "Account Opening & Onboarding": [
        (
            "Branch appointments for opening an account",
            "Over 90 % open online; the few who need help get a video call.",
        ),
        (
            "Our own identity-document scanner",
            "The KYC provider's scanner is certified; ours would take a year to be.",
        ),
    ],
    "Payments & Transfers": [
        ("Cheque imaging in the app", "Fewer than 1 % of our customers still pay by cheque."),
        (
            "Payments in crypto-currencies",
            "No customer demand we can measure, and a high regulatory cost.",
        ),
    ],
    "Cards": [
        ("Metal premium cards", "Customers ask for control in the app, not for heavier cards."),
        (
            "Our own fraud model for small merchants",
            "The card scheme's model already covers them.",
        ),
    ],
    "Mobile & Online Banking": [
        (
            "A separate app for business customers",
            "One app with roles serves them better and costs half.",
        ),
        ("A smartwatch app", "Fewer than 2 % of active customers would use it."),
    ],
    "Digital Platform": [
        (
            "Running our own Kubernetes clusters",
            "The managed service costs less than the people it would take.",
        ),
        (
            "A second cloud provider",
            "The exit plan is enough for now; two clouds would double the platform work.",
        ),
    ],
    "Mortgages": [
        (
            "Buy-to-let mortgages this year",
            "First-time buyers are our outcome; buy-to-let would split the team.",
        ),
        ("Paper application forms", "Under 3 % use them, and they double the handling time."),
    ],
    "Personal Loans": [
        (
            "Loans above 50,000 EUR",
            "They need another risk model; we focus on instant decisions.",
        ),
        (
            "Buy-now-pay-later at checkout",
            "It competes with our own loans and adds credit risk we do not price.",
        ),
    ],
    "Wealth & Investments": [
        ("Single-stock trading", "It does not serve long-term savers, our outcome."),
        ("Crypto-asset funds", "Too volatile for the customers we serve."),
    ],
}
