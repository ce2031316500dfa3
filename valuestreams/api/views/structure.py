from django.db.models import Count
from rest_framework import viewsets

from valuestreams.api.serializers.structure import ValueStreamSerializer
from valuestreams.models import ValueStream


class ValueStreamViewSet(viewsets.ReadOnlyModelViewSet):
    """Value streams of the caller's portfolios; filter with `?portfolio=<id>`."""

    serializer_class = ValueStreamSerializer
    filterset_fields = ["portfolio"]

    def get_queryset(self):
        return (
            ValueStream.objects.visible_to(self.request.user)
            .select_related("owner")
            .annotate(team_count=Count("teams"))
            .order_by("portfolio", "name")
        )
