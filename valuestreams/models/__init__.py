"""Value streams and what flows through them: value streams, state and type mappings, records from
delivery tools, the published metrics, and the recompute and import jobs, one module per concern.

Every model and choice is re-exported here, so `from valuestreams.models import X` works wherever it
did; Django finds the models through this package.
"""

from valuestreams.models.jobs import (
    ImportJob,
    JobStatus,
    RecomputeJob,
)
from valuestreams.models.mappings import (
    FlowItemType,
    FlowState,
    StateMapping,
    TypeMapping,
)
from valuestreams.models.metrics import (
    DoraMetric,
    FlowMetric,
    Grain,
    MetricRowBase,
    MetricRun,
    MetricSettings,
    ScopeKind,
    StatusTime,
    WorkItemFact,
)
from valuestreams.models.records import (
    Change,
    DeliveryChange,
    Deployment,
    Incident,
    SourceRecord,
    SourceRecordQuerySet,
    StatusChange,
    SupersededStatusChange,
    WorkItem,
)
from valuestreams.models.value_streams import (
    ValueStream,
    ValueStreamQuerySet,
)

__all__ = [
    "Change",
    "DeliveryChange",
    "Deployment",
    "DoraMetric",
    "FlowItemType",
    "FlowMetric",
    "FlowState",
    "Grain",
    "ImportJob",
    "Incident",
    "JobStatus",
    "MetricRowBase",
    "MetricRun",
    "MetricSettings",
    "RecomputeJob",
    "ScopeKind",
    "SourceRecord",
    "SourceRecordQuerySet",
    "StateMapping",
    "StatusChange",
    "StatusTime",
    "SupersededStatusChange",
    "TypeMapping",
    "ValueStream",
    "ValueStreamQuerySet",
    "WorkItem",
    "WorkItemFact",
]
