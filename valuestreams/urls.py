from django.urls import path

from valuestreams.views import flow, imports, mappings, structure

urlpatterns = [
    path(
        "portfolios/<int:portfolio_pk>/value-streams/new/",
        structure.value_stream_create_view,
        name="value-stream-create",
    ),
    path("value-streams/<int:pk>/", structure.value_stream_detail, name="value-stream-detail"),
    path("value-streams/<int:pk>/edit/", structure.value_stream_edit, name="value-stream-edit"),
    path(
        "value-streams/<int:pk>/flow/<slug:chart>.csv",
        flow.value_stream_flow_csv,
        name="value-stream-flow-csv",
    ),
    path("teams/<int:pk>/flow/<slug:chart>.csv", flow.team_flow_csv, name="team-flow-csv"),
    # mappings and imports (ingest engineer)
    path("portfolios/<int:pk>/mappings/", mappings.mapping_page, name="mapping-page"),
    path("portfolios/<int:pk>/imports/", imports.import_list, name="import-list"),
    path("imports/<int:pk>/", imports.import_detail, name="import-detail"),
    path("imports/<int:pk>/progress/", imports.import_progress, name="import-progress"),
    path("imports/<int:pk>/errors.csv", imports.import_errors_csv, name="import-errors"),
]
