from teams.api.views import outcomes, seats
from teams.api.views.teams import ProductTeamViewSet

routes = [
    ("teams", ProductTeamViewSet, "team"),
    ("team-seats", seats.TeamSeatViewSet, "team-seat"),
    ("objectives", outcomes.ObjectiveViewSet, "objective"),
    ("key-results", outcomes.KeyResultViewSet, "key-result"),
    ("outcome-updates", outcomes.OutcomeUpdateViewSet, "outcome-update"),
    ("experiments", outcomes.ExperimentViewSet, "experiment"),
    ("not-doing", outcomes.NotDoingItemViewSet, "not-doing"),
    ("team-interactions", outcomes.TeamInteractionViewSet, "team-interaction"),
    ("realisation-metrics", outcomes.RealisationMetricViewSet, "realisation-metric"),
    ("realisation-points", outcomes.RealisationPointViewSet, "realisation-point"),
]
