"""Small HTTP conventions shared by every app's views."""

from django import forms


def form_status(form: forms.BaseForm) -> int:
    """400 for a submitted form with errors, so clients and tests can tell a refusal from a page."""
    return 400 if form.is_bound and form.errors else 200
