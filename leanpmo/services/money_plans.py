"""Writing a money plan (a budget or a scenario line), whichever it is.

Validation without repeating the database's backstop, the optimistic-concurrency write (one
`UPDATE … WHERE version = expected`), the conflict it raises, and the shape of a grid row as
submitted and of a row the services refuse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import F

from leanpmo.models import MoneyPlan

P = TypeVar("P", bound=MoneyPlan)


class VersionConflict(Exception):
    """The plan changed since the caller read it: `current` is what is stored now."""

    def __init__(self, current: MoneyPlan, expected_version: int):
        self.current = current
        self.expected_version = expected_version
        super().__init__(
            f"{current} was changed by someone else (version {current.version}, "
            f"you edited version {expected_version})."
        )


class PlanRowError(Exception):
    """A grid row was refused: `row` names it (a budget or a scenario line), `error` says why
    (field-named)."""

    def __init__(self, row: MoneyPlan, error: ValidationError):
        self.row, self.error = row, error
        super().__init__(f"{row}: {error}")


@dataclass
class PlanRowInput:
    """One grid row as submitted: the budget or line, the version the person edited, new values."""

    row: Any
    expected_version: int
    changes: dict[str, Any]


def plan_clean(plan: MoneyPlan, *, exclude: Iterable[str]) -> None:
    """Validate `plan` (ValidationError naming the field), leaving out the fields in `exclude`.

    The money and allocation rules are checked field by field in `clean()`, so their database
    constraints (the backstop) are left out here to avoid saying the same thing twice.
    """
    exclude = set(exclude)
    plan.full_clean(exclude=exclude, validate_constraints=False)
    plan.validate_constraints(exclude={*plan.EDITABLE_FIELDS, *exclude})


def plan_write(
    stored: P,
    *,
    expected_version: int,
    changes: dict[str, Any],
    exclude: Iterable[str],
    related: Iterable[str],
    **stamp,
) -> tuple[P, dict[str, Any]]:
    """Validate `changes` on `stored` (the plan as just read) and write what differs from it, with
    `stamp` (e.g. who and when), if the stored version is still `expected_version`.

    Returns the plan as stored now (with `related` selected) and what changed. Raises
    ValidationError (naming the field; `exclude` names fields left unchecked), TypeError for a field
    the services may not write, and VersionConflict when the version moved on. The write is one
    `UPDATE … WHERE version = expected` that also bumps the version, so of two concurrent writers
    exactly one succeeds. Changes equal to what is stored write nothing.
    """
    unknown = set(changes) - set(stored.EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"A {stored._meta.verbose_name} has no writable fields {sorted(unknown)}.")
    changed = stored.changed_values(changes)
    plan_clean(stored.with_values(changed), exclude=exclude)
    if not changed:
        if stored.version != expected_version:
            raise VersionConflict(stored, expected_version)
        return stored, changed
    model = type(stored)
    updated = model.objects.filter(pk=stored.pk, version=expected_version).update(
        **changed, version=F("version") + 1, **stamp
    )
    fresh = model.objects.select_related(*related).get(pk=stored.pk)
    if not updated:
        raise VersionConflict(fresh, expected_version)
    return fresh, changed
