"""Warnings that ask for a second look before a write (teams.plausibility): the page lists them with
a checkbox, and the write goes ahead only when the checkbox confirms exactly those warnings (a
changed value gives other warnings, which are asked about again). The write is tried first, so a
refusal (a closed key result, an overlapping seat) comes before any question about warnings."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from django import forms
from django.db import transaction

from teams.plausibility import PlausibilityWarning

CONFIRM_FIELD = "confirm"


def warnings_digest(warnings: Sequence[PlausibilityWarning]) -> str:
    """A short fingerprint of the warnings shown, the value of their confirmation checkbox."""
    text = "\n".join(f"{warning.code}:{warning.message}" for warning in warnings)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def confirmed(data: Mapping[str, str], warnings: Sequence[PlausibilityWarning]) -> bool:
    """True when there is nothing to confirm, or `data` confirms exactly these warnings."""
    return not warnings or data.get(CONFIRM_FIELD) == warnings_digest(warnings)


T = TypeVar("T")


class _Unconfirmed(Exception):
    """Rolls back a write whose warnings were not confirmed."""


def write_when_confirmed(
    write: Callable[[], T], *, data: Mapping[str, str], warnings: Sequence[PlausibilityWarning]
) -> T | None:
    """Run `write` (a service call) in a savepoint and keep it when `data` confirms `warnings`
    (or there are none); otherwise roll it back and return None. The service's ValidationError
    passes through, so the page shows a refusal before asking to confirm warnings."""
    try:
        with transaction.atomic():
            result = write()
            if not confirmed(data, warnings):
                raise _Unconfirmed
    except _Unconfirmed:
        return None
    return result


def focus_first_error(form: forms.BaseForm) -> None:
    """Put the keyboard focus on the first field with an error when the page is shown again."""
    for name in form.errors:
        if name in form.fields and not form.fields[name].widget.is_hidden:
            form.fields[name].widget.attrs["autofocus"] = True
            return
