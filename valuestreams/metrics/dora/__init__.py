"""DORA metrics computed the way Apache DevLake computes them, on plain pandas frames.

Pure functions: no Django, no clock, no I/O except reading the benchmark JSON files shipped in
``valuestreams/metrics/benchmarks/``. Every datetime is ``datetime64[ns, UTC]`` (other units and
naive values are read as UTC). Records stamped after ``as_of`` are ignored: deployments finished,
changes first committed or incidents created after it, and resolutions after it (the incident
counts as unresolved).

Input contract
--------------
``deployments``: ``deployment_id`` (int64), ``finished_at``, ``successful`` (bool),
``environment`` (str; only ``"production"`` counts, case-insensitive), ``is_rework`` (bool: an
unplanned fix of a user-visible problem), plus the scope columns named in ``by``. Only successful
production deployments count anywhere.

``changes``: ``change_id``, ``first_commit_at``, ``deployment_id`` (nullable; one row per
deployment that shipped the change), plus scope columns. Scope columns a change lacks are taken
from its deployment.

``incidents``: ``incident_id``, ``created_at``, ``resolved_at`` (nullable), ``deployment_id``
(nullable), plus scope columns.

``windows``: ``label``, ``window_start``, ``window_end`` (UTC). A window is ``[start, end)``; an
event belongs to it by the instant named per metric. Windows may overlap.

:func:`dora_summary` returns every metric, one row per scope group x window: the ``by`` columns,
``label``, ``window_start``, ``window_end`` and the metrics' columns; each metric is computed by
its ``*_of`` function on inputs prepared once (:func:`~valuestreams.metrics.dora.inputs.prepare_inputs`;
the tests' ``metric_reference`` states each one as a readable function of the raw frames). Groups
are the scope values found in the inputs. Medians are lower medians (DevLake: ``max(x) where percent_rank() <= 0.5``), so they
are always an observed value. Empty input gives an empty frame with the same columns.
"""

from valuestreams.metrics.dora.linking import link_incidents
from valuestreams.metrics.dora.preparation import (
    CAVEAT_COLUMNS,
    FAILURE_RATE_COLUMNS,
    FREQUENCY_COLUMNS,
    LEAD_TIME_COLUMNS,
    MEDIAN_DAYS,
    METRICS,
    RECOVERY_COLUMNS,
    REWORK_COLUMNS,
    SUMMARY_COLUMNS,
    TIERS,
    WINDOW_COLUMNS,
    AsOf,
    MaxGap,
    Scope,
)
from valuestreams.metrics.dora.summary import dora_summary
from valuestreams.metrics.dora.tiers import available_benchmarks, load_benchmark, tier_series

__all__ = [
    "CAVEAT_COLUMNS",
    "FAILURE_RATE_COLUMNS",
    "FREQUENCY_COLUMNS",
    "LEAD_TIME_COLUMNS",
    "MEDIAN_DAYS",
    "METRICS",
    "RECOVERY_COLUMNS",
    "REWORK_COLUMNS",
    "SUMMARY_COLUMNS",
    "TIERS",
    "WINDOW_COLUMNS",
    "AsOf",
    "MaxGap",
    "Scope",
    "available_benchmarks",
    "dora_summary",
    "link_incidents",
    "load_benchmark",
    "tier_series",
]
