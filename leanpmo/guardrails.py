"""Guardrail checks: pure functions from a period's plan to a list of results (no Django, no I/O).

A plan is a list of `PlanRow` (one per value stream); guardrails are `Rule`s. The editor, the save
service, scenarios and the executive page all call `check_plan`, so a breach means the same thing
everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from leanpmo.plan_fields import HORIZON_LABELS
from portfolio.formatting import MINUS, measure, money

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PlanRow:
    """One value stream's money (per horizon code) and allocation (per work type, whole percent)."""

    value_stream_id: int
    name: str
    amounts: Mapping[str, Decimal]
    allocation: Mapping[str, int]
    fixed_scope: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), Decimal(0))


@dataclass(frozen=True)
class Rule:
    """A guardrail's parameters (see leanpmo.models.Guardrail for the kinds)."""

    id: int
    kind: str
    description: str
    horizon: str = ""
    item_type: str = ""
    min_percent: Decimal | None = None
    max_percent: Decimal | None = None


@dataclass(frozen=True)
class Result:
    """One rule checked on one scope (the portfolio, or one value stream).

    `value` is the measured percentage; `ok` False means a breach; `value_stream_id` is None for
    portfolio-wide rules. `extra` says what `explain` needs: `subject` (the horizon or work type
    measured), `minimum` / `maximum` (the rule's limits, None when it has none), and for a budget
    change `before` and `after` (the value stream's money in the previous period and now).
    """

    rule_id: int
    description: str
    scope: str
    value: Decimal | None
    ok: bool
    message: str
    value_stream_id: int | None = None
    kind: str = ""
    extra: dict = field(default_factory=dict)


def _pct(value: Decimal | None) -> str:
    """10.00 → "10", 12.50 → "12.5"."""
    return format(Decimal(value or 0).normalize(), "f")


def _signed(value: Decimal) -> str:
    """+3.7 / −2.1 (a real minus sign)."""
    return ("+" if value > 0 else MINUS if value < 0 else "") + _pct(abs(value))


def _limits(rule: Rule, *, subject: str = "") -> dict:
    return {"subject": subject, "minimum": rule.min_percent, "maximum": rule.max_percent}


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if whole == 0:
        return None
    return (part * HUNDRED / whole).quantize(Decimal("0.1"))


def _horizon_share(rule: Rule, rows: list[PlanRow]) -> list[Result]:
    total = sum((row.total for row in rows), Decimal(0))
    part = sum((row.amounts.get(rule.horizon, Decimal(0)) for row in rows), Decimal(0))
    share = _percent(part, total)
    if share is None:
        return [Result(rule.id, rule.description, "Portfolio", None, True, "No money yet.")]
    too_low = rule.min_percent is not None and share < rule.min_percent
    too_high = rule.max_percent is not None and share > rule.max_percent
    message = f"{_pct(share)} % of the money"
    if too_low:
        message += f" — below the minimum of {_pct(rule.min_percent)} %"
    if too_high:
        message += f" — above the maximum of {_pct(rule.max_percent)} %"
    return [
        Result(
            rule.id,
            rule.description,
            "Portfolio",
            share,
            not (too_low or too_high),
            message,
            kind=rule.kind,
            extra=_limits(rule, subject=HORIZON_LABELS.get(rule.horizon, rule.horizon)),
        )
    ]


def _budget_change(
    rule: Rule, rows: list[PlanRow], previous: Mapping[int, Decimal]
) -> list[Result]:
    results = []
    for row in rows:
        before = previous.get(row.value_stream_id)
        if before is None or before == 0:
            continue
        change = _percent(row.total - before, before)
        assert change is not None
        ok = rule.max_percent is None or abs(change) <= rule.max_percent
        message = f"{_signed(change)} % against the previous period"
        if not ok:
            message += f" — more than {_pct(rule.max_percent)} %"
        results.append(
            Result(
                rule.id,
                rule.description,
                row.name,
                change,
                ok,
                message,
                row.value_stream_id,
                kind=rule.kind,
                extra={**_limits(rule), "before": before, "after": row.total},
            )
        )
    return results


def _min_allocation(rule: Rule, rows: list[PlanRow]) -> list[Result]:
    results = []
    for row in rows:
        if row.total == 0:
            continue
        share = Decimal(row.allocation.get(rule.item_type, 0))
        ok = rule.min_percent is None or share >= rule.min_percent
        message = f"{_pct(share)} % for {rule.item_type}"
        if not ok:
            message += f" — below the minimum of {_pct(rule.min_percent)} %"
        results.append(
            Result(
                rule.id,
                rule.description,
                row.name,
                share,
                ok,
                message,
                row.value_stream_id,
                kind=rule.kind,
                extra=_limits(rule, subject=rule.item_type),
            )
        )
    return results


def _fixed_scope_share(rule: Rule, rows: list[PlanRow]) -> list[Result]:
    total = sum((row.total for row in rows), Decimal(0))
    fixed = sum((row.fixed_scope for row in rows), Decimal(0))
    share = _percent(fixed, total)
    if share is None:
        return [Result(rule.id, rule.description, "Portfolio", None, True, "No money yet.")]
    ok = rule.max_percent is None or share <= rule.max_percent
    message = f"{_pct(share)} % of the money in fixed-scope projects"
    if not ok:
        message += f" — above the maximum of {_pct(rule.max_percent)} %"
    return [
        Result(
            rule.id,
            rule.description,
            "Portfolio",
            share,
            ok,
            message,
            kind=rule.kind,
            extra=_limits(rule),
        )
    ]


def check_plan(
    rows: Iterable[PlanRow],
    rules: Iterable[Rule],
    *,
    previous_totals: Mapping[int, Decimal] | None = None,
) -> list[Result]:
    """Check every rule against the plan; `previous_totals` maps value stream id → last period's total.

    Returns one result per portfolio-wide rule and one per value stream for per-stream rules
    (streams without money, or without a previous budget for the change rule, are skipped).
    """
    rows = list(rows)
    previous = previous_totals or {}
    results: list[Result] = []
    for rule in rules:
        match rule.kind:
            case "horizon_share":
                results += _horizon_share(rule, rows)
            case "max_budget_change":
                results += _budget_change(rule, rows, previous)
            case "min_allocation":
                results += _min_allocation(rule, rows)
            case "max_fixed_scope_share":
                results += _fixed_scope_share(rule, rows)
    return results


def new_breaches(before: Iterable[Result], after: Iterable[Result]) -> list[Result]:
    """Breaches in `after` that were not breaches in `before` (same rule, same scope).

    A change needs an exception decision only for the breaches it causes, not for those it inherits.
    """
    already = {(result.rule_id, result.value_stream_id) for result in before if not result.ok}
    return [
        result
        for result in after
        if not result.ok and (result.rule_id, result.value_stream_id) not in already
    ]


def _pct_text(value: Decimal | None) -> str:
    """49.70 → "49.7 %", 25.00 → "25 %"."""
    return f"{measure(value, 1)} %"


def _signed_pct_text(value: Decimal) -> str:
    """+42.90 → "+42.9 %", −50.0 → "−50 %" (a real minus sign)."""
    return ("+" if value > 0 else "") + _pct_text(value)


def _limit_clause(result: Result) -> str:
    """The limit the value is measured against: "the limit is 25 %", "the minimum is 10 %",
    "the limits are 40 % and 70 %"."""
    low, high = result.extra.get("minimum"), result.extra.get("maximum")
    value = result.value if result.value is not None else Decimal(0)
    if result.kind == "max_budget_change":
        return f"the limit is ±{_pct_text(high)}"
    if low is not None and high is not None:
        if result.ok:
            return f"the limits are {_pct_text(low)} and {_pct_text(high)}"
        return f"the {'minimum' if value < low else 'limit'} is {_pct_text(low if value < low else high)}"
    if low is not None:
        return f"the minimum is {_pct_text(low)}"
    return f"the limit is {_pct_text(high)}"


def explain(result: Result, *, currency: str = "", proposed: bool = False) -> str:
    """A guardrail check in one sentence for people, naming what is measured, its value and the
    limit: "Run would be 49.7 % of the money; the limit is 25 %" (`proposed`: the value is what a
    change would make it, so "would be"; otherwise "is"). Money in a budget change is shown in
    `currency`.
    """
    extra = result.extra
    if result.value is None:
        return f"{result.description}: no money yet"
    verb = {
        "horizon_share": "would be" if proposed else "is",
        "max_fixed_scope_share": "would be" if proposed else "is",
        "min_allocation": "would give" if proposed else "gives",
        "max_budget_change": "would change" if proposed else "changes",
    }.get(result.kind, "would be" if proposed else "is")
    limit = _limit_clause(result)
    match result.kind:
        case "horizon_share":
            subject = extra.get("subject") or "This horizon"
            return f"{subject} {verb} {_pct_text(result.value)} of the money; {limit}"
        case "max_budget_change":
            before, after = extra.get("before"), extra.get("after")
            amounts = (
                f" ({money(before)} → {money(after, currency)})"
                if before is not None and after is not None
                else ""
            )
            return (
                f"The budget of {result.scope} {verb} by {_signed_pct_text(result.value)} "
                f"against the previous period{amounts}; {limit}"
            )
        case "min_allocation":
            subject = extra.get("subject") or "this work type"
            return (
                f"{result.scope} {verb} {_pct_text(result.value)} of its capacity to {subject}; "
                f"{limit}"
            )
        case "max_fixed_scope_share":
            tied = "would be tied" if proposed else "is tied"
            return f"{_pct_text(result.value)} of the money {tied} to fixed-scope projects; {limit}"
    return f"{result.description}: {result.message}"


def wip_sentence(*, in_progress: int, limit: int | None, proposed: bool = True) -> str:
    """The strategic WIP cap in one sentence: "Starting it would make 3 strategic initiatives in
    progress; the limit is 2" (`in_progress`: how many are in progress without it)."""
    count = in_progress + 1 if proposed else in_progress
    noun = "strategic initiative" if count == 1 else "strategic initiatives"
    start = (
        f"Starting it would make {count} {noun} in progress"
        if proposed
        else (f"{count} {noun} in progress")
    )
    return start if limit is None else f"{start}; the limit is {limit}"
