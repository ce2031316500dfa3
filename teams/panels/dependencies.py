"""The dependencies section of the value-stream page: who depends on whom among its teams and
the teams most waited on, as plain data for templates/teams/_value_stream_dependencies.html."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from teams import selectors
from teams.metrics import dependency_counts
from teams.models import TeamInteraction


def dependency_hotspots(interactions: list) -> list[dict[str, Any]]:
    """Teams others depend on, most depended-on first: `team`, `dependents`, `blocking`."""
    frame = pd.DataFrame(
        [(i.depends_on, i.blocking) for i in interactions], columns=["team", "blocking"]
    )
    return dependency_counts(frame).to_dict("records")


@dataclass(frozen=True)
class ValueStreamDependencies:
    """`interactions`: the dependencies of the value stream's teams `viewer` may see (both teams
    selected); `hotspots`: as dependency_hotspots gives them."""

    interactions: list[TeamInteraction]
    hotspots: list[dict[str, Any]]


def value_stream_dependencies_section(value_stream, viewer) -> ValueStreamDependencies:
    """The dependencies section of `value_stream`'s page as `viewer` sees it. One query."""
    interactions = list(selectors.value_stream_interactions(value_stream, viewer))
    return ValueStreamDependencies(
        interactions=interactions, hotspots=dependency_hotspots(interactions)
    )
