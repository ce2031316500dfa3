from teams.api.views import ProductTeamViewSet

routes = [("teams", ProductTeamViewSet, "team")]
