from django.urls import path

from valuestreams.views import structure

urlpatterns = [
    path(
        "portfolios/<int:portfolio_pk>/value-streams/new/",
        structure.value_stream_create_view,
        name="value-stream-create",
    ),
    path("value-streams/<int:pk>/", structure.value_stream_detail, name="value-stream-detail"),
    path("value-streams/<int:pk>/edit/", structure.value_stream_edit, name="value-stream-edit"),
]
