from valuestreams.api.views import ValueStreamViewSet

routes = [("value-streams", ValueStreamViewSet, "value-stream")]
