"""The pure rules behind the check-in and seat warnings (teams.plausibility): hand-built facts in,
warnings out."""

import datetime as dt
import subprocess
import sys
from decimal import Decimal

import pytest

from teams.plausibility import (
    KeyResultFacts,
    Seat,
    allocation_peak,
    allocation_warnings,
    check_in_warnings,
    expected_progress,
    plain_number,
    quantity,
)

START = dt.date(2026, 1, 1)
UP = KeyResultFacts(
    baseline=Decimal(91),
    target=Decimal(99),
    unit="%",
    starts_on=START,
    previous_value=Decimal("94.5"),
    previous_on=dt.date(2026, 6, 1),
)
DOWN = KeyResultFacts(baseline=Decimal(38), target=Decimal(10), unit="", starts_on=START)


def codes(facts, value, status="at_risk", on=dt.date(2026, 6, 15)):
    return [
        w.code for w in check_in_warnings(facts=facts, value=Decimal(value), status=status, on=on)
    ]


def test_a_plausible_check_in_has_no_warning():
    assert codes(UP, "95.1", status="on_track") == []
    assert codes(DOWN, "30", status="on_track", on=dt.date(2026, 2, 1)) == []


def test_a_jump_larger_than_the_whole_range_is_flagged_with_both_values():
    (warning,) = check_in_warnings(
        facts=UP, value=Decimal("945"), status="at_risk", on=dt.date(2026, 6, 15)
    )
    assert warning.code == "jump"
    assert "945 %" in warning.message
    assert "94.5 % on 1 Jun 2026" in warning.message
    assert "91 % → 99 %" in warning.message


def test_a_change_of_exactly_the_range_is_no_jump():
    assert "jump" not in codes(UP, "102.5")
    assert "jump" in codes(UP, "102.51")


def test_without_a_previous_check_in_the_baseline_is_the_reference():
    assert codes(DOWN, "-5") == ["jump"]  # 43 below the baseline of 38: more than 28
    (warning,) = check_in_warnings(
        facts=DOWN, value=Decimal("-5"), status="at_risk", on=dt.date(2026, 2, 1)
    )
    assert "the baseline (38)" in warning.message


def test_a_big_move_against_the_direction_is_flagged():
    # decrease: the target (10) is below the baseline (38); rising by 15 is the wrong way (> 14)
    rising = KeyResultFacts(
        baseline=Decimal(38), target=Decimal(10), unit="", starts_on=START, previous_value=20
    )
    assert codes(rising, "35.5") == ["wrong_way"]
    assert codes(rising, "33") == []  # 13 the wrong way: less than half the range
    assert codes(UP, "89") == ["wrong_way"]  # 5.5 down on an increasing key result (> 4)
    assert codes(UP, "97") == []  # forward is never "wrong way"


@pytest.mark.parametrize(
    ("on", "value", "warned"),
    [
        (
            dt.date(2026, 7, 3),
            "93",
            True,
        ),  # half the year gone, 25 % of the way: below half of 50 %
        (dt.date(2026, 7, 3), "93.1", False),  # 26 %: more than half of the expected 50 %
        (dt.date(2026, 3, 1), "91", False),  # under a quarter of the year: too early to say
        (dt.date(2027, 6, 1), "94.9", True),  # past the year: 100 % expected, 49 % come
    ],
)
def test_on_track_far_behind_the_expected_progress_is_flagged(on, value, warned):
    facts = KeyResultFacts(baseline=Decimal(91), target=Decimal(99), unit="%", starts_on=START)
    assert ("on_track_behind" in codes(facts, value, status="on_track", on=on)) is warned
    assert "on_track_behind" not in codes(facts, value, status="at_risk", on=on)


def test_the_behind_warning_says_how_far_and_how_long():
    facts = KeyResultFacts(baseline=Decimal(91), target=Decimal(99), unit="%", starts_on=START)
    (warning,) = check_in_warnings(
        facts=facts, value=Decimal(93), status="on_track", on=dt.date(2026, 7, 3)
    )
    assert "25 % of the way" in warning.message
    assert "50 % of the key result's year" in warning.message


def test_off_track_with_the_target_met_is_flagged_in_either_direction():
    assert "off_track_met" in codes(UP, "99", status="off_track")
    assert "off_track_met" not in codes(UP, "98.9", status="off_track")
    assert "off_track_met" in codes(DOWN, "9", status="off_track", on=dt.date(2026, 2, 1))
    assert "off_track_met" not in codes(UP, "99.5", status="on_track")


def test_expected_progress_is_linear_over_a_year_and_clipped():
    assert expected_progress(starts_on=START, on=dt.date(2025, 12, 1)) == 0
    assert expected_progress(starts_on=START, on=START + dt.timedelta(days=73)) == pytest.approx(
        0.2
    )
    assert expected_progress(starts_on=START, on=dt.date(2028, 1, 1)) == 1


def test_numbers_read_like_people_write_them():
    assert quantity(Decimal("21000.0000"), "customers") == "21,000 customers"
    assert quantity(Decimal("94.5000"), "%") == "94.5 %"
    assert quantity(Decimal("11.7200"), "") == "11.72"
    assert plain_number(Decimal("85.0000")) == "85"
    assert plain_number(Decimal("0.0400")) == "0.04"
    assert plain_number(Decimal("21000")) == "21000"


def test_the_allocation_peak_adds_the_seats_held_on_the_same_day():
    seats = [
        Seat("Payment Rails", dt.date(2025, 1, 1), None, 60),
        Seat("Fraud Detection", dt.date(2025, 1, 1), dt.date(2026, 2, 28), 30),
        Seat("Instant Payments", dt.date(2026, 3, 1), None, 30),
        Seat("Card Controls", dt.date(2026, 5, 1), None, 20),
    ]
    total, on, held = allocation_peak(seats, start=dt.date(2026, 3, 1), end=None)
    assert (total, on) == (110, dt.date(2026, 5, 1))
    assert {seat.team for seat in held} == {"Payment Rails", "Instant Payments", "Card Controls"}
    assert allocation_peak(seats, start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 30))[0] == 90


def test_more_than_full_time_gives_one_warning_naming_the_day_and_the_seats():
    seats = [
        Seat("Payment Rails", dt.date(2025, 1, 1), None, 80),
        Seat("Instant Payments", dt.date(2026, 3, 1), None, 30),
    ]
    (warning,) = allocation_warnings(seats, name="Ana Costa", start=dt.date(2026, 3, 1), end=None)
    assert warning.code == "over_allocated"
    assert warning.message.startswith("Ana Costa would be allocated 110 % in total from 1 Mar 2026")
    assert "(Payment Rails 80 %, Instant Payments 30 %)" in warning.message
    exactly_full = [
        Seat("A", dt.date(2026, 1, 1), None, 70),
        Seat("B", dt.date(2026, 1, 1), None, 30),
    ]
    assert allocation_warnings(exactly_full, name="Bo", start=dt.date(2026, 1, 1), end=None) == []


def test_the_rules_module_imports_no_django():
    code = (
        "import sys; import teams.plausibility; "
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
