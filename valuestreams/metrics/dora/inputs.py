"""The inputs every metric works on, prepared once, and the tidy group x window result rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from valuestreams.metrics.dora.linking import link_frame
from valuestreams.metrics.dora.preparation import (
    CHANGE_SCHEMA,
    DEPLOYMENT_SCHEMA,
    INCIDENT_SCHEMA,
    SCOPE_ALL,
    WINDOW_COLUMNS,
    AsOf,
    MaxGap,
    Scope,
    known_deployments,
    known_incidents,
    prepare_frame,
    prepare_windows,
    scope_groups,
    scope_keys,
)


class Inputs(NamedTuple):
    """The prepared inputs shared by every metric of one call."""

    keys: list[str]
    win: pd.DataFrame
    groups: pd.DataFrame  # every scope found in the inputs
    prod: pd.DataFrame  # successful production deployments known at as_of
    first: pd.DataFrame  # changes with their first production deployment
    linked: pd.DataFrame  # incidents known at as_of, linked to deployments


def prepare_inputs(
    deployments: pd.DataFrame,
    windows: pd.DataFrame,
    by: Scope,
    as_of: AsOf,
    changes: pd.DataFrame | None = None,
    incidents: pd.DataFrame | None = None,
    max_gap: MaxGap = None,
) -> Inputs:
    """Type, filter (by ``as_of``) and link the raw frames once for the metrics to share."""
    keys = scope_keys(by)
    typed = prepare_frame(deployments, DEPLOYMENT_SCHEMA, keys, "deployments")
    prod = known_deployments(typed, as_of)
    changes = pd.DataFrame() if changes is None else changes
    own = [k for k in keys if k in changes.columns or k == SCOPE_ALL]
    shipped = prepare_frame(changes, CHANGE_SCHEMA, own, "changes")
    if as_of is not None:
        shipped = shipped[~(shipped["first_commit_at"] > pd.Timestamp(as_of))]
    first = first_deployments(shipped, prod, keys)
    incidents = pd.DataFrame() if incidents is None else incidents
    known = known_incidents(prepare_frame(incidents, INCIDENT_SCHEMA, keys, "incidents"), as_of)
    linked = link_frame(known, prod, keys, max_gap)
    groups = scope_groups([typed, first, linked], keys)
    return Inputs(keys, prepare_windows(windows, as_of), groups, prod, first, linked)


def first_deployments(changes: pd.DataFrame, prod: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per change shipped by a successful production deployment: the earliest such
    deployment's ``finished_at`` and ``_span`` = finished_at - first_commit_at in ns. Scope
    columns the changes lack (absent or all null) are the deployment's."""
    borrowed = [k for k in keys if k not in changes.columns or changes[k].isna().all()]
    shipped = changes.dropna(subset=["deployment_id", "first_commit_at"])
    shipped = shipped.astype({"deployment_id": "int64"}).drop(columns=borrowed, errors="ignore")
    shipped = shipped.merge(prod[["deployment_id", "finished_at", *borrowed]], on="deployment_id")
    first = shipped.sort_values("finished_at", kind="stable").drop_duplicates([*keys, "change_id"])
    return first.assign(_span=first["finished_at"].array.asi8 - first["first_commit_at"].array.asi8)


def window_rows(
    i: Inputs, parts: Sequence[pd.DataFrame | pd.Series], columns: list[str], counts: list[str]
) -> pd.DataFrame:
    """One row per group x window with ``columns`` taken from ``parts`` (indexed by keys + _w);
    ``counts`` default to 0."""
    out = i.groups.merge(i.win[["_w", *WINDOW_COLUMNS]], how="cross")
    for part in parts:
        out = out.merge(part.reset_index(), on=[*i.keys, "_w"], how="left")
    out = out.reindex(columns=[*i.keys, "_w", *WINDOW_COLUMNS, *columns])
    out[counts] = out[counts].fillna(0).astype(np.int64)
    out = out.sort_values([*i.keys, "_w"], kind="stable").drop(columns=["_w"])
    return out.drop(columns=[SCOPE_ALL], errors="ignore").reset_index(drop=True)


def group_counts(frame: pd.DataFrame, keys: list[str], name: str) -> pd.Series:
    """Rows of ``frame`` counted per group x window position (``_w``), named ``name``."""
    return frame.groupby([*keys, "_w"], dropna=False, sort=False).size().rename(name)
