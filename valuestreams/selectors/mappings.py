"""Source status → flow state and source type → flow-item type, per portfolio.

Stable interface for the metric computations (names kept stable):

- ``flow_state_for(portfolio, statuses: pd.Series) -> (states: pd.Series, unmapped: pd.Series)``
  maps a whole column at once: ``states`` holds "new" / "waiting" / "active" / "done" /
  "canceled" (same index as ``statuses``), ``unmapped`` is a bool Series, True where neither an
  explicit mapping nor a default knew the status. An unmapped status counts as **waiting**
  (SPEC §4) and is reported as a caveat; it is never dropped.
- ``flow_item_type_for(portfolio, types: pd.Series) -> (item_types, unmapped)`` likewise gives
  "Feature" / "Defect" / "Risk" / "Debt"; an unknown type counts as **Feature** and is reported.
- ``state_lookup(portfolio)`` / ``type_lookup(portfolio)`` return a :class:`Lookup`, callable on
  one name, for those who map value by value. One query each; the Series functions cost one query
  plus one dict lookup per *distinct* value (``pd.factorize``), so 10M rows map in well under a
  second.

Matching: an explicit StateMapping / TypeMapping row of the portfolio wins over the default; names
match ignoring case and surrounding spaces, for explicit rows and defaults alike
(:data:`DEFAULT_FLOW_STATES` = ``DEFAULT_STATE_MAPPING``, :data:`DEFAULT_FLOW_ITEM_TYPES` =
``DEFAULT_TYPE_MAPPING``, both keyed by the lower-cased name).

The rest of the module reads what the mapping page shows (:func:`mapping_overview`); what it saves
is written by `valuestreams.services.mappings.mappings_save`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db.models import Count

from portfolio.models import Portfolio
from valuestreams.models import (
    FlowItemType,
    FlowState,
    StateMapping,
    StatusChange,
    TypeMapping,
    WorkItem,
)

UNMAPPED_FLOW_STATE = FlowState.WAITING.value
UNMAPPED_FLOW_ITEM_TYPE = FlowItemType.FEATURE.value


def explicit_key(name: str) -> str:
    """How a name is matched, by explicit rows and defaults alike: case and spaces around ignored."""
    return name.strip().casefold()


default_key = explicit_key


def _default_table(groups: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    return {default_key(name): str(value) for value, names in groups.items() for name in names}


DEFAULT_FLOW_STATES: dict[str, str] = _default_table(
    {
        FlowState.NEW: (
            "To Do", "Todo", "Backlog", "Open", "New", "Created", "Funnel", "Triage", "Idea",
            "Reopened", "Product Backlog",
        ),
        FlowState.WAITING: (
            "Selected for Development", "Ready", "Ready for Development", "Ready for Dev",
            "Blocked", "On Hold", "Waiting", "Pending", "Ready for Review", "Ready for QA",
            "Ready for Test", "Ready for Testing", "Ready to Deploy", "Ready for Release",
            "Awaiting Approval", "Awaiting Review", "Paused",
        ),
        FlowState.ACTIVE: (
            "In Progress", "In Development", "In-Progress", "Development", "Doing", "In Review", "Review",
            "Code Review", "Peer Review", "Testing", "In Testing", "In Test", "QA", "In QA",
            "Implementing", "Deploying", "In Analysis", "Analysis", "Build", "Verifying",
        ),
        FlowState.DONE: (
            "Done", "Closed", "Resolved", "Released", "Complete", "Completed", "Deployed",
            "Shipped", "Merged", "Fixed", "Accepted", "Delivered",
        ),
        FlowState.CANCELED: (
            "Won't Do", "Won’t Do", "Won't Fix", "Won’t Fix", "Wont Do", "Cancelled", "Canceled", "Rejected",
            "Duplicate", "Abandoned", "Obsolete", "Declined", "Invalid", "Not a Bug",
        ),
    }
)  # fmt: skip

DEFAULT_FLOW_ITEM_TYPES: dict[str, str] = _default_table(
    {
        FlowItemType.FEATURE: (
            "Story", "User Story", "Feature", "New Feature", "Epic", "Task", "Sub-task",
            "Subtask", "Sub-Task", "Improvement", "Enhancement", "Spike", "Initiative", "Requirement",
        ),
        FlowItemType.DEFECT: (
            "Bug", "Defect", "Incident", "Problem", "Hotfix", "Production Bug", "Fault",
        ),
        FlowItemType.RISK: (
            "Risk", "Security", "Vulnerability", "Compliance", "Audit", "Regulatory",
            "Security Issue",
        ),
        FlowItemType.DEBT: (
            "Tech Debt", "Technical Debt", "Tech-Debt", "TechDebt", "Debt", "Chore", "Refactor", "Refactoring",
            "Maintenance", "Upgrade",
        ),
    }
)  # fmt: skip


def default_flow_state(status: str) -> str | None:
    """The default flow state of a source status, or None when no default knows it."""
    return DEFAULT_FLOW_STATES.get(default_key(status))


def default_flow_item_type(source_type: str) -> str | None:
    """The default flow-item type of a source type, or None when no default knows it."""
    return DEFAULT_FLOW_ITEM_TYPES.get(default_key(source_type))


@dataclass(frozen=True)
class Lookup:
    """A portfolio's mapping of one kind: explicit rows, then defaults, then the fallback."""

    explicit: dict[str, str]
    defaults: dict[str, str]
    fallback: str

    def resolve(self, name: str) -> tuple[str, str]:
        """Return (value, origin) with origin "explicit", "default" or "unmapped"."""
        value = self.explicit.get(explicit_key(name))
        if value is not None:
            return value, "explicit"
        value = self.defaults.get(default_key(name))
        if value is not None:
            return value, "default"
        return self.fallback, "unmapped"

    def __call__(self, name: str) -> str:
        return self.resolve(name)[0]

    def map_series(self, names: pd.Series) -> tuple[pd.Series, pd.Series]:
        """Map a column: (values, unmapped mask), both on `names`' index; NaN counts as unmapped."""
        codes, uniques = pd.factorize(names, use_na_sentinel=True)
        resolved = [self.resolve(str(name)) for name in uniques]
        values = np.array([value for value, _ in resolved] + [self.fallback], dtype=object)
        unmapped = np.array([origin == "unmapped" for _, origin in resolved] + [True], dtype=bool)
        take = np.where(codes >= 0, codes, len(uniques))  # a missing name picks the fallback
        return (
            pd.Series(values[take], index=names.index, dtype=object),
            pd.Series(unmapped[take], index=names.index, dtype=bool),
        )


def state_lookup(portfolio: Portfolio | int) -> Lookup:
    """The portfolio's status → flow state lookup (one query)."""
    rows = StateMapping.objects.filter(portfolio=portfolio).values_list(
        "source_status", "flow_state"
    )
    return Lookup(
        explicit={explicit_key(name): state for name, state in rows},
        defaults=DEFAULT_FLOW_STATES,
        fallback=UNMAPPED_FLOW_STATE,
    )


def type_lookup(portfolio: Portfolio | int) -> Lookup:
    """The portfolio's source type → flow-item type lookup (one query)."""
    rows = TypeMapping.objects.filter(portfolio=portfolio).values_list(
        "source_type", "flow_item_type"
    )
    return Lookup(
        explicit={explicit_key(name): item_type for name, item_type in rows},
        defaults=DEFAULT_FLOW_ITEM_TYPES,
        fallback=UNMAPPED_FLOW_ITEM_TYPE,
    )


def flow_state_for(portfolio: Portfolio | int, statuses: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Flow states of a column of source statuses, and a mask of the unmapped ones (→ waiting)."""
    return state_lookup(portfolio).map_series(statuses)


def flow_item_type_for(portfolio: Portfolio | int, types: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Flow-item types of a column of source types, and a mask of the unknown ones (→ Feature)."""
    return type_lookup(portfolio).map_series(types)


@dataclass(frozen=True)
class MappingRow:
    """One status or type on the mapping page: how often it is seen and what it maps to."""

    name: str
    count: int
    value: str
    origin: str  # "explicit", "default" or "unmapped"
    explicit_value: str | None
    default_value: str | None


@dataclass(frozen=True)
class MappingOverview:
    """Every status and type seen in a portfolio's data (and every explicit row), unmapped first."""

    statuses: list[MappingRow]
    types: list[MappingRow]

    @property
    def unmapped_statuses(self) -> list[MappingRow]:
        return [row for row in self.statuses if row.origin == "unmapped"]

    @property
    def unmapped_types(self) -> list[MappingRow]:
        return [row for row in self.types if row.origin == "unmapped"]


def _overview_rows(
    seen: list[tuple[str, int]], explicit_rows: list[tuple[str, str]], lookup: Lookup
) -> list[MappingRow]:
    counts: dict[str, tuple[str, int]] = {}
    for name, count in seen:
        key = explicit_key(name)
        shown, total = counts.get(key, (name, 0))
        counts[key] = (shown, total + count)
    for name, _ in explicit_rows:
        counts.setdefault(explicit_key(name), (name, 0))
    rows = []
    for key, (name, count) in counts.items():
        value, origin = lookup.resolve(name)
        rows.append(
            MappingRow(
                name=name,
                count=count,
                value=value,
                origin=origin,
                explicit_value=lookup.explicit.get(key),
                default_value=lookup.defaults.get(default_key(name)),
            )
        )
    rows.sort(key=lambda row: (row.origin != "unmapped", -row.count, row.name.casefold()))
    return rows


def mapping_overview(portfolio: Portfolio) -> MappingOverview:
    """Statuses (with the number of items that entered each) and types (with the number of items
    of each, current or earlier type) seen in the portfolio, plus explicit rows not seen. 4 queries.
    """
    status_counts = list(
        StatusChange.objects.filter(item__portfolio=portfolio)
        .values("status")
        .annotate(count=Count("item", distinct=True))
        .values_list("status", "count")
    )
    type_counts = list(
        StatusChange.objects.filter(item__portfolio=portfolio)
        .values("source_type")
        .annotate(count=Count("item", distinct=True))
        .values_list("source_type", "count")
    )
    state_rows = list(
        StateMapping.objects.filter(portfolio=portfolio).values_list("source_status", "flow_state")
    )
    type_rows = list(
        TypeMapping.objects.filter(portfolio=portfolio).values_list("source_type", "flow_item_type")
    )
    states = Lookup(
        explicit={explicit_key(n): v for n, v in state_rows},
        defaults=DEFAULT_FLOW_STATES,
        fallback=UNMAPPED_FLOW_STATE,
    )
    types = Lookup(
        explicit={explicit_key(n): v for n, v in type_rows},
        defaults=DEFAULT_FLOW_ITEM_TYPES,
        fallback=UNMAPPED_FLOW_ITEM_TYPE,
    )
    return MappingOverview(
        statuses=_overview_rows(status_counts, state_rows, states),
        types=_overview_rows(type_counts, type_rows, types),
    )


def work_item_count(portfolio: Portfolio) -> int:
    """How many work items the portfolio holds (to tell an empty mapping page from a mapped one)."""
    return WorkItem.objects.filter(portfolio=portfolio).count()


# The names the recompute looks up (valuestreams.recompute.read.Mappings).
DEFAULT_STATE_MAPPING = DEFAULT_FLOW_STATES
DEFAULT_TYPE_MAPPING = DEFAULT_FLOW_ITEM_TYPES
