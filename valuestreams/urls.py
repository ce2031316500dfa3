from django.urls import path

from valuestreams import views

urlpatterns = [
    path(
        "portfolios/<int:portfolio_pk>/value-streams/new/",
        views.value_stream_create_view,
        name="value-stream-create",
    ),
    path("value-streams/<int:pk>/", views.value_stream_detail, name="value-stream-detail"),
    path("value-streams/<int:pk>/edit/", views.value_stream_edit, name="value-stream-edit"),
]
