"""Form widgets every app shares."""

from django import forms


def date_input() -> forms.DateInput:
    """A browser date picker. Its value must be ISO (YYYY-MM-DD) whatever the language: a picker
    given a localised date such as 02/06/2025 shows nothing and submits nothing."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
