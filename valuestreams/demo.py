"""Two years of generated delivery history for the demo bank: work items, deployments, incidents.

`seed_history` is a `seed_demo` step. Everything is drawn from a random generator seeded per team,
so the same `today` gives the same history; a portfolio that already holds items from the source
"demo" is left alone. Teams differ on purpose: strong teams deploy most days with short lead
times, struggling teams ship monthly with long waits and more incidents, and each team has its own
mix of Features, Defects, Risk and Debt (so money and flow can disagree later). The histories look
like Jira's: To Do → Selected for Development → In Progress → In Review → Testing → Done, with
blocked flags, reopenings, items that were canceled ("Won't Do"), an unmapped "Awaiting Vendor"
status at teams waiting on suppliers, and items still open today.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction

from portfolio.demo import base_name
from portfolio.models import Portfolio
from teams.models import ProductTeam
from valuestreams.models import (
    Change,
    Deployment,
    FlowMetric,
    FlowState,
    Incident,
    MetricRun,
    MetricSettings,
    StateMapping,
    StatusChange,
    WorkItem,
)

SOURCE = "demo"
HISTORY_DAYS = 730
BATCH = 5000

# The demo's Jira statuses and types all have defaults in `valuestreams.selectors.mappings`, except
# "Awaiting Vendor": left unmapped on purpose, it counts as waiting and shows up as a caveat, as it
# would in a real first import. The PMO mapped "In Review" to waiting (a queue for reviewers).
STATUS_MAPPING = {"In Review": FlowState.WAITING}
UNMAPPED_STATUS = "Awaiting Vendor"
SOURCE_TYPES = {"Feature": "Story", "Defect": "Bug", "Risk": "Risk", "Debt": "Tech Debt"}


@dataclass(frozen=True)
class Strength:
    """How a team delivers: volumes, waits (median days) and its deployment pipeline."""

    items_per_month: tuple[int, int]
    backlog_days: float
    ready_days: float
    work_days: float
    review_days: float
    test_days: float
    blocked_chance: float
    deploy_days_per_week: float  # expected deployment days per week
    changes_per_deployment: tuple[int, int]
    lead_time_hours: float  # median first commit → production
    failure_chance: float
    recovery_hours: float  # median incident resolution


STRONG = Strength((14, 25), 4, 1.5, 1.8, 0.8, 0.6, 0.08, 4.3, (1, 4), 6, 0.04, 0.7)
STEADY = Strength((10, 18), 7, 4.0, 3.0, 2.0, 1.2, 0.14, 1.4, (2, 7), 60, 0.09, 6)
STRUGGLING = Strength((8, 13), 14, 9.0, 4.5, 5.0, 2.5, 0.25, 0.35, (5, 14), 300, 0.2, 40)
# Incidents further than this from the last deployment stay unlinked (a caveat, SPEC §5).
INCIDENT_MAX_GAP_HOURS = 24


@dataclass(frozen=True)
class TeamProfile:
    strength: Strength
    mix: tuple[int, int, int, int]  # Feature, Defect, Risk, Debt weights
    waits_on_vendor: bool = False


# (strength, type mix Feature/Defect/Risk/Debt, waits on a vendor). Unknown teams are steady.
PROFILES = {
    "Onboarding Journey": TeamProfile(STRONG, (70, 18, 4, 8)),
    "Identity & KYC": TeamProfile(STEADY, (40, 15, 30, 15), waits_on_vendor=True),
    "Digital Signup": TeamProfile(STEADY, (75, 20, 2, 3)),
    "Instant Payments": TeamProfile(STRONG, (60, 20, 8, 12)),
    "Payment Rails": TeamProfile(STRUGGLING, (30, 35, 15, 20), waits_on_vendor=True),
    "Payee Management": TeamProfile(STEADY, (65, 25, 5, 5)),
    "Card Issuing": TeamProfile(STEADY, (60, 25, 5, 10), waits_on_vendor=True),
    "Card Controls": TeamProfile(STRONG, (72, 18, 3, 7)),
    "Fraud Detection": TeamProfile(STEADY, (45, 20, 25, 10)),
    "Mobile App": TeamProfile(STRONG, (68, 25, 2, 5)),
    "Web Banking": TeamProfile(STEADY, (55, 35, 3, 7)),
    "Design System": TeamProfile(STEADY, (60, 15, 0, 25)),
    "Cloud Platform": TeamProfile(STRONG, (40, 15, 15, 30)),
    "Developer Experience": TeamProfile(STEADY, (55, 10, 5, 30)),
    "Data Platform": TeamProfile(STRUGGLING, (45, 30, 10, 15), waits_on_vendor=True),
    "Mortgage Origination": TeamProfile(STRUGGLING, (70, 22, 3, 5), waits_on_vendor=True),
    "Property Valuation": TeamProfile(STEADY, (50, 30, 10, 10), waits_on_vendor=True),
    "Loan Decisioning": TeamProfile(STEADY, (62, 20, 10, 8)),
    "Credit Risk Models": TeamProfile(STRUGGLING, (35, 20, 35, 10)),
    "Robo-Advice": TeamProfile(STRONG, (70, 20, 5, 5)),
    "Portfolio Reporting": TeamProfile(STEADY, (60, 30, 3, 7)),
    "Agile Coaching": TeamProfile(STEADY, (80, 5, 0, 15)),
}
DEFAULT_PROFILE = TeamProfile(STEADY, (65, 20, 5, 10))

TITLES = {
    "Feature": (
        "Let customers {verb} {thing}",
        "Show {thing} in the app",
        "Notify customers about {thing}",
        "Self-service {thing}",
    ),
    "Defect": (
        "{thing} fails for some customers",
        "Wrong totals shown for {thing}",
        "Timeout when loading {thing}",
        "{thing} not saved after update",
    ),
    "Risk": (
        "Audit finding: {thing} access review",
        "Close compliance gap in {thing}",
        "Pen-test finding on {thing}",
    ),
    "Debt": (
        "Upgrade the framework behind {thing}",
        "Remove the legacy {thing} job",
        "Split the {thing} module",
        "Automate tests for {thing}",
    ),
}
VERBS = ("manage", "change", "review", "export", "share", "schedule", "cancel", "track")
THINGS = (
    "standing orders",
    "card limits",
    "statements",
    "payees",
    "savings goals",
    "direct debits",
    "notifications",
    "address details",
    "spending insights",
    "documents",
    "login sessions",
    "consents",
)


@dataclass
class History:
    """What one run generates, in insertion order; related rows point at unsaved objects."""

    items: list[WorkItem] = field(default_factory=list)
    changes_of: list[list[tuple[datetime, str, str, bool]]] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)


def _days(rng: random.Random, median_days: float, sigma: float = 0.8) -> timedelta:
    """A lognormal duration with the given median (long right tail, like real waits)."""
    return timedelta(days=median_days * math.exp(rng.gauss(0, sigma)))


def _key_prefix(team: ProductTeam, taken: set[str]) -> str:
    words = [w for w in team.name.replace("&", " ").split() if w[:1].isalpha()]
    base = "".join(w[0] for w in words).upper()
    if len(base) < 2:
        base = team.name[:3].upper()
    prefix, n = base, 1
    while prefix in taken:
        n += 1
        prefix = f"{base}{n}"
    taken.add(prefix)
    return prefix


def _item_history(
    rng: random.Random, profile: TeamProfile, item_type: str, created: datetime
) -> list[tuple[datetime, str, bool]]:
    """(time, status, blocked) rows of one item's whole life, possibly past today."""
    s = profile.strength
    pace = 0.6 if item_type == "Defect" else 1.0
    backlog = 1.6 if item_type in {"Risk", "Debt"} else 1.0
    rows = [(created, "To Do", False)]
    t = created + _days(rng, s.backlog_days * backlog * pace, 1.0)
    if rng.random() < 0.07:
        return [*rows, (t, "Won't Do", False)]
    rows.append((t, "Selected for Development", False))
    t += _days(rng, s.ready_days * pace)
    rows.append((t, "In Progress", False))
    work = _days(rng, s.work_days * pace)
    if rng.random() < s.blocked_chance:
        blocked_at = t + work * rng.uniform(0.2, 0.7)
        unblocked_at = blocked_at + _days(rng, 2.0)
        rows += [(blocked_at, "In Progress", True), (unblocked_at, "In Progress", False)]
        t = unblocked_at + work * 0.4
    else:
        t += work
    if profile.waits_on_vendor and rng.random() < 0.12:
        rows.append((t, UNMAPPED_STATUS, False))
        t += _days(rng, 4.0)
        rows.append((t, "In Progress", False))
        t += _days(rng, 0.5)
    if rng.random() < 0.03:
        return [*rows, (t, "Won't Do", False)]
    rows.append((t, "In Review", False))
    t += _days(rng, s.review_days)
    rows.append((t, "Testing", False))
    t += _days(rng, s.test_days * pace)
    rows.append((t, "Done", False))
    if rng.random() < 0.06:  # reopened: found wanting after release
        t += _days(rng, 3.0)
        rows.append((t, "In Progress", False))
        t += _days(rng, s.work_days * 0.4)
        rows.append((t, "In Review", False))
        t += _days(rng, s.review_days * 0.5)
        rows.append((t, "Done", False))
    return rows


def _team_items(
    rng: random.Random,
    history: History,
    *,
    portfolio: Portfolio,
    team: ProductTeam,
    prefix: str,
    profile: TeamProfile,
    start: datetime,
    cutoff: datetime,
) -> None:
    types = list(SOURCE_TYPES)
    number = 0
    month_start = start
    while month_start < cutoff:
        month_first = month_start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        next_month = (month_first + timedelta(days=32)).replace(day=1)
        month_end = min(next_month, cutoff)
        low, high = profile.strength.items_per_month
        count = rng.randint(low, high)
        if month_start.month == 12:  # the holidays
            count = max(low // 2, count * 2 // 3)
        # The first and the current month are partly in the history.
        count = round(count * (month_end - month_start) / (next_month - month_first))
        for _ in range(count):
            created = month_start + (month_end - month_start) * rng.random()
            item_type = rng.choices(types, weights=profile.mix)[0]
            rows = [
                row for row in _item_history(rng, profile, item_type, created) if row[0] < cutoff
            ]
            number += 1
            title = rng.choice(TITLES[item_type]).format(
                verb=rng.choice(VERBS), thing=rng.choice(THINGS)
            )
            history.items.append(
                WorkItem(
                    portfolio=portfolio,
                    source=SOURCE,
                    external_key=f"{prefix}-{number}",
                    title=title[:1].upper() + title[1:],
                    source_type=SOURCE_TYPES[item_type],
                    source_team=team.name,
                    team=team,
                    created_at=created,
                )
            )
            history.changes_of.append(
                [(at, status, SOURCE_TYPES[item_type], blocked) for at, status, blocked in rows]
            )
        month_start = month_end


def _team_pipeline(
    rng: random.Random,
    history: History,
    *,
    portfolio: Portfolio,
    team: ProductTeam,
    prefix: str,
    strength: Strength,
    start: datetime,
    cutoff: datetime,
) -> None:
    deploy_chance = min(strength.deploy_days_per_week / 5, 0.95)
    day = start
    number = 0

    def deploy(finished: datetime, *, rework: bool, commits: int) -> Deployment:
        nonlocal number
        number += 1
        deployment = Deployment(
            portfolio=portfolio,
            source=SOURCE,
            external_key=f"{prefix}-deploy-{number}",
            team=team,
            is_rework=rework,
            started_at=finished - timedelta(minutes=rng.randint(4, 30)),
            finished_at=finished,
        )
        history.deployments.append(deployment)
        for _ in range(commits):
            lead = timedelta(hours=strength.lead_time_hours * math.exp(rng.gauss(0, 0.9)))
            history.changes.append(
                Change(
                    portfolio=portfolio,
                    source=SOURCE,
                    external_key=f"{prefix}-{rng.getrandbits(40):010x}",
                    team=team,
                    first_commit_at=finished - lead,
                    deployment=deployment,
                )
            )
        return deployment

    while day < cutoff:
        if day.weekday() < 5 and rng.random() < deploy_chance:
            finished = day + timedelta(hours=rng.uniform(9, 17))
            if finished >= cutoff:
                break
            if rng.random() < 0.03:  # a failed pipeline run: recorded, never counted
                number += 1
                history.deployments.append(
                    Deployment(
                        portfolio=portfolio,
                        source=SOURCE,
                        external_key=f"{prefix}-deploy-{number}",
                        team=team,
                        successful=False,
                        finished_at=finished - timedelta(hours=1),
                    )
                )
            deployment = deploy(
                finished, rework=False, commits=rng.randint(*strength.changes_per_deployment)
            )
            if rng.random() < strength.failure_chance:
                created = finished + timedelta(minutes=20 * math.exp(rng.gauss(0, 1)))
                resolved = created + timedelta(
                    hours=strength.recovery_hours * math.exp(rng.gauss(0, 1))
                )
                # Most incidents name their deployment; some only say when they happened.
                linked = deployment if rng.random() < 0.75 else None
                history.incidents.append(
                    Incident(
                        portfolio=portfolio,
                        source=SOURCE,
                        external_key=f"{prefix}-INC-{len(history.incidents) + 1}",
                        title="Customers report errors after release",
                        team=team,
                        created_at=created,
                        resolved_at=resolved if resolved < cutoff else None,
                        deployment=linked,
                    )
                )
                if resolved < cutoff and rng.random() < 0.6:
                    deploy(resolved - timedelta(minutes=5), rework=True, commits=1)
        if rng.random() < 0.004:  # an outage nobody tied to a release
            created = day + timedelta(hours=rng.uniform(0, 24))
            if created < cutoff:
                history.incidents.append(
                    Incident(
                        portfolio=portfolio,
                        source=SOURCE,
                        external_key=f"{prefix}-INC-{len(history.incidents) + 1}",
                        title="Intermittent outage",
                        team=team,
                        created_at=created,
                        resolved_at=created + timedelta(hours=3 * math.exp(rng.gauss(0, 1))),
                    )
                )
        day += timedelta(days=1)


def _ensure_mappings(portfolio: Portfolio) -> None:
    """The PMO's explicit mappings and metric settings for the demo (existing ones win)."""
    MetricSettings.objects.get_or_create(
        portfolio=portfolio, defaults={"incident_max_gap_hours": INCIDENT_MAX_GAP_HOURS}
    )
    known = {s.lower() for s in portfolio.state_mappings.values_list("source_status", flat=True)}
    StateMapping.objects.bulk_create(
        StateMapping(portfolio=portfolio, source_status=status, flow_state=state)
        for status, state in STATUS_MAPPING.items()
        if status.lower() not in known
    )


def _generate(portfolio: Portfolio, *, start: datetime, cutoff: datetime) -> History:
    history = History()
    taken: set[str] = set()
    teams = ProductTeam.objects.filter(value_stream__portfolio=portfolio).order_by("pk")
    for team in teams:
        profile = PROFILES.get(base_name(team.name), DEFAULT_PROFILE)
        prefix = _key_prefix(team, taken)
        rng = random.Random(f"steward-demo-{portfolio.name}-{team.name}-{start:%Y%m%d}")
        common = {
            "portfolio": portfolio,
            "team": team,
            "prefix": prefix,
            "start": start,
            "cutoff": cutoff,
        }
        _team_items(rng, history, profile=profile, **common)
        _team_pipeline(rng, history, strength=profile.strength, **common)
    return history


@transaction.atomic
def _write(history: History) -> None:
    WorkItem.objects.bulk_create(history.items, batch_size=BATCH)
    status_changes = [
        StatusChange(item=item, at=at, seq=seq, status=status, source_type=source_type, blocked=b)
        for item, rows in zip(history.items, history.changes_of, strict=True)
        for seq, (at, status, source_type, b) in enumerate(rows)
    ]
    StatusChange.objects.bulk_create(status_changes, batch_size=BATCH)
    Deployment.objects.bulk_create(history.deployments, batch_size=BATCH)
    for change in history.changes:
        change.deployment_id = change.deployment.pk
    for incident in history.incidents:
        incident.deployment_id = incident.deployment.pk if incident.deployment else None
    Change.objects.bulk_create(history.changes, batch_size=BATCH)
    Incident.objects.bulk_create(history.incidents, batch_size=BATCH)


def seed_history(*, today: date) -> str:
    """Generate two years of history up to the start of `today` (UTC) and compute the metrics.

    Portfolios that already hold "demo" items are skipped (their metrics are computed only if
    they never were). Returns one line counting what was written.
    """
    from valuestreams.recompute import recompute_full_now

    cutoff = datetime.combine(today, time(0), tzinfo=UTC)
    start = cutoff - timedelta(days=HISTORY_DAYS)
    totals = {"items": 0, "deployments": 0, "changes": 0, "incidents": 0}
    computed = 0
    for portfolio in Portfolio.objects.order_by("pk"):
        if not portfolio.value_streams.exists():
            continue
        seeded = WorkItem.objects.filter(portfolio=portfolio, source=SOURCE).exists()
        if not seeded:
            _ensure_mappings(portfolio)
            history = _generate(portfolio, start=start, cutoff=cutoff)
            _write(history)
            totals["items"] += len(history.items)
            totals["deployments"] += len(history.deployments)
            totals["changes"] += len(history.changes)
            totals["incidents"] += len(history.incidents)
        if not seeded or not MetricRun.objects.filter(portfolio=portfolio).exists():
            recompute_full_now(portfolio=portfolio)
            computed += 1
    if not any(totals.values()):
        return "Demo delivery history: already present, nothing added."
    return (
        "Demo delivery history: {items:,} work items, {deployments:,} deployments, "
        "{changes:,} changes, {incidents:,} incidents over two years; ".format(**totals)
        + f"metrics computed for {computed} portfolios."
    )


def seed_targets(*, today: date) -> str:
    """Recompute once the demo funding exists, so flow distribution carries its target mix.

    Runs after the funding step; a portfolio whose flow rows already carry targets is left alone.
    """
    from valuestreams.recompute import recompute_full_now

    computed = 0
    for portfolio in Portfolio.objects.order_by("pk"):
        demo = WorkItem.objects.filter(portfolio=portfolio, source=SOURCE).exists()
        has_targets = FlowMetric.objects.filter(portfolio=portfolio, target__isnull=False).exists()
        if demo and not has_targets:
            recompute_full_now(portfolio=portfolio)
            computed += 1
    return f"Flow targets from the funding allocation: {computed} portfolios recomputed."
