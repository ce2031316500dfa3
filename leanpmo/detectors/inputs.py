"""What the detectors read about one portfolio, as plain values and DataFrames (pure).

`leanpmo.selectors.signals.detector_inputs` fills a `PortfolioInputs` from the database with a
fixed number of queries; tests build one by hand. Every time the detectors need is in here
(`as_of` and the portfolio's local `today`): they never read a clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

FLOW_WEEK_COLUMNS = [
    "scope_kind",  # "value_stream" or "team"
    "scope_id",
    "window_start",  # aware datetime (pandas Timestamp)
    "window_end",
    "label",  # e.g. 2026-W07
    "item_type",  # "All", "Feature", "Defect", "Risk", "Debt"
    "velocity",
    "flow_time_p85_s",
    "flow_efficiency",
    "load_mean",
]
MEMBERSHIP_COLUMNS = ["team_id", "person_id", "start_date", "end_date"]
INTERACTION_COLUMNS = ["team_id", "depends_on_id", "blocking"]
BLOCKED_COLUMNS = ["team_id", "items", "blocked_s", "in_progress_s"]


@dataclass(frozen=True)
class TeamInfo:
    """A product team: its value stream, when it was formed and whether its value stream is funded
    in the current period."""

    id: int
    name: str
    value_stream_id: int
    formed_on: dt.date
    funded: bool = True


@dataclass(frozen=True)
class KeyResultInfo:
    """An open key result: its level (team, value_stream, portfolio), owners, cadence and last
    check-in date (in the portfolio's time zone; None when there never was one)."""

    id: int
    metric: str
    level: str
    team_id: int | None
    value_stream_id: int | None
    starts_on: dt.date
    cadence_days: int
    last_check_in: dt.date | None


@dataclass(frozen=True)
class DecisionInfo:
    """A current (not superseded) funding decision and whether it was reviewed conclusively."""

    id: int
    kind: str
    kind_label: str
    value_stream_id: int | None  # None for an initiative's decision (start, stop, exception)
    decided_on: dt.date
    review_due_on: dt.date
    has_evidence_snapshot: bool
    has_expected_outcome: bool
    reviewed: bool
    initiative: str = ""  # the initiative's title, for its decisions


@dataclass(frozen=True)
class GuardrailCheck:
    """The current funding period's guardrail results (`leanpmo.guardrails.Result`) and the
    approved exception decisions that excuse breaches: value streams with one, and whether the
    period has any."""

    period_id: int
    period_name: str
    results: list[Any]
    excused_streams: frozenset[int] = frozenset()
    any_exception: bool = False


@dataclass(frozen=True)
class BudgetInfo:
    """A value stream's budget in the current period: total and fixed-scope money (Decimal) and the
    target allocation by work type (whole percent)."""

    id: int
    value_stream_id: int
    period_name: str
    total: Decimal
    fixed_scope: Decimal
    allocation: dict[str, int]


@dataclass(frozen=True)
class FixedScopeInitiative:
    """An initiative funded as a fixed-scope project (scope budget and end date) that is not done or
    stopped, with the number of open key results it is expected to move (its leading indicators)
    and the value streams it is linked to."""

    id: int
    title: str
    state: str  # its label, e.g. "Implementing"
    implementing: bool
    scope_budget: Decimal
    end_date: dt.date
    key_results: int
    value_stream_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class RunInfo:
    """The latest published recompute: its as-of time and caveat counts, plus the number of items
    with an unmapped status (counted over the stored facts)."""

    as_of: dt.datetime
    caveats: dict[str, Any]
    unmapped_items: int = 0


@dataclass(frozen=True)
class ShapedWork:
    """A piece of work with its shape: "team_mission", "product_group" or "strategic_initiative",
    in progress from `started_on` until `ended_on` (None while it runs; never started: None)."""

    id: int
    name: str
    shape: str
    started_on: dt.date | None
    ended_on: dt.date | None = None


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=columns)


@dataclass
class PortfolioInputs:
    """Everything the twelve detectors read about one portfolio, as of `as_of`.

    Frames: `flow_weeks` (FLOW_WEEK_COLUMNS, weekly rows of value streams and teams, windows that
    ended by `as_of`), `memberships` (MEMBERSHIP_COLUMNS, dates as `date`, end None when open),
    `interactions` (INTERACTION_COLUMNS, dependencies between the portfolio's teams), `blocked`
    (BLOCKED_COLUMNS: per team, items in progress during the last `flow_band_weeks` weeks, seconds
    they were blocked and seconds they were in progress). `strategic_cap` is the portfolio's cap on
    strategic initiatives in progress (None when it has none).
    """

    portfolio_id: int
    portfolio: str
    currency: str
    as_of: dt.datetime
    today: dt.date
    value_streams: dict[int, str] = field(default_factory=dict)
    teams: list[TeamInfo] = field(default_factory=list)
    people: dict[int, str] = field(default_factory=dict)
    key_results: list[KeyResultInfo] = field(default_factory=list)
    decisions: list[DecisionInfo] = field(default_factory=list)
    guardrails: GuardrailCheck | None = None
    budgets: list[BudgetInfo] = field(default_factory=list)
    flow_weeks: pd.DataFrame = field(default_factory=lambda: _empty(FLOW_WEEK_COLUMNS))
    memberships: pd.DataFrame = field(default_factory=lambda: _empty(MEMBERSHIP_COLUMNS))
    interactions: pd.DataFrame = field(default_factory=lambda: _empty(INTERACTION_COLUMNS))
    blocked: pd.DataFrame = field(default_factory=lambda: _empty(BLOCKED_COLUMNS))
    run: RunInfo | None = None
    work_items: int = 0
    work_shapes: list[ShapedWork] = field(default_factory=list)
    strategic_cap: int | None = None
    fixed_scope_initiatives: list[FixedScopeInitiative] = field(default_factory=list)

    def team_names(self) -> dict[int, str]:
        return {team.id: team.name for team in self.teams}
