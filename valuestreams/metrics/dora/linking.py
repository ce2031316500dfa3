"""Linking incidents to the deployment each one is blamed on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from valuestreams.metrics.dora.preparation import (
    DEPLOYMENT_SCHEMA,
    INCIDENT_SCHEMA,
    SCOPE_ALL,
    MaxGap,
    Scope,
    known_deployments,
    prepare_frame,
    scope_keys,
    to_utc,
)


def link_frame(
    incidents: pd.DataFrame, prod: pd.DataFrame, keys: list[str], max_gap: MaxGap
) -> pd.DataFrame:
    """Typed ``incidents`` linked to ``prod`` deployments (see :func:`link_incidents`)."""
    index = incidents.index
    incidents = incidents.reset_index(drop=True)
    finished = prod.drop_duplicates("deployment_id").set_index("deployment_id")["finished_at"]
    named = incidents["deployment_id"].isin(finished.index)
    ids = incidents["deployment_id"].where(named).astype("Int64")
    out = incidents.assign(
        linked_deployment_id=ids,
        # -1 names no deployment (reindexing on <NA> raises in pandas 3): NaT
        linked_deployment_finished_at=to_utc(
            pd.Series(finished.reindex(ids.fillna(-1).astype("int64")).array)
        ),
        link=pd.Series(np.where(named, "named", None), dtype=object),
    )
    guess = incidents[~named & incidents["created_at"].notna()]
    if guess.empty or prod.empty:
        return out.set_axis(index)
    left = guess[[*keys, "created_at"]].reset_index(names="_row").sort_values("created_at")
    right = prod[[*keys, "deployment_id", "finished_at"]].sort_values(
        ["finished_at", "deployment_id"]
    )
    found = pd.merge_asof(
        left,
        right,
        left_on="created_at",
        right_on="finished_at",
        by=keys,
        direction="backward",
        allow_exact_matches=True,
        tolerance=pd.Timedelta(max_gap) if max_gap is not None else None,
    ).dropna(subset=["deployment_id"])
    rows = found["_row"].to_numpy()
    out.loc[rows, "linked_deployment_id"] = found["deployment_id"].astype("Int64").to_numpy()
    out.loc[rows, "linked_deployment_finished_at"] = found["finished_at"].to_numpy()
    out.loc[rows, "link"] = "inferred"
    return out.set_axis(index)


def link_incidents(
    incidents: pd.DataFrame,
    deployments: pd.DataFrame,
    *,
    by: Scope = None,
    max_gap: MaxGap = None,
) -> pd.DataFrame:
    """``incidents`` (same index) with the deployment each one is blamed on.

    An incident naming a successful production deployment (``deployment_id``) is linked to it
    (``link="named"``). Otherwise it is linked to the latest successful production deployment of
    the same scope (equal ``by`` values) that finished at or before ``created_at``; ties go to
    the highest ``deployment_id``; with ``max_gap`` only if ``created_at - finished_at <=
    max_gap`` (``link="inferred"``). Unlinked incidents keep ``<NA>``/``NaT``/``None`` and are
    reported as a caveat by :func:`dora_summary`.

    Added columns: ``linked_deployment_id`` (Int64), ``linked_deployment_finished_at`` (UTC),
    ``link`` (``"named"``, ``"inferred"`` or ``None``).
    """
    keys = scope_keys(by)
    prepared = prepare_frame(incidents, INCIDENT_SCHEMA, keys, "incidents")
    prod = known_deployments(
        prepare_frame(deployments, DEPLOYMENT_SCHEMA, keys, "deployments"), None
    )
    return link_frame(prepared, prod, keys, max_gap).drop(columns=[SCOPE_ALL], errors="ignore")
