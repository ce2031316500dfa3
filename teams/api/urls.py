from teams.api.views import (
    experiments,
    key_results,
    not_doing,
    objectives,
    outcome_updates,
    realisation_metrics,
    realisation_points,
    seats,
    team_interactions,
)
from teams.api.views.teams import ProductTeamViewSet

routes = [
    ("teams", ProductTeamViewSet, "team"),
    ("team-seats", seats.TeamSeatViewSet, "team-seat"),
    ("objectives", objectives.ObjectiveViewSet, "objective"),
    ("key-results", key_results.KeyResultViewSet, "key-result"),
    ("outcome-updates", outcome_updates.OutcomeUpdateViewSet, "outcome-update"),
    ("experiments", experiments.ExperimentViewSet, "experiment"),
    ("not-doing", not_doing.NotDoingItemViewSet, "not-doing"),
    ("team-interactions", team_interactions.TeamInteractionViewSet, "team-interaction"),
    ("realisation-metrics", realisation_metrics.RealisationMetricViewSet, "realisation-metric"),
    ("realisation-points", realisation_points.RealisationPointViewSet, "realisation-point"),
]
