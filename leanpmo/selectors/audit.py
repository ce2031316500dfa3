"""The audit history of money records, for people: who changed what, when and which way."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from leanpmo import plan_text
from leanpmo.models import (
    ValueStreamBudget,
)
from leanpmo.selectors.funding import themes_by_id

HISTORY_FIELDS = (*ValueStreamBudget.EDITABLE_FIELDS, "version")
# the request path (or tool) that made an audited change → its name for people, first match wins
VIA_WORDS = (
    ("/approval/", "an executive's approval of an exception"),
    ("/promote/", "a scenario turned into decisions"),
    ("/import/", "a CSV import"),
    ("/api/", "the API"),
    ("/admin/", "Django admin"),
    ("/funding/", "the funding grid"),
    ("sso", "single sign-on"),
)


@dataclass
class HistoryEntry:
    """One audited change: who, when, how (label, url) and the fields that changed, for people
    (plan_text.Change: the field's name, old → new as text)."""

    at: dt.datetime
    who: str
    label: str
    url: str
    changes: list[plan_text.Change]

    @property
    def action(self) -> str:
        """What happened, in a word: "Created", "Changed" or "Deleted"."""
        return {"insert": "Created", "update": "Changed", "delete": "Deleted"}.get(
            self.label, self.label.capitalize()
        )

    @property
    def via(self) -> str:
        """Which way the change came, for people ("the funding grid", "the API"; the request path
        when it names no known way; "" when no request made it)."""
        for part, words in VIA_WORDS:
            if part in self.url:
                return words
        return self.url


def budget_history(budget: ValueStreamBudget) -> list[HistoryEntry]:
    """Every recorded change of the budget, newest first, whatever path made it (3 queries): money
    in the portfolio's currency, allocation shares in percent, theme splits by theme name."""
    events = list(budget.events.select_related("pgh_context").order_by("pgh_id"))
    user_ids = {
        event.pgh_context.metadata.get("user")
        for event in events
        if event.pgh_context and event.pgh_context.metadata.get("user")
    }
    users = {
        user.pk: user.get_full_name() or user.username
        for user in get_user_model().objects.filter(pk__in=user_ids)
    }
    portfolio = budget.period.portfolio
    words = {"currency": portfolio.currency, "themes": themes_by_id(portfolio)}
    entries, previous = [], None
    for event in events:
        metadata = event.pgh_context.metadata if event.pgh_context else {}
        changes = [
            plan_text.change(
                field,
                getattr(previous, field) if previous else None,
                getattr(event, field),
                **words,
            )
            for field in HISTORY_FIELDS
            if previous is None or getattr(previous, field) != getattr(event, field)
        ]
        entries.append(
            HistoryEntry(
                at=event.pgh_created_at,
                who=users.get(metadata.get("user"), "system"),
                label=event.pgh_label,
                url=metadata.get("url", metadata.get("via", "")),
                changes=changes,
            )
        )
        previous = event
    return entries[::-1]
