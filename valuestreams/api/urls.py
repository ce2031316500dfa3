from valuestreams.api.views import ingest
from valuestreams.api.views.structure import ValueStreamViewSet

routes = [("value-streams", ValueStreamViewSet, "value-stream")]

# ingest (tokens or a Lean PMO session): /api/v1/ingest/...
routes += [
    ("ingest/work-items", ingest.WorkItemIngestViewSet, "ingest-work-items"),
    ("ingest/deployments", ingest.DeploymentIngestViewSet, "ingest-deployments"),
    ("ingest/incidents", ingest.IncidentIngestViewSet, "ingest-incidents"),
    ("ingest/changes", ingest.ChangeIngestViewSet, "ingest-changes"),
    ("ingest/imports", ingest.ImportJobViewSet, "ingest-import"),
]

# metrics read API (session only): /api/v1/work-items/, /api/v1/metrics/..., /api/v1/recompute-jobs/
from valuestreams.api.views.metrics import routes as metric_routes  # noqa: E402

routes += metric_routes
