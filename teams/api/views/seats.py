"""API for seats (team memberships): everyone in a portfolio reads its teams' seats; Lean PMO adds
a seat and ends one. Access comes before validation: a team or seat the caller cannot see answers
404, one they see but may not change 403, whatever the body says. A seat that allocates someone
more than 100 % in total is saved, and the answer carries the warning."""

from __future__ import annotations

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from portfolio.api.access import writable_parent
from portfolio.api.errors import service_call
from teams import selectors
from teams.api.serializers.seats import (
    SeatCreateSerializer,
    SeatEndSerializer,
    SeatPostedSerializer,
    TeamSeatSerializer,
)
from teams.models import ProductTeam, TeamMembership
from teams.services.seats import team_membership_add, team_membership_end

SEATS_REFUSAL = "Only Lean PMO of the team's portfolio changes who is in it."


def writable_team(request: Request) -> ProductTeam:
    """The team the body names, if the caller may change its seats: 404 when they cannot see it,
    403 when they see it but are no Lean PMO of its portfolio (portfolio.api.access)."""
    raw = request.data.get("team") if hasattr(request.data, "get") else None
    text = str(raw).strip() if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
    if not (text.isascii() and text.isdigit()):
        raise serializers.ValidationError({"team": ["Give the id of a team."]})
    return writable_parent(request.user, ProductTeam, int(text), refusal=SEATS_REFUSAL)


class SeatFilter(filters.FilterSet):
    value_stream = filters.NumberFilter(field_name="team__value_stream")
    portfolio = filters.NumberFilter(field_name="team__value_stream__portfolio")
    current = filters.BooleanFilter(method="filter_current", label="Held today")

    class Meta:
        model = TeamMembership
        fields = ["team", "person", "value_stream", "portfolio", "current"]

    def filter_current(self, queryset, name, value):
        held = TeamMembership.objects.current().values("pk")
        return queryset.filter(pk__in=held) if value else queryset.exclude(pk__in=held)


class TeamSeatViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Seats of the teams you can see, past, current and upcoming (newest start first). Lean PMO
    adds a seat (POST) and ends one (POST …/end/); seats are never deleted."""

    serializer_class = TeamSeatSerializer
    filterset_class = SeatFilter

    def get_queryset(self):
        return (
            TeamMembership.objects.visible_to(self.request.user)
            .select_related("person", "team")
            .order_by("-start_date", "pk")
        )

    def http_method_not_allowed(self, request: Request, *args, **kwargs):
        """A method a seat's URL does not take: 404 first where the seat is not visible, so an
        outsider learns nothing, not even that it exists."""
        if "pk" in kwargs:
            self.get_object()
        return super().http_method_not_allowed(request, *args, **kwargs)

    def get_serializer_class(self):
        return SeatCreateSerializer if self.action == "create" else super().get_serializer_class()

    @extend_schema(request=SeatCreateSerializer, responses={201: SeatPostedSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Give a person a seat; the answer's `warnings` say when they are now allocated more than
        100 % in total (the seat is saved all the same)."""
        team = writable_team(request)
        serializer = SeatCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if k != "team"}
        warnings = selectors.seat_allocation_warnings(
            person=data["person"],
            team=team,
            allocation_percent=data["allocation_percent"],
            start_date=data["start_date"],
            end_date=data.get("end_date"),
            viewer=request.user,
        )
        seat = service_call(team_membership_add, team=team, by=request.user, **data)
        body = {
            **TeamSeatSerializer(seat, context=self.get_serializer_context()).data,
            "warnings": [{"code": w.code, "message": w.message} for w in warnings],
        }
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=SeatEndSerializer, responses={200: TeamSeatSerializer})
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk=None) -> Response:
        """End the seat on `end_date` (the person's last day in the team; default today)."""
        seat = self.get_object()
        if not TeamMembership.objects.editable_by(request.user).filter(pk=seat.pk).exists():
            raise PermissionDenied(SEATS_REFUSAL)
        serializer = SeatEndSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        end_date = serializer.validated_data.get("end_date") or timezone.localdate()
        seat = service_call(
            team_membership_end, membership=seat, end_date=end_date, by=request.user
        )
        return Response(TeamSeatSerializer(seat, context=self.get_serializer_context()).data)
