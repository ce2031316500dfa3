"""Initiatives, computed: WSJF, work shape, time in states, the kanban's flow and the pyramid mix.

Pure: no Django, no clock, no I/O; `as_of` is passed in. States and shapes are plain strings (the
values of leanpmo.models.InitiativeState and WorkShape). Durations are in days (floats); money is
float in the portfolio's currency (for tables and charts only).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

TEAM_MISSION, PRODUCT_GROUP, STRATEGIC = "team_mission", "product_group", "strategic_initiative"
SHAPES = (TEAM_MISSION, PRODUCT_GROUP, STRATEGIC)
SHAPE_LABELS = {
    TEAM_MISSION: "Team mission",
    PRODUCT_GROUP: "Product group",
    STRATEGIC: "Strategic initiative",
}
FLOW_STATES = ("funnel", "reviewing", "analysing", "ready", "implementing", "done")
STATES = (*FLOW_STATES, "stopped")
STATE_LABELS = {state: state.title() for state in STATES}
# moves allowed from each state: one step forward, back to any earlier state before the
# commitment, a stop from anywhere not finished, and a stopped bet may re-enter the funnel
ALLOWED_MOVES: dict[str, tuple[str, ...]] = {
    "funnel": ("reviewing", "stopped"),
    "reviewing": ("analysing", "funnel", "stopped"),
    "analysing": ("ready", "reviewing", "funnel", "stopped"),
    "ready": ("implementing", "analysing", "reviewing", "funnel", "stopped"),
    "implementing": ("done", "stopped"),
    "done": (),
    "stopped": ("funnel",),
}
WSJF_ORDERED = ("reviewing", "analysing", "ready")
DAY_SECONDS = 86400.0
YEAR_DAYS = 365.0


# --- WSJF -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wsjf:
    """WSJF with its inputs. `cost_of_delay` and `score` are None when an input is missing; the
    score is rounded to two decimals (half up), so 16 ÷ 5 is 3.2 and 10 ÷ 3 is 3.33."""

    user_business_value: int | None
    time_criticality: int | None
    risk_reduction: int | None
    job_size: int | None
    cost_of_delay: int | None
    score: Decimal | None

    @property
    def display(self) -> str:
        """The score for people: "3.2", "4", or "—" without a score (never 0)."""
        return "—" if self.score is None else format(self.score.normalize(), "f")

    @property
    def formula(self) -> str:
        """The arithmetic behind the score, e.g. "(8 + 5 + 3) ÷ 5"; "" without every input."""
        if self.score is None:
            return ""
        return (
            f"({self.user_business_value} + {self.time_criticality} + {self.risk_reduction})"
            f" ÷ {self.job_size}"
        )

    @property
    def missing(self) -> list[str]:
        """Names of the inputs that keep it from having a score."""
        names = {
            "user-business value": self.user_business_value,
            "time criticality": self.time_criticality,
            "risk reduction / opportunity enablement": self.risk_reduction,
            "job size": self.job_size,
        }
        return [name for name, value in names.items() if value is None]


def wsjf(
    user_business_value: int | None,
    time_criticality: int | None,
    risk_reduction: int | None,
    job_size: int | None,
) -> Wsjf:
    """Cost of delay (the sum of the three) ÷ job size; no score without every input or with a job
    size of 0 (a score is never made up)."""
    parts = (user_business_value, time_criticality, risk_reduction)
    cost = None if any(part is None for part in parts) else sum(parts)  # type: ignore[arg-type]
    score = None
    if cost is not None and job_size:
        score = (Decimal(cost) / Decimal(job_size)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    return Wsjf(user_business_value, time_criticality, risk_reduction, job_size, cost, score)


# --- work shape --------------------------------------------------------------------------------


def work_shape(team_value_streams: Iterable[Hashable]) -> str | None:
    """The shape that follows from the linked teams, given each team's value stream.

    One team → team mission; two or more teams of one value stream → product group; teams in two
    or more value streams → strategic initiative; no team → None (not shaped yet).
    """
    streams = list(team_value_streams)
    if not streams:
        return None
    if len(streams) == 1:
        return TEAM_MISSION
    return PRODUCT_GROUP if len(set(streams)) == 1 else STRATEGIC


def shape_contradiction(declared: str, teams: Sequence[tuple[str, str]]) -> str | None:
    """Why a declared shape contradicts the linked teams, given as (team, value stream) names;
    None when it does not."""
    derived = work_shape(stream for _, stream in teams)
    if declared == derived:
        return None
    rule = {
        TEAM_MISSION: "A team mission has exactly one team",
        PRODUCT_GROUP: "A product group has two or more teams of one value stream",
        STRATEGIC: "A strategic initiative has teams in two or more value streams",
    }[declared]
    count, streams = len(teams), len({stream for _, stream in teams})
    found = f"{count} team{'s' if count != 1 else ''} linked"
    if teams:
        found += f" ({', '.join(name for name, _ in teams)})"
    if count > 1:
        found += f" in {streams} value stream{'s' if streams != 1 else ''}"
    follows = f"which makes it a {SHAPE_LABELS[derived].lower()}" if derived else "so no shape yet"
    return (
        f"{rule}; this one has {found}, {follows}. Change the linked teams, or leave the shape "
        "to follow from them."
    )


# --- kanban ------------------------------------------------------------------------------------


def move_error(from_state: str, to_state: str) -> str | None:
    """Why a move is not allowed on the kanban (None when it is)."""
    if to_state not in STATES:
        return f"“{to_state}” is not a state of the portfolio kanban."
    if to_state == from_state:
        return f"The initiative is already in {STATE_LABELS[to_state]}."
    allowed = ALLOWED_MOVES.get(from_state, ())
    if to_state in allowed:
        return None
    if not allowed:
        return f"{STATE_LABELS[from_state]} is final: a finished initiative does not move."
    names = " or ".join(STATE_LABELS[state] for state in allowed)
    return f"From {STATE_LABELS[from_state]} an initiative moves to {names}."


def column_order(state: str, wsjf_score: Decimal | None, entered_seconds: float) -> tuple:
    """Sort key of a card in its column: reviewing, analysing and ready by WSJF (highest first,
    no score last), then everything by how long it has been in the column (longest first);
    done and stopped most recent first."""
    if state in ("done", "stopped"):
        return (0, -entered_seconds)
    if state in WSJF_ORDERED:
        return (wsjf_score is None, -(wsjf_score or 0), entered_seconds)
    return (0, entered_seconds)


TRANSITION_COLUMNS = ["initiative_id", "from_state", "to_state", "moved_at"]
INTERVAL_COLUMNS = ["initiative_id", "state", "start", "end", "days"]


def state_intervals(transitions: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Every stay of every initiative in a state, from its append-only transitions.

    `transitions`: initiative_id, from_state, to_state, moved_at (aware). Returns initiative_id,
    state, start, end (NaT while it is still there as of `as_of`), days (to `end`, or to `as_of`).
    Transitions after `as_of` are ignored.
    """
    if transitions.empty:
        return pd.DataFrame(columns=INTERVAL_COLUMNS)
    moves = transitions[transitions["moved_at"] <= as_of].sort_values(
        ["initiative_id", "moved_at"], kind="stable"
    )
    moves = moves.assign(
        end=moves.groupby("initiative_id")["moved_at"].shift(-1),
    ).rename(columns={"to_state": "state", "moved_at": "start"})
    until = moves["end"].fillna(as_of)
    days = (until - moves["start"]).dt.total_seconds() / DAY_SECONDS
    return moves.assign(days=days)[INTERVAL_COLUMNS].reset_index(drop=True).astype({"days": float})


def time_in_states(intervals: pd.DataFrame) -> pd.DataFrame:
    """Total days one initiative spent in each state it visited (its intervals as from
    `state_intervals`): state, days, visits, in kanban order."""
    if intervals.empty:
        return pd.DataFrame(columns=["state", "days", "visits"])
    grouped = intervals.groupby("state").agg(days=("days", "sum"), visits=("days", "size"))
    order = [state for state in STATES if state in grouped.index]
    return grouped.loc[order].reset_index().round({"days": 1})


@dataclass(frozen=True)
class KanbanFlow:
    """The portfolio kanban's own flow as of a time.

    `lead_times`: initiative_id, days from entering the funnel to the last arrival in done.
    `in_analysis`: initiative_id, days in analysing so far (oldest first).
    `state_days`: state, stays, median_days, mean_days over every stay (ongoing ones to as_of).
    `lead_p50` / `lead_p85`: percentiles of the lead times (None with none done); `stopped`:
    how many initiatives are stopped (learning, not failure).
    """

    lead_times: pd.DataFrame
    in_analysis: pd.DataFrame
    state_days: pd.DataFrame
    lead_p50: float | None
    lead_p85: float | None
    stopped: int


def kanban_flow(transitions: pd.DataFrame, as_of: pd.Timestamp) -> KanbanFlow:
    """Lead time funnel → done, age of the items in analysis and time per state (see KanbanFlow)."""
    intervals = state_intervals(transitions, as_of)
    if intervals.empty:
        empty_lead = pd.DataFrame(columns=["initiative_id", "days"])
        return KanbanFlow(
            empty_lead,
            pd.DataFrame(columns=["initiative_id", "days"]),
            pd.DataFrame(columns=["state", "stays", "median_days", "mean_days"]),
            None,
            None,
            0,
        )
    entered = intervals.groupby("initiative_id")["start"].min()
    current = intervals[intervals["end"].isna()]
    done = current[current["state"] == "done"].set_index("initiative_id")["start"]
    lead = ((done - entered.reindex(done.index)).dt.total_seconds() / DAY_SECONDS).round(1)
    lead_times = lead.rename("days").reset_index().sort_values("days", ignore_index=True)
    in_analysis = (
        current[current["state"] == "analysing"][["initiative_id", "days"]]
        .round({"days": 1})
        .sort_values("days", ascending=False, ignore_index=True)
    )
    stays = intervals[intervals["state"].isin(FLOW_STATES[:-1])]
    state_days = (
        stays.groupby("state")
        .agg(stays=("days", "size"), median_days=("days", "median"), mean_days=("days", "mean"))
        .reindex([s for s in FLOW_STATES[:-1] if s in set(stays["state"])])
        .reset_index()
        .round({"median_days": 1, "mean_days": 1})
    )
    p50 = float(lead.quantile(0.5)) if len(lead) else None
    p85 = float(lead.quantile(0.85)) if len(lead) else None
    return KanbanFlow(
        lead_times,
        in_analysis,
        state_days,
        None if p50 is None else round(p50, 1),
        None if p85 is None else round(p85, 1),
        int((current["state"] == "stopped").sum()),
    )


# --- the pyramid -------------------------------------------------------------------------------

PYRAMID_COLUMNS = [
    "period",
    "period_start",
    "shape",
    "count",
    "cost",
    "count_share",
    "cost_share",
]


def initiative_shapes(links: pd.DataFrame) -> pd.Series:
    """initiative_id → shape from the team links (`links`: initiative_id, team_id, value_stream_id)."""
    if links.empty:
        return pd.Series(dtype=object)
    return links.groupby("initiative_id")["value_stream_id"].agg(lambda s: work_shape(s.tolist()))


def _projected_ends(implementing: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Where each stay in implementing ends: its end, or, still running, the fixed-scope end date
    (when later than `as_of`) or never (capacity-funded work goes on)."""
    ends = implementing["end"]
    forever = pd.Timestamp("2200-01-01", tz=as_of.tz)
    planned = implementing["planned_end"].where(implementing["planned_end"] > as_of, forever)
    return ends.where(ends.notna(), planned.astype(ends.dtype))


def pyramid_mix(
    intervals: pd.DataFrame,
    links: pd.DataFrame,
    periods: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """The work-shape mix of the work in progress per period, by count and by team cost.

    `intervals`: initiative_id, state, start, end (NaT: still there), planned_end (the fixed-scope
    end date, NaT for capacity funding) — see `state_intervals`; only stays in implementing count.
    `links`: initiative_id, team_id, value_stream_id, year_cost (the team's capacity FTE × loaded
    cost per FTE). `periods`: period, start, end (aware; end exclusive).

    Per period and shape: `count` = initiatives in progress at the period's end, or at `as_of` for
    a period not over yet; `cost` = the linked teams' yearly cost × the days each initiative is in
    progress within the period ÷ 365 (work still in progress counts up to the period's end, or the
    fixed-scope end date), a team's cost never counted beyond its capacity: when a team's
    initiatives add up to more days than the period has, each gets its share. Shares are 0–1
    (0 when the period has nothing). Returns PYRAMID_COLUMNS, periods in order, shapes in SHAPES
    order. Initiatives without teams have no shape and are left out.
    """
    shapes = initiative_shapes(links)
    ordered = periods.sort_values("start", ignore_index=True)
    implementing = intervals[intervals["state"] == "implementing"]
    implementing = implementing[implementing["initiative_id"].isin(shapes.index)]
    counts: dict[tuple[int, str], int] = {}
    costs: dict[tuple[int, str], float] = {}
    if not implementing.empty and not ordered.empty:
        implementing = implementing.assign(
            shape=implementing["initiative_id"].map(shapes),
            until=_projected_ends(implementing, as_of),
        )
        # every stay beside every period (slot: the period's place in `ordered`): all periods in
        # one pass, each group summed in the same order as one pass per period would
        slots = pd.DataFrame(
            {
                "slot": ordered.index,
                "period_start": ordered["start"],
                "period_end": ordered["end"],
                "snapshot": [
                    min(end - pd.Timedelta(microseconds=1), as_of) for end in ordered["end"]
                ],
            }
        )
        pairs = slots.merge(implementing, how="cross")
        counts = _running_counts(pairs)
        period_days = [
            (end - start).total_seconds() / DAY_SECONDS
            for start, end in zip(ordered["start"], ordered["end"], strict=True)
        ]
        costs = _slot_costs(pairs, links, period_days)
    rows = []
    for slot, period in enumerate(ordered.itertuples()):
        shape_counts = {shape: counts.get((slot, shape), 0) for shape in SHAPES}
        shape_costs = {shape: costs.get((slot, shape), 0.0) for shape in SHAPES}
        total_count, total_cost = sum(shape_counts.values()), sum(shape_costs.values())
        for shape in SHAPES:
            rows.append(
                (
                    period.period,
                    period.start,
                    shape,
                    shape_counts[shape],
                    round(shape_costs[shape], 2),
                    round(shape_counts[shape] / total_count, 4) if total_count else 0.0,
                    round(shape_costs[shape] / total_cost, 4) if total_cost else 0.0,
                )
            )
    return pd.DataFrame(rows, columns=PYRAMID_COLUMNS)


def _running_counts(pairs: pd.DataFrame) -> dict[tuple[int, str], int]:
    """(slot, shape) → initiatives implementing at the slot's snapshot; `pairs`: stays in
    implementing beside each period (slot, snapshot, initiative_id, shape, start, end)."""
    running = pairs[
        (pairs["start"] <= pairs["snapshot"])
        & (pairs["end"].isna() | (pairs["end"] > pairs["snapshot"]))
    ]
    numbers = running.groupby(["slot", "shape"])["initiative_id"].nunique()
    return {(int(slot), str(shape)): int(number) for (slot, shape), number in numbers.items()}


def _slot_costs(
    pairs: pd.DataFrame, links: pd.DataFrame, period_days: list[float]
) -> dict[tuple[int, str], float]:
    """(slot, shape) → team cost of the stays in implementing within each period [period_start,
    period_end); `period_days`: each slot's length in days. A team's cost is never counted beyond
    its capacity: when its initiatives add up to more days than the period has, each gets its
    share."""
    start, until = pairs["start"], pairs["until"]
    overlap_start = start.where(start >= pairs["period_start"], pairs["period_start"])
    overlap_end = until.where(until <= pairs["period_end"], pairs["period_end"])
    days = (overlap_end - overlap_start).dt.total_seconds() / DAY_SECONDS
    stays = pairs.assign(days=days)
    stays = stays[stays["days"] > 0]
    if stays.empty:
        return {}
    per_initiative = stays.groupby(["slot", "initiative_id", "shape"], as_index=False)["days"].sum()
    team_days = per_initiative.merge(links, on="initiative_id")
    busy = team_days.groupby(["slot", "team_id"])["days"].transform("sum")
    scale = (team_days["slot"].map(dict(enumerate(period_days))) / busy).clip(upper=1.0)
    cost = team_days["year_cost"] * team_days["days"] / YEAR_DAYS * scale
    sums = team_days.assign(cost=cost).groupby(["slot", "shape"])["cost"].sum()
    return {(int(slot), str(shape)): float(value) for (slot, shape), value in sums.items()}
