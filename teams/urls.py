from django.urls import path

from teams.views import dependencies, objectives, outcomes, pulse, realisation, seats, teams

urlpatterns = [
    path(
        "value-streams/<int:value_stream_pk>/teams/new/", teams.team_create_view, name="team-create"
    ),
    path("teams/<int:pk>/", teams.team_detail, name="team-detail"),
    path("teams/<int:pk>/edit/", teams.team_edit, name="team-edit"),
    path("teams/<int:pk>/seats/new/", seats.seat_create, name="team-seat-create"),
    path("seats/<int:pk>/end/", seats.seat_end, name="team-seat-end"),
    path("seats/<int:pk>/allocation/", seats.seat_change, name="team-seat-change"),
    path(
        "teams/<int:pk>/updates/new/",
        outcomes.outcome_update_create,
        name="outcome-update-create",
    ),
    path(
        "teams/<int:pk>/experiments/new/",
        outcomes.experiment_create_view,
        name="experiment-create",
    ),
    path("experiments/<int:pk>/edit/", outcomes.experiment_edit, name="experiment-edit"),
    path("teams/<int:pk>/not-doing/new/", outcomes.not_doing_create, name="not-doing-create"),
    path("pulse/<int:pk>/answer/", pulse.pulse_answer_view, name="pulse-answer"),
    path(
        "value-streams/<int:pk>/realisation/",
        realisation.realisation_page,
        name="realisation-metrics",
    ),
    path(
        "value-streams/<int:pk>/realisation/points/",
        realisation.realisation_point_create,
        name="realisation-point-create",
    ),
    path(
        "value-streams/<int:pk>/realisation/metrics/",
        realisation.realisation_metric_create_view,
        name="realisation-metric-create",
    ),
    path(
        "portfolios/<int:pk>/outcomes/",
        objectives.portfolio_outcomes_page,
        name="portfolio-outcomes",
    ),
    path(
        "portfolios/<int:pk>/outcomes/objectives/<int:objective_pk>/",
        objectives.objective_branch_view,
        name="objective-branch",
    ),
    path(
        "portfolios/<int:pk>/objectives/new/",
        objectives.objective_create_view,
        name="objective-create",
    ),
    path("objectives/<int:pk>/edit/", objectives.objective_edit, name="objective-edit"),
    path(
        "objectives/<int:pk>/key-results/new/",
        objectives.key_result_create_view,
        name="key-result-create",
    ),
    path("key-results/<int:pk>/edit/", objectives.key_result_edit, name="key-result-edit"),
    path("key-results/<int:pk>/closing/", objectives.key_result_closing, name="key-result-closing"),
    path(
        "value-streams/<int:pk>/dependencies/",
        dependencies.dependencies_page,
        name="team-interactions",
    ),
    path("dependencies/<int:pk>/edit/", dependencies.dependency_edit, name="team-interaction-edit"),
    path("teams/<int:pk>/pulse/new/", pulse.pulse_round_create, name="pulse-round-create"),
    path(
        "value-streams/<int:pk>/realisation/import/",
        realisation.realisation_import,
        name="realisation-import",
    ),
]
