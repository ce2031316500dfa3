"""What Steward warns about without refusing: a check-in that looks mistyped or contradicts itself,
and a person allocated to more than their whole time. Pure: no Django, no clock.

A warning never stops a write. The check-in page shows the warnings and asks the member to
confirm; the API accepts the write and returns the warnings in its answer.

The check-in rules, with `range` = |target − baseline| (never 0: a key result must move) and the
reference = the latest standing check-in before this one, or the baseline when there is none:

- **jump** — the value differs from the reference by more than ``JUMP_RANGES`` × range (more than
  the whole way from baseline to target in one check-in: a misplaced decimal point, the wrong unit).
- **wrong way** — otherwise, the value moved against the key result's direction by more than
  ``AGAINST_RANGES`` × range since the reference.
- **on track, far behind** — the status is *on track* while progress (0 = baseline, 1 = target) is
  below ``BEHIND_SHARE`` of the progress expected by now, once at least ``BEHIND_MIN_EXPECTED`` of
  it is expected. Key results carry no end date, so a key result is expected to move linearly from
  its baseline on its start date to its target ``KEY_RESULT_HORIZON_DAYS`` later (a year).
- **off track, target met** — the status is *off track* while the value already meets the target.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

JUMP_RANGES = Decimal(1)
AGAINST_RANGES = Decimal("0.5")
KEY_RESULT_HORIZON_DAYS = 365
BEHIND_SHARE = 0.5
BEHIND_MIN_EXPECTED = 0.25
FULL_TIME_PERCENT = 100

ON_TRACK, AT_RISK, OFF_TRACK = "on_track", "at_risk", "off_track"


@dataclass(frozen=True)
class PlausibilityWarning:
    """A reason to look twice: `code` for machines (jump, wrong_way, on_track_behind,
    off_track_met, over_allocated), `message` for people."""

    code: str
    message: str


@dataclass(frozen=True)
class KeyResultFacts:
    """What a check-in is compared with: the key result's definition and the latest standing
    check-in before it (`previous_value` / `previous_on` None when there is none)."""

    baseline: Decimal
    target: Decimal
    unit: str
    starts_on: dt.date
    previous_value: Decimal | None = None
    previous_on: dt.date | None = None


def number(value: Decimal | float | int) -> str:
    """A measured value for people: thousands separators, at most two decimals, no trailing zeros."""
    text = f"{float(value):,.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def plain_number(value: Decimal | float | int) -> str:
    """A value as a person would type it into a number field: "94.5", "21000" (no separators)."""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in {"-0", ""} else text


def quantity(value: Decimal | float | int, unit: str) -> str:
    """A value with its unit: "94.5 %", "4.6 stars", "12" (no unit)."""
    return f"{number(value)} {unit}".strip()


def day(on: dt.date) -> str:
    """A date for people: "3 Dec 2026"."""
    return f"{on.day} {on:%b %Y}"


def expected_progress(*, starts_on: dt.date, on: dt.date) -> float:
    """The share of the way (0–1) a key result is expected to have come on `on`: linear over
    KEY_RESULT_HORIZON_DAYS from `starts_on`; 0 before it starts, 1 after the horizon."""
    elapsed = (on - starts_on).days
    return min(max(elapsed / KEY_RESULT_HORIZON_DAYS, 0.0), 1.0)


def check_in_warnings(
    *, facts: KeyResultFacts, value: Decimal, status: str, on: dt.date
) -> list[PlausibilityWarning]:
    """The warnings for a check-in of `value` with `status` posted on `on` (see the module
    docstring for the rules); an empty list when nothing looks wrong."""
    baseline, target, unit = Decimal(facts.baseline), Decimal(facts.target), facts.unit
    span = target - baseline
    whole = abs(span)
    if whole == 0:
        return []
    value = Decimal(value)
    warnings: list[PlausibilityWarning] = []
    if facts.previous_value is not None:
        reference = Decimal(facts.previous_value)
        since = f"the last check-in ({quantity(reference, unit)}" + (
            f" on {day(facts.previous_on)})" if facts.previous_on else ")"
        )
    else:
        reference = baseline
        since = f"the baseline ({quantity(reference, unit)})"
    change = value - reference
    toward = change if span > 0 else -change
    if abs(change) > JUMP_RANGES * whole:
        warnings.append(
            PlausibilityWarning(
                "jump",
                f"{quantity(value, unit)} is {quantity(abs(change), unit)} away from {since}: "
                f"more than the whole way from baseline to target "
                f"({quantity(baseline, unit)} → {quantity(target, unit)}) in one check-in. "
                "Is the value typed right (a decimal point, the unit)?",
            )
        )
    elif -toward > AGAINST_RANGES * whole:
        warnings.append(
            PlausibilityWarning(
                "wrong_way",
                f"{quantity(value, unit)} moved {quantity(abs(change), unit)} away from the target "
                f"since {since}: more than half the way from baseline to target. "
                "Is the value typed right?",
            )
        )
    progress = float((value - baseline) / span)
    expected = expected_progress(starts_on=facts.starts_on, on=on)
    if (
        status == ON_TRACK
        and expected >= BEHIND_MIN_EXPECTED
        and progress < BEHIND_SHARE * expected
    ):
        warnings.append(
            PlausibilityWarning(
                "on_track_behind",
                f"You say on track, but {quantity(value, unit)} has come "
                f"{round(progress * 100)} % of the way from baseline to target while "
                f"{round(expected * 100)} % of the key result's year has passed. "
                "Would “at risk” or “off track” be closer?",
            )
        )
    if status == OFF_TRACK and progress >= 1:
        warnings.append(
            PlausibilityWarning(
                "off_track_met",
                f"You say off track, but {quantity(value, unit)} already meets the target of "
                f"{quantity(target, unit)}. Is the status right?",
            )
        )
    return warnings


@dataclass(frozen=True)
class Seat:
    """A person's seat as the allocation rule sees it: team name, dates (end None = open), %."""

    team: str
    start: dt.date
    end: dt.date | None
    percent: int


def _holds(seat: Seat, on: dt.date) -> bool:
    return seat.start <= on and (seat.end is None or seat.end >= on)


def allocation_peak(
    seats: Iterable[Seat], *, start: dt.date, end: dt.date | None
) -> tuple[int, dt.date, list[Seat]]:
    """The highest total allocation of one person over [start, end] (end None: open-ended), the
    first day it is reached and the seats held that day. `seats` are all the person's seats,
    the one being written included. A person's total only rises on a day a seat starts, so only
    `start` and the starts within the span are looked at."""
    seats = list(seats)
    days = {start} | {
        s.start for s in seats if s.start >= start and (end is None or s.start <= end)
    }
    peak: tuple[int, dt.date, list[Seat]] = (0, start, [])
    for on in sorted(days):
        held = [seat for seat in seats if _holds(seat, on)]
        total = sum(seat.percent for seat in held)
        if total > peak[0]:
            peak = (total, on, held)
    return peak


def allocation_warnings(
    seats: Iterable[Seat], *, name: str, start: dt.date, end: dt.date | None
) -> list[PlausibilityWarning]:
    """A warning when the person `name` holds more than FULL_TIME_PERCENT in total at some day of
    [start, end], naming the day and the seats; an empty list otherwise."""
    total, on, held = allocation_peak(seats, start=start, end=end)
    if total <= FULL_TIME_PERCENT:
        return []
    parts = ", ".join(
        f"{seat.team} {seat.percent} %" for seat in sorted(held, key=lambda s: -s.percent)
    )
    return [
        PlausibilityWarning(
            "over_allocated",
            f"{name} would be allocated {total} % in total from {day(on)} ({parts}): more than "
            "their whole time.",
        )
    ]
