"""Metric caveats: what a run's data-quality counts say in plain language (`caveat_messages`, pure
wording, also used by the Lean PMO's evidence), and the caveats of one scope's items, read from
their stored facts (`scope_caveat_counts`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from portfolio.date_range import DATE_RANGE_TEXT
from valuestreams.models import ScopeKind, WorkItemFact


def _count(caveats: dict, *names: str) -> int:
    for name in names:
        found = caveats.get(name)
        if isinstance(found, int | float) and not isinstance(found, bool) and found:
            return int(found)
    return 0


def _status_names(caveats: dict) -> str:
    for key in ("unmapped_status_names", "unmapped_statuses"):
        found = caveats.get(key)
        if isinstance(found, list | tuple) and found:
            return ", ".join(str(name) for name in found)
        if isinstance(found, str) and found:
            return found
    return ""


# Counts that are context, not a reason for care: never worded as caveats.
_NOT_CAVEATS = {
    "items",
    "incidents",
    "reopened_items",
    "benchmark",
    "unmapped_items",
    "unmapped_status_changes",
    "unmapped_statuses",
    "unmapped_status_names",
    "unmapped_type_changes",
    "truncated_histories",
    "done_without_start",
    "incidents_unlinked",
    "changes_negative_lead_time",
    "incidents_negative_recovery",
    "funding_periods_out_of_range",
    "settings_ignored",
}
# records the metrics leave out for a date outside the accepted range, and how to name them
_OUT_OF_RANGE = {
    "status_changes_out_of_range": "status changes",
    "work_items_out_of_range": "work item creation times",
    "deployments_out_of_range": "deployments",
    "changes_out_of_range": "changes",
    "incidents_out_of_range": "incidents",
}
_NOT_CAVEATS |= set(_OUT_OF_RANGE)


def caveat_messages(caveats: dict | None) -> list[str]:
    """Plain-language lines for metric caveats (only those that are not zero).

    Reads the keys a MetricRun carries (SPEC §4: unmapped statuses and types, truncated
    histories, items done without start, incidents not linked to a deployment), optionally with
    ``unmapped_items`` (items of the scope with an unmapped status); caveats grouped under a key
    (e.g. "flow" / "dora") are read too. Unknown numeric keys are shown as they are named.
    """
    if not caveats:
        return []
    flat: dict[str, Any] = {}
    for key, found in caveats.items():
        if isinstance(found, dict):
            flat.update(found)
        else:
            flat[key] = found
    lines = []
    unmapped_items = _count(flat, "unmapped_items")
    unmapped_changes = _count(flat, "unmapped_status_changes")
    names = _status_names(flat)
    if unmapped_items or unmapped_changes:
        what = (
            f"{unmapped_items} items have"
            if unmapped_items
            else f"{unmapped_changes} status changes went into"
        )
        named = f" ({names})" if names else ""
        lines.append(f"{what} an unmapped status{named} and count as waiting.")
    if count := _count(flat, "unmapped_type_changes"):
        lines.append(f"{count} type changes went into an unmapped item type, counted as Feature.")
    if count := _count(flat, "truncated_histories"):
        lines.append(
            f"{count} items have a history that starts mid-way (truncated); they are counted, "
            "but their flow time may be too short."
        )
    if count := _count(flat, "done_without_start"):
        lines.append(f"{count} items went to done without ever being started (flow time 0).")
    if count := _count(flat, "incidents_unlinked"):
        lines.append(
            f"{count} incidents in this portfolio are not linked to a deployment; they do not "
            "count in the change failure rate or recovery time."
        )
    if count := _count(flat, "changes_negative_lead_time"):
        lines.append(f"{count} changes were deployed before their first commit and are ignored.")
    if count := _count(flat, "incidents_negative_recovery"):
        lines.append(f"{count} incidents were resolved before their deployment and are ignored.")
    lines.extend(_out_of_range_lines(flat))
    lines.extend(str(line) for line in flat.get("settings_ignored") or ())
    for key, found in flat.items():
        if key not in _NOT_CAVEATS and _count(flat, key):
            lines.append(f"{key.replace('_', ' ').capitalize()}: {found:g}.")
    return lines


def _out_of_range_lines(flat: dict[str, Any]) -> list[str]:
    """What the metrics left out for a date outside the accepted range (stored before the dates
    were checked, or by hand): records, and funding periods whose targets are not used."""
    lines = []
    counted = [f"{n} {what}" for key, what in _OUT_OF_RANGE.items() if (n := _count(flat, key))]
    if counted:
        lines.append(
            f"{', '.join(counted)} are dated outside the dates Steward accepts ({DATE_RANGE_TEXT})"
            " and are left out; correct them at their source."
        )
    periods = flat.get("funding_periods_out_of_range")
    if isinstance(periods, list | tuple) and periods:
        names = ", ".join(f"“{name}”" for name in periods)
        lines.append(
            f"Funding periods {names} have dates outside the dates Steward accepts "
            f"({DATE_RANGE_TEXT}); their target allocations are not used until the dates are "
            "corrected."
        )
    return lines


def scope_caveat_counts(scope_kind: str, scope_id: int) -> dict[str, int]:
    """Caveats of the items of one value stream or team, from their stored facts (one query).

    Keys: ``unmapped_items``, ``truncated_histories``, ``done_without_start``.
    """
    column = "value_stream_id" if scope_kind == ScopeKind.VALUE_STREAM else "team_id"
    return WorkItemFact.objects.filter(**{column: scope_id}).aggregate(
        unmapped_items=Count("pk", filter=Q(unmapped_count__gt=0)),
        truncated_histories=Count("pk", filter=Q(truncated=True)),
        done_without_start=Count("pk", filter=Q(done_without_start=True)),
    )
