from django.db.models import Prefetch
from django_filters import rest_framework as filters
from rest_framework import viewsets

from portfolio.access import money_portfolio_ids
from portfolio.api.access import IdFilterSet
from teams.api.serializers.teams import ProductTeamSerializer
from teams.models import ProductTeam, TeamMembership


class ProductTeamFilter(IdFilterSet):
    portfolio = filters.NumberFilter(field_name="value_stream__portfolio")

    class Meta:
        model = ProductTeam
        fields = ["value_stream", "portfolio", "topology"]


class ProductTeamViewSet(viewsets.ReadOnlyModelViewSet):
    """Teams of the caller's portfolios with who is in them today."""

    serializer_class = ProductTeamSerializer
    filterset_class = ProductTeamFilter

    def get_queryset(self):
        seats = TeamMembership.objects.current().select_related("person")
        return (
            ProductTeam.objects.visible_to(self.request.user)
            .select_related("value_stream")
            .prefetch_related(Prefetch("memberships", queryset=seats, to_attr="current_seats"))
            .order_by("value_stream__portfolio", "value_stream__name", "name")
        )

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["money_portfolio_ids"] = money_portfolio_ids(self.request.user)
        return context
