"""The detectors' thresholds: defaults, bounds and what each means (pure; the Lean PMO edits them
per portfolio through `leanpmo.models.SignalThresholds`, whose fields mirror these)."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class ThresholdSpec:
    """How one threshold is shown and bounded: label, unit, help text, smallest and largest value."""

    name: str
    label: str
    unit: str
    help: str
    minimum: float
    maximum: float
    group: str


@dataclass(frozen=True)
class Thresholds:
    """Every number a detector compares with. The defaults are those of a portfolio never tuned."""

    # small samples: "not enough data" instead of an alarm
    min_weekly_points: int = 8
    min_items: int = 20
    # 1 stale outcomes
    stale_share_high: int = 50
    # 2 decision without evidence, 3 review overdue
    decision_lookback_days: int = 365
    review_overdue_high_days: int = 30
    # 5 project economics
    fixed_scope_high_percent: int = 25
    # 6 unstable team
    churn_max_percent: int = 20
    young_team_days: int = 91
    max_teams_per_person: int = 2
    min_team_size: int = 3
    # 8 top-heavy pyramid
    pyramid_shift_points: int = 15
    pyramid_min_work: int = 8
    # 9 flow deviation
    flow_band_weeks: int = 12
    flow_band_sigmas: float = 3.0
    # 10 money and flow disagree
    allocation_gap_points: int = 15
    distribution_weeks: int = 13
    # 11 dependency hotspot
    hotspot_min_dependents: int = 3
    hotspot_blocked_percent: int = 25
    # 12 data you should not trust yet
    caveat_share_max: int = 5
    metrics_stale_days: int = 3


SPECS: tuple[ThresholdSpec, ...] = (
    ThresholdSpec("min_weekly_points", "Fewest weekly points", "weeks", "A trend with fewer weekly points says “not enough data”.", 4, 52, "Small samples"),
    ThresholdSpec("min_items", "Fewest items", "items", "A share or a band built on fewer completed items says “not enough data”.", 5, 500, "Small samples"),
    ThresholdSpec("stale_share_high", "Stale share for high severity", "%", "A team with at least this share of its open key results stale is high severity.", 1, 100, "Stale outcomes"),
    ThresholdSpec("decision_lookback_days", "Decisions looked at", "days", "Decisions older than this are not checked for evidence.", 30, 1830, "Decisions"),
    ThresholdSpec("review_overdue_high_days", "Overdue review for high severity", "days", "A review overdue by more than this is high severity.", 1, 365, "Decisions"),
    ThresholdSpec("fixed_scope_high_percent", "Fixed-scope share for high severity", "%", "Fixed-scope money at or above this share of a value stream's budget is high severity.", 1, 100, "Project economics"),
    ThresholdSpec("churn_max_percent", "Highest churn per quarter", "%", "A team whose membership churn in a quarter is above this is unstable.", 1, 100, "Unstable team"),
    ThresholdSpec("young_team_days", "Youngest funded team", "days", "A funded team younger than this is unstable.", 1, 365, "Unstable team"),
    ThresholdSpec("max_teams_per_person", "Most teams per person", "teams", "People seated in more teams than this make a team unstable.", 1, 10, "Unstable team"),
    ThresholdSpec("min_team_size", "Smallest team for churn", "people", "Churn of a team with fewer people on average is not judged.", 1, 20, "Unstable team"),
    ThresholdSpec("pyramid_shift_points", "Shift up the pyramid", "points", "The share of work above team missions rising by this much in a quarter is a signal.", 1, 100, "Top-heavy pyramid"),
    ThresholdSpec("pyramid_min_work", "Fewest initiatives", "initiatives", "With fewer initiatives in progress the mix is not judged.", 1, 100, "Top-heavy pyramid"),
    ThresholdSpec("flow_band_weeks", "Control band length", "weeks", "The weeks before the latest two that make a scope's control band.", 4, 52, "Flow deviation"),
    ThresholdSpec("flow_band_sigmas", "Control band width", "standard deviations", "The band is the mean plus or minus this many standard deviations.", 1, 5, "Flow deviation"),
    ThresholdSpec("allocation_gap_points", "Gap between money and flow", "points", "A work type whose share of completed items differs from its target by this much is a signal.", 1, 100, "Money and flow"),
    ThresholdSpec("distribution_weeks", "Completed work looked at", "weeks", "The flow distribution counts the items completed in this many weeks.", 4, 52, "Money and flow"),
    ThresholdSpec("hotspot_min_dependents", "Most teams depending on one", "teams", "A team that this many teams depend on is a hotspot.", 2, 50, "Dependency hotspot"),
    ThresholdSpec("hotspot_blocked_percent", "Most blocked time", "%", "A team whose work in progress is blocked for this share of its time is a hotspot.", 1, 100, "Dependency hotspot"),
    ThresholdSpec("caveat_share_max", "Highest caveat share", "%", "Items (or incidents) with a data caveat above this share make data untrustworthy.", 1, 100, "Data quality"),
    ThresholdSpec("metrics_stale_days", "Oldest metrics", "days", "Metrics computed longer ago than this are not to be trusted yet.", 1, 30, "Data quality"),
)  # fmt: skip

DEFAULTS = Thresholds()
THRESHOLD_NAMES = tuple(f.name for f in fields(Thresholds))
assert {spec.name for spec in SPECS} == set(THRESHOLD_NAMES), "every threshold needs its spec"
