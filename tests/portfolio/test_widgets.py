import datetime as dt
from decimal import Decimal

import pytest
from django import forms
from django.utils import translation
from django.utils.safestring import mark_safe

from portfolio.widgets import DirectHiddenInput, DirectTextInput, date_input


def test_date_pickers_get_iso_dates_whatever_the_language():
    with translation.override("en-gb"):
        html = date_input().render("starts_on", dt.date(2025, 6, 2))
    assert 'value="2025-06-02"' in html
    assert 'type="date"' in html


@pytest.mark.parametrize(
    ("direct", "stock"),
    [(DirectTextInput, forms.TextInput), (DirectHiddenInput, forms.HiddenInput)],
)
@pytest.mark.parametrize(
    ("value", "attrs"),
    [
        (None, {}),
        ("", {"id": "id_x"}),
        (Decimal("1250.50"), {"inputmode": "decimal", "class": "money", "size": 10}),
        (0, {"required": True, "disabled": False, "aria-invalid": "true", "data-n": 0}),
        ("\"<b>&'", {"title": '"<i>&', "placeholder": mark_safe("<safe>")}),
    ],
)
def test_direct_inputs_write_what_djangos_template_writes(direct, stock, value, attrs):
    base = {"class": "money", "size": 3}
    assert direct(attrs=base).render("rows-0-x", value, attrs) == stock(attrs=base).render(
        "rows-0-x", value, attrs
    )


def test_a_direct_input_given_its_own_template_renders_through_it():
    widget = DirectTextInput()
    widget.template_name = "django/forms/widgets/textarea.html"
    assert widget.render("notes", "hi").startswith("<textarea")


def test_bound_grid_cells_are_written_as_django_writes_them():
    class Row(forms.Form):
        amount = forms.DecimalField(widget=DirectTextInput(attrs={"class": "money"}))
        row = forms.IntegerField(widget=DirectHiddenInput)

    class StockRow(forms.Form):
        amount = forms.DecimalField(widget=forms.TextInput(attrs={"class": "money"}))
        row = forms.IntegerField(widget=forms.HiddenInput)

    data = {"amount": "-x<", "row": "7"}
    direct, stock = Row(data), StockRow(data)
    assert not direct.is_valid()
    assert not stock.is_valid()
    assert str(direct["amount"]) == str(stock["amount"])
    assert 'aria-invalid="true"' in str(direct["amount"])
    assert str(direct["row"]) == str(stock["row"])
