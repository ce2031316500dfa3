"""Template filters that format figures for people (see :mod:`portfolio.formatting`).

{% load formatting %}
{{ budget.total|money:portfolio.currency }}   → 1,250,000 EUR
{{ amount|money_short:portfolio.currency }}  → 1.25M EUR
{{ change|money_change:portfolio.currency }} → +50,000 EUR
{{ pct|percent_change }}                      → +7 %
{{ share|share }}                             → 24 %      (a fraction of one)
{{ alloc|percent }}                           → 30 %      (already in percent)
{{ seconds|duration }}                        → 2.4 days
{{ count|plural:"deployment" }}               → 3 deployments
{{ count|plural:"person,people" }}            → 2 people
{{ value|measure }}                           → 94.5
{{ cell|cell }}                               → 1,204 · 9.5 · 2 Feb 2026  (a chart table's cell)
{{ sentence|nobreak }}                        → "25 %" and "3.2M EUR" never split across lines
"""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from portfolio import formatting, links

register = template.Library()


@register.filter
def money(value, currency: str = "") -> str:
    """Whole units with separators and the currency after it."""
    return formatting.money(value, currency)


@register.filter
def money_cents(value, currency: str = "") -> str:
    """Money to the cent, where cents mean something."""
    return formatting.money(value, currency, cents=True)


@register.filter
def money_change(value, currency: str = "") -> str:
    """A change of money with its sign: "+50,000 EUR"."""
    return formatting.money_change(value, currency)


@register.filter
def money_short(value, currency: str = "") -> str:
    """Money in a few characters (k, M, bn)."""
    return formatting.money_short(value, currency)


@register.filter
def number(value, places: int = 0) -> str:
    """A number with thousands separators."""
    return formatting.number(value, int(places))


@register.filter
def measure(value, places: int = 2) -> str:
    """A measured value without trailing zeros."""
    return formatting.measure(value, int(places))


@register.filter
def percent(value, places: int = 0) -> str:
    """A value already in percent: 30 → "30 %"."""
    return formatting.percent(value, int(places))


@register.filter
def percent_change(value, places: int = 0) -> str:
    """A change already in percent with its sign: 7.4 → "+7 %"."""
    return formatting.percent_change(value, int(places))


@register.filter
def share(value, places: int = 0) -> str:
    """A fraction of one as a percentage: 0.3 → "30 %"."""
    return formatting.share(value, int(places))


@register.filter
def duration(seconds) -> str:
    """Seconds in the largest unit that reads well."""
    return formatting.duration(seconds)


@register.filter
def days(value) -> str:
    """A number of days."""
    return formatting.days(value)


@register.filter
def plural(count, nouns: str) -> str:
    """ "deployment" or "person,people": the count with its noun."""
    singular, _, plural_form = nouns.partition(",")
    return formatting.plural(count, singular, plural_form)


@register.filter
def cell(value) -> str:
    """A cell of a chart's table: numbers with separators, dates as "2 Feb 2026", "—" if none."""
    return formatting.table_cell(value)


@register.filter
def table_body(rows) -> str:
    """A chart table's rows as `<tr>` of `<td>`, each cell formatted as `cell` does: one call for
    the whole table (a year of weeks is a thousand cells) instead of one per cell."""
    text, escape = formatting.table_cell, conditional_escape
    return mark_safe(  # every cell is escaped
        "\n".join(
            "<tr>" + "".join([f"<td>{escape(text(value))}</td>" for value in row]) + "</tr>"
            for row in rows
        )
    )


@register.filter(is_safe=True)
def nobreak(text) -> str:
    """No line break between a figure and its unit: "25 %" never splits."""
    return formatting.nobreak(str(text))


@register.filter
def object_url(pk, name: str) -> str:
    """`{{ team.pk|object_url:"team-detail" }}`: `{% url "team-detail" team.pk %}` for the rows of a
    long list, reversed once per URL name (portfolio.links)."""
    return links.object_url(name, pk)
