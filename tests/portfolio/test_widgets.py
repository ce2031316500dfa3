import datetime as dt

from django.utils import translation

from portfolio.widgets import date_input


def test_date_pickers_get_iso_dates_whatever_the_language():
    with translation.override("en-gb"):
        html = date_input().render("starts_on", dt.date(2025, 6, 2))
    assert 'value="2025-06-02"' in html
    assert 'type="date"' in html
