from django.urls import path

from teams import outcome_views, pmo_views, realisation_views, seat_views, views

urlpatterns = [
    path(
        "value-streams/<int:value_stream_pk>/teams/new/", views.team_create_view, name="team-create"
    ),
    path("teams/<int:pk>/", views.team_detail, name="team-detail"),
    path("teams/<int:pk>/edit/", views.team_edit, name="team-edit"),
    path("teams/<int:pk>/seats/new/", seat_views.seat_create, name="team-seat-create"),
    path("seats/<int:pk>/end/", seat_views.seat_end, name="team-seat-end"),
    path("seats/<int:pk>/allocation/", seat_views.seat_change, name="team-seat-change"),
    path(
        "teams/<int:pk>/updates/new/",
        outcome_views.outcome_update_create,
        name="outcome-update-create",
    ),
    path(
        "teams/<int:pk>/experiments/new/",
        outcome_views.experiment_create_view,
        name="experiment-create",
    ),
    path("experiments/<int:pk>/edit/", outcome_views.experiment_edit, name="experiment-edit"),
    path("teams/<int:pk>/not-doing/new/", outcome_views.not_doing_create, name="not-doing-create"),
    path("pulse/<int:pk>/answer/", outcome_views.pulse_answer_view, name="pulse-answer"),
    path(
        "value-streams/<int:pk>/realisation/",
        realisation_views.realisation_page,
        name="realisation-metrics",
    ),
    path(
        "value-streams/<int:pk>/realisation/points/",
        realisation_views.realisation_point_create,
        name="realisation-point-create",
    ),
    path(
        "value-streams/<int:pk>/realisation/metrics/",
        realisation_views.realisation_metric_create_view,
        name="realisation-metric-create",
    ),
    path(
        "portfolios/<int:pk>/outcomes/",
        pmo_views.portfolio_outcomes_page,
        name="portfolio-outcomes",
    ),
    path(
        "portfolios/<int:pk>/objectives/new/",
        pmo_views.objective_create_view,
        name="objective-create",
    ),
    path("objectives/<int:pk>/edit/", pmo_views.objective_edit, name="objective-edit"),
    path(
        "objectives/<int:pk>/key-results/new/",
        pmo_views.key_result_create_view,
        name="key-result-create",
    ),
    path("key-results/<int:pk>/edit/", pmo_views.key_result_edit, name="key-result-edit"),
    path("key-results/<int:pk>/closing/", pmo_views.key_result_closing, name="key-result-closing"),
    path(
        "value-streams/<int:pk>/dependencies/",
        pmo_views.dependencies_page,
        name="team-interactions",
    ),
    path("dependencies/<int:pk>/edit/", pmo_views.dependency_edit, name="team-interaction-edit"),
    path("teams/<int:pk>/pulse/new/", pmo_views.pulse_round_create, name="pulse-round-create"),
    path(
        "value-streams/<int:pk>/realisation/import/",
        realisation_views.realisation_import,
        name="realisation-import",
    ),
]
