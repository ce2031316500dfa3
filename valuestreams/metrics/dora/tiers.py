"""Benchmarks (versioned JSON shipped in ``valuestreams/metrics/benchmarks/``) and DORA tiers."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from valuestreams.metrics.dora.preparation import METRICS

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


def available_benchmarks() -> list[str]:
    """Names of the benchmark versions shipped with Steward, sorted (e.g. ``"dora-2023"``)."""
    folder = resources.files("valuestreams.metrics").joinpath("benchmarks")
    return sorted(
        p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")
    )


@lru_cache(maxsize=8)
def _benchmark_text(version: str) -> str:
    return (
        resources.files("valuestreams.metrics")
        .joinpath("benchmarks", f"{version}.json")
        .read_text("utf-8")
    )


def load_benchmark(version: str) -> dict[str, Any]:
    """The benchmark ``version`` as a dict: ``{"version", "sources", "metrics": {metric: {"unit",
    "tiers": [{"tier", "measure", "op", "bound", "label"}, ...]}}}``; tiers in evaluation order.

    Raises ``ValueError`` for an unknown version.
    """
    if version not in available_benchmarks():
        raise ValueError(f"unknown DORA benchmark {version!r}; known: {available_benchmarks()}")
    return json.loads(_benchmark_text(version))


def tier_rules(metric: str, benchmark: str) -> list[dict[str, Any]]:
    if metric not in METRICS:
        raise ValueError(f"unknown DORA metric {metric!r}; known: {list(METRICS)}")
    return load_benchmark(benchmark)["metrics"].get(metric, {}).get("tiers", [])


def tier_series(metric: str, measures: pd.DataFrame, benchmark: str) -> pd.Series:
    """Vectorised tiers for each row of ``measures`` (columns named by the rules' measures)."""
    rules = tier_rules(metric, benchmark)
    if not rules or measures.empty:
        return pd.Series([None] * len(measures), index=measures.index, dtype=object)
    needed = list(dict.fromkeys(rule["measure"] for rule in rules))
    values = measures.reindex(columns=needed).apply(pd.to_numeric, errors="coerce")
    conditions = [
        _OPS[rule["op"]](values[rule["measure"]], rule["bound"]).to_numpy(dtype=bool)
        for rule in rules
    ]
    tiers = np.select(conditions, [rule["tier"] for rule in rules], default=None)
    tiers = np.where(values.isna().any(axis=1).to_numpy(), None, tiers)
    return pd.Series(tiers, index=measures.index, dtype=object)
