"""Figures for people: every formatter on ordinary, edge and missing values."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from portfolio import formatting as f

MINUS = "\u2212"


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (1234567.891, 2, "1,234,567.89"),
        (Decimal("342157.00"), 0, "342,157"),
        (-258041.03000000003, 2, f"{MINUS}258,041.03"),
        (-0.004, 2, "0.00"),
        (0.5, 0, "1"),
        (None, 0, "—"),
        ("", 0, "—"),
        (float("nan"), 0, "—"),
        (float("inf"), 0, "—"),
        ("not a number", 0, "—"),
    ],
)
def test_number_separates_thousands_rounds_half_up_and_never_shows_minus_zero(
    value, places, expected
):
    assert f.number(value, places) == expected


def test_money_shows_whole_units_with_the_currency_after_it_unless_cents_matter():
    assert f.money(Decimal("342157.00"), "EUR") == "342,157 EUR"
    assert f.money(Decimal("1250000.49"), "CHF") == "1,250,000 CHF"
    assert f.money(Decimal("-258041.03"), "EUR", cents=True) == f"{MINUS}258,041.03 EUR"
    assert f.money(None, "EUR") == "—"
    assert f.money(12) == "12"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (950, "950"),
        (450000, "450k"),
        (792330, "792k"),
        (46613, "46.6k"),
        (1250000, "1.25M"),
        (12_500_000, "12.5M"),
        (3.2e9, "3.2bn"),
    ],
)
def test_money_short_fits_tight_places(value, expected):
    assert f.money_short(value) == expected
    assert f.money_short(value, "EUR") == f"{expected} EUR"


def test_shares_and_percentages_carry_a_spaced_percent_sign():
    assert f.share(0.242) == "24 %"
    assert f.share(0.2425, 1) == "24.3 %"
    assert f.percent(30) == "30 %"
    assert f.percent(None) == "—"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (45, "45 s"),
        (600, "10 min"),
        (5400, "1.5 h"),
        (3493 * 60, "2.4 days"),
        (86400, "1 day"),
        (90 * 86400, "90 days"),
        (-7200, f"{MINUS}2 h"),
        (None, "—"),
    ],
)
def test_durations_read_in_the_largest_unit_that_reads_well(seconds, expected):
    assert f.duration(seconds) == expected


def test_counts_carry_their_noun_in_the_right_number():
    assert f.plural(1, "deployment") == "1 deployment"
    assert f.plural(3, "deployment") == "3 deployments"
    assert f.plural(2, "person", "people") == "2 people"
    assert f.plural(0, "item") == "0 items"
    assert f.days(0.4) == "less than a day"
    assert f.days(12.4) == "12 days"
    assert f.days(1) == "1 day"


def test_the_template_filters_format_the_same_way():
    rendered = Template(
        "{% load formatting %}{{ a|money:'EUR' }}|{{ b|share }}|{{ c|duration }}|"
        "{{ d|plural:'person,people' }}|{{ e|measure }}|{{ missing|money:'EUR' }}"
    ).render(Context({"a": Decimal("342157.00"), "b": 0.25, "c": 5400, "d": 2, "e": "94.50"}))
    assert rendered == "342,157 EUR|25 %|1.5 h|2 people|94.5|—"


def test_whole_percents_add_up_to_100_by_largest_remainder():
    assert f.whole_percents([1 / 3, 1 / 3, 1 / 3]) == [34, 33, 33]
    assert f.whole_percents([0.555, 0.225, 0.22]) == [56, 22, 22]
    assert sum(f.whole_percents([0.166, 0.166, 0.166, 0.166, 0.166, 0.17])) == 100
    assert f.whole_percents([0.5, None, 0.5]) == [50, None, 50]
    assert f.whole_percents([0, 0]) == [0, 0]
    assert f.whole_percents([]) == []


def test_dates_and_months_read_as_people_write_them():
    import datetime as dt

    assert f.day(dt.date(2026, 2, 2)) == "2 Feb 2026"
    assert f.month(dt.date(2026, 2, 14)) == "Feb 2026"
    assert f.day(None) == "—"


def test_chart_table_cells_separate_thousands_and_show_dates_and_gaps():
    import datetime as dt

    import numpy as np

    assert f.table_cell(1204) == "1,204"
    assert f.table_cell(np.int64(1204)) == "1,204"
    assert f.table_cell(9.54) == "9.5"
    assert f.table_cell(4.0) == "4"
    assert f.table_cell(Decimal("342157.00")) == "342,157"
    assert f.table_cell(dt.date(2026, 2, 2)) == "2 Feb 2026"
    assert f.table_cell(None) == "—"
    assert f.table_cell(float("nan")) == "—"
    assert f.table_cell("In Review") == "In Review"
    rendered = Template("{% load formatting %}{{ a|cell }}|{{ b|cell }}").render(
        Context({"a": 12345.67, "b": None})
    )
    assert rendered == "12,345.7|—"


def test_a_chart_tables_body_is_rendered_in_one_call_and_escaped():
    import datetime as dt

    rendered = Template("{% load formatting %}{{ rows|table_body }}").render(
        Context({"rows": [[dt.date(2026, 2, 2), 1204, None], ["<b>x</b>", 9.54, float("nan")]]})
    )
    assert rendered == (
        "<tr><td>2 Feb 2026</td><td>1,204</td><td>—</td></tr>\n"
        "<tr><td>&lt;b&gt;x&lt;/b&gt;</td><td>9.5</td><td>—</td></tr>"
    )


def test_changes_carry_their_sign_and_no_sign_when_nothing_changed():
    assert f.money_change(Decimal("50000"), "EUR") == "+50,000 EUR"
    assert f.money_change(Decimal("-12397.40"), "EUR") == f"{MINUS}12,397 EUR"
    assert f.money_change(Decimal("0.4"), "EUR") == "0 EUR"
    assert f.money_change(None, "EUR") == "—"
    assert f.percent_change(7.44, 1) == "+7.4 %"
    assert f.percent_change(-3.25, 1) == f"{MINUS}3.3 %"
    assert f.percent_change(0.2) == "0 %"
    assert f.percent_change(100.0, 1) == "+100 %"
    assert f.percent_change(None) == "—"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 1, 1], [34, 33, 33]),
        ([Decimal("1780830"), Decimal("965882"), Decimal("464768")], [55, 30, 15]),  # 99 rounded
        ([555, 300, 145], [56, 30, 14]),
        ([2, 2, 2, 2, 2, 2, 2], [15, 15, 14, 14, 14, 14, 14]),
        ([1, 0, None], [100, 0, None]),  # a missing value stays missing
        ([0, 0], [0, 0]),
        ([], []),
    ],
)
def test_whole_percents_add_up_to_exactly_100_by_largest_remainder(values, expected):
    shares = f.whole_percents(values)
    assert shares == expected
    assert sum(share for share in shares if share is not None) in {0, 100}


def test_plain_rounding_of_these_shares_would_not_add_up_to_100():
    values = [1, 1, 1]
    assert sum(round(100 * v / 3) for v in values) == 99  # what the pages showed before
    assert sum(f.whole_percents(values)) == 100


def test_a_figure_and_its_unit_stay_on_one_line():
    nb = "\u00a0"
    assert f.nobreak("Run takes 55 % of 3.21M EUR") == f"Run takes 55{nb}% of 3.21M{nb}EUR"
    assert f.nobreak("2.4 days, 1 deployment, +4 pts") == f"2.4{nb}days, 1{nb}deployment, +4{nb}pts"
    assert f.nobreak("Feature 55 % · Debt 20 %") == f"Feature 55{nb}% · Debt 20{nb}%"
    assert f.nobreak("Q4 Cards and 2026 Q3") == "Q4 Cards and 2026 Q3"  # only figures with units
    rendered = Template("{% load formatting %}{{ s|nobreak }}").render(Context({"s": "5 % <b>"}))
    assert rendered == f"5{nb}% &lt;b&gt;"  # still escaped
