from django.urls import path

from teams import views

urlpatterns = [
    path(
        "value-streams/<int:value_stream_pk>/teams/new/", views.team_create_view, name="team-create"
    ),
    path("teams/<int:pk>/", views.team_detail, name="team-detail"),
    path("teams/<int:pk>/edit/", views.team_edit, name="team-edit"),
]
