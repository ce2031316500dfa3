"""A money plan's values and changes in words for people (pure: no Django).

A budget's history, a conflict, an exception's proposal and a scenario's drift all say which plan
field changed from what to what. Here each field gets its people's name ("Transform", "Debt",
"Strategic themes") and each value its form: money with separators and the currency, allocation
shares as percentages, a theme split as theme names with their shares, missing as "—".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from leanpmo.plan_fields import (
    ALLOCATION_FIELD,
    FIELD_LABELS,
    FIXED_SCOPE_FIELD,
    HORIZON_AMOUNT_FIELD,
    HORIZON_LABELS,
    MONEY_FIELDS,
    THEME_SPLIT_FIELD,
)
from portfolio.formatting import MISSING, money, percent

LABELS = {
    **{HORIZON_AMOUNT_FIELD[code]: label for code, label in HORIZON_LABELS.items()},
    FIXED_SCOPE_FIELD: "Fixed-scope money",
    **{field: kind for kind, field in ALLOCATION_FIELD.items()},
    THEME_SPLIT_FIELD: "Strategic themes",
    "notes": "Notes",
    "version": "Version",
}
# the grid's labels ("Debt %") back to their fields, for changes named by those labels
FIELD_BY_LABEL = {label: field for field, label in FIELD_LABELS.items()}


@dataclass(frozen=True)
class Change:
    """One field's change for people: its name, the value before ("—" when there was none) and
    after, as text."""

    label: str
    before: str
    after: str


def label(field: str) -> str:
    """The field's name for people: "amount_run" → "Run", "alloc_debt" → "Debt"."""
    return LABELS.get(field, field.replace("_", " ").capitalize())


def _theme_split(split: Any, themes: Mapping[str, str]) -> str:
    """{"4": 60, "5": 40} → "Payments first 60 % · Trust 40 %" (largest share first; an id not in
    `themes` is "theme 4")."""
    if isinstance(split, str):
        try:
            split = json.loads(split)
        except ValueError:
            return split
    if not split:
        return "not split over themes"
    if not isinstance(split, Mapping):
        return str(split)
    parts = sorted(split.items(), key=lambda item: (-_share(item[1]), str(item[0])))
    return " · ".join(
        f"{themes.get(str(key), f'theme {key}')} {percent(share)}" for key, share in parts
    )


def _share(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def value_text(
    field: str, value: Any, *, currency: str = "", themes: Mapping[str, str] | None = None
) -> str:
    """`value` of `field` for people: money "134,534 EUR", an allocation "20 %", a theme split
    with theme names; None is "—"."""
    if value is None or value == "":
        return MISSING
    if field in MONEY_FIELDS:
        return money(value, currency)
    if field in ALLOCATION_FIELD.values():
        return percent(value)
    if field == THEME_SPLIT_FIELD:
        return _theme_split(value, themes or {})
    return str(value)


def change(
    field: str,
    before: Any,
    after: Any,
    *,
    currency: str = "",
    themes: Mapping[str, str] | None = None,
) -> Change:
    """One field's change for people."""
    return Change(
        label(field),
        value_text(field, before, currency=currency, themes=themes),
        value_text(field, after, currency=currency, themes=themes),
    )


def changes(
    triples: Iterable[tuple[str, Any, Any]],
    *,
    currency: str = "",
    themes: Mapping[str, str] | None = None,
) -> list[Change]:
    """(field, before, after) triples for people; a triple may name its field by the grid's label
    ("Debt %") instead of the field."""
    return [
        change(FIELD_BY_LABEL.get(field, field), before, after, currency=currency, themes=themes)
        for field, before, after in triples
    ]
