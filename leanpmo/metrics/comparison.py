"""A scenario beside its plan: pure functions from plan rows to comparison tables (no Django, no I/O).

Money columns hold Decimal in the portfolio's currency, exact to the cent (see portfolio.money); shares
and percentages are floats. Rows are matched by value stream id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from leanpmo.guardrails import PlanRow, Result
from leanpmo.metrics.mix import theme_amounts
from leanpmo.plan_fields import FIELD_LABELS, HORIZON_LABELS
from portfolio.money import ZERO, cents, money_sum

HORIZONS = list(HORIZON_LABELS.items())


def _share(part: Decimal, whole: Decimal) -> float | None:
    return round(float(part / whole), 4) if whole else None


def stream_comparison(plan: Iterable[PlanRow], scenario: Iterable[PlanRow]) -> pd.DataFrame:
    """Per value stream: value_stream, plan, scenario, change, change_pct (None when the plan has 0).

    Streams present on one side only count 0 on the other. Ordered by value stream name.
    """
    before = {row.value_stream_id: row for row in plan}
    after = {row.value_stream_id: row for row in scenario}
    rows = []
    for stream_id in {*before, *after}:
        name = (after.get(stream_id) or before[stream_id]).name
        old = cents(before[stream_id].total) if stream_id in before else ZERO
        new = cents(after[stream_id].total) if stream_id in after else ZERO
        change_pct = round(float((new - old) / old * 100), 1) if old else None
        rows.append((name, old, new, new - old, change_pct))
    columns = ["value_stream", "plan", "scenario", "change", "change_pct"]
    return pd.DataFrame(sorted(rows), columns=columns)


def horizon_comparison(plan: Iterable[PlanRow], scenario: Iterable[PlanRow]) -> pd.DataFrame:
    """Per horizon: horizon, plan, scenario, change, plan_share, scenario_share (shares 0–1)."""
    plan, scenario = list(plan), list(scenario)
    plan_total = money_sum(row.total for row in plan)
    scenario_total = money_sum(row.total for row in scenario)
    rows = []
    for code, label in HORIZONS:
        old = money_sum(row.amounts.get(code, ZERO) for row in plan)
        new = money_sum(row.amounts.get(code, ZERO) for row in scenario)
        rows.append(
            (label, old, new, new - old, _share(old, plan_total), _share(new, scenario_total))
        )
    rows.append(("Total", plan_total, scenario_total, scenario_total - plan_total, None, None))
    columns = ["horizon", "plan", "scenario", "change", "plan_share", "scenario_share"]
    return pd.DataFrame(rows, columns=columns)


def _theme_amounts(
    rows: Iterable[PlanRow], splits: Mapping[int, Mapping[str, int]], themes: Mapping[str, str]
) -> dict[str, Decimal]:
    return theme_amounts(((row.total, splits.get(row.value_stream_id)) for row in rows), themes)


def theme_comparison(
    plan: Iterable[PlanRow],
    plan_splits: Mapping[int, Mapping[str, int]],
    scenario: Iterable[PlanRow],
    scenario_splits: Mapping[int, Mapping[str, int]],
    themes: Mapping[str, str],
) -> pd.DataFrame:
    """Per strategic theme: theme, plan, scenario, change; a stream's money follows its theme split.

    `*_splits` map value stream id → theme split (theme id as text → percent); `themes` maps theme id
    (text) → name. Unsplit money is "(no theme)". Largest scenario amount first.
    """
    before = _theme_amounts(plan, plan_splits, themes)
    after = _theme_amounts(scenario, scenario_splits, themes)
    rows = []
    for name in {*before, *after}:
        old, new = cents(before.get(name, ZERO)), cents(after.get(name, ZERO))
        rows.append((name, old, new, new - old))
    rows.sort(key=lambda row: (-row[2], row[0]))
    return pd.DataFrame(rows, columns=["theme", "plan", "scenario", "change"])


def guardrail_comparison(plan: Iterable[Result], scenario: Iterable[Result]) -> pd.DataFrame:
    """Each guardrail check on the plan beside the same check on the scenario.

    Columns guardrail, scope, plan, scenario (the checks' messages, "—" where a side has no check),
    plan_ok, scenario_ok (bool, None where missing), verdict ("new breach", "breach resolved",
    "still breached", "within"). New breaches first.
    """
    before = {(result.rule_id, result.value_stream_id): result for result in plan}
    after = {(result.rule_id, result.value_stream_id): result for result in scenario}
    order = {"new breach": 0, "still breached": 1, "breach resolved": 2, "within": 3}
    rows = []
    for key in [*before, *(key for key in after if key not in before)]:
        old, new = before.get(key), after.get(key)
        sample = new or old
        assert sample is not None
        old_ok = None if old is None else old.ok
        new_ok = None if new is None else new.ok
        if new_ok is False:
            verdict = "still breached" if old_ok is False else "new breach"
        else:
            verdict = "breach resolved" if old_ok is False else "within"
        rows.append(
            (
                sample.description,
                sample.scope,
                old.message if old else "—",
                new.message if new else "—",
                old_ok,
                new_ok,
                verdict,
            )
        )
    rows.sort(key=lambda row: order[row[6]])
    columns = ["guardrail", "scope", "plan", "scenario", "plan_ok", "scenario_ok", "verdict"]
    return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class Drift:
    """How one value stream's budget differs from what the scenario copied.

    `kind`: "changed" (with `changes` as (label, copied, now) triples), "added" (a budget the
    scenario lacks) or "removed" (copied, no longer in the plan).
    """

    value_stream: str
    kind: str
    changes: tuple[tuple[str, str, str], ...] = ()


def plan_drift(
    copied: Mapping[int, tuple[str, Mapping[str, str]]],
    current: Mapping[int, tuple[str, Mapping[str, str]]],
) -> list[Drift]:
    """What changed in the plan since the scenario copied it; empty when nothing did.

    Both map value stream id → (name, field → value as text), `copied` from the scenario's lines,
    `current` from the period's budgets now. Ordered by value stream name.
    """
    drift = []
    for stream_id in {*copied, *current}:
        if stream_id not in copied:
            drift.append(Drift(current[stream_id][0], "added"))
        elif stream_id not in current:
            drift.append(Drift(copied[stream_id][0], "removed"))
        else:
            name, before = copied[stream_id]
            after = current[stream_id][1]
            changes = tuple(
                (FIELD_LABELS.get(field, field), before.get(field, "—"), value)
                for field, value in after.items()
                if before.get(field) != value
            )
            if changes:
                drift.append(Drift(name, "changed", changes))
    return sorted(drift, key=lambda item: item.value_stream)


def inferred_kind(before: Decimal, after: Decimal) -> str:
    """The decision kind a change of a stream's total money suggests: start (from nothing), stop (to
    nothing), increase, decrease, or continue (same money, e.g. only the allocation moved)."""
    if before == 0 and after > 0:
        return "start"
    if after == 0 and before > 0:
        return "stop"
    if after > before:
        return "increase"
    if after < before:
        return "decrease"
    return "continue"
