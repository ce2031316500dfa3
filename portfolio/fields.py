"""Model fields shared by every app."""

from __future__ import annotations

from django.core import validators
from django.db import models
from django.utils.functional import cached_property

# How long the free texts people type may be, in characters (a check-in is short; a decision's
# rationale or an experiment's learning may take a page)
SHORT_TEXT = 2_000
LONG_TEXT = 10_000


class LimitedTextField(models.TextField):
    """A TextField whose ``max_length`` is a rule: Django treats a TextField's max_length as a
    hint for forms only, so a service's ``full_clean()`` (and with it the API and every form)
    refuses a longer text here, naming the field and the limit."""

    def __init__(self, *args, max_length: int = SHORT_TEXT, **kwargs) -> None:
        super().__init__(*args, max_length=max_length, **kwargs)

    @cached_property
    def validators(self) -> list:
        return [*super().validators, validators.MaxLengthValidator(self.max_length)]
